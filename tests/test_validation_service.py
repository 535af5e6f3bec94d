"""/validate: the served graph's report in every format, proposed data checked without storing, coverage."""
from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from rdflib.namespace import SH

from server import namespaces as ns
from server.cli import main as kg_main

from .conftest import dump_lines

BAD = f"""@prefix kgo: <{ns.KGO}> . @prefix kg: <{ns.ID}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
kg:nameless-town a kgo:City .
kg:bad-talks a kgo:TechnicalTalks ; rdfs:label "talks"@en ; kgo:roundNumber 0 .
"""


class Page(HTMLParser):
    """Collects the summary text, result rows (cells by class) and focus links."""

    def __init__(self) -> None:
        super().__init__()
        self.summary, self.rows, self.links, self.sections = "", [], [], []
        self._cell: str | None = None
        self._in_summary = False

    def handle_starttag(self, tag, attrs) -> None:  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if a.get("id") == "summary":
            self._in_summary = True
        if tag == "section":
            self.sections.append(a.get("data-severity"))
        if tag == "tr" and a.get("class") == "result":
            self.rows.append({})
        if tag == "td" and self.rows:
            self._cell = a.get("class")
            self.rows[-1][self._cell] = ""
        if tag == "a" and self._cell == "focus":
            self.links.append(a["href"])

    def handle_endtag(self, tag) -> None:  # type: ignore[no-untyped-def]
        if tag == "p":
            self._in_summary = False
        if tag == "td":
            self._cell = None

    def handle_data(self, data) -> None:  # type: ignore[no-untyped-def]
        if self._in_summary:
            self.summary += data
        if self._cell and self.rows:
            self.rows[-1][self._cell] += data


