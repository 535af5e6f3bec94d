"""Literals as written: Oxigraph stores `"12"^^xsd:byte` as `"12"^^xsd:integer` and `"007"^^xsd:integer`
as `"7"`; validation of parsed input (`kg validate FILE`, `POST /validate`, a write's payload) judges
and reports the form that was written, as pySHACL does on the same graph."""
from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from pyshacl import validate as pyshacl_validate

from server import namespaces as ns
from server.cli import main as kg_main
from server.validation.inputs import read_files
from server.validation.validate import validate

from .w3c_shacl import parse

SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:S a sh:NodeShape ; sh:targetClass ex:C ;
  sh:property [ sh:path ex:small ; sh:datatype xsd:byte ] ,
              [ sh:path ex:code ; sh:pattern "^[0-9]{3}$" ] ,
              [ sh:path ex:price ; sh:in ( "1.50"^^xsd:decimal ) ] ,
              [ sh:path ex:label ; sh:languageIn ( "en" ) ; sh:maxLength 2 ] .
"""
DATA = """
@prefix ex: <http://example.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:ok a ex:C ; ex:small "12"^^xsd:byte ; ex:code "007"^^xsd:integer ;
  ex:label "Hi"@en-GB .
ex:bad a ex:C ; ex:small "300"^^xsd:byte ; ex:code "42"^^xsd:integer ; ex:price "1.5"^^xsd:decimal ;
  ex:label "Hey"@EN .
"""


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "shapes.ttl").write_text(SHAPES, encoding="utf-8")
    (tmp_path / "data.ttl").write_text(DATA, encoding="utf-8")
    return tmp_path / "data.ttl", tmp_path / "shapes.ttl"


def test_values_are_judged_and_reported_as_written(files: tuple[Path, Path]) -> None:
    """ex:ok passes as written ("12" is an xsd:byte, "007" has three digits); ex:bad fails as written
    ("1.5" is not the listed "1.50", which the store holds as one term "1.5"). Language tags are
    lower-cased by the parser already (RDF 1.1 allows it; they compare case-insensitively)."""
    data, shapes = files
    result = CliRunner().invoke(kg_main, ["validate", str(data), "--shapes", str(shapes), "--format", "turtle"])
    assert result.exit_code == 1, result.output
    report = parse(text=result.output)
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    found = {(str(report.value(r, sh.focusNode)).rsplit("/", 1)[1], report.value(r, sh.value))
             for r in report.subjects(rdflib.RDF.type, sh.ValidationResult)}
    xsd = rdflib.XSD
    assert found == {("bad", rdflib.Literal("300", datatype=xsd.byte)),
                     ("bad", rdflib.Literal("42", datatype=xsd.integer)),
                     ("bad", rdflib.Literal("1.5", datatype=xsd.decimal, normalize=False)),
                     ("bad", rdflib.Literal("Hey", lang="EN"))}
    assert '"300"^^xsd:byte' in result.output   # as written, not as stored ("300"^^xsd:integer)


def test_the_same_answer_as_pyshacl_on_the_written_graph(files: tuple[Path, Path]) -> None:
    data, shapes = read_files([files[0]]), read_files([files[1]])
    ours = validate(data, shapes=shapes)
    assert ours.pyshacl_shapes == ()
    _conforms, theirs, _text = pyshacl_validate(data, shacl_graph=shapes, do_owl_imports=False)
    assert sorted((r.focus, r.value, r.component) for r in ours.results) == sorted(
        (str(theirs.value(n, rdflib.SH.focusNode)), str(theirs.value(n, rdflib.SH.value)),
         str(theirs.value(n, rdflib.SH.sourceConstraintComponent)))
        for n in theirs.subjects(rdflib.RDF.type, rdflib.SH.ValidationResult))


def test_literals_the_store_would_merge_go_to_pyshacl(tmp_path: Path) -> None:
    """`"1.0"` and `"1.00"` are two values (RDF terms) but one in the store: counted by pySHACL."""
    (tmp_path / "s.ttl").write_text("""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetNode ex:x ; sh:property [ sh:path ex:v ; sh:maxCount 1 ] .""",
                                    encoding="utf-8")
    (tmp_path / "d.ttl").write_text("""
        @prefix ex: <http://example.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        ex:x ex:v "1.0"^^xsd:decimal , "1.00"^^xsd:decimal .""", encoding="utf-8")
    report = validate(read_files([tmp_path / "d.ttl"]), shapes=read_files([tmp_path / "s.ttl"]))
    assert report.pyshacl_shapes == ("http://example.org/S",)
    assert [r.component for r in report.results] == ["http://www.w3.org/ns/shacl#MaxCountConstraintComponent"]


def test_posted_data_is_reported_as_written(client) -> None:  # type: ignore[no-untyped-def]
    """POST /validate judges the body as written: the store would report kgo:roundNumber "-01" as "-1"."""
    body = (f"@prefix kgo: <{ns.KGO}> . @prefix kg: <{ns.ID}> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
            'kg:bad-talks a kgo:TechnicalTalks ; <http://www.w3.org/2000/01/rdf-schema#label> "talks"@en ;\n'
            '  kgo:roundNumber "-01"^^xsd:integer .')
    for mode in ("standalone", "with-graph"):
        r = client.post(f"/validate?mode={mode}", data=body,
                        headers={"Content-Type": "text/turtle", "Accept": "application/json"})
        assert r.status_code == 200, r.text
        (row,) = [res for res in r.json["results"] if res["path"] == ns.KGO + "roundNumber"]
        assert row["value"] == "-01" and row["component"].endswith("MinInclusiveConstraintComponent")
