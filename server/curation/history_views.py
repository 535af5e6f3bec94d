"""`/history`: the change log (every accepted write), and undoing one change."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request

from .. import namespaces as ns
from ..errors import BadRequest
from ..http import formats
from ..http.responses import negotiated
from ..linked_data.describe import local_path
from ..sparql.endpoint import answer_response
from ..store.engine import QueryRequest
from ..validation.views import curation
from .changelog import activity_iri, history_query, kgc, rebased
from .write_views import require_token, write_response
from .writes import Change

bp = Blueprint("history", __name__)
HISTORY_LIMIT = 200


@bp.get("/history")
def history() -> Response:
    kg = current_app.extensions["kg"]
    fmt = formats.negotiate(request.accept_mimetypes, [formats.PAGE, formats.GRAPH], request.args.get("format"),
                            prefer="html")
    if fmt.name == "html":
        rows = kg.select(history_query(kg.base, HISTORY_LIMIT))
        return negotiated(render_template("history.html", rows=rows, local=lambda iri: local_path(kg.base, iri)), fmt)
    v, g = kgc(kg.base), rebased(ns.G_CHANGELOG, kg.base)
    query = (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o "
             f"FILTER (?p NOT IN (<{v}addedQuads>, <{v}removedQuads>)) }} }}")
    return answer_response(kg.engine.run(QueryRequest(query, format=fmt.name, prefixes={**kg.prefixes, "kgc": v})))


@bp.post("/history/<activity_id>/undo")
def undo(activity_id: str) -> Response:
    """Revert one change: its added triples are removed and its removed triples restored, validated like any write."""
    require_token()
    if not activity_id.replace("-", "").isalnum():
        raise BadRequest(f"{activity_id!r} is not a change id (see /history)")
    iri = activity_iri(curation().base, activity_id)
    return write_response(curation().write(Change("undo", undo_of=iri, comment=f"undo of {iri}")))
