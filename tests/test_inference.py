"""The OWL RL materialisation on Oxigraph, checked against owlrl, the pure-Python reasoner it replaced.

owlrl is the reference: on the project's data and on a small ontology that uses the rules ours
does not (inverse, symmetric, equivalent classes and properties), both must infer the same
triples, except for one documented set that owlrl adds and `kg build` leaves out on purpose:
statements true of everything (see `is_tautology`, and README, Inference).
"""
from __future__ import annotations

import owlrl
import pyoxigraph as ox
import pytest
import rdflib

from server import namespaces as ns
from server.build.inference import materialise
from server.build.pipeline import project_sources, read_sources
from server.errors import BuildError
from server.store.embedded import SourceFile
from server.store.terms import to_ox_term, to_rdflib_term

from .conftest import ROOT

OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
VOCABULARIES = (OWL, RDFS, RDF, "http://www.w3.org/2001/XMLSchema#")
OWLRL_ERROR = rdflib.URIRef("http://www.daml.org/2002/03/agents/agent-ont#error")
OWLRL_ERROR_MESSAGE = rdflib.URIRef("http://www.daml.org/2002/03/agents/agent-ont#ErrorMessage")
G = "http://example.org/graph"
INFERRED = "http://example.org/inferred"
PREFIXES = """@prefix : <http://example.org/> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

Triple = tuple[object, object, object]


def owlrl_inferences(quads: list[ox.Quad], graphs: set[str]) -> tuple[set[Triple], list[str]]:
    """owlrl's closure as `kg build` kept it until now: the new triples without literal subjects,
    `x owl:sameAs x`, or anything about the RDF, RDFS, OWL and XSD vocabularies; and its errors."""
    asserted = rdflib.Graph()
    for q in quads:
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in graphs:
            asserted.add(tuple(to_rdflib_term(t) for t in (q.subject, q.predicate, q.object)))  # type: ignore[arg-type]
    closure = rdflib.Graph()
    for t in asserted:
        closure.add(t)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(closure)
    errors = [str(o) for o in closure.objects(None, OWLRL_ERROR)]
    errors += [f"{s} is a member of owl:Nothing" for s in closure.subjects(rdflib.RDF.type, rdflib.OWL.Nothing)]
    new = {t for t in closure if t not in asserted and not isinstance(t[0], rdflib.Literal)
           and not (t[1] == rdflib.OWL.sameAs and t[0] == t[2]) and not str(t[0]).startswith(VOCABULARIES)
           and t[1] != OWLRL_ERROR and t[2] != OWLRL_ERROR_MESSAGE}
    return {tuple(to_ox_term(x) for x in t) for t in new}, errors  # type: ignore[misc]


def is_tautology(t: Triple) -> bool:
    """What owlrl adds and we do not: true of every individual, class or property, so it says nothing.
    `x a owl:Thing`; `C rdfs:subClassOf C`, `C owl:equivalentClass C` (and the same for properties);
    `C rdfs:subClassOf owl:Thing`; `P rdfs:domain owl:Thing`, `P rdfs:range owl:Thing`."""
    s, p, o = (getattr(x, "value", None) for x in t)
    if p == RDF + "type":
        return o == OWL + "Thing"
    if p in (RDFS + "subClassOf", OWL + "equivalentClass", RDFS + "subPropertyOf", OWL + "equivalentProperty"):
        return s == o or (p == RDFS + "subClassOf" and o == OWL + "Thing")
    return p in (RDFS + "domain", RDFS + "range") and o == OWL + "Thing"


def ours(quads: list[ox.Quad], graphs: set[str], inferred: str = INFERRED) -> set[Triple]:
    result = materialise(quads, graphs, inferred)
    assert not result.clashes, result.clashes
    assert {q.graph_name.value for q in result.quads} <= {inferred}  # type: ignore[union-attr]
    return {(q.subject, q.predicate, q.object) for q in result.quads}


def parse(turtle: str) -> list[ox.Quad]:
    return [ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(G))
            for q in ox.parse(PREFIXES + turtle, format=ox.RdfFormat.TURTLE)]


def assert_same_as_owlrl(quads: list[ox.Quad], graphs: set[str]) -> set[Triple]:
    """Ours equals owlrl's minus its tautologies: nothing more, nothing else less."""
    mine = ours(quads, graphs)
    reference, errors = owlrl_inferences(quads, graphs)
    assert not errors
    assert mine - reference == set(), "inferred here, not by owlrl"
    assert reference - mine == {t for t in reference if is_tautology(t)}, "inferred by owlrl, not here"
    return mine


