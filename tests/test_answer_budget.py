"""Answers bounded in bytes (max_answer_mb) as well as rows: a longer answer is cut after the last
row that fits, is still a whole document of its format (parsed here), and says so."""
from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pyoxigraph as ox
import pytest
import rdflib
from flask import Flask

BUDGET_MB = 0.02   # 20,971 bytes: a small part of the whole graph in any syntax
BUDGET = int(BUDGET_MB * 1024 * 1024)
EVERYTHING = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
ROWS = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
SIXTY_KB = "SELECT ?big WHERE { BIND(CONCAT(" + ", ".join(['"' + "x" * 1000 + '"'] * 60) + ") AS ?big) }"


@pytest.fixture(scope="module")
def budgeted(make_app: Callable[..., Flask]) -> Flask:
    return make_app(max_answer_mb=BUDGET_MB)


def announced(resp) -> int:  # type: ignore[no-untyped-def]
    assert resp.headers["KG-Result-Truncated"] == f"true; limit={resp.headers['KG-Result-Count']}; bytes={BUDGET}"
    return int(resp.headers["KG-Result-Count"])


@pytest.mark.parametrize("fmt,rdflib_format", [("turtle", "turtle"), ("ntriples", "nt"), ("nquads", "nquads"),
                                               ("trig", "trig"), ("jsonld", "json-ld"), ("rdfxml", "xml")])
def test_a_graph_answer_over_the_budget_is_whole_and_shorter(budgeted: Flask, fmt: str, rdflib_format: str) -> None:
    resp = budgeted.test_client().get("/sparql", query_string={"query": EVERYTHING, "format": fmt})
    assert resp.status_code == 200
    count = announced(resp)
    assert 10 < count and len(resp.data) <= BUDGET
    graph = rdflib.Dataset().parse(data=resp.data, format=rdflib_format)
    assert len(graph) == count


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_a_results_answer_over_the_budget_is_whole_and_shorter(budgeted: Flask, fmt: str) -> None:
    resp = budgeted.test_client().get("/sparql", query_string={"query": ROWS, "format": fmt})
    assert resp.status_code == 200
    count = announced(resp)
    assert 10 < count and len(resp.data) <= BUDGET
    text = resp.get_data(as_text=True)
    if fmt == "json":
        rows = json.loads(text)["results"]["bindings"]
    elif fmt == "xml":
        rows = ET.fromstring(text).findall(".//{http://www.w3.org/2005/sparql-results#}result")
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    else:
        rows = list(ox.parse_query_results(resp.data, ox.QueryResultsFormat.TSV))
    assert len(rows) == count


def test_the_rows_are_the_first_ones_of_the_whole_answer(budgeted: Flask, app: Flask) -> None:
    whole = json.loads(app.test_client().get("/sparql", query_string={"query": ROWS}).data)["results"]["bindings"]
    cut = json.loads(budgeted.test_client().get("/sparql", query_string={"query": ROWS}).data)
    assert cut["truncated"] is True and cut["results"]["bindings"] == whole[:len(cut["results"]["bindings"])]


def test_a_single_row_over_the_budget_leaves_an_empty_answer_that_says_so(budgeted: Flask) -> None:
    resp = budgeted.test_client().get("/sparql", query_string={"query": SIXTY_KB, "format": "json"})
    assert resp.status_code == 200 and announced(resp) == 0
    data = json.loads(resp.data)
    assert data["results"]["bindings"] == [] and data["truncated"] is True


def test_an_answer_within_the_budget_is_not_cut(budgeted: Flask) -> None:
    resp = budgeted.test_client().get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 5"})
    assert resp.status_code == 200 and "KG-Result-Truncated" not in resp.headers
    assert len(json.loads(resp.data)["results"]["bindings"]) == 5


def test_a_graph_read_is_bounded_too(budgeted: Flask) -> None:
    resp = budgeted.test_client().get("/graph/article/kars-gyumri-second-round", headers={"Accept": "text/turtle"})
    assert resp.status_code == 200 and len(resp.data) <= BUDGET
    assert len(rdflib.Graph().parse(data=resp.data, format="turtle")) == announced(resp)


@pytest.mark.parametrize("fmt,rdflib_format", [("ntriples", "nt"), ("nquads", "nquads")])
def test_a_line_format_is_cut_at_a_line_of_what_the_whole_answer_says(budgeted: Flask, app: Flask, fmt: str,
                                                                      rdflib_format: str) -> None:
    """N-Triples and N-Quads over the budget: the first whole lines of the answer, as Oxigraph wrote them."""
    whole = app.test_client().get("/sparql", query_string={"query": EVERYTHING, "format": fmt}).data
    resp = budgeted.test_client().get("/sparql", query_string={"query": EVERYTHING, "format": fmt})
    count = announced(resp)
    assert resp.data.endswith(b"\n") and whole.startswith(resp.data)
    assert len(rdflib.Dataset().parse(data=resp.data, format=rdflib_format)) == count == resp.data.count(b"\n")


def test_a_line_format_over_the_row_cap_keeps_that_many_lines(make_app: Callable[..., Flask]) -> None:
    resp = make_app(max_result_rows=7).test_client().get("/sparql", query_string={"query": EVERYTHING,
                                                                                  "format": "ntriples"})
    assert resp.status_code == 200 and resp.headers["KG-Result-Truncated"] == "true; limit=7"
    assert len(rdflib.Graph().parse(data=resp.data, format="nt")) == 7 == resp.data.count(b"\n")
