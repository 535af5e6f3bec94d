"""The W3C SPARQL 1.1 syntax tests through `/sparql`, one test per manifest entry: every positive
query is answered (200), every negative one refused as malformed (400), for queries and updates.

What the service's own policies refuse is judged by those policies, as documented
(docs/endpoint.md):
- SERVICE is refused unless its endpoint is on the allow-list (none here): a query with SERVICE is
  answered 400 "Query refused", naming the endpoint resolved as the engine would call it.
- LOAD is always refused: 400 "Query refused". These two are judged before any parser reads the
  text, so a malformed text that holds LOAD (four negative update tests) is refused by the policy
  (400 "Query refused"), not as malformed.
- An update that the parser accepts may still be refused by the write policy, after parsing: it
  writes to the default graph (here the union of the named graphs) or to a graph that is not the
  service's, or its evaluation fails as SPARQL Update says it must (CREATE of a graph that exists,
  DROP of one that does not); or it touches a graph the service reserves (403). Those answers carry
  the policy's message, never the parser's 400 "Malformed query".

A positive test the service does not answer must fail the same way when pyoxigraph itself runs
the query (then the difference is the engine's, listed in tests/w3c/known_failures.toml).

Queries run on an empty store (a syntax test's query may be a cartesian product); updates on a
private copy of the project's store, with the write token.

    .venv/bin/python -m pytest -p no:cacheprovider tests/test_w3c_sparql_syntax.py
"""
from __future__ import annotations

import gc
import re
from typing import Any

import pyoxigraph as ox
import pytest
from flask import Flask

from .w3c_sparql import SYNTAX_TYPES, Entry, entries, known_failures, text_of
from .w3c_suites import require

SYNTAX = [e for e in entries() if e.kind in SYNTAX_TYPES]
KNOWN = known_failures()
TOKEN = "w3c-syntax-token"
ACCEPT = "application/sparql-results+json, text/turtle;q=0.9, application/json;q=0.5"
# The write policy's answers to an update the parser accepted (see the module docstring).
WRITE_POLICY = ("the change writes to the default graph", "is not one of this service's graphs",
                "the update could not be evaluated")


def _params(kind: str) -> list[Any]:
    chosen = [e for e in SYNTAX if SYNTAX_TYPES[e.kind][0] == kind]
    if not chosen:
        return [pytest.param(None, id="suite-not-found")]
    return [pytest.param(e, id=e.id) for e in chosen]


@pytest.fixture(scope="module")
def query_app(make_app: Any, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    folder = tmp_path_factory.mktemp("w3c-syntax") / "store"
    store = ox.Store(str(folder))
    store.flush()
    del store
    gc.collect()
    return make_app(store=str(folder), query_timeout_s=10.0)


@pytest.fixture(scope="module")
def update_app(make_app: Any, private_store: Any) -> Flask:
    return make_app(store=str(private_store), write_token=TOKEN)


def names_service(text: str) -> bool:
    return re.search(r"(?i)\bSERVICE\b", text) is not None


def refused_by_policy(error: str, message: str) -> bool:
    """SERVICE or LOAD refused before any parser reads the text."""
    return error == "Query refused" and ("LOAD is not allowed" in message or "SERVICE is not allowed" in message
                                         or re.match(r"SERVICE <\S+> is not allowed", message) is not None)


def malformed(resp: Any, text: str) -> None:
    """A negative test: refused as malformed, or by the SERVICE/LOAD policy that comes first."""
    error, message = error_of(resp)
    assert resp.status_code == 400, (resp.status_code, message, text)
    assert error == "Malformed query" or refused_by_policy(error, message) and re.search(r"(?i)\b(LOAD|SERVICE)\b",
                                                                                         text), (message, text)


def engine_refuses_too(entry: Entry, text: str, message: str) -> None:
    """A positive query our endpoint does not answer: pyoxigraph alone must refuse it with the same
    message, and the test must be listed as the engine's."""
    try:
        ox.Store().query(text, base_iri=entry.endpoint)
    except (SyntaxError, OSError, ValueError, RuntimeError) as exc:
        assert str(exc) in message, f"{entry.id}: pyoxigraph says {exc!r}, /sparql says {message!r}"
    else:
        pytest.fail(f"{entry.id}: pyoxigraph answers this query and /sparql does not: {message}")
    assert entry.id in KNOWN, f"{entry.id} fails in pyoxigraph too: list it in tests/w3c/known_failures.toml"
    pytest.xfail(f"the engine's: {KNOWN[entry.id]}")


def error_of(resp: Any) -> tuple[str, str]:
    body = resp.get_json(silent=True) or {}
    return body.get("error", ""), body.get("message", "")


@pytest.mark.parametrize("entry", _params("query"))
def test_w3c_query_syntax(query_app: Flask, entry: Entry | None) -> None:
    require("sparql11")
    assert entry is not None
    text = text_of(entry.action)
    resp = query_app.test_client().post("/sparql", data={"query": text}, headers={"Accept": ACCEPT},
                                        base_url=entry.endpoint[:-len("sparql")])
    error, message = error_of(resp)
    if not SYNTAX_TYPES[entry.kind][1]:
        malformed(resp, text)
    elif names_service(text):
        assert (resp.status_code, error) == (400, "Query refused"), (resp.status_code, message, text)
        assert re.match(r"SERVICE <http://www\.w3\.org/\S+> is not allowed", message), message
    elif resp.status_code == 200 or resp.status_code == 503 and error == "Query timeout":
        assert entry.id not in KNOWN, f"{entry.id} passes now: take it off tests/w3c/known_failures.toml"
    else:
        engine_refuses_too(entry, text, message)


@pytest.mark.parametrize("entry", _params("update"))
def test_w3c_update_syntax(update_app: Flask, entry: Entry | None) -> None:
    require("sparql11")
    assert entry is not None
    text = text_of(entry.action)
    resp = update_app.test_client().post("/sparql", data={"update": text},
                                         headers={"Accept": "application/json", "Authorization": f"Bearer {TOKEN}"},
                                         base_url=entry.endpoint[:-len("sparql")])
    error, message = error_of(resp)
    if not SYNTAX_TYPES[entry.kind][1]:
        malformed(resp, text)
    elif resp.status_code != 200:
        written = (resp.status_code == 400 and error == "Bad request" and any(m in message for m in WRITE_POLICY)
                   or resp.status_code == 403 and " is reserved" in message)
        assert written or resp.status_code == 400 and refused_by_policy(error, message), \
            (resp.status_code, error, message, text)
