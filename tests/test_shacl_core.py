"""The compiled SHACL core (server/shacl_core.py, SPARQL on Oxigraph) against pySHACL: the same
results -- focus node, path, value, severity, source shape, component, the shape's message -- on
every shape case, on the project's built store, on generated data with hundreds of Violations,
and on a graph that exercises the compiled features our shapes do not use yet. (Every shape here
has its sh:message, as ours do; the engine's own wording beside it is not compared.)"""
from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from pyshacl import validate as pyshacl_validate
from rdflib.namespace import SH

from bench.generate import generate
from server.build.pipeline import BuildResult
from server.validation.inputs import graph_of
from server.validation.shape_model import read_model
from server.validation.validate import Report, Source, engine_shapes, in_memory, parse_report, rdflib_copy, validate

from .conftest import ROOT

CASES = sorted((ROOT / "tests" / "shape_cases").glob("*.ttl"))
G_SHAPES = "https://kars-gyumri.example.org/graph/shapes"
G_ONTOLOGY = "https://kars-gyumri.example.org/graph/ontology"
G_CHANGELOG = "https://kars-gyumri.example.org/graph/changelog"
SPARQL = str(SH.SPARQLConstraintComponent)

Row = tuple[str, str, str | None, str | None, str | None, str | None, str]


def rows(report: Report, component: str | None = None) -> Counter[Row]:
    """What a user reads of each result (the engine's own wording aside)."""
    return Counter((r.severity, r.focus, r.path, r.value, r.shape, r.component, r.message) for r in report.results
                   if (r.component == SPARQL) == (component == SPARQL))


def core_only(shapes: rdflib.Graph) -> rdflib.Graph:
    """The shapes without their sh:sparql constraints (pySHACL takes ~45 s on those of the article)."""
    core = rdflib.Graph()
    for t in shapes:
        if t[1] != SH.sparql:
            core.add(t)
    return core


def by_pyshacl(data: rdflib.Graph, shapes: rdflib.Graph, ontology: rdflib.Graph | None) -> Report:
    """pySHACL alone on the core constraints, as `validate` ran them before they were compiled."""
    core = core_only(shapes)
    _conforms, graph, _text = pyshacl_validate(
        data_graph=data, shacl_graph=engine_shapes(core), ont_graph=ontology, inference="none", advanced=True,
        do_owl_imports=False)
    return parse_report(graph, shapes, None)


def assert_same(compiled: Report, reference: Report) -> None:
    ours, theirs = rows(compiled), rows(reference)
    assert ours == theirs, f"only compiled: {ours - theirs}\nonly pySHACL: {theirs - ours}"


def test_every_shape_of_the_project_is_compiled(shapes: rdflib.Graph) -> None:
    """A shape that needs a feature shacl_core lacks would fall back to pySHACL (slow at scale): compile it first."""
    model = read_model(shapes)
    assert model.fallback == []
    assert sum(len(s.properties) for s in model.top) >= 50


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_shape_case_same_as_pyshacl(path: Path, shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
    data = rdflib.Graph().parse(path)
    assert_same(validate(data, shapes=shapes, ontology=ontology), by_pyshacl(data, shapes, ontology))


def source_of(store: ox.Store) -> Source:
    return Source(store, frozenset({G_SHAPES, G_CHANGELOG}))


def test_built_store_same_as_pyshacl(built: BuildResult) -> None:
    """On the store itself: core results as pySHACL's on an rdflib copy, SPARQL-based results as on an
    in-memory copy holding the data graphs only."""
    store = ox.Store.read_only(str(built.store_path))
    source = source_of(store)
    on_store = validate(source, shapes=graph_of(store, G_SHAPES))
    data = rdflib_copy(source)
    assert_same(on_store, by_pyshacl(data, graph_of(store, G_SHAPES), graph_of(store, G_ONTOLOGY)))
    copied = validate(data, shapes=graph_of(store, G_SHAPES))
    assert rows(on_store, SPARQL) == rows(copied, SPARQL)
    assert sum(rows(on_store, SPARQL).values()) == 1  # the article's own Warning


@pytest.fixture(scope="module")
def generated() -> ox.Store:
    """bench/generate.py's synthetic graph (20k quads; it breaks our shapes in many ways), with the
    project's shapes and ontology in their graphs, as bench/scale.py validates it."""
    buf = io.StringIO()
    generate(20_000, 1, buf)
    store = ox.Store()
    store.load(buf.getvalue().encode(), ox.RdfFormat.N_QUADS)
    store.load(path=str(ROOT / "shapes" / "shapes.ttl"), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(G_SHAPES))
    store.load(path=str(ROOT / "ontology" / "kg.ttl"), format=ox.RdfFormat.TURTLE,
               to_graph=ox.NamedNode(G_ONTOLOGY))
    return store


def test_generated_data_same_as_pyshacl(generated: ox.Store) -> None:
    source = source_of(generated)
    on_store = validate(source, shapes=graph_of(generated, G_SHAPES))
    assert on_store.counts["Violation"] > 100
    # core and SPARQL constraints both (labels in other languages than English are valid now)
    assert len({r.component for r in on_store.results}) >= 3
    data = rdflib_copy(source)
    assert_same(on_store, by_pyshacl(data, graph_of(generated, G_SHAPES), graph_of(generated, G_ONTOLOGY)))
    assert rows(on_store, SPARQL) == rows(validate(data, shapes=graph_of(generated, G_SHAPES)), SPARQL)


FEATURES_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

ex:Thing a rdfs:Class, sh:NodeShape ;                     # implicit class target
    sh:property [ sh:path [ sh:inversePath ex:owns ] ; sh:maxCount 1 ; sh:class ex:Person ;
                  sh:severity sh:Warning ; sh:message "one owner, a person" ] ,
                [ sh:path ex:label ; sh:uniqueLang true ; sh:languageIn ( "en" "fr-CA" ) ; sh:message "labels" ] ,
                [ sh:path ex:size ; sh:maxExclusive 10 ; sh:minInclusive 0 ; sh:datatype xsd:integer ;
                  sh:message "size 0-9" ] ,
                [ sh:path ex:code ; sh:nodeKind sh:Literal ; sh:maxLength 3 ; sh:severity sh:Info ;
                  sh:message "short code" ] ,
                [ sh:path ex:made ; sh:datatype xsd:date ; sh:message "a date" ] .
ex:Named a sh:NodeShape ; sh:targetNode ex:ghost , ex:a ;
    sh:property [ sh:path ex:label ; sh:minCount 1 ; sh:message "labelled" ] .
ex:Owned a sh:NodeShape ; sh:targetObjectsOf ex:owns ;
    sh:property [ sh:path ex:owner ; sh:in ( ex:a "x" ) ; sh:message "known owner" ] .
ex:Owners a sh:NodeShape ; sh:targetSubjectsOf ex:owns ;
    sh:property [ sh:path ex:kind ; sh:qualifiedValueShape [ sh:nodeKind sh:IRI ] ; sh:qualifiedMaxCount 1 ;
                  sh:message "one kind" ] .
ex:Valued a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:status ; sh:hasValue ex:ok ; sh:message "ok" ] .
ex:Off a sh:NodeShape ; sh:targetClass ex:Thing ; sh:deactivated true ;
    sh:property [ sh:path ex:nothing ; sh:minCount 1 ; sh:message "never" ] .
