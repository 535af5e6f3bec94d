"""SHACL-SPARQL on Oxigraph: pre-binding as SHACL defines it (every group pattern sees $this), one
query for all focus nodes only where that is the same as one per node, the forms the spec says to
refuse refused before anything runs (a SERVICE is never called), and pySHACL's failures reported."""
from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner

from server.cli import main as kg_main
from server.errors import ValidationFailure
from server.validation.shape_model import read_model
from server.validation.validate import validate

from .conftest import QuietHTTPServer

DATA = """
@prefix ex: <http://example.org/> .
ex:a a ex:C ; ex:p 1 .
ex:b a ex:C .
ex:c a ex:D ; ex:p 2 .
ex:D <http://www.w3.org/2000/01/rdf-schema#subClassOf> ex:C .
ex:e a ex:C ; ex:p "x" .
"""

SHAPE = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:S a sh:NodeShape ; sh:targetClass ex:C ;
  sh:sparql ex:S-sparql .
ex:S-sparql sh:message "{{$this}} needs a numeric ex:p" ; sh:select \"\"\"{select}\"\"\" .
"""

# The same rule three ways: flat (one query for all focus nodes), with an aggregate (one query per
# focus node: grouping reads across solutions), with LIMIT (per node too: the limit is per node).
FLAT = "SELECT $this WHERE { FILTER NOT EXISTS { $this <http://example.org/p> ?v FILTER(isNumeric(?v)) } }"
GROUPED = ("SELECT $this WHERE { OPTIONAL { $this <http://example.org/p> ?v FILTER(isNumeric(?v)) } } "
           "GROUP BY $this HAVING (COUNT(?v) = 0)")
LIMITED = FLAT + " LIMIT 1"


def run(select: str, data: str = DATA) -> list[str]:
    shapes = rdflib.Graph().parse(data=SHAPE.format(select=select), format="turtle")
    report = validate(rdflib.Graph().parse(data=data, format="turtle"), shapes=shapes)
    return sorted(r.focus for r in report.results)


@pytest.mark.parametrize("select, batched", [(FLAT, True), (GROUPED, False), (LIMITED, False)],
                         ids=["batched", "per-node-aggregate", "per-node-limit"])
def test_focus_nodes_and_messages(select: str, batched: bool) -> None:
    shapes = rdflib.Graph().parse(data=SHAPE.format(select=select), format="turtle")
    (shape,) = read_model(shapes).top
    assert shape.sparql[0].batched is batched
    report = validate(rdflib.Graph().parse(data=DATA, format="turtle"), shapes=shapes)
    assert sorted(r.focus for r in report.results) == ["http://example.org/b", "http://example.org/e"]
    assert {r.message for r in report.results} == {"http://example.org/b needs a numeric ex:p",
                                                   "http://example.org/e needs a numeric ex:p"}
    assert not report.conforms and not report.passed


# pre-binding reaches a FILTER wherever it stands (these were missed, or crashed, with $this joined at the head)
@pytest.mark.parametrize("select", [
    "SELECT $this WHERE { { FILTER(false) } UNION { FILTER($this = <http://example.org/b>) } }",
    "SELECT $this WHERE { { { FILTER($this = <http://example.org/b>) } FILTER bound($this) } FILTER(true) }",
    "SELECT $this WHERE { BIND($this AS ?that) FILTER(?that = <http://example.org/b>) }",
    "SELECT $this WHERE { { FILTER(bound($this)) } $this a <http://example.org/C> . "
    "FILTER(?this = <http://example.org/b>) }",
    "SELECT $this WHERE { { SELECT $this WHERE { FILTER($this = <http://example.org/b>) } } }",
    "SELECT $this WHERE { OPTIONAL { FILTER($this = <http://example.org/b>) BIND(1 AS ?hit) } FILTER(bound(?hit)) }",
], ids=["union", "nested-groups", "bind", "group-before-triples", "subquery", "optional"])
def test_pre_binding_reaches_every_group(select: str) -> None:
    assert run(select) == ["http://example.org/b"]


@pytest.mark.parametrize("select, what", [
    ("SELECT $this WHERE { $this ?p ?o MINUS { $this ?p 1 } }", "MINUS"),
    ("SELECT $this WHERE { VALUES ?x { 1 } }", "VALUES"),
    ("SELECT $this WHERE { ?s ?p ?o } VALUES ?x { 1 }", "VALUES"),
    ("SELECT $this WHERE { BIND(true AS $this) }", "AS ?this"),
    ("SELECT $this WHERE { $this ?p ?o { SELECT ?o WHERE { ?s ?p ?o } } }", "a subquery that does not return $this"),
    ("SELECT $this WHERE { { SELECT * WHERE { FILTER($this = 1) } } }", "a subquery that does not return $this"),
], ids=["minus", "values", "values-after", "as-this", "subquery", "subquery-star"])
def test_forms_the_spec_forbids_are_a_failure(select: str, what: str) -> None:
    with pytest.raises(ValidationFailure, match=re.escape(what)):
        run(select)


class _Counting(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:  # noqa: N802
        type(self).hits += 1
        self.send_response(500)
        self.end_headers()

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def endpoint() -> Iterator[tuple[str, type[_Counting]]]:
    """A SPARQL endpoint on a free loopback port that counts the requests it gets."""
    handler = type("Counting", (_Counting,), {"hits": 0})
    server = QuietHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql", handler
    finally:
        server.shutdown()
        server.server_close()


def test_a_shapes_service_is_refused_and_never_called(endpoint: tuple[str, type[_Counting]]) -> None:
    url, handler = endpoint
    with pytest.raises(ValidationFailure, match="SERVICE"):
        run(f"SELECT $this WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}")
    assert handler.hits == 0


def test_a_service_in_a_shape_pyshacl_would_check_is_refused_too(endpoint: tuple[str, type[_Counting]]) -> None:
    """A SPARQL-based constraint component goes to pySHACL; its SERVICE is refused first."""
    url, handler = endpoint
    shapes = rdflib.Graph().parse(data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:Comp a sh:ConstraintComponent ; sh:parameter [ sh:path ex:flag ] ;
          sh:validator [ a sh:SPARQLAskValidator ; sh:ask "ASK {{ SERVICE <{url}> {{ ?s ?p ?o }} }}" ] .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; ex:flag true .""", format="turtle")
    with pytest.raises(ValidationFailure, match="SERVICE"):
        validate(rdflib.Graph().parse(data=DATA, format="turtle"), shapes=shapes)
    assert handler.hits == 0


