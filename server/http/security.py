"""Hardening in one place: security headers on every answer, which IRIs may become links, and
bodies of unknown length held to `max_body_mb`.

Every HTML page shows data that anyone with the write token (or the author of a source file)
chose: labels, notes, IRIs. Templates escape it (Jinja autoescaping); the headers below are the
second line: even a missed escape cannot run a script, because the Content-Security-Policy
allows scripts only from this host and never inline (nor `javascript:` URLs, which CSP treats as
inline script). `nosniff` stops a browser from running a data answer (Turtle, JSON, text) as
HTML or script.
"""
from __future__ import annotations

import io
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from ..errors import PayloadTooLarge

# The pages load and contact only this host: YASGUI is served from /static/vendor. Styles may be
# inline (pyLODE's page carries a <style>; YASGUI sets style attributes); scripts never.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'")

# On every answer, data or page.
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# On HTML answers (and errors, which a browser may render).
HTML_ONLY = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
}

# Schemes an IRI may have to be rendered as a clickable link; any other (javascript:, data:,
# vbscript:, file:, urn:…) is shown as text only.
LINK_SCHEMES = frozenset({"http", "https"})


def safe_href(iri: str | None) -> str | None:
    """`iri` if a browser may follow it as a link, else None (the page shows it as text)."""
    if not iri:
        return None
    if iri.startswith("/") and not iri.startswith("//"):
        return iri  # a path on this host
    # Browsers drop tabs and newlines and trim control characters and spaces before reading the
    # scheme ("java\tscript:" runs); anything of the kind is refused outright.
    if any(ord(c) <= 0x20 or c == "\x7f" for c in iri):
        return None
    try:
        scheme = urlsplit(iri).scheme.lower()
    except ValueError:
        return None
    return iri if scheme in LINK_SCHEMES else None


_RENDERED = ("text/html", "application/xhtml+xml", "image/svg+xml")


@lru_cache(maxsize=64)
def security_headers(content_type: str | None) -> dict[str, str]:
    """The headers every answer of this Content-Type carries (shared: not to be changed)."""
    if (content_type or "").split(";", 1)[0].strip().lower() in _RENDERED:
        return {**ALWAYS, **HTML_ONLY}
    return ALWAYS


def add_security_headers(resp: Response) -> Response:
    for name, value in security_headers(resp.mimetype).items():
        if name in HTML_ONLY:
            resp.headers[name] = value
        else:
            resp.headers.setdefault(name, value)
    return resp


def bound_streamed_body() -> None:
    """A chunked body (no Content-Length) longer than max_body_mb is a 413, never cut short.

    Werkzeug enforces MAX_CONTENT_LENGTH on such a stream by stopping at the limit and handing
    over what it has read: a graph or an update cut at 4 MiB could still parse and be stored.
    Here the body is read up to one byte past the limit first; the rest is never read.
    """
    if request.content_length is not None or not request.environ.get("wsgi.input_terminated"):
        return
    if "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    data = request.environ["wsgi.input"].read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"the request body is larger than this service accepts ({limit / 1048576:g} MiB, "
                              "setting max_body_mb)")
    request.environ["wsgi.input"] = io.BytesIO(data)
    request.environ["CONTENT_LENGTH"] = str(len(data))


def init_app(app: Flask) -> None:
    app.before_request(bound_streamed_body)
    app.after_request(add_security_headers)
