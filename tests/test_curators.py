"""Several curators: named tokens from a file read again when it changes, each change recorded with
its curator; conditional Graph Store writes (If-Match with the graph's ETag, 412 on a conflict)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import rdflib
from click.testing import CliRunner

from server import namespaces as ns
from server.cli import main as kg_main

from .conftest import dump_lines

G = ns.GRAPH + "curated-by-many"
PROV = "http://www.w3.org/ns/prov#"
PFX = f"PREFIX kgo: <{ns.KGO}> PREFIX kg: <{ns.ID}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "


def add(file: Path, name: str) -> str:
    result = CliRunner().invoke(kg_main, ["curator", "add", name, "--curators-file", str(file)])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def revoke(file: Path, name: str) -> None:
    assert CliRunner().invoke(kg_main, ["curator", "revoke", name, "--curators-file", str(file)]).exit_code == 0


def touch_later(file: Path) -> None:
    """A rewrite within the same clock tick still changes the stamp the server compares."""
    st = file.stat()
    os.utime(file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


@pytest.fixture(scope="module")
def setup(make_app: Any, private_store: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    file = tmp_path_factory.mktemp("curators") / "curators.txt"
    tokens = {"alice": add(file, "alice"), "bob": add(file, "bob")}
    app = make_app(store=str(private_store), curators_file=str(file), write_token="single-token",
                   write_token_name="operator")
    return {"app": app, "file": file, "tokens": tokens, "store": private_store}


def insert(client: Any, token: str, town: str) -> Any:
    return client.post("/sparql", data={"update": PFX + f'INSERT DATA {{ GRAPH <{G}> {{ kg:{town} a kgo:City ; '
                                                      f'rdfs:label "{town}"@en }} }}'},
                       headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})


def curator_of(client: Any, change: str) -> str:
    r = client.get("/sparql", query_string={"query": f"SELECT ?name WHERE {{ <{change}> <{PROV}wasAssociatedWith> ?a . "
                                                     f"?a <http://www.w3.org/2000/01/rdf-schema#label> ?name }}"},
                   headers={"Accept": "application/sparql-results+json"})
    (row,) = r.json["results"]["bindings"]
    return str(row["name"]["value"])


def test_each_change_records_its_curator(setup: dict[str, Any]) -> None:
    client = setup["app"].test_client()
    for name, token in setup["tokens"].items():
        r = insert(client, token, f"town-of-{name}")
        assert r.status_code == 200, r.text
        assert curator_of(client, r.headers["KG-Change"]) == name
    r = insert(client, "single-token", "town-of-the-operator")   # the single write_token still works
    assert r.status_code == 200 and curator_of(client, r.headers["KG-Change"]) == "operator"
    page = client.get("/history?curator=alice", headers={"Accept": "text/html"}).text
    assert "town-of-alice" in page and "town-of-bob" not in page


def test_a_curator_added_or_revoked_counts_without_a_restart(setup: dict[str, Any]) -> None:
    client, file, store = setup["app"].test_client(), setup["file"], setup["store"]
    carol = add(file, "carol")
    touch_later(file)
    assert insert(client, carol, "town-of-carol").status_code == 200
    revoke(file, "bob")
    touch_later(file)
    before = dump_lines(store)
    r = insert(client, setup["tokens"]["bob"], "town-of-revoked-bob")
    assert r.status_code == 403 and "revoked" in r.json["message"]
    assert dump_lines(store) == before


def test_a_broken_curators_file_refuses_its_tokens_not_the_single_token(setup: dict[str, Any]) -> None:
    client, file = setup["app"].test_client(), setup["file"]
    kept = file.read_text(encoding="utf-8")
    try:
        file.write_text(kept + "mallory not-a-digest\n", encoding="utf-8")
        touch_later(file)
        r = insert(client, setup["tokens"]["alice"], "town-while-broken")
        assert r.status_code == 503 and "line" in r.json["message"]
        assert insert(client, "single-token", "town-of-the-operator-2").status_code == 200
    finally:
        file.write_text(kept, encoding="utf-8")
        touch_later(file)


def test_only_digests_are_stored(setup: dict[str, Any]) -> None:
    text = setup["file"].read_text(encoding="utf-8")
    assert setup["tokens"]["alice"] not in text and "alice sha256:" in text


# -- conditional writes -------------------------------------------------------------------------------

CG = ns.GRAPH + "conditional"
TURTLE = {"Content-Type": "text/turtle"}


TTL = f"@prefix kgo: <{ns.KGO}> . @prefix kg: <{ns.ID}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . "


def put(client: Any, token: str, body: str, **headers: str) -> Any:
    return client.put(f"/rdf-graph-store?graph={CG}", data=TTL + body,
                      headers={"Authorization": f"Bearer {token}", **TURTLE, **headers})


def get(client: Any) -> Any:
    return client.get(f"/rdf-graph-store?graph={CG}", headers={"Accept": "text/turtle"})


def test_two_curators_editing_one_graph_cannot_overwrite_each_other_unknowingly(setup: dict[str, Any]) -> None:
    alice_client, bob_client = setup["app"].test_client(), setup["app"].test_client()
    alice, bob = setup["tokens"]["alice"], "single-token"   # two curators: alice, and the operator's single token
    assert put(alice_client, alice, 'kg:ctown a kgo:City ; rdfs:label "C Town"@en .', **{"If-None-Match": "*"}).status_code == 201
    assert put(alice_client, alice, 'kg:ctown a kgo:City .', **{"If-None-Match": "*"}).status_code == 412

    seen_a, seen_b = get(alice_client), get(bob_client)
    assert seen_a.status_code == 200 and seen_a.headers["ETag"] == seen_b.headers["ETag"]
    etag = seen_a.headers["ETag"]
    r = put(alice_client, alice, 'kg:ctown a kgo:City ; rdfs:label "C Town (Alice)"@en .', **{"If-Match": etag})
    assert r.status_code == 200, r.text
    r = put(bob_client, bob, 'kg:ctown a kgo:City ; rdfs:label "C Town (Bob)"@en .', **{"If-Match": etag})
    assert r.status_code == 412, r.text
    now = get(bob_client)
    assert now.headers["ETag"] != etag
    g = rdflib.Graph().parse(data=now.text, format="turtle")
    assert {str(o) for o in g.objects(None, rdflib.RDFS.label)} == {"C Town (Alice)"}   # Alice's edit stands
    r = put(bob_client, bob, 'kg:ctown a kgo:City ; rdfs:label "C Town (Bob)"@en .', **{"If-Match": now.headers["ETag"]})
    assert r.status_code == 200, r.text
    assert bob_client.get(f"/rdf-graph-store?graph={CG}", headers={"If-None-Match": get(bob_client).headers["ETag"],
                                                                    "Accept": "text/turtle"}).status_code == 304


def test_a_stale_delete_is_refused_and_a_weak_etag_never_matches(setup: dict[str, Any]) -> None:
    client, token = setup["app"].test_client(), setup["tokens"]["alice"]
    assert put(client, token, 'kg:ctown a kgo:City ; rdfs:label "C Town"@en .').status_code in (200, 201)
    etag = get(client).headers["ETag"]
    assert put(client, token, 'kg:ctown a kgo:City ; rdfs:label "C Town again"@en .', **{"If-Match": etag}).status_code == 200
    r = client.delete(f"/rdf-graph-store?graph={CG}", headers={"Authorization": f"Bearer {token}", "If-Match": etag})
    assert r.status_code == 412
    fresh = get(client).headers["ETag"]
    r = client.delete(f"/rdf-graph-store?graph={CG}", headers={"Authorization": f"Bearer {token}", "If-Match": f"W/{fresh}"})
    assert r.status_code == 412          # If-Match compares strongly (RFC 9110 §13.1.1)
    r = client.delete(f"/rdf-graph-store?graph={CG}", headers={"Authorization": f"Bearer {token}", "If-Match": fresh})
    assert r.status_code == 200
