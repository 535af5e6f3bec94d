"""What the search index holds about each thing: its labels, its other names, the article's
sentences that mention it, and its type, read from the graph with a few SPARQL queries.

An entry is made for every IRI with a name under the service's base (things under `id/`) or in
the ontology's namespace (classes, properties, concepts). Evidence machinery (quote nodes,
selectors), shapes and the change log are not things a person looks for.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .. import namespaces as ns
from ..linked_data.quotes import sentence_around

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OWL = "http://www.w3.org/2002/07/owl#"
OA = "http://www.w3.org/ns/oa#"
SCHEMA = "https://schema.org/"
FOAF = "http://xmlns.com/foaf/0.1/"
DCTERMS = "http://purl.org/dc/terms/"

LABELS = (RDFS + "label", SKOS + "prefLabel", SCHEMA + "name", FOAF + "name")
OTHER_NAMES = (SKOS + "altLabel", SKOS + "hiddenLabel", SCHEMA + "alternateName", FOAF + "nick")
DESCRIPTIONS = (SKOS + "definition", RDFS + "comment", DCTERMS + "description", SCHEMA + "headline")

# Types whose instances are not looked for by name: evidence machinery, shapes, and geometries
# (a place is found by its own name; "point of Gyumri" would only crowd it).
HIDDEN_TYPES = frozenset({OA + "SpecificResource", OA + "TextQuoteSelector", OA + "TextPositionSelector",
                          "http://www.w3.org/ns/shacl#NodeShape", "http://www.w3.org/ns/shacl#PropertyShape",
                          "http://www.opengis.net/ont/geosparql#Geometry"})
# Names for the ontology's own kinds of term (the store has no labels for OWL's and SKOS's classes).
KIND_NAMES = {OWL + "Class": "ontology class", RDFS + "Class": "ontology class",
              OWL + "ObjectProperty": "ontology property", OWL + "DatatypeProperty": "ontology property",
              OWL + "AnnotationProperty": "ontology property", RDF + "Property": "ontology property",
              SKOS + "Concept": "concept", SKOS + "ConceptScheme": "concept scheme", OWL + "Ontology": "ontology"}

# `rows(query)` runs a SELECT and yields each solution as {variable: lexical value}.
Rows = Callable[[str], Iterable[dict[str, str]]]


@dataclass
class Entry:
    iri: str
    labels: list[tuple[str, str]] = field(default_factory=list)   # (text, language)
    other_names: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)               # sentences of a source, in text order
    full_text: str = ""
    types: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """English first, then no language, then any; the local name when it has none."""
        ranked = sorted(self.labels, key=lambda lt: (0 if lt[1].startswith("en") else 1 if not lt[1] else 2))
        return ranked[0][0] if ranked else local_name(self.iri)


def local_name(iri: str) -> str:
    return iri.rstrip("/#").replace("#", "/").rsplit("/", 1)[-1] or iri


@dataclass(frozen=True)
class Scope:
    """Where the things of this service live, and which graphs hold no things."""

    base: str
    skip_graphs: frozenset[str]
    inferred_graph: str

    @classmethod
    def for_base(cls, base: str) -> "Scope":
        def rebased(iri: str) -> str:
            return base + iri[len(ns.DEFAULT_BASE):]
        return cls(base, frozenset({rebased(ns.G_SHAPES), rebased(ns.G_CHANGELOG)}), rebased(ns.G_INFERRED))

    @property
    def vocabulary(self) -> str:
        return self.base + ns.KGO[len(ns.DEFAULT_BASE):]

    def holds(self, iri: str) -> bool:
        return iri.startswith(self.base + "id/") or iri.startswith(self.vocabulary)

    def href(self, iri: str) -> str:
        if iri.startswith(self.vocabulary):
            return "/ontology#" + iri[len(self.vocabulary):]
        rest = iri[len(self.base):]
        for prefix, replacement in ns.LOCAL_REWRITES.items():
            if rest.startswith(prefix):
                return "/" + replacement + rest[len(prefix):]
        return "/" + rest


def _values(iris: Iterable[str] | None, var: str) -> str:
    return "" if iris is None else f"VALUES ?{var} {{ {' '.join(f'<{i}>' for i in iris)} }}"


def _graph_filter(scope: Scope) -> str:
    return f"FILTER(?g NOT IN ({', '.join(f'<{g}>' for g in sorted(scope.skip_graphs))}))"


def gather(rows: Rows, scope: Scope, only: Iterable[str] | None = None) -> dict[str, Entry]:
    """Entries of every thing in scope, or of the IRIs in `only` (those that still have a name)."""
    only = None if only is None else sorted(set(only))
    entries: dict[str, Entry] = {}

    def entry(iri: str) -> Entry | None:
        if not scope.holds(iri):
            return None
        return entries.setdefault(iri, Entry(iri))

    props = " ".join(f"<{p}>" for p in LABELS + OTHER_NAMES + DESCRIPTIONS + (scope.vocabulary + "fullText",))
    seen: set[tuple[str, str, str]] = set()
    for r in rows(f"""SELECT ?s ?p ?o (LANG(?o) AS ?lang) WHERE {{ {_values(only, "s")} VALUES ?p {{ {props} }}
                      GRAPH ?g {{ ?s ?p ?o }} FILTER(isIRI(?s) && isLiteral(?o)) {_graph_filter(scope)} }}"""):
        e = entry(r["s"])
        key = (r["s"], r["p"], r["o"] + "@" + r.get("lang", ""))
        if e is None or key in seen:
            continue
        seen.add(key)
        p, text, lang = r["p"], r["o"], r.get("lang", "")
        if p in LABELS and (not lang or lang.startswith("en") or not e.labels):
            e.labels.append((text, lang))
        elif p in LABELS:
            e.other_names.append(text)   # a name in another language
        elif p in OTHER_NAMES:
            e.other_names.append(text)
        elif p in DESCRIPTIONS:
            e.descriptions.append(text)
        else:
            e.full_text = text
    _add_types(rows, scope, entries, only)
    _add_quotes(rows, scope, entries, only)
    return {iri: e for iri, e in entries.items()
            if (e.labels or e.other_names or e.full_text) and not HIDDEN_TYPES.intersection(e.types)}


def _add_types(rows: Rows, scope: Scope, entries: dict[str, Entry], only: list[str] | None) -> None:
    """Asserted types first (what the data says), then inferred ones (what OWL RL adds)."""
    found: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for r in rows(f"SELECT ?s ?t ?g WHERE {{ {_values(only, 's')} GRAPH ?g {{ ?s a ?t }} FILTER(isIRI(?t)) }}"):
        if r["s"] in entries:
            found[r["s"]][1 if r["g"] == scope.inferred_graph else 0].append(r["t"])
    for iri, (asserted, inferred) in found.items():
        entries[iri].types = list(dict.fromkeys(asserted + inferred))


def _add_quotes(rows: Rows, scope: Scope, entries: dict[str, Entry], only: list[str] | None) -> None:
    """Each thing's evidence, widened to the sentence of the source that holds it."""
    kgo = scope.vocabulary
    found = list(rows(f"""PREFIX oa: <{OA}> PREFIX kgo: <{kgo}>
        SELECT ?s ?exact ?start ?end ?source WHERE {{ {_values(only, "s")}
          ?s kgo:evidence ?ev . ?ev oa:hasSource ?source ; oa:hasSelector ?q . ?q oa:exact ?exact .
          OPTIONAL {{ ?ev oa:hasSelector ?pos . ?pos oa:start ?start ; oa:end ?end }} }}"""))
    sources = sorted({r["source"] for r in found if r["s"] in entries})
    texts: dict[str, str] = {}
    if sources:
        texts = {r["source"]: r["text"] for r in rows(
            f"SELECT ?source ?text WHERE {{ {_values(sources, 'source')} ?source <{kgo}fullText> ?text }}")}
    placed: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for r in found:
        if r["s"] not in entries:
            continue
        sentence, at = r["exact"], 1 << 30
        text, start = texts.get(r["source"]), r.get("start")
        if text is not None and start is not None:
            s, e = int(start), int(r["end"])
            if text[s:e] == r["exact"]:
                sentence, at = sentence_around(text, s, e), s
        placed[r["s"]].append((at, sentence))
    for iri, quotes in placed.items():
        entries[iri].quotes = list(dict.fromkeys(q for _, q in sorted(quotes)))


def kind_of(entry: Entry, type_labels: dict[str, str]) -> str:
    """What a person calls the thing's type: its first type's label, else a name for ours."""
    for t in entry.types:
        if t in type_labels:
            return type_labels[t]
        if t in KIND_NAMES:
            return KIND_NAMES[t]
    return local_name(entry.types[0]) if entry.types else ""


def type_labels(rows: Rows, types: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(types))
    if not wanted:
        return {}
    labels: dict[str, tuple[int, str]] = {}
    for r in rows(f"""SELECT ?t ?l (LANG(?l) AS ?lang) WHERE {{ {_values(wanted, "t")}
                      ?t <{RDFS}label> ?l }}"""):
        rank = 0 if r.get("lang", "").startswith("en") else 1
        if r["t"] not in labels or rank < labels[r["t"]][0]:
            labels[r["t"]] = (rank, r["l"])
    return {t: label for t, (_, label) in labels.items()}
