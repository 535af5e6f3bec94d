"""Who says what: the sources of a resource's values, their words, and where they disagree.

No Flask here. Every named graph is either a source -- a news report with its text, whose
graph holds what it says -- or knowledge from elsewhere (outside identifiers, the editorial
graph, the OWL RL inferences). A statement record (`kgo:SourcedStatement`) in a source's graph
ties one value to the quotes that state it, to the claim it is stated through ("according to
the Foreign Ministry") and to how it was derived from the words ("Nov. 28" + the publication
date). The comparison puts, per property, each source's values side by side and marks whether
the sources agree: values of a `kgo:SingleValuedProperty` that differ are a disagreement.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .describe import OA, RDF, RDFS, SKOS, Select, local_path, term_from_json
from .quotes import Quote, quote_of, rows, source_texts

SCHEMA = "https://schema.org/"
PROV = "http://www.w3.org/ns/prov#"

AGREE, DISAGREE, DIFFER, ONE = "agree", "disagree", "differ", "one source"


@dataclass
class SourceInfo:
    """What a named graph is, for people: a report (publisher and day) or another kind of knowledge."""

    graph: str
    kind: str                 # "source", or "inferred", or "other" (outside, editorial, curated…)
    name: str                 # the publisher, or what the graph holds
    day: str = ""             # the publication day, ISO (sources only)
    href: str | None = None   # the page of the source document
    iri: str | None = None    # the source document

    @property
    def when(self) -> str:
        try:
            return dt.date.fromisoformat(self.day).strftime("%-d %B %Y") if self.day else ""
        except ValueError:
            return self.day

    @property
    def label(self) -> str:
        return f"{self.name}, {self.when}" if self.when else self.name

    @property
    def is_source(self) -> bool:
        return self.kind == "source"


@dataclass
class Attribution:
    """One source's statement of one value: its words, and how it reached the source."""

    source: SourceInfo
    quotes: list[Quote] = field(default_factory=list)
    derivation: str = ""      # how the value was derived from the words, when it was
    via: str = ""             # "according to X, citing Y", when the source relays it
    claim_href: str | None = None


@dataclass
class Said:
    """A value as one source gives it (in the comparison)."""

    value: Any                # pages.Value
    attribution: Attribution | None = None
    note: str = ""


@dataclass
class Row:
    label: str
    predicate: str
    status: str               # AGREE, DISAGREE, DIFFER, ONE, or "" (not compared)
    cells: list[list[Said]]   # one list per source of the comparison, in its order


@dataclass
class Comparison:
    sources: list[SourceInfo]
    rows: list[Row]

    @property
    def disagreements(self) -> list[Row]:
        return [r for r in self.rows if r.status == DISAGREE]


# -- graphs as sources ---------------------------------------------------------------------------------

def graph_infos(select: Select, graphs: Iterable[str], *, base: str, kgo: str, inferred_graph: str,
                display: Callable[[str], str]) -> dict[str, SourceInfo]:
    """Each graph as a source (publisher, day, document) or as what its own rdfs:label says it holds."""
    wanted = sorted(set(graphs))
    if not wanted:
        return {}
    values = " ".join(f"<{g}>" for g in wanted)
    found = rows(select(f"""PREFIX kgo: <{kgo}> PREFIX schema: <{SCHEMA}> PREFIX rdfs: <{RDFS}>
SELECT ?g ?article ?day ?publisher ?glabel WHERE {{
  VALUES ?g {{ {values} }}
  OPTIONAL {{ GRAPH ?g {{ ?article a kgo:NewsArticle FILTER EXISTS {{ ?article kgo:fullText ?text }}
                          OPTIONAL {{ ?article schema:datePublished ?day }}
                          OPTIONAL {{ ?article schema:publisher ?publisher }} }} }}
  OPTIONAL {{ GRAPH ?g {{ ?g rdfs:label ?glabel }} }}
}}"""))
    out: dict[str, SourceInfo] = {}
    for r in found:
        g = r["g"]
        if "article" in r:
            name = display(r["publisher"]) if "publisher" in r else display(r["article"])
            out[g] = SourceInfo(g, "source", name, r.get("day", "")[:10], local_path(base, r["article"]), r["article"])
        elif g not in out:
            out[g] = SourceInfo(g, "inferred" if g == inferred_graph else "other", _graph_name(r, base, inferred_graph),
                                href="/" + g[len(base):] if g.startswith(base) else None)
    return out


def _graph_name(row: dict[str, str], base: str, inferred_graph: str) -> str:
    if row["g"] == inferred_graph:
        return "inferred by OWL RL"
    if "glabel" in row:
        return row["glabel"]
    return row["g"][len(base):] if row["g"].startswith(base) else row["g"]


