"""`/rdf-graph-store`: the SPARQL 1.1 Graph Store HTTP Protocol (indirect graph identification, §4.2).

GET/HEAD read a graph (open to all); PUT replaces, POST merges, DELETE removes a graph
(§5.3–5.5), each with the write token and through the same validated transaction as every
write. `?default` names the default graph, which here is the union of the named graphs: it
can be read, not written.
"""
from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from ..curation.auth import refuse_token_in_url
from ..curation.write_views import require_token, write_response
from ..curation.writes import Change
from ..errors import BadRequest, MethodNotAllowed, NotFound
from ..http import formats
from ..http.renderers import render_triples
from ..http.responses import negotiated
from ..store.embedded import format_for_media_type, parse_rdf
from ..store.terms import checked_iri
from ..validation.views import curation

bp = Blueprint("graph_store", __name__)
READ = ["GET", "HEAD", "OPTIONS"]


def target_graph() -> str | None:
    """The graph IRI of `?graph=`, or None for `?default` (§4.2: exactly one of them)."""
    graphs = request.args.getlist("graph")
    has_default = "default" in request.args
    if has_default == bool(graphs) or len(graphs) > 1:
        raise BadRequest("name exactly one graph: ?graph=<absolute IRI> or ?default")
    return checked_iri(graphs[0], "graph") if graphs else None


@bp.route("/rdf-graph-store", methods=["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"])
def graph_store() -> Response:
    refuse_token_in_url(request)
    if request.method == "OPTIONS":
        resp = Response(status=204)
        resp.headers["Allow"] = "GET, HEAD, PUT, POST, DELETE, OPTIONS"
        return resp
    graph = target_graph()
    if request.method in ("GET", "HEAD"):
        return read_graph(graph)
    require_token()
    cur = curation()
    if graph is None:
        raise MethodNotAllowed("the default graph is the union of the named graphs and cannot be written; "
                               "write to a named graph with ?graph=", READ)
    cur.check_graph(graph)
    if request.method == "DELETE":
        return write_response(cur.write(Change("graph-store-delete", graph=graph, delete_graph=True)))
    fmt = format_for_media_type(request.mimetype)
    quads = parse_rdf(request.get_data(cache=False), fmt, source="request body", graph=graph, base_iri=graph)
    if any(isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value != graph for q in quads):
        raise BadRequest(f"the body names other graphs than <{graph}>; send triples (Turtle, N-Triples, ...) only")
    replace = request.method == "PUT"
    change = Change("graph-store-put" if replace else "graph-store-post", graph=graph, quads=quads, replace=replace)
    outcome = cur.write(change)
    return write_response(outcome, created=outcome.plan.created)


def read_graph(graph: str | None) -> Response:
    cur = curation()
    quads = cur.union_quads() if graph is None else cur.graph_quads(graph)
    if quads is None:
        raise NotFound(f"there is no graph <{graph}>")
    fmt = formats.negotiate(request.accept_mimetypes, [formats.GRAPH], request.args.get("format"))
    triples = list(dict.fromkeys(ox.Triple(q.subject, q.predicate, q.object) for q in quads))
    body = render_triples(fmt, triples, current_app.extensions["kg"].prefixes)
    resp = negotiated(b"" if request.method == "HEAD" else body, fmt)
    if request.method == "HEAD":
        resp.headers["Content-Length"] = str(len(body))
    return resp
