"""Building HTTP answers: errors in one shape, negotiated bodies, CORS and caching headers.

Views build their answers here so that every route sends the same error body and the same
`Vary`/CORS headers.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from flask import Flask, Response, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_accept_header

from ..errors import KGError, MethodNotAllowed, PayloadTooLarge
from . import formats

if TYPE_CHECKING:
    from ..store.engine import QueryAnswer

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Type, Content-Location, Link, ETag, Last-Modified, Vary, "
                                     "Server-Timing, KG-Result-Truncated, KG-Result-Count",
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
    """A query answer's headers (the Flask view and the lean WSGI path send the same)."""
    fmt = formats.BY_NAME[answer.format]
    headers = {"Content-Type": fmt.content_type, "Vary": "Accept", **CORS_HEADERS,
               "Server-Timing": f"engine;dur={answer.engine_ms:.2f}, total;dur={answer.total_ms:.2f}",
               "KG-Result-Count": str(answer.count)}
    if answer.truncated:
        headers["KG-Result-Truncated"] = f"true; limit={answer.count}"
    return headers


def _error_format(accept: str | None) -> str:
    """Errors are JSON for clients that prefer JSON, plain text otherwise."""
    best = parse_accept_header(accept, MIMEAccept).best_match(
        ["text/plain", "application/json", "application/sparql-results+json", "text/html"], default="text/plain")
    return "json" if best in ("application/json", "application/sparql-results+json") else "text"


def error_parts(exc: KGError, accept: str | None) -> tuple[bytes, dict[str, str]]:
    """The one error body, and its headers: the status, a title, and a message that says what to change."""
    data = exc.to_dict()
    if _error_format(accept) == "json":
        body, ctype = json.dumps(data, ensure_ascii=False, indent=2), "application/json"
    else:
        extra = "".join(f"\n{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                        for k, v in exc.detail.items() if k != "report")
        body, ctype = f"{exc.status} {exc.title}: {exc.message}{extra}\n", "text/plain; charset=utf-8"
        if "report" in exc.detail:
            body += "\n" + str(exc.detail["report"]) + "\n"
    return body.encode("utf-8"), {"Content-Type": ctype, "Vary": "Accept", **CORS_HEADERS, **exc.headers}


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
    app.register_error_handler(HTTPException, lambda exc: error_response(_from_http_exception(exc)))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:  # our fault: no traceback leaves the server
        app.logger.exception("unexpected error")
        err = KGError("the server failed to answer this request; the error was logged")
        return error_response(err)
