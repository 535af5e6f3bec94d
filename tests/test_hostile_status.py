"""Requests that once got a 500 get their precise 4xx, in the one error body: a Graph Store `?graph=`
that is no IRI, a `/sources` slug with a trailing newline (a `$` let it through), RDF 1.2 triple
terms in an update, a Graph Store body or a proposal to validate. The store is unchanged after each."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from server import namespaces as ns

from .hostile_support import dump

TOKEN = "status-T0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
G = ns.GRAPH + "status"
TOWN = f'<{ns.ID}status-town> a <{ns.KGO}City> ; <http://www.w3.org/2000/01/rdf-schema#label> "Status Town"@en .\n'
STAR = f"<< <{ns.ID}status-town> <{ns.KGO}p> <{ns.ID}gyumri> >> <{ns.KGO}q> <{ns.ID}kars> .\n"
TERM = f"<{ns.ID}status-town> <{ns.KGO}p> <<( <{ns.ID}status-town> <{ns.KGO}p> <{ns.ID}gyumri> )>> .\n"
FACTS = f'<{ns.ID}status-article> a <{ns.KGO}NewsArticle> .\n'

BAD_GRAPHS = [G + " x", G + "\nx", G + "<>", G + '"{}', G + "\x00", "no-scheme", ""]
BAD_BODY = {"error", "status", "message"}
RDF_12_BODY = {"error", "status", "message", "source"}


def graph_store(method: str, graph: str, body: str = TOWN) -> tuple[str, dict[str, Any]]:
    data = body.encode() if method in ("PUT", "POST") else None
    return "/rdf-graph-store", {"method": method, "query_string": {"graph": graph}, "data": data,
                                "headers": {**AUTH, "Content-Type": "text/turtle"}}


def sources(slug: str, facts: str = FACTS) -> tuple[str, dict[str, Any]]:
    return "/sources", {"method": "POST", "headers": AUTH, "data": {
        "slug": slug, "text": (io.BytesIO(b"A short article."), "a.txt"),
        "facts": (io.BytesIO(facts.encode()), "facts.ttl", "text/turtle")}}


def update(text: str) -> tuple[str, dict[str, Any]]:
    return "/sparql", {"method": "POST", "headers": AUTH, "data": {"update": text}}


def validate(body: str, mode: str = "") -> tuple[str, dict[str, Any]]:
    return "/validate" + mode, {"method": "POST", "data": body.encode(),
                                "headers": {"Content-Type": "text/turtle", "Accept": "application/json"}}


CASES = [
    *[(f"graph-store {m} ?graph={g!r}", graph_store(m, g), 400, "Bad request", BAD_BODY)
      for m in ("GET", "PUT", "POST", "DELETE") for g in BAD_GRAPHS],
    *[(f"sources slug={s!r}", sources(s), 400, "Bad request", BAD_BODY)
      for s in ("status\n", "status\r\n", "\nstatus", "status\x00", "Status", "st atus", "x" * 81)],
    ("update << >>", update(f"INSERT DATA {{ GRAPH <{G}> {{ {STAR} }} }}"), 415, "RDF 1.2 not supported", RDF_12_BODY),
    ("update <<( )>>", update(f"INSERT DATA {{ GRAPH <{G}> {{ {TERM} }} }}"), 415, "RDF 1.2 not supported",
     RDF_12_BODY),
    ("graph-store PUT << >>", graph_store("PUT", G, STAR), 415, "RDF 1.2 not supported", RDF_12_BODY),
    ("graph-store POST <<( )>>", graph_store("POST", G, TERM), 415, "RDF 1.2 not supported", RDF_12_BODY),
    ("validate standalone << >>", validate(STAR, "?mode=standalone"), 415, "RDF 1.2 not supported", RDF_12_BODY),
    ("validate with the graph <<( )>>", validate(TERM), 415, "RDF 1.2 not supported", RDF_12_BODY),
    ("sources facts << >>", sources("status-star", FACTS + STAR), 415, "RDF 1.2 not supported", RDF_12_BODY),
]


@pytest.fixture(scope="module")
def sapp(make_app: Any, private_store: Path) -> Flask:
    return make_app(store=str(private_store), write_token=TOKEN)


@pytest.mark.parametrize("name,request_,status,title,keys", CASES, ids=[c[0] for c in CASES])
def test_each_once_500_is_its_4xx(sapp: Flask, private_store: Path, name: str, request_: tuple[str, dict[str, Any]],
                                  status: int, title: str, keys: set[str]) -> None:
    before = dump(private_store)
    path, kwargs = request_
    resp = sapp.test_client().open(path, **kwargs)
    assert resp.status_code == status, (name, resp.status_code, resp.data[:300])
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert set(body) == keys and body["error"] == title and body["status"] == status, body
    assert body["message"] and "Traceback" not in body["message"]
    assert dump(private_store) == before
