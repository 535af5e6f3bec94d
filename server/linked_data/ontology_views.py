"""`/ontology` (and its version IRI, `/ontology/<version>`): documentation for people (pyLODE's sections
and the SKOS schemes, see ontology_docs), the ontology's named graph in every RDF format for
machines. Hash terms (`ontology#Term`) reach the server as `/ontology` (browsers strip the
fragment), so the same answer serves them all.
"""
from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, render_template
from markupsafe import Markup

from .. import namespaces as ns
from ..errors import NotFound
from ..http import formats
from ..http.ld_answers import alternates, is_not_modified, ld_answer, link_header, validators
from .describe import render
from .ontology_docs import OWL, concept_schemes, ontology_sections, term_index, without_schemes
from .resource_views import canonical, choose, kg

bp = Blueprint("ontology", __name__)

KINDS = (formats.GRAPH, formats.DATASET, formats.PAGE)
OWL_ONTOLOGY = OWL + "Ontology"
DCTERMS = "http://purl.org/dc/terms/"


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
    if fmt.name == "html":
        triples = k.read_graph(graph, formats.BY_NAME["ntriples"]).body
        body = documentation(list(ox.parse(triples, format=ox.RdfFormat.N_TRIPLES)), alts)
    else:
        body = k.read_graph(graph, fmt).body
    return ld_answer(body, fmt, v, link=link, content_location=location)


def documentation(quads: list[ox.Quad], alts: list) -> str:  # type: ignore[type-arg]
    k = kg()
    namespace = k.prefixes["kgo"]
    schemes = concept_schemes(quads, namespace)
    turtle = render(formats.BY_NAME["turtle"], without_schemes(quads, schemes), k.prefixes)
    sections = ontology_sections(turtle, store=k.settings.store, version=k.data_version()[0], namespace=namespace)
    onto = {q.predicate.value: q.object.value for q in quads if q.subject.value == canonical(ns.ONTOLOGY)}
    return render_template("ontology.html", title=onto.get(DCTERMS + "title", "Ontology"), iri=canonical(ns.ONTOLOGY),
                           about=onto.get(DCTERMS + "description", ""), version=onto.get(OWL + "versionInfo", ""),
                           sections=Markup(sections), schemes=schemes, terms=term_index(quads, namespace),
                           alternates=alts)


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
