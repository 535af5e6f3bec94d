"""IRIs the project mints, in one place.

Every IRI the data uses is built from the canonical base. The canonical base is a
setting (`base_iri`); the files in `ontology/`, `data/` and `shapes/` are written
against DEFAULT_BASE and rewritten term by term when a deployment chooses another.
"""
from __future__ import annotations

DEFAULT_BASE = "https://kars-gyumri.example.org/"

ONTOLOGY = DEFAULT_BASE + "ontology"          # the ontology document and IRI
KGO = ONTOLOGY + "#"                          # ontology terms (hash namespace)
ONTOLOGY_VERSION = DEFAULT_BASE + "ontology/1.1.0"
ID = DEFAULT_BASE + "id/"                     # things: people, events, places, ...
DOC = DEFAULT_BASE + "doc/"                   # documents about things (303 target)
GRAPH = DEFAULT_BASE + "graph/"               # named graphs
SHAPES = DEFAULT_BASE + "shapes#"             # SHACL shapes
DATASET = DEFAULT_BASE + "dataset"

# Where an IRI under the base is served: the same path, except that things (`id/…`) link
# straight to their document (`doc/…`) to spare a redirect.
LOCAL_REWRITES = {"id/": "doc/"}

# Named graphs of the store. The union of them is the default graph of queries.
G_ONTOLOGY = GRAPH + "ontology"
G_SHAPES = GRAPH + "shapes"
G_ARTICLE = GRAPH + "article/kars-gyumri-second-round"
G_OUTSIDE = GRAPH + "outside"
G_EDITORIAL = GRAPH + "editorial"             # the curators' notes and display names, stated by no source
G_SOURCES = GRAPH + "article/"                # each source's graph: graph/article/<slug>
G_INFERRED = GRAPH + "inferred"
G_EXTRA = GRAPH + "extra"                     # triples of files added with `extra_sources`
G_CHANGELOG = GRAPH + "changelog"

PREFIXES: dict[str, str] = {
    "kgo": KGO,
    "kg": ID,
    "kgs": SHAPES,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "time": "http://www.w3.org/2006/time#",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "wgs": "http://www.w3.org/2003/01/geo/wgs84_pos#",
    "schema": "https://schema.org/",
    "org": "http://www.w3.org/ns/org#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "sem": "http://semanticweb.cs.vu.nl/2009/11/sem/",
    "oa": "http://www.w3.org/ns/oa#",
    "sh": "http://www.w3.org/ns/shacl#",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "wd": "http://www.wikidata.org/entity/",
}
