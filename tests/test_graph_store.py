"""SPARQL 1.1 Graph Store HTTP Protocol at /rdf-graph-store: reads for all, writes with the token."""
from __future__ import annotations

import pytest
import rdflib
from rdflib.compare import isomorphic

from server import namespaces as ns

from .conftest import dump_lines

AUTH = {"Authorization": "Bearer s3cret"}
G = ns.GRAPH + "gsp-test"
TOWN = f"""@prefix kgo: <{ns.KGO}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{ns.ID}gsp-town> a kgo:City ; rdfs:label "GSP Town"@en ."""
VILLAGE = f"""@prefix kgo: <{ns.KGO}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{ns.ID}gsp-village> a kgo:City ; rdfs:label "GSP Village"@en ."""


@pytest.fixture(scope="module")
def gclient(make_app, private_store):  # type: ignore[no-untyped-def]
    return make_app(store=str(private_store), write_token="s3cret", max_body_mb=0.01).test_client()


def get_graph(client, graph: str) -> rdflib.Graph:  # type: ignore[no-untyped-def]
    r = client.get("/rdf-graph-store", query_string={"graph": graph}, headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/turtle; charset=utf-8"
    return rdflib.Graph().parse(data=r.text, format="turtle")


def test_get_reads_a_stored_graph(gclient, private_store) -> None:  # type: ignore[no-untyped-def]
    g = get_graph(gclient, ns.G_OUTSIDE)
    expected = rdflib.Graph()
    for line in dump_lines(private_store):
        if line.endswith(f"<{ns.G_OUTSIDE}> ."):
            expected.parse(data=line.rsplit(" <", 1)[0] + " .", format="nt")
    assert isomorphic(g, expected)
    r = gclient.get("/rdf-graph-store", query_string={"graph": ns.GRAPH + "nothing-here"})
    assert r.status_code == 404


def test_put_post_delete_round_trip(gclient) -> None:  # type: ignore[no-untyped-def]
    r = gclient.put(f"/rdf-graph-store?graph={G}", data=TOWN, content_type="text/turtle", headers=AUTH)
    assert r.status_code == 201, r.text
    assert isomorphic(get_graph(gclient, G), rdflib.Graph().parse(data=TOWN, format="turtle"))
    r = gclient.post(f"/rdf-graph-store?graph={G}", data=VILLAGE, content_type="text/turtle", headers=AUTH)
    assert r.status_code == 200, r.text
    both = rdflib.Graph().parse(data=TOWN, format="turtle").parse(data=VILLAGE, format="turtle")
    assert isomorphic(get_graph(gclient, G), both)
    r = gclient.put(f"/rdf-graph-store?graph={G}", data=VILLAGE, content_type="text/turtle", headers=AUTH)
    assert r.status_code == 200 and r.headers["KG-Triples-Removed"] == "2"
    assert isomorphic(get_graph(gclient, G), rdflib.Graph().parse(data=VILLAGE, format="turtle"))
    assert gclient.delete(f"/rdf-graph-store?graph={G}").status_code == 401
    assert gclient.delete(f"/rdf-graph-store?graph={G}", headers=AUTH).status_code == 200
    assert gclient.get("/rdf-graph-store", query_string={"graph": G}).status_code == 404
    assert gclient.delete(f"/rdf-graph-store?graph={G}", headers=AUTH).status_code == 404


@pytest.mark.parametrize("query, body, ctype, status", [
    (f"graph={G}", "<a:b> <a:c> .", "text/turtle", 400),
    (f"graph={G}", TOWN, "application/x-unknown", 415),
    (f"graph={G}", "# " + "x" * 20000 + "\n" + TOWN, "text/turtle", 413),
    ("graph=http://elsewhere.example/g", TOWN, "text/turtle", 400),
    (f"graph={ns.G_SHAPES}", TOWN, "text/turtle", 403),
    ("default", TOWN, "text/turtle", 405),
    (f"graph={G}&default", TOWN, "text/turtle", 400),
    (f"graph={G}", f"@prefix kgo: <{ns.KGO}> . <{ns.ID}gsp-nameless> a kgo:City .", "text/turtle", 422),
], ids=["bad-turtle", "unknown-type", "too-large", "outside-base", "reserved", "default-graph", "two-graphs",
        "violation"])
def test_bad_writes_get_a_precise_4xx_and_leave_the_store_unchanged(gclient, private_store, query, body, ctype,
                                                                    status) -> None:  # type: ignore[no-untyped-def]
    before = dump_lines(private_store)
    r = gclient.put(f"/rdf-graph-store?{query}", data=body, content_type=ctype,
                    headers={**AUTH, "Accept": "application/json"})
    assert r.status_code == status, r.text
    if status == 400 and "bad" in body or body.startswith("<a:b>"):
        assert r.json["line"] == 1 and r.json["column"] >= 1
    assert dump_lines(private_store) == before
