"""The guarded write path over HTTP: the token, the change, and the answer.

SPARQL 1.1 Update on `/sparql` comes here when a write token is configured; `/sources`
adds a new article with its facts. Every write runs through `Curation.write` (validated
before commit, one transaction, recorded in the change log).
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from ..errors import BadRequest, UnsupportedMediaType
from ..linked_data.describe import local_path
from ..sparql.guard import check_update
from ..sparql.protocol import Operation
from ..store.embedded import format_for_media_type, format_for_path
from ..validation.views import curation, report_response
from .auth import require_curator
from .sources import slug_from_name, source_change
from .writes import Change, Outcome

bp = Blueprint("writes", __name__)


def require_token() -> str:
    """The curator the request writes for (see `auth`), or 401/403."""
    return require_curator(request, current_app.extensions["kg"].settings, current_app.extensions["curators"])


def write_response(outcome: Outcome, *, created: bool = False) -> Response:
    """200 (201 for a new graph) with the post-write report: Warnings are applied and shown."""
    plan = outcome.plan
    if outcome.activity is None:
        preamble = "Nothing changed: the store already holds this state; no change was recorded."
        headers: dict[str, str] = {}
    else:
        preamble = (f"Applied change {outcome.activity.iri}: {triples(len(plan.added))} added, "
                    f"{len(plan.removed)} removed, in {', '.join(plan.graphs)}.")
        headers = {"KG-Change": outcome.activity.iri, "KG-Triples-Added": str(len(plan.added)),
                   "KG-Triples-Removed": str(len(plan.removed))}
    if created and plan.change.graph:
        # Where the new graph is served here (its IRI's host is the canonical one, which may not resolve).
        headers["Location"] = local_path(current_app.extensions["kg"].base, plan.change.graph) or plan.change.graph
    return report_response(outcome.report, status=201 if created and outcome.activity else 200, headers=headers,
                           preamble=preamble, html_ok=False)


def triples(n: int) -> str:
    return f"{n} triple" if n == 1 else f"{n} triples"


def sparql_update(op: Operation) -> Response:
    """SPARQL 1.1 Protocol §2.2: an update, guarded by the token."""
    curator = require_token()
    if op.using_graph_uris or op.using_named_graph_uris:
        raise BadRequest("using-graph-uri and using-named-graph-uri are not supported here; "
                         "write USING / WITH / GRAPH in the update itself")
    if not op.text.strip():
        raise BadRequest("the update is empty")
    settings = current_app.extensions["kg"].settings
    check_update(op.text, max_depth=settings.max_query_depth, max_kb=settings.max_query_kb)
    return write_response(curation().write(Change("sparql-update", update=op.text, curator=curator,
                                                  base_iri=op.base_iri)))


def _part(name: str) -> tuple[bytes, str | None, str | None] | None:
    """A multipart file part or a plain form field: (bytes, filename, content type)."""
    if name in request.files:
        f = request.files[name]
        return f.read(), f.filename, f.mimetype or None
    if name in request.form:
        return request.form[name].encode("utf-8"), None, None
    return None


@bp.post("/sources")
def add_source() -> Response:
    """A second (third, …) article: its text and its facts, in their own named graph."""
    curator = require_token()
    if request.mimetype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise UnsupportedMediaType("send multipart/form-data (or a form) with the fields 'text' and 'facts'")
    text, facts = _part("text"), _part("facts")
    if text is None or facts is None:
        raise BadRequest("send both fields: 'text' (the article, UTF-8) and 'facts' (its RDF, Turtle by default)")
    slug = request.form.get("slug") or (slug_from_name(text[1]) if text[1] else "")
    if not slug:
        raise BadRequest("name the source: a 'slug' field (or send the text as a file with a name)")
    if facts[2] and facts[2] not in ("application/octet-stream", "text/plain"):
        fmt = format_for_media_type(facts[2])
    elif facts[1]:
        fmt = format_for_path(facts[1])
    else:
        fmt = format_for_media_type("text/turtle")
    change = source_change(text[0], facts[0], fmt, slug=slug, base=curation().base, facts_name="field 'facts'")
    change.curator = curator
    return write_response(curation().write(change), created=True)