def test_the_project_infers_what_owlrl_did_without_its_tautologies() -> None:
    quads = read_sources(project_sources())
    graphs = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)} - {ns.G_SHAPES}
    mine = assert_same_as_owlrl(quads, graphs)
    erdogan, actor = ox.NamedNode(ns.ID + "recep-tayyip-erdogan"), ox.NamedNode(ns.KGO + "Agent")
    assert (erdogan, ox.NamedNode(RDF + "type"), actor) in mine  # from the range of kgo:participant
    assert len(mine) > 500


def test_a_second_source_infers_what_owlrl_does() -> None:
    """The terms of sources and relays (kgo:SourcedStatement, kgo:cites, kgo:Report) close as owlrl closes them."""
    second = SourceFile(ROOT / "tests" / "fixtures" / "second-report.ttl", ns.G_SOURCES + "second-report")
    quads = read_sources(project_sources() + [second])
    graphs = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)} - {ns.G_SHAPES}
    mine = assert_same_as_owlrl(quads, graphs)
    derived, entity = ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom"), ox.NamedNode(
        "http://www.w3.org/ns/prov#Entity")
    claim, report = ox.NamedNode(ns.ID + "claim-crm-second-round-held"), ox.NamedNode(
        ns.ID + "report-armenian-state-media-second-round")
    assert (claim, derived, report) in mine                      # kgo:cites is a kind of derivation
    assert (report, ox.NamedNode(RDF + "type"), entity) in mine  # a report is a PROV entity
    statement = next(t[0] for t in mine if t[2] == ox.NamedNode(RDF + "Statement"))
    assert statement.value.startswith(ns.ID + "article-")        # statement records are rdf:Statements


SMALL_ONTOLOGY = """
:hasParent owl:inverseOf :hasChild ; rdfs:domain :Person ; rdfs:range :Person .
:hasMother rdfs:subPropertyOf :hasParent .
:hasChild rdfs:subPropertyOf :ancestorOf .
:ancestorOf a owl:TransitiveProperty ; rdfs:subPropertyOf :relatedTo .
:relatedTo rdfs:domain :Relative .
:marriedTo a owl:SymmetricProperty ; rdfs:range :Spouse .
:Spouse rdfs:subClassOf :Person .
:Person owl:equivalentClass :Human .
:Human rdfs:subClassOf :Mammal .
:Mammal rdfs:subClassOf :Animal .
:name owl:equivalentProperty :label ; rdfs:domain :Named ; rdfs:range xsd:string .
:knows rdfs:subPropertyOf :acquainted . :acquainted rdfs:subPropertyOf :knows .
:ann :hasMother :beth . :beth :hasMother :cora . :cora :hasParent :dora .
:ann :marriedTo :al ; :name "Ann" .
:al :knows :ann .
:x a :Human .
"""


def test_inverse_symmetric_transitive_and_equivalences_agree_with_owlrl() -> None:
    mine = assert_same_as_owlrl(parse(SMALL_ONTOLOGY), {G})
    n = lambda local: ox.NamedNode("http://example.org/" + local)  # noqa: E731
    assert (n("dora"), n("ancestorOf"), n("ann")) in mine        # inverse, sub-property, then transitive
    assert (n("al"), n("marriedTo"), n("ann")) in mine           # symmetric
    assert (n("al"), ox.NamedNode(RDF + "type"), n("Animal")) in mine  # range, then the class chain
    assert (n("ann"), n("label"), ox.Literal("Ann")) in mine     # equivalent property