def test_report_of_the_served_graph_in_html(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/validate", headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8"
    page = Page()
    page.feed(r.text)
    assert page.summary.startswith("Does not conform: 0 Violations, 1 Warning, 0 Infos; passes")
    assert page.sections == ["Warning"]
    (row,) = page.rows
    assert row["focus"] == ns.ID + "claim-turkiye-second-round-held"
    assert page.links == ["/doc/claim-turkiye-second-round-held"]
    assert "dated 2025-11-27" in row["message"]
    assert "alternate" in r.headers["Link"]


@pytest.mark.parametrize("accept, fmt", [("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                                         ("application/n-triples", "nt")])
def test_report_as_a_standard_validation_report(client, accept: str, fmt: str) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/validate", headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["Content-Type"].split(";")[0] == accept
    g = rdflib.Graph().parse(data=r.text, format=fmt)
    (report,) = g.subjects(rdflib.RDF.type, SH.ValidationReport)
    assert g.value(report, SH.conforms).toPython() is False   # a Warning is a result (SHACL 3.6)
    (result,) = g.objects(report, SH.result)
    assert g.value(result, SH.resultSeverity) == SH.Warning
    assert str(g.value(result, SH.focusNode)) == ns.ID + "claim-turkiye-second-round-held"


def test_report_as_csv_and_cached_per_data_version(client, app) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/validate", headers={"Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert [row["severity"] for row in rows] == ["Warning"] and rows[0]["message"]
    cur = app.extensions["curation"]
    assert cur.current_report() is cur.current_report()


def test_post_validate_standalone_reports_and_stores_nothing(client, store_link: Path) -> None:  # type: ignore[no-untyped-def]
    before = dump_lines(store_link)
    r = client.post("/validate?mode=standalone", data=BAD, content_type="text/turtle",
                    headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    body = r.json
    assert body["conforms"] is False
    found = {(res["focus"], res["path"]) for res in body["results"]}
    assert (ns.ID + "nameless-town", "http://www.w3.org/2000/01/rdf-schema#label") in found
    assert (ns.ID + "bad-talks", ns.KGO + "roundNumber") in found
    # the shape's message and the engine's own detail, side by side
    row = next(res for res in body["results"] if res["focus"] == ns.ID + "nameless-town")
    assert "English rdfs:label" in row["message"] and row["detail"] and row["detail"] != row["message"]
    assert dump_lines(store_link) == before


def test_post_validate_with_the_graph_checks_evidence_against_the_stored_text(client) -> None:  # type: ignore[no-untyped-def]
    quote = f"""@prefix kgo: <{ns.KGO}> . @prefix kg: <{ns.ID}> . @prefix oa: <http://www.w3.org/ns/oa#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
kg:ev-test a kgo:EvidenceQuote ; oa:hasSource kg:article-kars-gyumri-second-round ;
  oa:hasSelector kg:ev-test-q , kg:ev-test-p .
kg:ev-test-q a oa:TextQuoteSelector ; oa:exact "not in the article at all" .
kg:ev-test-p a oa:TextPositionSelector ; oa:start "0"^^xsd:nonNegativeInteger ; oa:end "25"^^xsd:nonNegativeInteger ."""
    r = client.post("/validate", data=quote, content_type="text/turtle", headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert any(res["focus"] == ns.ID + "ev-test" and res["shape"] == ns.SHAPES + "EvidenceOffsetsShape"
               for res in r.json["results"])


def test_reports_are_cut_at_max_report_results_and_say_so(make_app) -> None:  # type: ignore[no-untyped-def]
    client = make_app(max_report_results=1).test_client()
    r = client.post("/validate?mode=standalone", data=BAD, content_type="text/turtle",
                    headers={"Accept": "application/json"})
    assert r.json["truncated"] is True and len(r.json["results"]) == 1 and r.json["total"] >= 2
    assert r.headers["KG-Report-Truncated"] == "true"
    r = client.post("/validate?mode=standalone&format=turtle", data=BAD, content_type="text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    assert len(list(g.subjects(rdflib.RDF.type, SH.ValidationResult))) == 1
    assert "Truncated" in str(next(g.objects(None, rdflib.RDFS.comment)))


@pytest.mark.parametrize("body, ctype, status", [
    ("<a:b> <a:c> .", "text/turtle", 400), ("<a:b> <a:c> <a:d> .", "application/x-nope", 415),
    ("", "text/turtle", 400)])
def test_bad_bodies_get_a_precise_4xx(client, body: str, ctype: str, status: int) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/validate", data=body, content_type=ctype, headers={"Accept": "application/json"})
    assert r.status_code == status and r.json["message"]
    if status == 400 and body:
        assert r.json["line"] == 1 and r.json["column"] >= 1


def test_oversized_body_is_413(make_app) -> None:  # type: ignore[no-untyped-def]
    client = make_app(max_body_mb=0.001).test_client()
    r = client.post("/validate", data="#" * 5000, content_type="text/turtle")
    assert r.status_code == 413


def test_cli_and_http_give_the_same_results(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "bad.ttl"
    f.write_text(BAD, encoding="utf-8")
    result = CliRunner().invoke(kg_main, ["validate", str(f), "--format", "json"])
    assert result.exit_code == 1
    cli = {(r["focus"], r["path"], r["shape"]) for r in json.loads(result.output)["results"]}
    http = client.post("/validate?mode=standalone", data=BAD, content_type="text/turtle",
                       headers={"Accept": "application/json"}).json
    assert cli == {(r["focus"], r["path"], r["shape"]) for r in http["results"]}


def test_coverage(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/validate/coverage", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    c = r.json
    assert c["resources"] == c["targeted"] + len(c["untargeted"])
    assert c["targeted"] > 0
    shapes = {s["shape"]: s["focus_nodes"] for s in c["shapes"]}
    assert shapes[ns.SHAPES + "EvidenceShape"] > 0
    assert {s["shape"] for s in c["idle_shapes"]} == {k for k, v in shapes.items() if v == 0}
    html = client.get("/validate/coverage", headers={"Accept": "text/html"})
    assert html.headers["Content-Type"] == "text/html; charset=utf-8" and 'id="untargeted"' in html.text


def test_shapes_the_spec_refuses_are_a_422_not_a_crash(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A SHACL failure (3.6.1) -- here a stored shape whose SPARQL uses MINUS -- is reported with what to
    change: 422 over HTTP, exit 2 from kg validate; no report is made up."""
    from .hostile_support import build_private_store

    link = build_private_store(tmp_path)
    bad = tmp_path / "bad-shape.ttl"
    bad.write_text(f"""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix kgo: <{ns.KGO}> .
        <{ns.SHAPES}Minus> a sh:NodeShape ; sh:targetClass kgo:Person ;
          sh:sparql [ sh:select "SELECT $this WHERE {{ $this ?p ?o MINUS {{ $this a kgo:Person }} }}" ] .""",
                   encoding="utf-8")
    loaded = CliRunner().invoke(kg_main, ["load", str(bad), "--graph", ns.G_SHAPES, "--store", str(link)])
    assert loaded.exit_code == 0, loaded.output
    client = make_app(store=str(link)).test_client()
    for r in (client.get("/validate", headers={"Accept": "application/json"}),
              client.post("/validate", data=BAD, content_type="text/turtle", headers={"Accept": "application/json"})):
        assert r.status_code == 422 and r.headers["Content-Type"] == "application/json"
        assert "MINUS" in r.json["message"] and "SHACL 5.3.1" in r.json["message"]
    cli = CliRunner().invoke(kg_main, ["validate", "--store", str(link)])
    assert cli.exit_code == 2 and cli.output.startswith("kg: error: the SPARQL query of ") and "MINUS" in cli.output
