"""`/sparql`: the SPARQL 1.1 Protocol endpoint. Thin: read the operation, run it, render."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, url_for

from .. import namespaces as ns
from ..curation.auth import refuse_token_in_url
from ..errors import Forbidden
from ..http import formats
from ..http.assets import vendor_version
from ..http.observability import note_query
from ..http.renderers import render_triples
from ..http.responses import CORS_HEADERS, answer_headers, negotiated
from ..store.engine import QueryAnswer, QueryRequest
from .examples import examples_by_topic
from .protocol import read_operation
from .service_description import describe_service

bp = Blueprint("sparql", __name__)


@bp.route("/sparql", methods=["GET", "HEAD", "POST", "OPTIONS"])
def sparql() -> Response:
    if request.method == "OPTIONS":
        return preflight()
    op = read_operation(request)
    note_query(op.text)
    kg = current_app.extensions["kg"]
    if op.kind == "update":
        if not kg.settings.writes_enabled:
            refuse_token_in_url(request)
            raise Forbidden("this endpoint is read-only: writes need the write token (see the README, Curating)")
        from ..curation.write_views import sparql_update

        return sparql_update(op)
    if op.kind == "none":
        return service_description_or_ui(kg)
    answer = kg.engine.run(QueryRequest(
        op.text, accept=request.headers.get("Accept"), format=op.format,
        default_graph_uris=op.default_graph_uris, named_graph_uris=op.named_graph_uris, base_iri=op.base_iri))
    return answer_response(answer)


def answer_response(answer: QueryAnswer) -> Response:
    body = b"" if request.method == "HEAD" else answer.body
    resp = Response(body, headers=answer_headers(answer))
    if request.method == "HEAD":
        resp.headers["Content-Length"] = str(len(answer.body))
    return resp


def preflight() -> Response:
    """CORS preflight: any origin may read and post queries; no credentials are ever allowed."""
    resp = Response(status=204)
    resp.headers.update(CORS_HEADERS)
    resp.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, OPTIONS"
    resp.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type, Authorization"
    resp.headers["Access-Control-Max-Age"] = "86400"
    return resp


def query_page(kg) -> str:  # type: ignore[no-untyped-def]
    """YASGUI preset to this endpoint, our prefixes and the competency questions; a plain form beneath."""
    prefix_lines = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in kg.prefixes.items())
    default_query = prefix_lines + "\nSELECT ?s ?p ?o WHERE {\n  ?s ?p ?o\n} LIMIT 10\n"
    endpoint = url_for("sparql.sparql")
    config = {"endpoint": endpoint, "prefixes": kg.prefixes, "defaultQuery": default_query,
              "examples": kg.examples, "base": kg.base, "localPaths": ns.LOCAL_REWRITES}
    result_formats = [f for f in formats.FORMATS if formats.BINDINGS in f.kinds or formats.GRAPH in f.kinds]
    return render_template("sparql.html", config=config, example_topics=examples_by_topic(kg.examples),
                           endpoint=endpoint,
                           endpoint_url=kg.url_for_endpoint(), default_query=default_query,
                           result_formats=result_formats, yasgui_version=vendor_version("yasgui"))


def service_description_or_ui(kg) -> Response:  # type: ignore[no-untyped-def]
    """No operation: people get the query UI, machines the Service Description."""
    fmt = formats.negotiate(request.accept_mimetypes, [formats.PAGE, formats.GRAPH], request.args.get("format"))
    if fmt.name == "html":
        return negotiated(query_page(kg), fmt)  # its Content-Security-Policy: security.py, as on every page
    triples = describe_service(kg.url_for_endpoint(), kg.dataset_iri, kg.graph_sizes(),
                               writes=kg.settings.writes_enabled)
    body = b"" if request.method == "HEAD" else render_triples(fmt, triples, kg.prefixes)
    return negotiated(body, fmt)