def test_path_shapes_graph_current_shape_and_imported_prefixes() -> None:
    shapes = rdflib.Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        @prefix owl: <http://www.w3.org/2002/07/owl#> .
        ex:Ontology sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/" ] .
        ex:Prefixes owl:imports ex:Ontology .
        ex:P a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; ex:limit 1 ;
          sh:sparql [ sh:prefixes ex:Prefixes ; sh:select \"\"\"
            SELECT $this ?value WHERE {
              $this $PATH ?value .
              GRAPH $shapesGraph { $currentShape ex:limit ?limit }
              FILTER(!isNumeric(?value) || ?value > ?limit)
            }\"\"\" ] .""", format="turtle")
    report = validate(rdflib.Graph().parse(data=DATA, format="turtle"), shapes=shapes)
    assert sorted((r.focus, r.path, r.value) for r in report.results) == [
        ("http://example.org/c", "http://example.org/p", "2"), ("http://example.org/e", "http://example.org/p", "x")]


def test_pyshacl_failure_is_reported_not_a_crash(tmp_path: Path) -> None:
    """A validator binding its pre-bound ?value (the suite's unsupported-sparql-006): a failure, exit 2."""
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text("""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:Lang a sh:ConstraintComponent ; sh:parameter [ sh:path ex:lang ] ;
          sh:validator [ a sh:SPARQLAskValidator ; sh:ask "ASK { BIND(true AS ?value) }" ] .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; ex:lang "en" .""", encoding="utf-8")
    data = tmp_path / "data.ttl"
    data.write_text(DATA, encoding="utf-8")
    result = CliRunner().invoke(kg_main, ["validate", str(data), "--shapes", str(shapes)])
    assert result.exit_code == 2
    assert result.output.startswith("kg: error: the SPARQL query of ") and "AS ?value" in result.output
    assert "Traceback" not in result.output


# one query for all focus nodes gives each node's solutions, where the reading says so
EQUIVALENCE_DATA = DATA + """
@prefix ex: <http://example.org/> .
ex:a ex:q ex:b . ex:b ex:q ex:c . ex:e ex:r "y" ; ex:p ex:b . _:n a ex:C ; ex:p 3 .
"""


