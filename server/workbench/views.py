"""`/workbench`: the page, and the read-only JSON it asks for. Writes go through /sources,
/validate, /sparql and /history like every other write; nothing here stores anything."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from ..errors import BadRequest, UnsupportedMediaType
from ..validation.validate import Report, Result, canonical_note
from ..validation.views import curation, proposal_report
from . import drafts, existing, gazetteer
from .date_expressions import parse_published
from .suggestions import propose_from_graph

bp = Blueprint("workbench", __name__)
MAX_TEXT = 200_000


def _json() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send application/json")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("the body is not a JSON object")
    return data


def _kg() -> Any:
    return current_app.extensions["kg"]


@bp.get("/workbench")
def page() -> str:
    return render_template("workbench.html", title="Curator's workbench", classes=_classes(_kg()))


def _classes(kg: Any) -> list[str]:
    """The ontology's classes by local name, offered as types in the search for existing nodes."""
    kgo = kg.base + "ontology#"
    rows = kg.rows(f"""SELECT DISTINCT ?c WHERE {{ GRAPH <{kg.base}graph/ontology> {{
  ?c a <http://www.w3.org/2002/07/owl#Class> FILTER (STRSTARTS(STR(?c), "{kgo}")) }} }} ORDER BY ?c""")
    return [r["c"][len(kgo):] for r in rows]


@bp.post("/workbench/suggestions")
def suggestions() -> Response:
    """Suggestions for a text: {text, published} in, mentions, dates and candidates out."""
    data = _json()
    text = drafts.field(data, "text")
    if len(text) > MAX_TEXT:
        raise BadRequest(f"the text has {len(text)} characters; at most {MAX_TEXT}")
    text = data["text"]  # as sent: offsets count in the text the curator pasted, not a trimmed copy
    try:
        published = parse_published(drafts.field(data, "published"))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    kg = _kg()
    proposal = propose_from_graph(text, published, kg.rows, kg.base)
    body = proposal.as_json()
    body["labels"] = _labels(kg, {m.entity for m in proposal.mentions}
                             | {x for c in proposal.candidates for x in (*c.participants, *c.places, *c.existing)})
    body["existing"] = _described(kg, {x for c in proposal.candidates for x in c.existing})
    return jsonify(body)


@bp.get("/workbench/find")
def find() -> Response:
    """Existing nodes by type, words, date and place, each with what tells it apart (linking, not duplicating)."""
    kg = _kg()
    search = existing.from_args(request.args)
    return jsonify(existing.results(kg.rows(existing.query(search, kg.base)), kg.base))


@bp.get("/workbench/lookup")
def lookup() -> Response:
    """Nodes one of whose names (label, display name, other names) contains `q`, any case or
    diacritics, optionally of one class: what the name fields offer as the curator types, and how
    the page resolves typed words to a node. Each node once, with the name that matched."""
    q = request.args.get("q", "").strip()
    if len(q) < 2:
        raise BadRequest("give at least two letters in 'q'")
    if len(q) > existing.MAX_WORDS:
        raise BadRequest(f"q has {len(q)} characters; give at most {existing.MAX_WORDS}")
    kg = _kg()
    needle = gazetteer.fold(q)
    rows = kg.rows(f"""SELECT DISTINCT ?node ?label ?name ?type WHERE {{
  ?node <http://www.w3.org/2000/01/rdf-schema#label> ?label ; a ?type ;
        <http://www.w3.org/2000/01/rdf-schema#label>|<{existing.SKOS}prefLabel>|<{existing.SKOS}altLabel> ?name .
  FILTER (STRSTARTS(STR(?type), "{kg.base}ontology#") && STRSTARTS(STR(?node), "{kg.base}id/"))
}}""")
    found: dict[str, dict[str, Any]] = {}
    for r in rows:
        folded = gazetteer.fold(r["name"])
        if needle not in folded:
            continue
        entry = found.setdefault(r["node"], {"iri": r["node"], "label": r["label"], "name": r["name"], "types": []})
        if _rank(needle, folded) < _rank(needle, gazetteer.fold(entry["name"])):
            entry["name"] = r["name"]
        kind = r["type"].rsplit("#", 1)[-1]
        if kind not in entry["types"]:
            entry["types"].append(kind)
    kind = request.args.get("type")
    items = [e for e in found.values() if not kind or kind in e["types"]]
    items.sort(key=lambda e: (_rank(needle, gazetteer.fold(e["name"])), e["label"]))
    for e in items:
        e["exact"] = gazetteer.fold(e["name"]) == needle
        e["types"].sort()
    return jsonify(items[:20])


def _rank(needle: str, name: str) -> int:
    """The whole name first, then names that start with the words, then the others."""
    return 0 if name == needle else 1 if name.startswith(needle) else 2


@bp.get("/workbench/properties")
def properties() -> Response:
    """The ontology's properties whose domain the subject is in (or that have no domain)."""
    subject = drafts.iri(request.args.get("subject", ""), "subject")
    kg = _kg()
    rows = kg.rows(f"""SELECT DISTINCT ?p ?label ?range ?kind WHERE {{
  GRAPH <{kg.base}graph/ontology> {{
    ?p a ?kind ; <http://www.w3.org/2000/01/rdf-schema#label> ?label .
    VALUES ?kind {{ <http://www.w3.org/2002/07/owl#ObjectProperty> <http://www.w3.org/2002/07/owl#DatatypeProperty> }}
    OPTIONAL {{ ?p <http://www.w3.org/2000/01/rdf-schema#domain> ?d }}
    OPTIONAL {{ ?p <http://www.w3.org/2000/01/rdf-schema#range> ?range }}
  }}
  FILTER (!BOUND(?d) || EXISTS {{ <{subject.value}> a ?d }})
  FILTER (LANG(?label) = "en")
}} ORDER BY ?label""")
    return jsonify([{"iri": r["p"], "label": r["label"], "range": r.get("range"),
                     "object": r["kind"].endswith("ObjectProperty")} for r in rows])