"""

FEATURES_DATA = """
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:t1 a ex:Thing ; ex:label "a"@en , "b"@EN , "c"@fr-ca , "d"@de ; ex:size 10 , -1 , 5 , "7" ;
    ex:code "abcd" , ex:iri , "ok" ; ex:made "2025-11-28"^^xsd:date , "2025-13-45"^^xsd:date , "2025" ;
    ex:status ex:ok .
ex:t2 a ex:Thing ; ex:status ex:bad .
ex:a ex:owns ex:t1 ; ex:kind ex:k1 , ex:k2 , "lit" .
ex:t2 ex:owner ex:a , "x" , "y" .
ex:p a ex:Person ; ex:owns ex:t1 .
ex:b ex:owns ex:t2 .
"""


def test_compiled_features_same_as_pyshacl() -> None:
    shapes = rdflib.Graph().parse(data=FEATURES_SHAPES, format="turtle")
    data = rdflib.Graph().parse(data=FEATURES_DATA, format="turtle")
    assert read_model(shapes).fallback == []
    report = validate(data, shapes=shapes)
    assert report.pyshacl_shapes == ()
    assert_same(report, by_pyshacl(data, shapes, None))
    components = {r.component.rsplit("#", 1)[1] for r in report.results if r.component}
    assert components >= {"MaxCountConstraintComponent", "ClassConstraintComponent", "UniqueLangConstraintComponent",
                          "LanguageInConstraintComponent", "MaxExclusiveConstraintComponent",
                          "MinInclusiveConstraintComponent", "DatatypeConstraintComponent",
                          "NodeKindConstraintComponent", "MaxLengthConstraintComponent",
                          "MinCountConstraintComponent", "InConstraintComponent",
                          "QualifiedMaxCountConstraintComponent", "HasValueConstraintComponent"}
    assert {r.severity for r in report.results} == {"Violation", "Warning", "Info"}
    assert any(r.path == "^http://example.org/owns" for r in report.results)
    assert ("http://example.org/made", "2025-13-45") in {(r.path, r.value) for r in report.results}


def test_shapes_and_change_log_graphs_are_not_data() -> None:
    """Only the data graphs are validated: a node typed in the shapes or change-log graph is no focus node."""
    shapes = rdflib.Graph().parse(data=FEATURES_SHAPES, format="turtle")
    store = ox.Store()
    thing = ox.Quad(ox.NamedNode("http://example.org/x"), ox.NamedNode(str(rdflib.RDF.type)),
                    ox.NamedNode("http://example.org/Thing"), ox.NamedNode(G_SHAPES))
    store.extend([thing, ox.Quad(thing.subject, thing.predicate, thing.object, ox.NamedNode(G_CHANGELOG))])
    assert not [r for r in validate(source_of(store), shapes=shapes).results if r.focus == "http://example.org/x"]
    store.add(ox.Quad(thing.subject, thing.predicate, thing.object, ox.NamedNode("http://example.org/data")))
    assert [r for r in validate(source_of(store), shapes=shapes).results if r.focus == "http://example.org/x"]


def test_ontology_is_mixed_in_as_pyshacl_does(shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
    """Files validated alone see the ontology's class hierarchy (a kgo:City is a kgo:Place)."""
    source = in_memory(rdflib.Graph(), ontology)
    subclasses = source.subclasses(rdflib.URIRef("https://kars-gyumri.example.org/ontology#Place"))
    assert ox.NamedNode("https://kars-gyumri.example.org/ontology#City") in subclasses
