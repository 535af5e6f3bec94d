"""`/history`: the change log, a page at a time, each change with its diff; one change; undo.

Thin: read the filters, ask `History`, render. Undo from a browser sends the curator's token as
an `Authorization` header from a script (static/history.js keeps it in sessionStorage for the
browser session): there is no cookie a form on another site could make a browser send.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request

from ..errors import BadRequest
from ..http import formats
from ..http.responses import answer_response, negotiated
from ..http.security import safe_href
from ..linked_data.describe import local_path
from ..validation.views import curation
from .auth import check_name
from .changelog import PROV, HistoryFilter, activity_iri, changelog_graph, kgc
from .history import PAGE_SIZE, ROWS_SHOWN, History
from .write_views import require_token, write_response
from .writes import Change

bp = Blueprint("history", __name__)
_IRI_FORBIDDEN = set('<>"{}|^`\\') | {chr(c) for c in range(0x21)}


@bp.app_template_filter("local_href")
def local_href(iri: str) -> str | None:
    """Where a link to `iri` goes: its page on this site when it is one of ours, else the IRI (http(s) only)."""
    return local_path(current_app.extensions["kg"].base, iri) or safe_href(iri)


def history() -> History:
    return current_app.extensions["history"]


def iri_arg(name: str) -> str | None:
    """An IRI parameter, checked before it is written into a query (RFC 3987: no spaces, no <>"{}|^`)."""
    value = request.args.get(name) or None
    if value is not None and (":" not in value or any(c in _IRI_FORBIDDEN for c in value)):
        raise BadRequest(f"{name}={value!r} is not an absolute IRI")
    return value


def history_filter() -> HistoryFilter:
    curator = request.args.get("curator") or None
    return HistoryFilter(graph=iri_arg("graph"), resource=iri_arg("resource"),
                         curator=check_name(curator) if curator else None, before=request.args.get("before") or None)


@bp.get("/history")
def history_page() -> Response:
    kg = current_app.extensions["kg"]
    fmt = formats.negotiate(request.accept_mimetypes, [formats.PAGE, formats.GRAPH], request.args.get("format"),
                            prefer="html")
    try:
        limit = int(request.args.get("limit", PAGE_SIZE))
    except ValueError:
        raise BadRequest("limit is a number of changes") from None
    page = history().page(history_filter(), limit, rows=ROWS_SHOWN if fmt.name == "html" else 0)
    older = None
    if page.older:
        args = {k: v for k, v in request.args.items() if k != "before"}
        older = "/history?" + urlencode({**args, "before": page.older})
    headers = {"Link": f'<{older}>; rel="next"'} if older else {}
    if fmt.name == "html":
        return negotiated(render_template("history.html", page=page, older=older, base=kg.base), fmt, headers=headers)
    iris = " ".join(f"<{c.iri}>" for c in page.changes) or f"<{kg.base}id/change/none>"
    query = (f"CONSTRUCT {{ ?a ?p ?o . ?agent ?q ?v }} WHERE {{ VALUES ?a {{ {iris} }} GRAPH <{changelog_graph(kg.base)}> "
             f"{{ ?a ?p ?o OPTIONAL {{ ?a <{PROV}wasAssociatedWith> ?agent . ?agent ?q ?v }} }} }}")
    resp = answer_response(kg.engine.run(kg.request(query, fmt.name, prefixes={**kg.prefixes, "kgc": kgc(kg.base)})))
    resp.headers.update(headers)
    return resp


@bp.get("/history/<change_id>")
def change_page(change_id: str) -> Response:
    """One change with its whole diff (up to a few thousand rows), or its RDF Patch."""
    fmt = formats.negotiate(request.accept_mimetypes, [formats.PAGE, formats.PATCH], request.args.get("format"),
                            prefer="html")
    if fmt.name == "rdfpatch":
        return negotiated(history().patch_text(change_id), fmt)
    change = history().change(change_id)
    return negotiated(render_template("change.html", c=change, base=current_app.extensions["kg"].base), fmt)


@bp.post("/history/<change_id>/undo")
def undo(change_id: str) -> Response:
    """Revert one change: its added triples are removed and its removed triples restored, validated like any write."""
    curator = require_token()
    if not change_id.replace("-", "").isalnum():
        raise BadRequest(f"{change_id!r} is not a change id (see /history)")
    iri = activity_iri(curation().base, change_id)
    return write_response(curation().write(Change("undo", undo_of=iri, comment=f"undo of {iri}", curator=curator)))
