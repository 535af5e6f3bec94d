"""Browser-facing hardening in one place: security headers on every answer, and which IRIs may
become links.

Every HTML page shows data that anyone with the write token (or the author of a source file)
chose: labels, notes, IRIs. Templates escape it (Jinja autoescaping); the headers below are the
second line: even a missed escape cannot run a script, because the Content-Security-Policy
allows scripts only from this host and never inline (nor `javascript:` URLs, which CSP treats as
inline script). `nosniff` stops a browser from running a data answer (Turtle, JSON, text) as
HTML or script.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

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


def add_security_headers(resp: Response) -> Response:
    for name, value in ALWAYS.items():
        resp.headers.setdefault(name, value)
    if resp.mimetype in ("text/html", "application/xhtml+xml", "image/svg+xml"):
        for name, value in HTML_ONLY.items():
            resp.headers[name] = value
    return resp


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
