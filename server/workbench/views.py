"""`/workbench`: the page, and the read-only JSON it asks for. Writes go through /sources,
/validate, /sparql and /history like every other write; nothing here stores anything."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from ..errors import BadRequest, UnsupportedMediaType
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
    """Nodes whose label starts with or contains `q` (autocomplete), optionally of one class."""
    q = request.args.get("q", "").strip()
    if len(q) < 2:
        raise BadRequest("give at least two letters in 'q'")
    kg = _kg()
    needle = gazetteer.fold(q)
    rows = kg.rows(f"""SELECT DISTINCT ?node ?label ?type WHERE {{
  ?node <http://www.w3.org/2000/01/rdf-schema#label> ?label ; a ?type .
  FILTER (STRSTARTS(STR(?type), "{kg.base}ontology#") && STRSTARTS(STR(?node), "{kg.base}id/"))
}}""")
    found: dict[str, dict[str, Any]] = {}
    for r in rows:
        if needle in gazetteer.fold(r["label"]):
            entry = found.setdefault(r["node"], {"iri": r["node"], "label": r["label"], "types": []})
            kind = r["type"].rsplit("#", 1)[-1]
            if kind not in entry["types"]:
                entry["types"].append(kind)
    kind = request.args.get("type")
    items = [e for e in found.values() if not kind or kind in e["types"]]
    items.sort(key=lambda e: (not gazetteer.fold(e["label"]).startswith(needle), e["label"]))
    return jsonify(items[:20])


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
    rows = kg.rows(f"SELECT ?a ?t WHERE {{ GRAPH <{graph}> {{ ?a <{kg.base}ontology#fullText> ?t }} }}")
    if len(rows) != 1:
        raise BadRequest(f"no stored source {slug!r}: store the article first (POST /sources)")
    triples = drafts.fact_triples(data, rows[0]["t"], rows[0]["a"], kg.base)
    return jsonify({"turtle": drafts.turtle(triples, kg.base), "update": drafts.insert_data(triples, graph),
                    "trig": drafts.trig(triples, graph),
                    "graph": graph, "triples": len(triples)})


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