@pytest.mark.parametrize("select", [
    FLAT,
    "SELECT $this ?value WHERE { { ?x <http://example.org/q> ?value } UNION { $this <http://example.org/p> ?value } }",
    "SELECT $this ?value WHERE { $this a ?c OPTIONAL { $this <http://example.org/q> ?value } }",
    "SELECT $this ?value WHERE { { ?value <http://example.org/q> ?y OPTIONAL { $this <http://example.org/p> ?y } } }",
    "SELECT $this ?value WHERE { GRAPH ?g { $this ?p ?value } "
    "FILTER(?p != <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>) }",
    "SELECT $this ?value WHERE { { SELECT $this ?value WHERE { "
    "$this <http://example.org/p>|<http://example.org/q> ?value } } }",
    "SELECT DISTINCT $this ?value WHERE { ?s ?p ?value FILTER(?s != $this && isLiteral(?value)) }",
    "SELECT $this WHERE { FILTER EXISTS { $this <http://example.org/p> ?v FILTER(?v > 1) } }",
], ids=["flat", "union-without-this", "optional", "optional-inside", "graph", "subquery", "distinct", "exists"])
def test_one_query_for_all_nodes_is_one_query_per_node(select: str) -> None:
    import dataclasses

    from server.validation import shacl_sparql
    from server.validation.shacl_core import Query
    from server.validation.validate import in_memory

    shapes = rdflib.Graph().parse(data=SHAPE.format(select=select), format="turtle")
    model = read_model(shapes)
    (shape,) = model.top
    (c,) = shape.sparql
    assert c.batched
    source = in_memory(rdflib.Graph().parse(data=EQUIVALENCE_DATA, format="turtle"), None, shapes)
    focus = Query(source).use(Query(source).targets(shape.targets), "?this")

    def answers(constraint: shacl_sparql.SparqlConstraint) -> list[tuple[str, ...]]:
        return sorted(tuple(str(source.term(s.values[k])) if k in s.values else "-" for k in ("this", "value"))
                      for s in shacl_sparql.solutions(constraint, source.run_user, focus, source.shapes_graph,
                                                      shape.node))

    assert answers(c) == answers(dataclasses.replace(c, batched=False))


LEXICAL = frozenset({"http://example.org/start"})
READS = [
    ("$this ex:start ?s FILTER(STR(?s) = \"01\")", LEXICAL, True),
    ("$this ex:start ?s FILTER(STR(?s) = \"01\")", frozenset(), False),   # only the datatype changed: STR is the same
    ("$this ex:start ?s FILTER(DATATYPE(?s) = xsd:byte)", frozenset(), True),
    ("$this ex:start ?s BIND(?s AS ?y) FILTER(STRLEN(STR(?y)) = 2)", LEXICAL, True),
    ("$this ex:start ?s BIND(IF(true, ?s, 1) AS ?y) FILTER(STRLEN(STR(?y)) = 2)", LEXICAL, True),
    ("$this ?p ?s FILTER(STRLEN(STR(?s)) = 2)", LEXICAL, True),
    ("FILTER NOT EXISTS { $this ex:start ?s FILTER(STR(?s) = \"1\") }", LEXICAL, True),
    ("$this ex:a/ex:start ?s FILTER(REGEX(STR(?s), \"^0\"))", LEXICAL, True),
    ("?s ^ex:start $this FILTER(REGEX(STR(?s), \"^0\"))", LEXICAL, True),
    ("$this ex:start ?s FILTER(xsd:string(?s) = \"01\")", LEXICAL, True),
    ("$this ex:name ?s FILTER(REGEX(?s, \"^0\"))", LEXICAL, False),
    ("$this ex:start ?value FILTER(?value > 3)", LEXICAL, False),
    # the project's evidence check: offsets cast to integers, STR only of the text
    ("$this ex:start ?s ; ex:text ?t BIND(xsd:integer(?s) AS ?i) FILTER(SUBSTR(STR(?t), ?i) = \"x\")", LEXICAL, False),
]


@pytest.mark.parametrize("where, lexical, reads", READS, ids=[str(i) for i in range(len(READS))])
def test_which_queries_read_a_rewritten_literal(where: str, lexical: frozenset[str], reads: bool) -> None:
    from server.validation.shacl_sparql import SparqlConstraint, reads_rewritten

    c = SparqlConstraint(rdflib.URIRef("x:s"), rdflib.URIRef("x:c"),
                         "PREFIX ex: <http://example.org/>\nPREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n",
                         f"SELECT $this WHERE {{ {where} }}", (), True, frozenset())
    assert reads_rewritten(c, lexical, frozenset({"http://example.org/start"})) is reads


def test_a_query_that_reads_a_rewritten_literal_sees_it_as_written() -> None:
    """"007"^^xsd:integer is "7" in the store: a SPARQL check of its length is left to pySHACL, which
    reads it as written."""
    shapes = rdflib.Graph().parse(data=SHAPE.format(
        select="SELECT $this WHERE { $this <http://example.org/code> ?v FILTER(STRLEN(STR(?v)) != 3) }"),
        format="turtle")
    data = rdflib.Graph().parse(data="""@prefix ex: <http://example.org/> .
        ex:a a ex:C ; ex:code "007"^^<http://www.w3.org/2001/XMLSchema#integer> .""", format="turtle")
    written = rdflib.Graph()
    for s, p, o in data:
        written.add((s, p, rdflib.Literal("007", datatype=o.datatype, normalize=False) if isinstance(o, rdflib.Literal)
                     else o))
    report = validate(written, shapes=shapes)
    assert report.pyshacl_shapes == ("http://example.org/S",)
    assert report.conforms, report.to_text()
