"""`/sparql`: the SPARQL 1.1 Protocol endpoint, one handler for every request to it.

Every request to `/sparql` -- GET, a form or a direct POST, a body of announced length or
chunked, a raw non-ASCII URL, a query or an update or neither -- is read once by
`protocol.read_operation` and answered here, errors included: a query goes to the engine and its
answer or its error is written here; an update goes to the write path and the query UI or the
Service Description is rendered, both inside a Flask request context (templates, the write
token, the write path's error handlers). Every other path goes to the Flask app.

Why a WSGI handler in front of Flask (Flask's documented middleware) rather than a Flask view:
Flask's request machinery (contexts, routing, hooks, Response objects) costs more than a small
query does on Oxigraph, and queries are most of the traffic.
"""
from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, render_template, request, url_for

from .. import namespaces as ns
from ..curation.auth import refuse_token_in_url
from ..errors import Forbidden, KGError
from ..http import formats
from ..http.assets import vendor_version
from ..http.observability import record_request
from ..http.responses import CORS_HEADERS, answer_headers, error_parts, negotiated
from ..http.security import add_security_headers, security_headers
from .examples import examples_by_topic
from .protocol import Operation, SparqlRequest, read_operation
from .queries import query_request
from .service_description import describe_service

StartResponse = Callable[..., Any]
log = logging.getLogger("kg.sparql")
PATH = "/sparql"


_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]   # security headers included; Content-Length is added on sending
    body: bytes
    query: str | None = None

    @classmethod
    def of(cls, status: int, headers: dict[str, str], body: bytes, query: str | None = None) -> Answer:
        return cls(status, list({**headers, **security_headers(headers.get("Content-Type", ""))}.items()),
                   body, query)


class _Sent:
    """A one-part answer body, and what to do once the server has sent it (WSGI's `close`)."""

    __slots__ = ("_parts", "_then")

    def __init__(self, body: bytes, then: Callable[[], None]) -> None:
        self._parts = [body]
        self._then = then

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._parts)

    def close(self) -> None:
        self._then()


class SparqlEndpoint:
    """Answers every request to `/sparql` and hands every other one to `app`."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.next = app.wsgi_app
        self.kg = app.extensions["kg"]
        self.metrics = app.extensions["kg_metrics"]
        self.max_body = app.config["MAX_CONTENT_LENGTH"]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self.next(environ, start_response)
        started = time.perf_counter()
        answer = self.answer(environ)
        start_response(_STATUS_LINES.get(answer.status) or f"{answer.status} {HTTPStatus(answer.status).phrase}",
                       [*answer.headers, ("Content-Length", str(len(answer.body)))])
        body = b"" if environ["REQUEST_METHOD"] == "HEAD" else answer.body

        def record() -> None:
            record_request(self.metrics, PATH, environ["REQUEST_METHOD"], answer.status, PATH,
                           time.perf_counter() - started, answer.query)
        if answer.status != 200:
            record()
            return [body]
        return _Sent(body, record)   # recorded once the answer is sent: the client does not wait for it

    def answer(self, environ: dict[str, Any]) -> Answer:
        """The answer to one request: what the operation asks for, or its error."""
        accept = environ.get("HTTP_ACCEPT")
        req = SparqlRequest(environ, self.max_body)
        op: Operation | None = None
        try:
            if req.method == "OPTIONS":
                return Answer.of(204, preflight_headers(), b"")
            op = read_operation(req)
            if op.kind == "query":
                return self.query(op, accept, environ)
            return self.through_flask(environ, req, op)
        except KGError as exc:
            return self.error(exc, accept, op)
        except Exception:   # our fault: no traceback leaves the server
            log.exception("unexpected error answering %s %s", req.method, PATH)
            return self.error(KGError("the server failed to answer this request; the error was logged"), accept, op)

    @staticmethod
    def error(exc: KGError, accept: str | None, op: Operation | None) -> Answer:
        body, headers = error_parts(exc, accept)
        return Answer.of(exc.status, headers, body, op.text if op else None)

    def query(self, op: Operation, accept: str | None, environ: dict[str, Any]) -> Answer:
        request_ = query_request(op.text, self.kg.settings, accept=accept, explicit_format=op.format,
                                 default_graph_uris=op.default_graph_uris, named_graph_uris=op.named_graph_uris,
                                 base_iri=op.base_iri, client=environ.get("REMOTE_ADDR", ""))
        try:
            answer = self.kg.engine.run(request_)
        except KGError as exc:
            return self.error(exc, accept, op)
        return Answer.of(200, answer_headers(answer), answer.body, op.text)

    def through_flask(self, environ: dict[str, Any], req: SparqlRequest, op: Operation) -> Answer:
        """An update, or no operation: rendered inside a Flask request context (the write token,
        templates, and the write path's own error handlers, e.g. a 422 with its report)."""
        environ["wsgi.input"] = io.BytesIO(req.body or b"")   # the body was read once, above
        with self.app.request_context(environ):
            try:
                resp = update(op) if op.kind == "update" else service_description_or_ui(self.kg)
            except Exception as exc:   # Flask's handlers render it (KGError, WriteRejected, the rest)
                resp = self.app.make_response(self.app.handle_user_exception(exc))
            add_security_headers(resp)
            return Answer(resp.status_code, [(k, v) for k, v in resp.headers.items() if k != "Content-Length"],
                          resp.get_data(), op.text or None)


def update(op: Operation) -> Response:
    """SPARQL 1.1 Update (Protocol §2.2) through the guarded write path, with the write token."""
    from ..curation.write_views import sparql_update

    if not current_app.extensions["kg"].settings.writes_enabled:
        refuse_token_in_url(request)
        raise Forbidden("this endpoint is read-only: writes need the write token (see the README, Curating)")
    return sparql_update(op)


def preflight_headers() -> dict[str, str]:
    """CORS preflight: any origin may read and post queries; no credentials are ever allowed."""
    return {**CORS_HEADERS, "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Accept, Content-Type, Authorization",
            "Access-Control-Max-Age": "86400"}


def query_page(kg: Any) -> str:
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


def service_description_or_ui(kg: Any) -> Response:
    """No operation: people get the query UI, machines the Service Description."""
    fmt = formats.negotiate(request.accept_mimetypes, [formats.PAGE, formats.GRAPH], request.args.get("format"))
    if fmt.name == "html":
        return negotiated(query_page(kg), fmt)  # its Content-Security-Policy: security.py, as on every page
    triples = describe_service(kg.url_for_endpoint(), kg.dataset_iri, kg.graph_sizes(),
                               writes=kg.settings.writes_enabled)
    return negotiated(fmt.write_triples(triples, kg.prefixes), fmt)


def install(app: Flask) -> None:
    """Put the endpoint in front of the app's own WSGI callable; `/sparql` stays a URL the app can
    build (`url_for("sparql.sparql")`) without a view of its own."""
    app.add_url_rule(PATH, endpoint="sparql.sparql", build_only=True)
    app.wsgi_app = SparqlEndpoint(app)  # type: ignore[method-assign]
