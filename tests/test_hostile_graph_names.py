"""Graph IRIs that once broke the public pages: a 300-character graph made `/`, `/dataset`,
`/.well-known/void` and every dump answer 500 ("File name too long"), and `graph/coll?a` and
`graph/coll#a` shared one dump file, so one of them had no dump. Dump file names are now one per
graph and bounded; a write that would create a graph no page can reach is refused up front."""
from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from server import namespaces as ns
from server.linked_data.dumps import graph_dump_name
from server.store.loader import load_files

from .hostile_support import build_private_store, dump

TOKEN = "graph-names-T0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
LONG = ns.GRAPH + "long-" + "x" * 300
PAIR = (ns.GRAPH + "coll?a", ns.GRAPH + "coll#a")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
TOWN = f'<{ns.ID}named-town> a <{ns.KGO}City> ; <http://www.w3.org/2000/01/rdf-schema#label> "Named Town"@en .\n'


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The pair can no longer be written through the service: it comes in by `kg load`, as any graph can."""
    folder = tmp_path_factory.mktemp("graph-names")
    link = build_private_store(folder)
    pair = folder / "pair.trig"
    pair.write_text("".join(f'<{g}> {{ <{ns.ID}pair-{i}> <http://www.w3.org/2000/01/rdf-schema#label> "{i}" }}\n'
                            for i, g in enumerate(PAIR)), encoding="utf-8")
    load_files(link, [pair])
    yield link


@pytest.fixture(scope="module")
def gapp(make_app: Any, store: Path) -> Flask:
    app = make_app(store=str(store), write_token=TOKEN)
    resp = app.test_client().put("/rdf-graph-store", query_string={"graph": LONG}, data=TOWN,
                                 headers={**AUTH, "Content-Type": "text/turtle"})
    assert resp.status_code == 201, resp.data
    return app


def test_every_public_page_answers_with_a_long_graph_and_the_pair(gapp: Flask) -> None:
    client = gapp.test_client()
    for path in ("/", "/dataset", "/.well-known/void"):
        for accept in ("text/html", "text/turtle"):
            resp = client.get(path, headers={"Accept": accept})
            assert resp.status_code == 200 and resp.mimetype == accept, (path, accept, resp.data[:300])
    page = client.get("/" + LONG[len(ns.DEFAULT_BASE):], headers={"Accept": "text/html"})
    assert page.status_code == 200 and LONG in page.get_data(as_text=True)


def test_every_graph_has_its_own_dump_holding_exactly_it(gapp: Flask) -> None:
    client = gapp.test_client()
    g = rdflib.Graph().parse(data=client.get("/dataset", headers={"Accept": "text/turtle"}).data, format="turtle")
    # every graph but the change log, which grows with every write (the history serves it, kg dump keeps it)
    graphs = set(gapp.extensions["kg"].graph_sizes()) - {ns.G_CHANGELOG}
    assert {LONG, *PAIR} <= graphs
    dumps = {str(s): str(o) for s, o in g.subject_objects(VOID.dataDump) if str(s) in graphs | {ns.G_CHANGELOG}}
    assert set(dumps) == graphs and len(set(dumps.values())) == len(graphs)   # one file per graph
    for graph, url in dumps.items():
        name = url.rsplit("/dumps/", 1)[1]
        assert len(name) < 100
        resp = client.get("/dumps/" + name)
        assert resp.status_code == 200 and resp.mimetype == "application/gzip", (graph, name)
        quads = list(ox.parse(gzip.decompress(resp.data), format=ox.RdfFormat.N_QUADS))
        assert quads and {q.graph_name.value for q in quads} == {graph}, graph


@pytest.mark.parametrize("graph,why", [
    (ns.GRAPH + "coll?b", "'?', '#' or '%'"),
    (ns.GRAPH + "coll#b", "'?', '#' or '%'"),
    (ns.GRAPH + "caf%C3%A9", "'?', '#' or '%'"),
    (ns.GRAPH + "a//b", "empty, '.' or '..' segment"),
    (ns.GRAPH + "a/../b", "empty, '.' or '..' segment"),
    (ns.GRAPH + "a/", "empty, '.' or '..' segment"),
    (ns.GRAPH, "names no graph"),
    (ns.GRAPH + "x" * 2000, "at most 2,000"),
    (ns.GRAPH + "é" * 400, "at most 2,000"),   # 400 characters, 2,400 once percent-encoded
])
@pytest.mark.parametrize("how", ["graph-store", "update"])
def test_a_graph_no_page_can_reach_is_not_created(gapp: Flask, store: Path, graph: str, why: str, how: str) -> None:
    before = dump(store)
    client = gapp.test_client()
    if how == "graph-store":
        resp = client.put("/rdf-graph-store", query_string={"graph": graph}, data=TOWN,
                          headers={**AUTH, "Content-Type": "text/turtle"})
    else:
        resp = client.post("/sparql", data={"update": f"INSERT DATA {{ GRAPH <{graph}> {{ {TOWN} }} }}"}, headers=AUTH)
    body = resp.get_json()
    assert (resp.status_code, body["error"], body["status"]) == (400, "Bad request", 400), body
    assert "cannot be created" in body["message"] and why in body["message"]
    assert dump(store) == before


def test_a_graph_of_non_ascii_words_is_created_and_found_by_its_page(gapp: Flask) -> None:
    graph = ns.GRAPH + "kars-gümrü"
    resp = gapp.test_client().put("/rdf-graph-store", query_string={"graph": graph}, data=TOWN,
                                  headers={**AUTH, "Content-Type": "text/turtle"})
    assert resp.status_code == 201, resp.data
    page = gapp.test_client().get("/graph/kars-g%C3%BCmr%C3%BC", headers={"Accept": "text/turtle"})
    assert page.status_code == 200 and rdflib.URIRef(ns.ID + "named-town") in {
        s for s, _, _ in rdflib.Graph().parse(data=page.data, format="turtle")}


# -- the names themselves --------------------------------------------------------------------------

BASE = ns.DEFAULT_BASE
TRICKY = [BASE + "graph/a-b", BASE + "graph/a/b", BASE + "graph/a.b", BASE + "graph/a_b", BASE + "graph/A-b",
          BASE + "graph/coll?a", BASE + "graph/coll#a", BASE + "graph/coll", BASE + "a-b", BASE + "graph-a-b",
          "https://other.example/graph/a-b", BASE + "graph/" + "y" * 80, BASE + "graph/" + "y" * 81]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(rests=st.lists(st.text(alphabet="ab-/?#%._é~ ", max_size=12), min_size=2, max_size=20, unique=True))
def test_dump_names_are_one_per_graph_and_bounded(rests: list[str]) -> None:
    graphs = TRICKY + [BASE + "graph/" + r for r in rests]
    names = [graph_dump_name(BASE, g) for g in graphs]
    assert len(set(names)) == len(graphs)
    for name in names:
        assert len(name) <= 86 and name.replace("-", "").replace(".", "").replace("_", "").isalnum()
        assert name.isascii()


def test_plain_graphs_keep_readable_names() -> None:
    assert graph_dump_name(BASE, ns.G_ARTICLE) == "graph-article.kars-gyumri-second-round"
    assert graph_dump_name(BASE, ns.G_OUTSIDE) == "graph-outside"
    assert graph_dump_name(BASE, PAIR[0]).startswith("graph-coll-a_")
