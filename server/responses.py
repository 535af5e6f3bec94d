"""Building HTTP answers: errors in one shape, negotiated bodies, CORS and caching headers.

Views build their answers here so that every route sends the same error body and the same
`Vary`/CORS headers.
"""
from __future__ import annotations

import json

from flask import Flask, Request, Response, request
from werkzeug.exceptions import HTTPException

from . import formats
from .errors import KGError, MethodNotAllowed, PayloadTooLarge

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


def _error_format(req: Request) -> str:
    """Errors are JSON for clients that prefer JSON, plain text otherwise."""
    accept = req.accept_mimetypes
    best = accept.best_match(["text/plain", "application/json", "application/sparql-results+json",
                              "text/html"], default="text/plain")
    return "json" if best in ("application/json", "application/sparql-results+json") else "text"


def error_response(exc: KGError) -> Response:
    """The one error body: the status, a title, and a message that says what to change."""
    data = exc.to_dict()
    if _error_format(request) == "json":
        body, ctype = json.dumps(data, ensure_ascii=False, indent=2), "application/json"
    else:
        extra = "".join(f"\n{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                        for k, v in exc.detail.items() if k != "report")
        body, ctype = f"{exc.status} {exc.title}: {exc.message}{extra}\n", "text/plain; charset=utf-8"
        if "report" in exc.detail:
            body += "\n" + str(exc.detail["report"]) + "\n"
    resp = Response(body, status=exc.status, content_type=ctype)
    resp.headers["Vary"] = "Accept"
    resp.headers.update(CORS_HEADERS)
    resp.headers.update(exc.headers)
    return resp


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
