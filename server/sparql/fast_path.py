"""The lean path for SPARQL queries: plain WSGI in front of the Flask app.

Why: a query of the benchmark mix costs Oxigraph about 0.15 ms; Flask's request and response
machinery (contexts, routing, hooks, Response objects) cost 0.3-0.5 ms more on every request.
Queries are most of the traffic, so `/sparql` query requests that succeed are answered here with
the same protocol reading (`sparql_protocol`), the same engine, the same formats and the same
headers as the Flask view; everything else -- other routes, updates, the UI, the service
description, any error -- goes to the Flask app, which renders it exactly as before.
"""
from __future__ import annotations

import functools
import io
import socket
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.datastructures import MultiDict
from werkzeug.http import parse_options_header
from werkzeug.wsgi import ClosingIterator

from ..errors import BadRequest, KGError
from ..http.observability import record_request
from ..http.responses import answer_headers, error_parts
from ..http.security import ALWAYS
from ..store.engine import QueryAnswer, QueryRequest, timeout_error
from ..store.inline_engine import InlineEngine
from .protocol import read_operation

StartResponse = Callable[..., Any]
ERROR_KEY = "kg.sparql_error"   # a query's error, rendered by the Flask app's error handlers
RECORD_KEY = "kg.sparql_answered"   # (query, start): recorded once the answer is sent


