"""`/rdf-graph-store`: the SPARQL 1.1 Graph Store HTTP Protocol (indirect graph identification, §4.2).

GET/HEAD read a graph (open to all) through the query engine, as `/graph/…` pages do: within the
time limit and the caps (`KG-Result-Truncated` says when a graph is larger). PUT replaces, POST
merges, DELETE removes a graph (§5.3–5.5), each with a curator's token and through the same
validated transaction as every write. `?default` names the default graph, which here is the
union of the named graphs: it can be read, not written.

Conditional writes (RFC 9110 §13.1): a named graph's GET carries an ETag made of the graph's
version (the newest change that wrote it, in this store) and the format; a write with
`If-Match` naming an ETag of an older version is refused with 412, so two curators editing the
same graph cannot overwrite each other unknowingly. `If-None-Match: *` writes only a new graph.
"""
from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from ..curation.auth import refuse_token_in_url
from ..curation.write_views import require_token, write_response
from ..curation.writes import Change
from ..errors import BadRequest, MethodNotAllowed
from ..http import formats
from ..http.responses import answer_response
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
    curator = require_token()
    cur = curation()
    if graph is None:
        raise MethodNotAllowed("the default graph is the union of the named graphs and cannot be written; "
                               "write to a named graph with ?graph=", READ)
    cur.check_graph(graph)
    conditions = {"curator": curator, "if_match": if_match_versions(), "if_none_match": request.if_none_match.star_tag}
    if request.method == "DELETE":
        return write_response(cur.write(Change("graph-store-delete", graph=graph, delete_graph=True, **conditions)))
    fmt = format_for_media_type(request.mimetype)
    quads = parse_rdf(request.get_data(cache=False), fmt, source="request body", graph=graph, base_iri=graph)
    if any(isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value != graph for q in quads):
        raise BadRequest(f"the body names other graphs than <{graph}>; send triples (Turtle, N-Triples, ...) only")
    replace = request.method == "PUT"
    change = Change("graph-store-put" if replace else "graph-store-post", graph=graph, quads=quads, replace=replace,
                    **conditions)
    outcome = cur.write(change)
    return write_response(outcome, created=outcome.plan.created)


def etag(version: str, fmt: formats.Format) -> str:
    """Each format of a graph version has its own (strong) ETag; a write's If-Match may name any of them."""
    return f"{version}.{fmt.name}"


def if_match_versions() -> list[str] | None:
    """The graph versions If-Match names ("*" for any); None without the header. Weak ETags never match
    (If-Match compares strongly, RFC 9110 §13.1.1)."""
    if "If-Match" not in request.headers:
        return None
    match = request.if_match
    if match.star_tag:
        return ["*"]
    return [tag.rsplit(".", 1)[0] for tag in match.as_set(include_weak=False)]


def read_graph(graph: str | None) -> Response:
    fmt = formats.negotiate(request.accept_mimetypes, [formats.GRAPH], request.args.get("format"))
    version = curation().current_graph_version(graph) if graph is not None else None
    tag = etag(version, fmt) if version is not None else None
    if tag is not None and request.if_none_match.contains(tag):
        resp = Response(status=304)
        resp.set_etag(tag)
        return resp
    resp = answer_response(current_app.extensions["kg"].read_graph(graph, fmt))
    if tag is not None:
        resp.set_etag(tag)
    return resp