def test_a_graph_left_out_is_not_reasoned_over() -> None:
    quads = parse(":p rdfs:domain :C .") + [
        ox.Quad(ox.NamedNode("http://example.org/x"), ox.NamedNode("http://example.org/p"),
                ox.NamedNode("http://example.org/y"), ox.NamedNode("http://example.org/shapes"))]
    assert not any(t[0] == ox.NamedNode("http://example.org/x") for t in ours(quads, {G}))


# name, data, whether owlrl finds it too (it misses AllDisjointProperties, and checks no gYear)
CLASHES = [
    ("nothing", ":C rdfs:subClassOf owl:Nothing . :x a :C .", True),
    ("disjoint-classes", ":A owl:disjointWith :B . :C rdfs:subClassOf :A , :B . :x a :C .", True),
    ("all-disjoint-classes", "[] a owl:AllDisjointClasses ; owl:members ( :A :B :D ) . :x a :A . :p rdfs:domain :D . "
                             ":x :p :y .", True),
    ("complement", ":A owl:complementOf :B . :x a :A , :B .", True),
    ("irreflexive", ":p a owl:IrreflexiveProperty . :q rdfs:subPropertyOf :p . :x :q :x .", True),
    ("asymmetric", ":p a owl:AsymmetricProperty . :x :p :y . :y :p :x .", True),
    ("disjoint-properties", ":p owl:propertyDisjointWith :q . :x :p :y . :x :q :y .", True),
    ("all-disjoint-properties", "[] a owl:AllDisjointProperties ; owl:members ( :p :q ) . :x :p :y . :x :q :y .",
     False),
    ("negative-assertion", "[] a owl:NegativePropertyAssertion ; owl:sourceIndividual :x ; owl:assertionProperty :p ; "
                           "owl:targetIndividual :y . :x :p :y .", True),
    ("negative-value", "[] a owl:NegativePropertyAssertion ; owl:sourceIndividual :x ; owl:assertionProperty :p ; "
                       "owl:targetValue 5 . :x :p 5 .", True),
    ("ill-typed-integer", ':x :p "abc"^^xsd:integer .', True),
    ("ill-typed-date", ':x :p "2025-13-45"^^xsd:date .', True),
    ("ill-typed-gyear", ':x :p "19x9"^^xsd:gYear .', False),
    ("ill-typed-boolean", ':x :p "maybe"^^xsd:boolean .', True),
]


@pytest.mark.filterwarnings("ignore:Failed to convert Literal")  # rdflib, reading the ill-typed literals
@pytest.mark.parametrize("name,data,owlrl_finds_it", CLASHES, ids=[c[0] for c in CLASHES])
def test_every_kind_of_clash_is_found(name: str, data: str, owlrl_finds_it: bool) -> None:
    quads = parse(data)
    found = materialise(quads, {G}, INFERRED).clashes
    assert len(found) == 1, found
    assert bool(owlrl_inferences(quads, {G})[1]) == owlrl_finds_it


def test_valid_literals_and_unrelated_classes_are_no_clash() -> None:
    data = (':A owl:disjointWith :B . :x a :A ; :p "2025-11-28"^^xsd:date , "12"^^xsd:integer , "1999"^^xsd:gYear , '
            '"2025-11"^^xsd:gYearMonth , "true"^^xsd:boolean , "2025-11-28T10:00:00+03:00"^^xsd:dateTime . :y a :B .')
    assert materialise(parse(data), {G}, INFERRED).clashes == []


@pytest.mark.parametrize("axiom,name", [
    (":a owl:sameAs :b .", "owl:sameAs"),
    (":p a owl:FunctionalProperty .", "owl:FunctionalProperty"),
    (":p owl:propertyChainAxiom ( :q :r ) .", "owl:propertyChainAxiom"),
    (":C rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:someValuesFrom :D ] .", "owl:someValuesFrom"),
    (":C owl:intersectionOf ( :A :B ) .", "owl:intersectionOf"),
])
def test_axioms_whose_rules_are_not_evaluated_are_refused_by_name(axiom: str, name: str) -> None:
    with pytest.raises(BuildError) as err:
        materialise(parse(axiom), {G}, INFERRED)
    assert name in err.value.message
