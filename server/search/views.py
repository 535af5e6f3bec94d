"""`/search?q=…`: things by name, other name or the sentences that mention them, as a page for
people or as JSON (the header's search box asks for JSON while one types)."""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, render_template, request

from ..errors import BadRequest
from ..http import formats
from ..http.responses import negotiated
from . import current_index, search

bp = Blueprint("search", __name__)

KINDS = (formats.PAGE, formats.HITS)
MAX_LIMIT = 50
MAX_QUERY_CHARS = 200


def _number(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise BadRequest(f"{name}={raw!r} is not allowed; give a whole number from {low} to {high}")
    return value


@bp.route("/search", methods=["GET", "HEAD"])
def search_page() -> Response:
    fmt = formats.negotiate(request.accept_mimetypes, KINDS, request.args.get("format"))
    q = request.args.get("q", "").strip()
    if len(q) > MAX_QUERY_CHARS:
        raise BadRequest(f"the search text has {len(q)} characters; at most {MAX_QUERY_CHARS} are searched")
    limit = _number("limit", 20, 1, MAX_LIMIT)
    offset = _number("offset", 0, 0, 10_000)
    kg = current_app.extensions["kg"]
    results = search(current_index(kg.settings, kg.engine), q, limit=limit, offset=offset) if q else None
    if fmt.name == "html":
        body = render_template("search.html", q=q, results=results, limit=limit)
    else:
        body = json.dumps({"query": q, "total": results.total if results else 0, "offset": offset, "limit": limit,
                           "hits": [h.to_json() for h in results.hits] if results else []}, ensure_ascii=False)
    return negotiated(b"" if request.method == "HEAD" else body, fmt)
