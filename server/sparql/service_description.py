"""The SPARQL 1.1 Service Description of the endpoint, with VoID statistics of its dataset.

Counts come from the store at request time (one GROUP BY query), so they stay current.
"""
from __future__ import annotations

import pyoxigraph as ox

from ..http import formats

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
FORMATS_NS = "http://www.w3.org/ns/formats/"
_RESULT_FORMATS = {"json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML", "csv": "SPARQL_Results_CSV",
                   "tsv": "SPARQL_Results_TSV", "turtle": "Turtle", "ntriples": "N-Triples",
                   "rdfxml": "RDF_XML", "jsonld": "JSON-LD", "trig": "TriG", "nquads": "N-Quads", "n3": "N3"}


def describe_service(endpoint: str, dataset: str, graph_sizes: dict[str, int], *, writes: bool) -> list[ox.Triple]:
    """sd:Service with languages, formats, features and the default dataset (union of named graphs).

    SPARQL Update is advertised only when the service accepts writes (a write token is set): a
    client that reads the description must not be told it may update a read-only store."""
    N, L = ox.NamedNode, ox.Literal
    rdf_type = N("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    service, ds, default = N(endpoint), N(dataset), ox.BlankNode("defaultGraph")
    t: list[ox.Triple] = [
        ox.Triple(service, rdf_type, N(SD + "Service")),
        ox.Triple(service, N(SD + "endpoint"), service),
        ox.Triple(service, N(SD + "supportedLanguage"), N(SD + "SPARQL11Query")),
        ox.Triple(service, N(SD + "feature"), N(SD + "UnionDefaultGraph")),
        ox.Triple(service, N(SD + "feature"), N(SD + "BasicFederatedQuery")),
        ox.Triple(service, N(SD + "defaultDataset"), ds),
        ox.Triple(ds, rdf_type, N(SD + "Dataset")),
        ox.Triple(ds, rdf_type, N(VOID + "Dataset")),
        ox.Triple(ds, N(SD + "defaultGraph"), default),
        ox.Triple(default, rdf_type, N(SD + "Graph")),
        ox.Triple(default, N(VOID + "triples"), L(str(sum(graph_sizes.values())),
                                                    datatype=N("http://www.w3.org/2001/XMLSchema#integer"))),
        ox.Triple(ds, N(VOID + "sparqlEndpoint"), service),
    ]
    if writes:
        t.append(ox.Triple(service, N(SD + "supportedLanguage"), N(SD + "SPARQL11Update")))
    for f in formats.FORMATS:
        if f.name in _RESULT_FORMATS:
            t.append(ox.Triple(service, N(SD + "resultFormat"), N(FORMATS_NS + _RESULT_FORMATS[f.name])))
        if f.rdf is not None:
            t.append(ox.Triple(service, N(SD + "inputFormat"), N(FORMATS_NS + _RESULT_FORMATS[f.name])))
    for i, (graph, size) in enumerate(sorted(graph_sizes.items())):
        named, g = ox.BlankNode(f"ng{i}"), ox.BlankNode(f"g{i}")
        t += [ox.Triple(ds, N(SD + "namedGraph"), named),
              ox.Triple(named, rdf_type, N(SD + "NamedGraph")),
              ox.Triple(named, N(SD + "name"), N(graph)),
              ox.Triple(named, N(SD + "graph"), g),
              ox.Triple(g, rdf_type, N(SD + "Graph")),
              ox.Triple(g, N(VOID + "triples"), L(str(size), datatype=N("http://www.w3.org/2001/XMLSchema#integer")))]
    return t