def source_order(infos: dict[str, SourceInfo]) -> dict[str, int]:
    """Sources first, the earliest published first; then the other graphs."""
    ranked = sorted(infos.values(), key=lambda s: (not s.is_source, s.day or "9999", s.name.lower(), s.graph))
    return {s.graph: i for i, s in enumerate(ranked)}


# -- statement records -------------------------------------------------------------------------------

def statements_query(iri: str, kgo: str) -> str:
    return f"""PREFIX rdf: <{RDF}> PREFIX oa: <{OA}> PREFIX kgo: <{kgo}> PREFIX skos: <{SKOS}>
SELECT ?g ?p ?o ?source ?exact ?start ?end ?claim ?how WHERE {{
  GRAPH ?g {{ ?r rdf:subject <{iri}> ; rdf:predicate ?p ; rdf:object ?o ; kgo:evidence ?q . }}
  ?q oa:hasSource ?source ; oa:hasSelector ?qs , ?ps . ?qs oa:exact ?exact . ?ps oa:start ?start ; oa:end ?end .
  OPTIONAL {{ GRAPH ?g {{ ?r kgo:throughClaim ?claim }} }}
  OPTIONAL {{ GRAPH ?g {{ ?r kgo:derivation ?method }} ?method skos:prefLabel ?how FILTER(LANGMATCHES(LANG(?how), "en")) }}
}} ORDER BY ?g ?p ?start"""


def chains(select: Select, claims: Iterable[str], kgo: str, display: Callable[[str], str]) -> dict[str, str]:
    """"according to X, citing Y" for each claim: its claimant, or the agents of the reports it relays."""
    wanted = sorted(set(claims))
    if not wanted:
        return {}
    values = " ".join(f"<{c}>" for c in wanted)
    found = rows(select(f"""PREFIX kgo: <{kgo}> PREFIX prov: <{PROV}>
SELECT ?claim ?claimant ?a1 ?a2 ?a3 WHERE {{
  VALUES ?claim {{ {values} }}
  OPTIONAL {{ ?claim kgo:claimant ?claimant }}
  OPTIONAL {{ ?claim kgo:cites ?r1 . ?r1 prov:wasAttributedTo ?a1 .
             OPTIONAL {{ ?r1 kgo:cites ?r2 . ?r2 prov:wasAttributedTo ?a2 .
                        OPTIONAL {{ ?r2 kgo:cites ?r3 . ?r3 prov:wasAttributedTo ?a3 }} }} }}
}}"""))
    out: dict[str, str] = {}
    for r in found:
        agents = [r[k] for k in ("a1", "a2", "a3") if k in r] or ([r["claimant"]] if "claimant" in r else [])
        if agents:
            out[r["claim"]] = "according to " + ", citing ".join(display(a) for a in agents)
    return out


def attributions(select: Select, iri: str, *, kgo: str, base: str, infos: dict[str, SourceInfo],
                 display: Callable[[str], str]) -> dict[tuple[str, str, str], Attribution]:
    """(predicate, value key, graph) -> what that source says of that value, for one subject."""
    raw = select(statements_query(iri, kgo))["results"]["bindings"]
    texts = source_texts(select, (b["source"]["value"] for b in raw), kgo)
    via = chains(select, (b["claim"]["value"] for b in raw if "claim" in b), kgo, display)
    out: dict[tuple[str, str, str], Attribution] = {}
    seen: set[tuple[tuple[str, str, str], str]] = set()
    for b in raw:
        g = b["g"]["value"]
        if g not in infos:
            continue
        key = (b["p"]["value"], str(term_from_json(b["o"])), g)
        claim = b.get("claim", {}).get("value")
        att = out.setdefault(key, Attribution(infos[g], derivation=b.get("how", {}).get("value", ""),
                                              via=via.get(claim, "") if claim else "",
                                              claim_href=local_path(base, claim) if claim else None))
        if (key, b["start"]["value"]) not in seen:
            seen.add((key, b["start"]["value"]))
            att.quotes.append(quote_of(texts, b["source"]["value"], b["exact"]["value"], b["start"]["value"],
                                       b["end"]["value"], g))
    return out


def single_valued(select: Select, kgo: str) -> set[str]:
    """The properties of which each source gives one value: differing values are a disagreement."""
    return {r["p"] for r in rows(select(f"SELECT ?p WHERE {{ ?p a <{kgo}SingleValuedProperty> }}"))}


def status_of(predicate: str, cells: list[list[Said]], singles: set[str]) -> str:
    given = [frozenset(str(s.value.key) for s in cell) for cell in cells if cell]
    if len(given) < 2:
        return ONE
    if all(g == given[0] for g in given):
        return AGREE
    return DISAGREE if predicate in singles else DIFFER