class SparqlFastPath:
    """Answers successful `/sparql` queries itself and hands every other request to `app`."""

    def __init__(self, app: Flask) -> None:
        self.flask_wsgi = app.wsgi_app
        self.kg = app.extensions["kg"]
        self.metrics = app.extensions["kg_metrics"]
        self.max_body = app.config["MAX_CONTENT_LENGTH"]
        self._in_flight = 0
        self.inline = isinstance(self.kg.engine, InlineEngine)
        self._lock = threading.Lock()

    def in_flight(self) -> int:
        """Requests this process is answering now (a retiring worker waits for them)."""
        return self._in_flight

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with self._lock:
            self._in_flight += 1
        try:
            body = self._answer(environ, start_response)
        except BaseException:
            self._finished(environ)
            raise
        return ClosingIterator(body, functools.partial(self._finished, environ))

    def _finished(self, environ: dict[str, Any]) -> None:
        """After the answer is written (gunicorn closes the body once it has sent it): a query's
        metrics and access-log line are recorded here, so the client does not wait for them."""
        with self._lock:
            self._in_flight -= 1
        answered = environ.pop(RECORD_KEY, None)
        if answered is not None:
            text, started = answered
            record_request(self.metrics, "/sparql", environ["REQUEST_METHOD"], 200, environ.get("PATH_INFO", ""),
                           time.perf_counter() - started, text)

    def _answer(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/sparql" or not self._plain(environ):
            return self.flask_wsgi(environ, start_response)
        started = time.perf_counter()
        req = _EnvironRequest(environ)
        try:
            op = read_operation(req)  # type: ignore[arg-type]
        except KGError:
            return self._to_flask(environ, req, start_response)
        if op.kind != "query":
            return self._to_flask(environ, req, start_response)
        request = QueryRequest(op.text, accept=environ.get("HTTP_ACCEPT"), format=op.format,
                               default_graph_uris=op.default_graph_uris, named_graph_uris=op.named_graph_uris,
                               base_iri=op.base_iri)
        try:
            if self.inline and "gunicorn.socket" in environ:
                answer = self.kg.engine.run(request, abort=self._abort(environ, op.text, started))
            else:
                answer = self.kg.engine.run(request)
        except KGError as exc:
            environ[ERROR_KEY] = (exc, op.text)
            return self._to_flask(environ, req, start_response)
        return self._respond(environ, start_response, answer, op.text, started)

    def _plain(self, environ: dict[str, Any]) -> bool:
        """GET/HEAD, or a POST whose whole body is announced and within the limit (chunked and
        oversized bodies are Flask's: it answers them with 413)."""
        method = environ.get("REQUEST_METHOD")
        if not environ.get("QUERY_STRING", "").isascii():
            return False
        if method in ("GET", "HEAD"):
            return "query=" in environ.get("QUERY_STRING", "")
        if method != "POST":
            return False
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return False
        return 0 < length <= self.max_body

    def _to_flask(self, environ: dict[str, Any], req: _EnvironRequest,
                  start_response: StartResponse) -> Iterable[bytes]:
        """The Flask app answers; a body already read is handed over again (with the length the
        client announced: a body that ended early is then Flask's 400, as it would have been)."""
        if req.body is not None:
            environ["wsgi.input"] = io.BytesIO(req.body)
        return self.flask_wsgi(environ, start_response)

    def _abort(self, environ: dict[str, Any], text: str, started: float) -> Callable[[], None]:
        """What the watchdog does when this query runs past the limit: the 503 the Flask app would
        send, written on the connection itself (the request thread is inside the engine)."""
        def abort() -> None:
            exc = timeout_error(self.kg.settings)
            body, headers = error_parts(exc, environ.get("HTTP_ACCEPT"))
            headers.update(ALWAYS)
            headers.update({"Content-Length": str(len(body)), "Connection": "close"})
            lines = [f"HTTP/1.1 {exc.status} {HTTPStatus(exc.status).phrase}"] + [f"{k}: {v}" for k, v in headers.items()]
            head = "\r\n".join(lines) + "\r\n"
            sock = environ["gunicorn.socket"]
            try:
                sock.sendall(head.encode("latin-1") + b"\r\n" + (b"" if environ["REQUEST_METHOD"] == "HEAD" else body))
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the client has gone
            record_request(self.metrics, "/sparql", environ["REQUEST_METHOD"], exc.status,
                           environ.get("PATH_INFO", ""), time.perf_counter() - started, text)
        return abort

    def _respond(self, environ: dict[str, Any], start_response: StartResponse, answer: QueryAnswer, text: str,
                 started: float) -> Iterable[bytes]:
        head = environ.get("REQUEST_METHOD") == "HEAD"
        headers = answer_headers(answer)
        headers.update(ALWAYS)
        headers["Content-Length"] = str(len(answer.body))
        start_response("200 OK", list(headers.items()))
        environ[RECORD_KEY] = (text, started)
        return [b""] if head else [answer.body]


class _EnvironRequest:
    """What `read_operation` reads of a request, taken from the WSGI environ itself.

    Why: werkzeug's Request builds header views, stream wrappers and caches that this path never
    uses; reading a query with it cost 21 us of which this takes 5. The parsing is werkzeug's own
    (`parse_options_header`, and `parse_qsl` as werkzeug's `args` calls it); the lean path only
    takes requests whose URL is ASCII and whose POST body has an announced length within the
    limit, so there is nothing else to handle here."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.method: str = environ["REQUEST_METHOD"]
        query_string = environ.get("QUERY_STRING", "")
        # As werkzeug's Request.args: invalid UTF-8 in a parameter stays percent-encoded.
        self.args = MultiDict(parse_qsl(query_string, keep_blank_values=True, errors="werkzeug.url_quote")
                              if query_string else ())
        mimetype, self.mimetype_params = parse_options_header(environ.get("CONTENT_TYPE", ""))
        self.mimetype = mimetype.lower()
        self.body: bytes | None = None

    def get_data(self, cache: bool = True) -> bytes:
        if self.body is None:
            length = int(self.environ["CONTENT_LENGTH"])
            self.body = self.environ["wsgi.input"].read(length)
            if len(self.body) != length:
                raise BadRequest(f"the request body ended after {len(self.body)} of the {length} bytes announced")
        return self.body


def _raise_query_error() -> None:
    """A query's error met on the lean path is raised again inside Flask, which renders it (and
    logs and counts it) like every other error."""
    from flask import request

    from ..http.observability import note_query

    found = request.environ.pop(ERROR_KEY, None)
    if found is not None:
        exc, text = found
        note_query(text)
        raise exc


def install(app: Flask) -> None:
    """Put the lean path in front of the app's own WSGI callable (middleware, as Flask documents)."""
    app.before_request(_raise_query_error)
    app.wsgi_app = SparqlFastPath(app)  # type: ignore[method-assign]
