"""SHACL-SPARQL on Oxigraph: the batched (VALUES) and the per-node (subquery) paths agree with
SHACL's pre-binding of $this."""
from __future__ import annotations

import pytest
import rdflib

from server.validation.validate import validate

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
  sh:sparql [ sh:message "{{$this}} needs a numeric ex:p" ; sh:select \"\"\"{select}\"\"\" ] .
"""

# The same rule, written flat (batched) and with a subquery (one query per focus node).
FLAT = "SELECT $this WHERE { FILTER NOT EXISTS { $this <http://example.org/p> ?v FILTER(isNumeric(?v)) } }"
SUBQUERY = ("SELECT $this WHERE { { SELECT (COUNT(?v) AS ?n) WHERE { $this <http://example.org/p> ?v "
            "FILTER(isNumeric(?v)) } } FILTER(?n = 0) }")


@pytest.mark.parametrize("select", [FLAT, SUBQUERY], ids=["batched", "per-node"])
def test_focus_nodes_and_messages(select: str) -> None:
    data = rdflib.Graph().parse(data=DATA, format="turtle")
    shapes = rdflib.Graph().parse(data=SHAPE.format(select=select), format="turtle")
    report = validate(data, shapes=shapes)
    assert sorted(r.focus for r in report.results) == ["http://example.org/b", "http://example.org/e"]
    assert {r.message for r in report.results} == {"http://example.org/b needs a numeric ex:p",
                                                   "http://example.org/e needs a numeric ex:p"}
    assert not report.conforms
