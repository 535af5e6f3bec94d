"""Fuzzing every RDF input with generated documents: nested from 1 level to well past the limit, in
every syntax the service reads, half of them with an RDF 1.2 statement, then mutated (a character dropped, a bracket or a `<<` put in,
the end cut off). Whatever arrives, the answer is never a 500 and never Python's exception text, a
refusal leaves the store as it was, and the service answers the next request.

Hypothesis runs derandomized with bounded example counts (the same documents every run).
"""
from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from server import namespaces as ns
from server.store.rdf_guard import MAX_RDF_DEPTH

from .hostile_support import assert_clean, dump
from .rdf_documents import jsonld_doc, ntriples_doc, rdfxml_doc, turtle_doc

TOKEN = "fuzz-rdf-T0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
G = ns.GRAPH + "fuzz-rdf"
FUZZ = settings(max_examples=30, deadline=timedelta(seconds=60), derandomize=True, database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
MEDIA = {"turtle": "text/turtle", "trig": "application/trig", "jsonld": "application/ld+json",
         "rdfxml": "application/rdf+xml", "ntriples": "application/n-triples", "nquads": "application/n-quads"}
EXTENSION = {"turtle": "ttl", "trig": "trig", "jsonld": "jsonld", "rdfxml": "rdf", "ntriples": "nt", "nquads": "nq"}
# Depths around the limit are where a scan that miscounts would show; a few are far past it.
DEPTHS = st.one_of(st.integers(1, 12), st.integers(MAX_RDF_DEPTH - 2, MAX_RDF_DEPTH + 2), st.sampled_from([600, 2000]))
# A valid RDF 1.2 statement in each syntax that has one (JSON-LD has none).
RDF_12 = {
    "turtle": lambda t: t + "<< ex:a ex:p ex:o >> ex:q ex:z .\n",
    "trig": lambda t: t + "ex:a ex:p ex:o {| ex:q ex:z |} .\n",
    "ntriples": lambda t: t + "<http://ex.example/a> <http://ex.example/p> <<( <http://ex.example/a> "
                              "<http://ex.example/p> <http://ex.example/o> )>> .\n",
    "nquads": lambda t: t + "<http://ex.example/a> <http://ex.example/p> <<( <http://ex.example/a> "
                            "<http://ex.example/p> <http://ex.example/o> )>> <http://ex.example/g> .\n",
    "rdfxml": lambda t: t.replace('rdf:about="http://ex.example/s">', 'rdf:about="http://ex.example/s"><ex:r '
                                  'rdf:resource="http://ex.example/o" rdf:annotation="http://ex.example/r"/>', 1),
}
INSERTS = ["[", "]", "(", ")", "{", "}", "<<", ">>", "<<(", ")>>", "{|", "|}", "~", '"', "'", '"""', "<", ">", "#",
           "\\", "\n", "\x00", "@prefix", "{\"@id\":", "<ex:p>", "</ex:p>", "<!--", "&lt;", "\u202e"]


@st.composite
def rdf_document(draw: st.DrawFn) -> tuple[str, bytes]:
    syntax = draw(st.sampled_from(sorted(MEDIA)))
    depth = draw(DEPTHS)
    if syntax in ("turtle", "trig"):
        text = draw(turtle_doc(max(depth, 2), trig=syntax == "trig"))
    elif syntax == "jsonld":
        text = draw(jsonld_doc(depth))
    elif syntax == "rdfxml":
        text = draw(rdfxml_doc(depth))
    else:
        text = draw(ntriples_doc(quads=syntax == "nquads"))
    if syntax in RDF_12 and draw(st.booleans()):
        text = RDF_12[syntax](text)
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["delete", "insert", "truncate"]))
        if op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 5)):]
        elif op == "insert":
            text = text[:pos] + draw(st.sampled_from(INSERTS)) + text[pos:]
        else:
            text = text[:pos]
    return syntax, text.encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def fapp(make_app: Any, private_store: Path) -> Flask:
    return make_app(store=str(private_store), write_token=TOKEN, query_timeout_s=5.0)


def check(app: Flask, private_store: Path, before: list[bytes], status: int, body: bytes, what: str) -> None:
    assert_clean(status, body, what)
    assert status in (200, 201, 400, 413, 415, 422), (what, status, body[:300])
    if status >= 400:
        assert dump(private_store) == before, what
    assert app.test_client().get("/healthz").status_code == 200


@settings(FUZZ, max_examples=50)
@given(doc=rdf_document(), mode=st.sampled_from(["", "?mode=standalone"]))
def test_validate_takes_any_document(fapp: Flask, private_store: Path, doc: tuple[str, bytes], mode: str) -> None:
    syntax, body = doc
    before = dump(private_store)
    resp = fapp.test_client().post("/validate" + mode, data=body,
                                   headers={"Content-Type": MEDIA[syntax], "Accept": "application/json"})
    check(fapp, private_store, before, resp.status_code, resp.data, f"{syntax} {body[:120]!r}")


@FUZZ
@given(doc=rdf_document(), how=st.sampled_from(["PUT", "POST", "sources"]))
def test_writes_take_any_document(fapp: Flask, private_store: Path, doc: tuple[str, bytes], how: str) -> None:
    syntax, body = doc
    before = dump(private_store)
    client = fapp.test_client()
    if how == "sources":
        resp = client.post("/sources", headers=AUTH, data={
            "slug": "fuzz", "text": (io.BytesIO(b"An article."), "fuzz.txt"),
            "facts": (io.BytesIO(body), f"facts.{EXTENSION[syntax]}", MEDIA[syntax])})
    else:
        resp = client.open(f"/rdf-graph-store?graph={G}", method=how, data=body,
                           headers={**AUTH, "Content-Type": MEDIA[syntax]})
    check(fapp, private_store, before, resp.status_code, resp.data, f"{how} {syntax} {body[:120]!r}")


@FUZZ
@given(doc=rdf_document().filter(lambda d: d[0] in ("turtle", "ntriples")))
def test_updates_take_any_data_block(fapp: Flask, private_store: Path, doc: tuple[str, bytes]) -> None:
    """The same documents as the data of INSERT DATA (prefix lines become SPARQL's own)."""
    _, body = doc
    text = body.decode("utf-8", "replace").replace("@prefix ex: <http://ex.example/> .", "")
    update = f"PREFIX ex: <http://ex.example/> INSERT DATA {{ GRAPH <{G}> {{ {text} }} }}"
    before = dump(private_store)
    resp = fapp.test_client().post("/sparql", data={"update": update}, headers=AUTH)
    check(fapp, private_store, before, resp.status_code, resp.data, f"update {text[:120]!r}")
