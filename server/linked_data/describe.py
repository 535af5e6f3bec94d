"""Describing one resource of the graph: which IRI a request names, and the quads that describe it.

No Flask here. Every read goes through a `select` callable (the app passes the query engine's
SELECT, which keeps the time limit and the row cap); terms travel as SPARQL JSON and are turned
back into pyoxigraph terms here, so graph names, blank nodes and datatypes survive.

A description (what `/doc/<slug>` serves) holds, each quad with the named graph it comes from:
- every triple with the resource as subject, and the blank nodes below it (a Concise Bounded
  Description, followed through up to three blank nodes);
- the triples pointing at it (incoming links);
- its evidence: the `kgo:evidence` quote nodes and their selectors;
- its geometry node (GeoSPARQL), when it has one;
- labels and asserted types of every resource it mentions (subjects, predicates, objects).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import pyoxigraph as ox

from .. import namespaces as ns
from ..http import formats
from ..store.terms import checked_iri

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OA = "http://www.w3.org/ns/oa#"
GEO = "http://www.opengis.net/ont/geosparql#"
FOAF = "http://xmlns.com/foaf/0.1/"
DCTERMS = "http://purl.org/dc/terms/"
VOID = "http://rdfs.org/ns/void#"

# `select(query)` returns the SPARQL 1.1 JSON results document of a SELECT.
Select = Callable[[str], dict[str, Any]]

# Formats a resource is offered in (server order: the first one answers `*/*` and no Accept).
RESOURCE_KINDS = (formats.GRAPH, formats.DATASET, formats.PAGE)


def resource_formats() -> list[formats.Format]:
    return formats.formats_for(*RESOURCE_KINDS)


# -- IRIs ----------------------------------------------------------------------------------------

def iri_for_path(base: str, path: str) -> str:
    """The canonical IRI a request path names: the base plus the path, whatever host served it.

    `path` is the decoded path without its leading slash (`id/gyumri`). Raises BadRequest when the
    result is not an IRI (a space, a quote, a control character…).
    """
    return checked_iri(base + path, "the address names")


def local_path(base: str, iri: str) -> str | None:
    """The path on this server that dereferences `iri`, or None for IRIs outside our base."""
    if not iri.startswith(base):
        return None
    rest = iri[len(base):]
    for prefix, replacement in ns.LOCAL_REWRITES.items():
        if rest.startswith(prefix):
            rest = replacement + rest[len(prefix):]
            break
    return "/" + rest


def split_extension(slug: str) -> tuple[str, str | None]:
    """`gyumri.ttl` → (`gyumri`, `ttl`) when the extension names a resource format."""
    stem, dot, ext = slug.rpartition(".")
    if dot and stem and ext.lower() in {f.extension for f in resource_formats()}:
        return stem, ext.lower()
    return slug, None


# -- SPARQL JSON → pyoxigraph terms -----------------------------------------------------------------

def term_from_json(b: dict[str, Any]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    kind = b["type"]
    if kind == "uri":
        return ox.NamedNode(b["value"])
    if kind == "bnode":
        return ox.BlankNode(b["value"])
    if kind in ("literal", "typed-literal"):
        if "xml:lang" in b:
            return ox.Literal(b["value"], language=b["xml:lang"])
        if "datatype" in b:
            return ox.Literal(b["value"], datatype=ox.NamedNode(b["datatype"]))
        return ox.Literal(b["value"])
    raise ValueError(f"unexpected term kind {kind!r}")


def quads_from_results(results: dict[str, Any]) -> list[ox.Quad]:
    """Rows of ?s ?p ?o ?g as quads (a row without ?g is in the default graph)."""
    out: list[ox.Quad] = []
    for row in results["results"]["bindings"]:
        if not {"s", "p", "o"} <= row.keys():
            continue
        g = term_from_json(row["g"]) if "g" in row else ox.DefaultGraph()
        out.append(ox.Quad(term_from_json(row["s"]), term_from_json(row["p"]),  # type: ignore[arg-type]
                           term_from_json(row["o"]), g))  # type: ignore[arg-type]
    return out


# -- describing ---------------------------------------------------------------------------------------

@dataclass
class Description:
    """The quads describing `iri`, with the graph each comes from."""

    iri: str
    quads: list[ox.Quad]
    extra: list[ox.Quad] = field(default_factory=list)  # about the document itself (default graph)

    @property
    def exists(self) -> bool:
        return any(q.subject == ox.NamedNode(self.iri) or q.object == ox.NamedNode(self.iri) for q in self.quads)

    def all_quads(self) -> list[ox.Quad]:
        return self.quads + self.extra

    def types(self, exclude_graph: str | None = None) -> list[str]:
        node, rdf_type = ox.NamedNode(self.iri), ox.NamedNode(RDF + "type")
        seen: list[str] = []
        for q in self.quads:
            if q.subject == node and q.predicate == rdf_type and isinstance(q.object, ox.NamedNode):
                if exclude_graph and isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value == exclude_graph:
                    continue
                if q.object.value not in seen:
                    seen.append(q.object.value)
        return seen


def describe_query(iri: str, kgo: str, inferred_graph: str, changelog_graph: str | None = None) -> str:
    """One SELECT for the whole description; `iri` has been checked by `iri_for_path`.

    The IRI is written into every branch rather than bound once by `VALUES ?r`: Oxigraph 0.5 did
    not push the VALUES binding into the UNION branches and scanned the whole store for every page
    (a cheap way to load the server; the figures are in bench/README.md).
    Links into the resource from the change log are left out: every change that touched a
    resource names it there, and a page must not grow with its history (the history views
    show it, a page at a time).
    """
    r = f"<{iri}>"
    not_log = f" FILTER(?g != <{changelog_graph}>)" if changelog_graph else ""
    return f"""
