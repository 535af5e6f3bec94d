"""Real SPARQL clients against the real `kg serve` (gunicorn) on loopback; rows compared.

rdflib's SPARQLStore, rdflib's own SERVICE evaluation (federation from a local graph), Comunica's
CLI (npm @comunica/query-sparql, 4.x: 5.x needs Node.js 22), and SPARQLWrapper's N3 (its other
formats are in test_serve.py). The expected rows come from the same store through the in-process
engine.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import rdflib
from flask import Flask
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import N3, SPARQLWrapper

from server import namespaces as ns

from .conftest import ROOT, LiveServer

pytestmark = pytest.mark.slow

GRAPH_SIZES = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
COMUNICA = ROOT / "node_modules" / ".bin" / "comunica-sparql"


def expected(app: Flask, query: str) -> set[tuple[tuple[str, str], ...]]:
    return {tuple(sorted(row.items())) for row in app.extensions["kg"].rows(query)}


def rows_of(result: rdflib.query.Result) -> set[tuple[tuple[str, str], ...]]:
    names = [str(v) for v in result.vars]
    return {tuple(sorted((n, str(row[i])) for i, n in enumerate(names) if row[i] is not None)) for row in result}


def test_rdflib_sparqlstore(live_server: LiveServer, app: Flask) -> None:
    store = SPARQLStore(live_server.url + "/sparql", returnFormat="json")
    graph = rdflib.Graph(store=store)
    got = rows_of(graph.query(GRAPH_SIZES))
    assert got == expected(app, GRAPH_SIZES)
    assert len(got) >= 5
    store.close()


def test_rdflib_sparqlstore_construct(live_server: LiveServer, app: Flask) -> None:
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ns.G_OUTSIDE}> {{ ?s ?p ?o }} }}"
    store = SPARQLStore(live_server.url + "/sparql")
    result = rdflib.Graph(store=store).query(query)
    n = app.extensions["kg"].rows(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ns.G_OUTSIDE}> {{ ?s ?p ?o }} }}")
    assert len(result.graph) == int(n[0]["n"]) > 0
    store.close()


def test_federated_query_from_a_local_graph(live_server: LiveServer, app: Flask) -> None:
    """rdflib evaluates SERVICE itself: a local graph joined with our endpoint's answers."""
    local = rdflib.Graph()
    ex = rdflib.Namespace("http://example.org/local/")
    for g in (ns.G_ONTOLOGY, ns.G_OUTSIDE, "http://example.org/not-in-the-store"):
        local.add((ex.bookmark, ex.graph, rdflib.URIRef(g)))
    query = f"""
        SELECT ?g ?n WHERE {{
          <{ex.bookmark}> <{ex.graph}> ?g .
          SERVICE <{live_server.url}/sparql> {{
            SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g
          }}
        }}"""
    got = rows_of(local.query(query))
    sizes = {r["g"]: r["n"] for r in app.extensions["kg"].rows(GRAPH_SIZES)}
    assert got == {(("g", g), ("n", sizes[g])) for g in (ns.G_ONTOLOGY, ns.G_OUTSIDE)}


@pytest.mark.parametrize("query", [
    f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ns.G_OUTSIDE}> {{ ?s ?p ?o }} }}",
    f"DESCRIBE <{ns.ID}gyumri>"], ids=["construct", "describe"])
def test_sparqlwrapper_n3(live_server: LiveServer, app: Flask, query: str) -> None:
    """SPARQLWrapper's N3 (its `format=n3` parameters and its Accept list, which ends in text/n3)
    was answered 406. Turtle is N3: the answer is labelled text/n3, and parses as N3 to the graph
    the Turtle answer holds."""
    client = SPARQLWrapper(live_server.url + "/sparql")
    client.setQuery(query)
    client.setReturnFormat(N3)
    result = client.query()
    assert result.info()["content-type"] == "text/n3; charset=utf-8"
    got = rdflib.Graph().parse(data=result.convert(), format="n3")
    turtle = app.test_client().get("/sparql", query_string={"query": query}, headers={"Accept": "text/turtle"})
    assert len(got) > 5 and isomorphic(got, rdflib.Graph().parse(data=turtle.data, format="turtle"))


@pytest.fixture(scope="module")
def comunica() -> Path:
    if not COMUNICA.exists():
        pytest.fail("Comunica's CLI is missing: run `scripts/setup.sh test` (npm devDependencies)")
    if shutil.which("node") is None:
        pytest.fail("node is missing: install Node.js")
    return COMUNICA


def run_comunica(comunica: Path, endpoint: str, query: str) -> dict:  # type: ignore[type-arg]
    done = subprocess.run([str(comunica), f"sparql@{endpoint}", "-q", query, "-t", "application/sparql-results+json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_comunica_select(comunica: Path, live_server: LiveServer, app: Flask) -> None:
    data = run_comunica(comunica, live_server.url + "/sparql", GRAPH_SIZES)
    got = {tuple(sorted((k, v["value"]) for k, v in b.items())) for b in data["results"]["bindings"]}
    assert got == expected(app, GRAPH_SIZES)


def test_comunica_language_literals(comunica: Path, live_server: LiveServer, app: Flask) -> None:
    query = (f"SELECT ?c ?label WHERE {{ GRAPH <{ns.G_ONTOLOGY}> {{ ?c a <http://www.w3.org/2002/07/owl#Class> ; "
             "<http://www.w3.org/2000/01/rdf-schema#label> ?label } }")
    data = run_comunica(comunica, live_server.url + "/sparql", query)
    got = {(b["c"]["value"], b["label"]["value"], b["label"].get("xml:lang")) for b in data["results"]["bindings"]}
    assert len(got) > 5
    assert {(c, label) for c, label, _ in got} == {(r["c"], r["label"]) for r in app.extensions["kg"].rows(query)}
    assert {lang for _, _, lang in got} == {"en"}
