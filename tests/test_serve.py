"""The real `kg serve` process (gunicorn) answering real clients over loopback."""
from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from server import namespaces as ns

from .conftest import LiveServer

pytestmark = pytest.mark.slow

Q = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def test_curl_style_get(live_server: LiveServer) -> None:
    url = live_server.url + "/sparql?" + urllib.parse.urlencode({"query": Q})
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/sparql-results+json"
        data = json.load(resp)
    graphs = {b["g"]["value"] for b in data["results"]["bindings"]}
    assert ns.G_ARTICLE in graphs


@pytest.mark.parametrize("fmt", [JSON, XML, CSV])
def test_sparqlwrapper(live_server: LiveServer, fmt: str) -> None:
    client = SPARQLWrapper(live_server.url + "/sparql")
    client.setQuery(Q)
    client.setReturnFormat(fmt)
    client.setMethod("POST")
    result = client.query().convert()
    if fmt == JSON:
        assert any(b["g"]["value"] == ns.G_ARTICLE for b in result["results"]["bindings"])
    elif fmt == XML:
        assert ns.G_ARTICLE in result.toxml()
    else:
        assert ns.G_ARTICLE in result.decode("utf-8")


def test_sparqlwrapper_construct_to_rdflib(live_server: LiveServer) -> None:
    client = SPARQLWrapper(live_server.url + "/sparql")
    client.setQuery(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ns.G_OUTSIDE}> {{ ?s ?p ?o }} }}")
    client.setReturnFormat(TURTLE)
    graph = client.queryAndConvert()
    import rdflib

    g = rdflib.Graph().parse(data=graph, format="turtle") if isinstance(graph, bytes) else graph
    assert len(g) > 10


def test_health(live_server: LiveServer) -> None:
    with urllib.request.urlopen(live_server.url + "/healthz", timeout=30) as resp:
        data = json.load(resp)
    assert data["status"] == "ok" and data["triples"] > 1000