PREFIX rdf: <{RDF}>
PREFIX rdfs: <{RDFS}>
PREFIX skos: <{SKOS}>
PREFIX oa: <{OA}>
PREFIX geo: <{GEO}>
PREFIX kgo: <{kgo}>
SELECT DISTINCT ?s ?p ?o ?g WHERE {{
  {{ GRAPH ?g {{ {r} ?p ?o }} BIND({r} AS ?s) }}
  UNION {{ GRAPH ?g {{ ?s ?p {r} }}{not_log} BIND({r} AS ?o) }}
  UNION {{ {r} ?p1 ?s . FILTER(isBlank(?s)) GRAPH ?g {{ ?s ?p ?o }} }}
  UNION {{ {r} ?p1 ?b1 . ?b1 ?p2 ?s . FILTER(isBlank(?b1) && isBlank(?s)) GRAPH ?g {{ ?s ?p ?o }} }}
  UNION {{ {r} ?p1 ?b1 . ?b1 ?p2 ?b2 . ?b2 ?p3 ?s . FILTER(isBlank(?b1) && isBlank(?b2) && isBlank(?s))
          GRAPH ?g {{ ?s ?p ?o }} }}
  UNION {{ {r} kgo:evidence ?s . GRAPH ?g {{ ?s ?p ?o }} }}
  UNION {{ {r} kgo:evidence/oa:hasSelector ?s . GRAPH ?g {{ ?s ?p ?o }} }}
  UNION {{ {r} geo:hasGeometry ?s . GRAPH ?g {{ ?s ?p ?o }} }}
  UNION {{
    {{ {r} ?x ?s }} UNION {{ GRAPH ?g0 {{ ?s ?x {r} }}{not_log.replace("?g", "?g0")} }} UNION {{ {r} ?s ?x }} UNION {{ ?x ?s {r} }}
    FILTER(isIRI(?s) && ?s != {r})
    GRAPH ?g {{ ?s ?p ?o }}
    FILTER(?p IN (rdfs:label, skos:prefLabel, rdf:type))
    FILTER(?p != rdf:type || ?g != <{inferred_graph}>)
  }}
}}"""


def describe(select: Select, iri: str, *, kgo: str, inferred_graph: str, doc_iri: str | None = None,
             dataset_iri: str | None = None, changelog_graph: str | None = None) -> Description:
    quads = quads_from_results(select(describe_query(iri, kgo, inferred_graph, changelog_graph)))
    desc = Description(iri, quads)
    if doc_iri and desc.exists:
        doc, N = ox.NamedNode(doc_iri), ox.NamedNode
        desc.extra = [ox.Quad(doc, N(RDF + "type"), N(FOAF + "Document"), ox.DefaultGraph()),
                      ox.Quad(doc, N(FOAF + "primaryTopic"), N(iri), ox.DefaultGraph())]
        if dataset_iri:
            desc.extra.append(ox.Quad(doc, N(VOID + "inDataset"), N(dataset_iri), ox.DefaultGraph()))
    return desc


def all_quads_query(limit: int, offset: int, leave_out: str | None = None) -> str:
    keep = f" FILTER(?g != <{leave_out}>)" if leave_out else ""
    return f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }}{keep} }} ORDER BY ?g ?s ?p ?o LIMIT {limit} OFFSET {offset}"


def fetch_paged(select: Select, make_query: Callable[[int, int], str], page: int) -> list[ox.Quad]:
    """All quads of a query, page by page, each page a query within the engine's limits (the
    dumps: the whole dataset, never cut)."""
    out: list[ox.Quad] = []
    offset = 0
    while True:
        batch = quads_from_results(select(make_query(page, offset)))
        out.extend(batch)
        if len(batch) < page:
            return out
        offset += page


# -- serializing ----------------------------------------------------------------------------------

def render(fmt: formats.Format, quads: Sequence[ox.Quad], prefixes: dict[str, str]) -> bytes:
    """A description in an RDF format: TriG and N-Quads keep the graphs, the others give the union."""
    if fmt.name in ("trig", "nquads"):
        return fmt.write_quads(list(quads), prefixes)
    seen: set[ox.Triple] = set()
    triples = []
    for q in quads:
        t = ox.Triple(q.subject, q.predicate, q.object)
        if t not in seen:
            seen.add(t)
            triples.append(t)
    return fmt.write_triples(triples, prefixes)
