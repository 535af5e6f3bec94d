"""VoID and DCAT description of the dataset: what it holds, where to query it, where to download it.

No Flask here. Statistics come from the store (through `select`); the dumps from `dumps`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from .describe import DCTERMS, FOAF, RDF, RDFS, VOID, Select
from .dumps import Dump

DCAT = "http://www.w3.org/ns/dcat#"
SPDX = "http://spdx.org/rdf/terms#"
PROV = "http://www.w3.org/ns/prov#"
XSD = "http://www.w3.org/2001/XMLSchema#"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
TITLE = "Kars–Gyumri knowledge graph"
ABOUT = ("A knowledge graph of one news article — Türkiye and Armenia's second round of technical talks on "
         "reopening the Kars–Gyumri railway (Türkiye Today, 29 November 2025) — with every fact traced to the "
         "words of the article that state it, identifiers and coordinates from outside sources in a graph of "
         "their own, an OWL ontology, SHACL shapes and the OWL RL inferences.")


@dataclass
class Statistics:
    graphs: dict[str, int]
    classes: list[tuple[str, str, int]]   # (class IRI, label, instances), asserted types only
    entities: int
    properties: int
    subjects: int
    objects: int

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())


def _rows(results: dict[str, Any]) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in b.items()} for b in results["results"]["bindings"]]


def statistics(select: Select, *, base: str, inferred_graph: str, graphs: dict[str, int]) -> Statistics:
    classes = [(r["c"], r.get("label", ""), int(r["n"])) for r in _rows(select(f"""
        SELECT ?c (SAMPLE(?l) AS ?label) (COUNT(DISTINCT ?s) AS ?n) WHERE {{
          GRAPH ?g {{ ?s a ?c }} FILTER(?g != <{inferred_graph}>) FILTER(STRSTARTS(STR(?s), "{base}id/"))
          OPTIONAL {{ ?c <{RDFS}label> ?l FILTER(LANGMATCHES(LANG(?l), "en")) }}
        }} GROUP BY ?c ORDER BY DESC(?n) ?c"""))]
    counts = _rows(select(f"""SELECT (COUNT(DISTINCT ?s) AS ?entities) (COUNT(DISTINCT ?p) AS ?properties)
        (COUNT(DISTINCT ?s2) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects) WHERE {{
          {{ ?s ?x ?y FILTER(STRSTARTS(STR(?s), "{base}id/")) }} UNION {{ ?a ?p ?b }}
          UNION {{ ?s2 ?y2 ?z2 }} UNION {{ ?a3 ?b3 ?o }} }}"""))[0]
    return Statistics(graphs, classes, int(counts["entities"]), int(counts["properties"]), int(counts["subjects"]),
                      int(counts["objects"]))


def describe_dataset(*, dataset: str, base: str, endpoint: str, dumps_url: str, stats: Statistics,
                     dumps: list[Dump], source: str | None, ontology: str) -> list[ox.Triple]:
    N, L = ox.NamedNode, ox.Literal
    ds = N(dataset)

    def integer(n: int) -> ox.Literal:
        return L(str(n), datatype=N(XSD + "integer"))

    t = [ox.Triple(ds, N(RDF + "type"), N(VOID + "Dataset")),
         ox.Triple(ds, N(RDF + "type"), N(DCAT + "Dataset")),
         ox.Triple(ds, N(DCTERMS + "title"), L(TITLE, language="en")),
         ox.Triple(ds, N(RDFS + "label"), L(TITLE, language="en")),
         ox.Triple(ds, N(DCTERMS + "description"), L(ABOUT, language="en")),
         ox.Triple(ds, N(DCTERMS + "license"), N(LICENSE)),
         ox.Triple(ds, N(VOID + "sparqlEndpoint"), N(endpoint)),
         ox.Triple(ds, N(VOID + "uriSpace"), L(base + "id/")),
         ox.Triple(ds, N(VOID + "vocabulary"), N(ontology)),
         ox.Triple(ds, N(VOID + "triples"), integer(stats.triples)),
         ox.Triple(ds, N(VOID + "entities"), integer(stats.entities)),
         ox.Triple(ds, N(VOID + "classes"), integer(len(stats.classes))),
         ox.Triple(ds, N(VOID + "properties"), integer(stats.properties)),
         ox.Triple(ds, N(VOID + "distinctSubjects"), integer(stats.subjects)),
         ox.Triple(ds, N(VOID + "distinctObjects"), integer(stats.objects)),
         ox.Triple(ds, N(FOAF + "homepage"), N(dumps_url.rsplit("dumps/", 1)[0]))]
    if source:
        t += [ox.Triple(ds, N(PROV + "wasDerivedFrom"), N(source)), ox.Triple(ds, N(DCTERMS + "source"), N(source))]
    for i, (cls, _label, n) in enumerate(stats.classes):
        part = ox.BlankNode(f"class{i}")
        t += [ox.Triple(ds, N(VOID + "classPartition"), part), ox.Triple(part, N(VOID + "class"), N(cls)),
              ox.Triple(part, N(VOID + "entities"), integer(n))]
    for graph, size in sorted(stats.graphs.items()):
        g = N(graph)
        t += [ox.Triple(ds, N(VOID + "subset"), g), ox.Triple(g, N(RDF + "type"), N(VOID + "Dataset")),
              ox.Triple(g, N(VOID + "triples"), integer(size))]
    for d in dumps:
        url = N(dumps_url + d.name)
        dist, checksum = ox.BlankNode(f"dist-{d.name}"), ox.BlankNode(f"sum-{d.name}")
        if d.graph is None:
            t.append(ox.Triple(ds, N(VOID + "dataDump"), url))
        else:
            t.append(ox.Triple(N(d.graph), N(VOID + "dataDump"), url))
        t += [ox.Triple(ds, N(DCAT + "distribution"), dist),
              ox.Triple(dist, N(RDF + "type"), N(DCAT + "Distribution")),
              ox.Triple(dist, N(DCTERMS + "title"), L(d.title, language="en")),
              ox.Triple(dist, N(DCAT + "downloadURL"), url),
              ox.Triple(dist, N(DCAT + "mediaType"), N("https://www.iana.org/assignments/media-types/" + d.media_type)),
              ox.Triple(dist, N(DCAT + "byteSize"), L(str(d.size), datatype=N(XSD + "nonNegativeInteger"))),
              ox.Triple(dist, N(DCTERMS + "license"), N(LICENSE)),
              ox.Triple(dist, N(SPDX + "checksum"), checksum),
              ox.Triple(checksum, N(RDF + "type"), N(SPDX + "Checksum")),
              ox.Triple(checksum, N(SPDX + "algorithm"), N(SPDX + "checksumAlgorithm_sha256")),
              ox.Triple(checksum, N(SPDX + "checksumValue"), L(d.sha256, datatype=N(XSD + "hexBinary")))]
        if d.gzipped:
            t.append(ox.Triple(dist, N(DCAT + "compressFormat"),
                               N("https://www.iana.org/assignments/media-types/application/gzip")))
    return t
