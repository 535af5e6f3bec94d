"""Building HTTP answers: errors in one shape, negotiated bodies, CORS and caching headers.

Views build their answers here so that every route sends the same error body and the same
`Vary`/CORS headers.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from ..errors import KGError, MethodNotAllowed, PayloadTooLarge, RequestTimeout
from . import formats

if TYPE_CHECKING:
    from ..store.engine import QueryAnswer

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Type, Content-Location, Link, ETag, Last-Modified, Vary, "
                                     "Server-Timing, KG-Result-Truncated, KG-Result-Count, Retry-After",
}


def negotiated(body: bytes | str, fmt: formats.Format, *, status: int = 200,
               headers: dict[str, str] | None = None) -> Response:
    """An answer whose format was negotiated: exact Content-Type, `Vary: Accept`, CORS for reads."""
    resp = Response(body, status=status, content_type=fmt.content_type)
    resp.headers["Vary"] = "Accept"
    resp.headers.update(CORS_HEADERS)
    if headers:
        resp.headers.update(headers)
    return resp


def answer_headers(answer: "QueryAnswer") -> dict[str, str]:
    """A query answer's headers: its format, the row count, and the caps that cut it, if any."""
    headers = {"Content-Type": answer.format.content_type, "Vary": "Accept", **CORS_HEADERS,
               "Server-Timing": f"engine;dur={answer.engine_ms:.2f}, total;dur={answer.total_ms:.2f}",
               "KG-Result-Count": str(answer.count)}
    if answer.truncated:
        cut = f"; bytes={answer.byte_budget}" if answer.byte_budget is not None else ""
        headers["KG-Result-Truncated"] = f"true; limit={answer.count}{cut}"
    return headers


def answer_response(answer: "QueryAnswer") -> Response:
    """A query answer as a Flask response (views other than /sparql that answer with a query)."""
    body = b"" if request.method == "HEAD" else answer.body
    resp = Response(body, headers=answer_headers(answer))
    if request.method == "HEAD":
        resp.headers["Content-Length"] = str(len(answer.body))
    return resp


def error_parts(exc: KGError, accept: str | None) -> tuple[bytes, dict[str, str]]:
    """The one error body, and its headers: the status, a title, and a message that says what to change."""
    data = exc.to_dict()
    fmt = formats.error_format(accept)
    if fmt.name == "error-json":
        body = json.dumps(data, ensure_ascii=False, indent=2)
    else:
        extra = "".join(f"\n{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                        for k, v in exc.detail.items() if k != "report")
        body = f"{exc.status} {exc.title}: {exc.message}{extra}\n"
        if "report" in exc.detail:
            body += "\n" + str(exc.detail["report"]) + "\n"
    return body.encode("utf-8"), {"Content-Type": fmt.content_type, "Vary": "Accept", **CORS_HEADERS, **exc.headers}


def error_response(exc: KGError) -> Response:
    body, headers = error_parts(exc, request.headers.get("Accept"))
    return Response(body, status=exc.status, headers=headers)


def _from_http_exception(exc: HTTPException) -> KGError:
    """Werkzeug's own errors (routing, body size) in our shape."""
    if exc.code == 405:
        allowed = sorted(getattr(exc, "valid_methods", None) or [])
        return MethodNotAllowed(f"{request.method} is not allowed here; use {', '.join(allowed)}", allowed)
    if exc.code == 413:
        return PayloadTooLarge("the request body is larger than this service accepts (setting max_body_mb)")
    err = KGError(exc.description or exc.name)
    err.status, err.title = exc.code or 500, exc.name
    return err


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(KGError, error_response)
    # A request body that stops arriving (the server's read time limit) while a view reads it.
    app.register_error_handler(TimeoutError, lambda exc: error_response(RequestTimeout(
        "the request body did not arrive in time (setting client_timeout_s); send it without pausing")))
    app.register_error_handler(HTTPException, lambda exc: error_response(_from_http_exception(exc)))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:  # our fault: no traceback leaves the server
        app.logger.exception("unexpected error")
        err = KGError("the server failed to answer this request; the error was logged")
        return error_response(err)
