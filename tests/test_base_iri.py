"""Relative IRIs in queries and updates resolve against the URL the request was sent to, as
`oxigraph serve` does (SPARQL 1.1 Query §4.1.1.1, RFC 3986 §5.1.3); a BASE in the text wins.

The service is asked as it is deployed, at its canonical host (Flask's test client sends the
request to `BASE`), so that `FROM <graph/outside>` names the project's own graph.
"""
from __future__ import annotations

from typing import Any

import pytest
import rdflib
from flask import Flask

from server import namespaces as ns

from .conftest import dump_lines

SITE = ns.DEFAULT_BASE                       # https://kars-gyumri.example.org/
ENDPOINT = SITE + "sparql"
TURTLE = {"Accept": "text/turtle"}
JSON = {"Accept": "application/sparql-results+json"}
COUNT_OUTSIDE = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ns.G_OUTSIDE}> {{ ?s ?p ?o }} }}"


def triples(resp: Any) -> set[tuple[str, str, str]]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "text/turtle"
    graph = rdflib.Graph().parse(data=resp.get_data(as_text=True), format="turtle")
    return {(str(s), str(p), str(o)) for s, p, o in graph}


def count(resp: Any) -> int:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return int(resp.get_json()["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("how", ["get", "form", "direct"])
def test_relative_iris_resolve_against_the_request_url(any_store_app: Flask, how: str) -> None:
    """The W3C protocol case query_content_type_construct's query, by each way of sending one,
    on the embedded store and on a remote one."""
    query = "CONSTRUCT { <s> <p> 1 } WHERE {}"
    client = any_store_app.test_client()
    if how == "get":
        resp = client.get("/sparql", query_string={"query": query}, headers=TURTLE, base_url=SITE)
    elif how == "form":
        resp = client.post("/sparql", data={"query": query}, headers=TURTLE, base_url=SITE)
    else:
        resp = client.post("/sparql", data=query, content_type="application/sparql-query", headers=TURTLE,
                           base_url=SITE)
    assert triples(resp) == {(SITE + "s", SITE + "p", "1")}


def test_the_base_is_the_url_the_request_came_to(app: Flask) -> None:
    resp = app.test_client().get("/sparql", query_string={"query": "CONSTRUCT { <s> <p> <../o> } WHERE {}"},
                                 headers=TURTLE, base_url="http://other.example:8080/deep/")
    assert triples(resp) == {("http://other.example:8080/deep/s", "http://other.example:8080/deep/p",
                              "http://other.example:8080/o")}


def test_an_explicit_base_wins(any_store_app: Flask) -> None:
    query = "BASE <http://example.org/b/> CONSTRUCT { <s> <p> 1 } WHERE {}"
    resp = any_store_app.test_client().get("/sparql", query_string={"query": query}, headers=TURTLE, base_url=SITE)
    assert triples(resp) == {("http://example.org/b/s", "http://example.org/b/p", "1")}


def test_from_a_relative_iri_names_the_graph_there(any_store_app: Flask) -> None:
    """`FROM <graph/outside>` sent to https://kars-gyumri.example.org/sparql is that graph."""
    client = any_store_app.test_client()
    expected = count(client.get("/sparql", query_string={"query": COUNT_OUTSIDE}, headers=JSON))
    relative = "SELECT (COUNT(*) AS ?n) FROM <graph/outside> WHERE { ?s ?p ?o }"
    assert count(client.get("/sparql", query_string={"query": relative}, headers=JSON, base_url=SITE)) == expected > 0


def test_a_relative_service_endpoint_is_judged_resolved(make_app: Any) -> None:
    """`SERVICE <other>` is refused naming the endpoint the engine would call."""
    resp = make_app().test_client().get("/sparql", query_string={"query": "SELECT * { SERVICE <other> { } }"},
                                        headers=JSON, base_url=SITE)
    assert resp.status_code == 400
    assert resp.get_json()["message"].startswith(f"SERVICE <{SITE}other> is not allowed")


def test_a_host_header_that_is_no_host_gives_no_base(app: Flask) -> None:
    """Then a relative IRI is the parser's syntax error, as without a base (never a 500)."""
    resp = app.test_client().get("/sparql", query_string={"query": "CONSTRUCT { <s> <p> 1 } WHERE {}"},
                                 headers={**TURTLE, "Host": "a b"})
    assert resp.status_code == 400
    assert resp.get_data(as_text=True).startswith("400 Malformed query: syntax error")


TOKEN = "base-iri-token"


def test_updates_resolve_against_the_request_url(make_app: Any, private_store: Any) -> None:
    """A write of `<id/relative-town>` into `<graph/curated>`, sent to the canonical host, is a
    write of those IRIs under it."""
    client = make_app(store=str(private_store), write_token=TOKEN).test_client()
    update = ('INSERT DATA { GRAPH <graph/curated> { <id/relative-town> a <ontology#City> ; '
              '<http://www.w3.org/2000/01/rdf-schema#label> "Relative Town"@en } }')
    before = dump_lines(private_store)
    resp = client.post("/sparql", data={"update": update}, headers={"Authorization": f"Bearer {TOKEN}"},
                       base_url=SITE)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    added = set(dump_lines(private_store)) - set(before)
    assert f'<{SITE}id/relative-town> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{SITE}ontology#City> ' \
           f'<{SITE}graph/curated> .' in added
