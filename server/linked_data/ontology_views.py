"""`/ontology` (and its version IRI, `/ontology/<version>`): pyLODE documentation for people, the
ontology's named graph in every RDF format for machines. Hash terms (`ontology#Term`) reach the
server as `/ontology` (browsers strip the fragment), so the same answer serves them all.
"""
from __future__ import annotations

from flask import Blueprint, Response

from .. import namespaces as ns
from ..errors import NotFound
from ..http import formats
from ..http.ld_answers import alternates, is_not_modified, ld_answer, link_header, validators
from .describe import fetch_paged, graph_query, render
from .ontology_docs import ontology_html
from .resource_views import canonical, choose, kg, select

bp = Blueprint("ontology", __name__)

KINDS = (formats.GRAPH, formats.DATASET, formats.PAGE)
OWL_ONTOLOGY = "http://www.w3.org/2002/07/owl#Ontology"


def _ontology(path: str, ext: str | None = None) -> Response:
    k = kg()
    fmt = choose(KINDS, ext)
    alts = alternates(path, KINDS)
    v = validators(fmt, salt="ontology-")
    link = link_header(alts, types=[OWL_ONTOLOGY])
    location = f"{path}.{fmt.extension}" if not ext else None
    if is_not_modified(v):
        return ld_answer(b"", fmt, v, link=link, content_location=location)
    graph = canonical(ns.G_ONTOLOGY)
    quads = fetch_paged(select, lambda limit, offset: graph_query(graph, limit, offset), k.settings.max_result_rows)
    if fmt.name == "html":
        turtle = render(formats.BY_NAME["turtle"], quads, k.prefixes)
        body = ontology_html(turtle, store=k.settings.store, version=k.data_version()[0],
                             namespace=k.prefixes["kgo"])
    else:
        body = render(fmt, quads, k.prefixes)
    return ld_answer(body, fmt, v, link=link, content_location=location)


@bp.route("/ontology", methods=["GET", "HEAD"])
def ontology() -> Response:
    return _ontology("/ontology")


@bp.route("/ontology.<ext>", methods=["GET", "HEAD"])
def ontology_as(ext: str) -> Response:
    return _ontology("/ontology", ext)


@bp.route("/ontology/<version>", methods=["GET", "HEAD"])
def ontology_version(version: str) -> Response:
    """The version IRI resolves to the same document while this is the only version."""
    stem, _, ext = version.rpartition(".") if version.count(".") == 3 else (version, "", "")
    if canonical(ns.ONTOLOGY_VERSION) != kg().base + "ontology/" + stem:
        raise NotFound(f"no ontology version {stem!r}; this service has {ns.ONTOLOGY_VERSION.rsplit('/', 1)[-1]}")
    return _ontology("/ontology/" + stem, ext or None)
