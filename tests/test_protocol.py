"""The W3C SPARQL 1.1 Protocol cases (tests/protocol_cases.py), one parametrized test."""
from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from server import namespaces as ns

from .protocol_cases import CASES, ONTOLOGY_ASK, UPDATE


def _param(c: dict[str, Any]):  # type: ignore[no-untyped-def]
    marks = [pytest.mark.xfail(strict=True, reason=c["xfail"])] if c["xfail"] else []
    return pytest.param(c, id=c["name"], marks=marks)


def test_case_names_are_unique() -> None:
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("c", [_param(c) for c in CASES])
def test_protocol_case(client: FlaskClient, c: dict[str, Any]) -> None:
    resp = client.open("/sparql", method=c["method"], query_string=c["query_string"], headers=c["headers"],
                       data=c["body"])
    assert resp.status_code == c["status"], resp.get_data(as_text=True)
    if c["media_type"]:
        assert resp.mimetype == c["media_type"]
    if resp.status_code >= 400:
        assert resp.get_data(as_text=True).startswith(f"{c['status']} "), "errors use the one error body"
    if c["boolean"] is not None:
        assert json.loads(resp.data)["boolean"] is c["boolean"]


WRITE_TOKEN = "protocol-token"
# The update cases whose W3C expectation (400) needs a service that accepts writes: on the
# read-only service they are 403 (above); with the write token they are judged on their text.
WRITABLE_CASES = [c for c in CASES if c["name"] in ("bad_update_syntax", "bad_update_dataset_conflict")]


@pytest.mark.parametrize("c", WRITABLE_CASES, ids=[c["name"] for c in WRITABLE_CASES])
def test_update_case_with_writes_enabled(make_app, private_store, c: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    from .conftest import dump_lines

    client = make_app(store=str(private_store), write_token=WRITE_TOKEN).test_client()
    before = dump_lines(private_store)
    resp = client.open("/sparql", method=c["method"], query_string=c["query_string"], data=c["body"],
                       headers={**c["headers"], "Authorization": f"Bearer {WRITE_TOKEN}"})
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_data(as_text=True).startswith("400 ")
    assert dump_lines(private_store) == before


def test_refused_updates_leave_the_store_unchanged(client: FlaskClient) -> None:
    ask = "ASK { <http://example.org/s> <http://example.org/p> 1 }"
    client.post("/sparql", data={"update": UPDATE})
    client.post("/sparql", data=UPDATE.encode(), content_type="application/sparql-update")
    assert json.loads(client.get("/sparql", query_string={"query": ask}).data)["boolean"] is False


def test_default_graph_uri_overrides_from_in_every_method(client: FlaskClient) -> None:
    """§2.1.4: a dataset given by the protocol replaces the query's FROM, by GET, form and direct POST."""
    query = f"ASK FROM <{ns.G_OUTSIDE}> {{ <{ns.ONTOLOGY}> a <http://www.w3.org/2002/07/owl#Ontology> }}"
    params = {"default-graph-uri": ns.G_ONTOLOGY}
    answers = [
        client.get("/sparql", query_string={"query": query, **params}),
        client.post("/sparql", data={"query": query, **params}),
        client.post("/sparql", query_string=params, data=query.encode(), content_type="application/sparql-query"),
    ]
    assert [json.loads(r.data)["boolean"] for r in answers] == [True, True, True]
    plain = client.get("/sparql", query_string={"query": query})
    assert json.loads(plain.data)["boolean"] is False
    assert ONTOLOGY_ASK  # the same triple pattern, without FROM, is covered by the cases


@pytest.mark.parametrize("text,has_from", [
    ("SELECT * FROM <g> WHERE { ?s ?p ?o }", True),
    ("select * from named <g> where { ?s ?p ?o }", True),
    ('SELECT ?from WHERE { ?s ?p "FROM <g>" } # FROM <g>', False),
    ("PREFIX from: <http://e/> SELECT * WHERE { ?s from:x <http://e/FROM> }", False),
])
def test_guard_sees_dataset_clauses_only(text: str, has_from: bool) -> None:
    from server.query_guard import scan

    assert scan(text).has_dataset_clause is has_from