@bp.post("/workbench/draft-source")
def draft_source() -> Response:
    """The Turtle of a new article's node, for POST /sources (with the text beside it)."""
    slug, facts = drafts.source_facts(_json(), _kg().base)
    return jsonify({"slug": slug, "facts": facts, "graph": drafts.graph_of(slug, _kg().base)})


@bp.post("/workbench/draft-fact")
def draft_fact() -> Response:
    """One fact with its quote and statement record: as Turtle to show and validate, and as the update."""
    data = _json()
    kg = _kg()
    slug = drafts.field(data, "slug")
    graph = drafts.graph_of(slug, kg.base)
    source = _stored_source(kg, slug, graph)
    prop = drafts.field(data, "property", required=False)
    kind = _property_kind(kg, drafts.iri(prop, "property").value) if prop else None
    triples = drafts.fact_triples(data, source, kg.base, kind)
    return jsonify({"turtle": drafts.turtle(triples, kg.base, source.article), "update": drafts.insert_data(triples, graph),
                    "trig": drafts.trig(triples, graph),
                    "graph": graph, "triples": len(triples)})


def _stored_source(kg: Any, slug: str, graph: str) -> drafts.Source:
    """The stored source of `slug`, with its publication date and that date's record, if any."""
    kgo = kg.base + "ontology#"
    rows = kg.rows(f"""SELECT ?a ?t ?published ?datatype ?record WHERE {{ GRAPH <{graph}> {{
  ?a <{kgo}fullText> ?t
  OPTIONAL {{ ?a <{drafts.SCHEMA}datePublished> ?published BIND (DATATYPE(?published) AS ?datatype)
             OPTIONAL {{ ?record a <{kgo}SourcedStatement> ; <{drafts.RDF}subject> ?a ;
                                 <{drafts.RDF}predicate> <{drafts.SCHEMA}datePublished> }} }} }} }}""")
    if len({r["a"] for r in rows}) != 1:
        raise BadRequest(f"no stored source {slug!r}: store the article first (POST /sources)")
    row = rows[0]
    return drafts.Source(row["a"], row["t"], row.get("published", ""), row.get("datatype", drafts.XSD + "date"),
                         row.get("record"))


def _property_kind(kg: Any, prop: str) -> str | None:
    """owl:ObjectProperty or owl:DatatypeProperty, as the ontology declares `prop`; None when neither."""
    rows = kg.rows(f"""SELECT ?kind WHERE {{ GRAPH <{kg.base}graph/ontology> {{ <{prop}> a ?kind }}
  VALUES ?kind {{ <{drafts.OWL}ObjectProperty> <{drafts.OWL}DatatypeProperty> }} }}""")
    kinds = {r["kind"] for r in rows}
    return kinds.pop() if len(kinds) == 1 else None


@bp.post("/workbench/check")
def check() -> Response:
    """The SHACL report of the served graph with the pending change (its TriG, as POST /validate reads
    it): every result named, with labels, and whether it is new or was in the graph before the change."""
    report, _ = proposal_report(request.get_data(cache=False), request.mimetype)
    before = curation().current_report()
    return jsonify(checked(report, before, lambda iris: _labels(_kg(), iris)))


def checked(report: Report, before: Report, labels: Any) -> dict[str, Any]:
    """The report as the page shows it: results new with the change first; a note about how literals
    were read only when a new result comes from a shape it concerns."""
    old = {_key(r) for r in before.results}
    named = labels({x for r in report.results for x in (r.focus, r.value, r.path) if x and x.startswith("http")})
    results = [{"severity": r.severity, "message": r.message, "focus": r.focus, "focus_label": named.get(r.focus),
                "path": r.path, "value": r.value, "value_label": named.get(r.value or ""), "shape": r.shape,
                "new": _key(r) not in old} for r in report.results]
    results.sort(key=lambda r: not r["new"])
    concerned = [s for s in report.canonical_reads if any(r["new"] and r["shape"] == s for r in results)]
    generic = canonical_note(report.canonical_reads) if report.canonical_reads else None
    notes = [n for n in report.notes if n != generic] + ([canonical_note(concerned)] if concerned else [])
    new = {s: sum(1 for r in results if r["new"] and r["severity"] == s) for s in report.counts}
    return {"summary": report.summary(), "passed": report.passed, "counts": report.counts, "new": new,
            "truncated": report.truncated, "results": results, "notes": notes}


def _key(r: Result) -> tuple[str, str, str | None, str | None, str | None, str]:
    return (r.severity, r.focus, r.path, r.value, r.shape, r.message)


def _described(kg: Any, iris: set[str]) -> dict[str, dict[str, Any]]:
    """The events a suggestion may be, with their dates and places: the curator tells them apart."""
    if not iris:
        return {}
    search = existing.Search(nodes=tuple(sorted(iris)))
    return {r["iri"]: r for r in existing.results(kg.rows(existing.query(search, kg.base)), kg.base)}


def _labels(kg: Any, iris: set[str]) -> dict[str, str]:
    if not iris:
        return {}
    values = " ".join(f"<{i}>" for i in sorted(iris))
    rows = kg.rows(f"""SELECT ?s (SAMPLE(?l) AS ?label) WHERE {{ VALUES ?s {{ {values} }}
  ?s <http://www.w3.org/2000/01/rdf-schema#label>|<http://www.w3.org/2004/02/skos/core#prefLabel> ?l }} GROUP BY ?s""")
    return {r["s"]: r["label"] for r in rows if "label" in r}
