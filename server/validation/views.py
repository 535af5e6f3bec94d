"""`/validate`: the served graph's SHACL report, proposed data checked without storing it, coverage.

Also the one place that renders a report as an HTTP answer (`report_response`), used by the
write endpoints for their 422 and for the Warnings of an accepted write.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request

from ..curation.writes import Curation, WriteRejected, graph_of
from ..errors import BadRequest, NotAcceptable, PayloadTooLarge, ServiceUnavailable
from ..http import formats
from ..http.responses import negotiated
from ..store.embedded import format_for_media_type, parse_rdf
from ..store.threads import computation
from .coverage import coverage
from .validate import Report

bp = Blueprint("validation", __name__)

_PROPOSALS = threading.BoundedSemaphore(1)
PROPOSAL_WAIT_S = 10.0

def curation() -> Curation:
    return current_app.extensions["curation"]


def doc_link(iri: str | None) -> str | None:
    """`{base}id/<slug>` resources have a page at `/doc/<slug>`."""
    base = current_app.extensions["kg"].base + "id/"
    if iri and iri.startswith(base):
        return "/doc/" + iri[len(base):]
    return None


def report_response(report: Report, *, status: int = 200, headers: dict[str, str] | None = None,
                    title: str = "Validation report", preamble: str = "", html_ok: bool = True) -> Response:
    """A report in the negotiated format: HTML, text, CSV, JSON rows, or the sh:ValidationReport in RDF."""
    kinds = [formats.REPORT]
    fmt = formats.negotiate(request.accept_mimetypes, kinds, request.args.get("format"),
                            prefer="html" if html_ok and status == 200 else "text")
    if fmt.name == "html" and not html_ok:
        fmt = formats.BY_NAME["text"]
    if fmt.write_report is not None:
        body: str | bytes = fmt.write_report(report, preamble)
    else:   # the page for people
        body = render_template("validate.html", title=title, report=report, groups=group_results(report),
                               doc_link=doc_link, preamble=preamble)
    extra = {"KG-Report-Conforms": "true" if report.conforms else "false",
             "KG-Report-Passed": "true" if report.passed else "false",
             "KG-Report-Truncated": "true" if report.truncated else "false", **(headers or {})}
    return negotiated(body, fmt, status=status, headers=extra)


def group_results(report: Report) -> dict[str, dict[str, list[Any]]]:
    groups: dict[str, dict[str, list[Any]]] = OrderedDict()
    for r in report.results:
        groups.setdefault(r.severity, OrderedDict()).setdefault(r.shape or "(no shape)", []).append(r)
    return groups


def write_rejected(exc: WriteRejected) -> Response:
    """422: the write would break the shapes; the report says why, nothing was stored."""
    return report_response(exc.report, status=422, html_ok=False,
                           preamble=f"422 Validation failed: {exc.message.rstrip('.')}; the store is unchanged.")


@bp.get("/validate")
def current_report() -> Response:
    report = curation().current_report()
    resp = report_response(report, title="Validation report of the served graph")
    resp.headers["Link"] = ", ".join(f'<?format={n}>; rel="alternate"; type="{formats.BY_NAME[n].media_type}"'
                                     for n in ("turtle", "jsonld", "ntriples", "csv", "report-json"))
    return resp


@bp.post("/validate")
def validate_proposal() -> Response:
    """Validate the body with the served graph (`?mode=standalone`: alone); nothing is stored."""
    mode = request.args.get("mode", "with-graph")
    if mode not in ("with-graph", "standalone"):
        raise BadRequest(f"mode={mode!r} is not known; use mode=standalone or leave it out (validated with the graph)")
    report, triples = proposal_report(request.get_data(cache=False), request.mimetype, standalone=mode == "standalone")
    return report_response(report, title="Validation of the proposed data",
                           preamble=f"{triples} triples validated {'alone' if mode == 'standalone' else 'with the served graph'}; nothing was stored.")


def proposal_report(body: bytes, media_type: str, *, standalone: bool = False) -> tuple[Report, int]:
    """The report of proposed RDF (with the served graph, or alone) and how many triples it held;
    nothing is stored. Also what the workbench checks a pending change with."""
    fmt = format_for_media_type(media_type)
    if not body.strip():
        raise BadRequest("the body is empty; send the RDF to validate")
    quads = parse_rdf(body, fmt, source="request body", base_iri=current_app.extensions["kg"].base)
    limit = current_app.extensions["kg"].settings.max_validate_triples
    if len(quads) > limit:
        raise PayloadTooLarge(f"the body holds {len(quads):,} triples; at most {limit:,} are validated in one request "
                              "(setting max_validate_triples): split it, or run `kg validate FILE` locally",
                              limit=limit)
    # pySHACL runs in this process without a time limit (about 3 s and 100 MB per 10k triples):
    # one proposal at a time per server process, the others are told to come back.
    if not _PROPOSALS.acquire(timeout=PROPOSAL_WAIT_S):
        raise ServiceUnavailable("another validation is running; try again in a few seconds", retry_after_s=5)
    try:
        return curation().validate_proposal(quads, standalone=standalone), len(quads)
    finally:
        _PROPOSALS.release()


@bp.get("/validate/coverage")
def shape_coverage() -> Response:
    cur = curation()
    key, mem = cur.snapshot_store()
    rules = computation(cur.rules, key, mem)
    data = [q for q in mem if graph_of(q) not in (cur.g_shapes, cur.g_changelog)]
    result = coverage(data, rules.shapes, rules.ontology, cur.base)
    fmt = formats.negotiate(request.accept_mimetypes, [formats.PAGE, formats.REPORT], request.args.get("format"),
                            prefer="html")
    if fmt.name == "html":
        return negotiated(render_template("coverage.html", c=result, doc_link=doc_link), fmt)
    if fmt.name != "report-json":
        raise NotAcceptable("the coverage view is HTML or JSON", offered=["text/html", "application/json"])
    return negotiated(json.dumps(result, indent=2, ensure_ascii=False), fmt)
