"""SERVICE: pyoxigraph 0.5 evaluates it (it has an HTTP client), so the allow-list is what
stands between a query and any other host. Unlisted endpoints are refused before the engine
sees the query: a loopback listener standing in for them must receive no connection."""
from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from typing import Callable

import pytest
from flask import Flask

from .conftest import SparqlStub


@pytest.fixture()
def listener() -> Iterator[tuple[str, socket.socket]]:
    """A loopback port that accepts connections but never answers; we only look whether one came."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/sparql", sock
    sock.close()


def connection_arrived(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


@pytest.fixture()
def remote_endpoint() -> Iterator[tuple[str, list[str]]]:
    """A tiny SPARQL endpoint on loopback that answers every query with one fixed row."""
    seen: list[str] = []
    stub = SparqlStub({"head": {"vars": ["city"]}, "results": {"bindings": [
        {"city": {"type": "literal", "value": "Gyumri", "xml:lang": "en"}}]}}, seen.append)
    yield stub.url, seen
    stub.stop()


@pytest.mark.parametrize("shape", [
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "PREFIX r: <{url}> SELECT * WHERE {{ SERVICE r: {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ sErViCe <{url}> {{ ?s ?p ?o }} }}",
])
def test_unlisted_service_is_refused_and_never_contacted(client, listener, shape: str) -> None:  # type: ignore[no-untyped-def]
    url, sock = listener
    resp = client.get("/sparql", query_string={"query": shape.format(url=url)})
    assert resp.status_code == 400
    assert "service_allowlist" in resp.get_data(as_text=True)
    assert not connection_arrived(sock)


def test_service_is_refused_even_when_another_endpoint_is_listed(make_app: Callable[..., Flask], listener) -> None:  # type: ignore[no-untyped-def]
    url, sock = listener
    client = make_app(service_allowlist="http://127.0.0.1:9/other").test_client()
    resp = client.get("/sparql", query_string={"query": f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"})
    assert resp.status_code == 400
    assert not connection_arrived(sock)


def test_listed_service_is_called_and_joined(make_app: Callable[..., Flask], remote_endpoint) -> None:  # type: ignore[no-untyped-def]
    url, seen = remote_endpoint
    client = make_app(service_allowlist=url).test_client()
    query = f"SELECT ?city WHERE {{ SERVICE <{url}> {{ ?place <http://www.w3.org/2000/01/rdf-schema#label> ?city }} }}"
    resp = client.get("/sparql", query_string={"query": query})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    rows = json.loads(resp.data)["results"]["bindings"]
    assert rows == [{"city": {"type": "literal", "value": "Gyumri", "xml:lang": "en"}}]
    assert len(seen) == 1 and "rdf-schema#label" in seen[0]


def test_load_is_refused(client, listener) -> None:  # type: ignore[no-untyped-def]
    url, sock = listener
    resp = client.post("/sparql", data={"query": f"LOAD <{url}>"})
    assert resp.status_code == 400 and "LOAD is not allowed" in resp.get_data(as_text=True)
    assert not connection_arrived(sock)
