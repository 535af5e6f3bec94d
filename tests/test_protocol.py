"""The W3C SPARQL 1.1 Protocol cases (tests/protocol_cases.py), one parametrized test."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

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
    from server.sparql.guard import scan

    assert scan(text).has_dataset_clause is has_from


def _wsgi_post(app: Any, body: bytes, announced: int, query_string: str = "",
               content_type: str = "application/sparql-query",
               seen_headers: dict[str, str] | None = None) -> tuple[str, bytes]:
    """A POST straight to the WSGI callable, as the server hands it over (Content-Length as sent)."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path="/sparql", method="POST", data=body, query_string=query_string,
                             content_type=content_type,
                             headers={"Accept": "application/sparql-results+json"}).get_environ()
    environ["CONTENT_LENGTH"] = str(announced)
    got: list[str] = []
    wsgi = app.wsgi_app
    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        got.append(status)
        if seen_headers is not None:
            seen_headers.update(headers)

    out = wsgi(environ, start_response)
    try:
        return got[0], b"".join(out)
    finally:
        getattr(out, "close", lambda: None)()


def test_a_body_shorter_than_announced_is_400_not_a_shorter_query(app) -> None:  # type: ignore[no-untyped-def]
    """`ASK {}` is a valid query, but the client announced more bytes than it sent: the request is
    incomplete and is refused, never answered as if the body were whole."""
    status, body = _wsgi_post(app, b"ASK {}", announced=40)
    assert status.startswith("400"), (status, body)
    status, body = _wsgi_post(app, b"ASK {}", announced=6)
    assert status.startswith("200") and json.loads(body)["boolean"] is True


@pytest.mark.parametrize("query_string,graph", [
    ("named-graph-uri=urn:x:%FF", "urn:x:%FF"),             # not UTF-8: stays percent-encoded
    ("named-graph-uri=urn:x:%C3%A9", "urn:x:\u00e9"),
    ("named-graph-uri=urn:x:%C3%A9&format=json&x=%E9t%E9", "urn:x:\u00e9"),
    ("named-graph-uri=urn:x:\u00e9", "urn:x:\u00e9"),       # a raw non-ASCII byte in the URL
])
def test_url_parameters_are_read_as_utf8_with_invalid_bytes_kept_encoded(app, query_string: str, graph: str) -> None:  # type: ignore[no-untyped-def]
    """The graph the query sees is the one named, whether percent-encoded or sent as raw bytes."""
    query = b"SELECT ?g WHERE { GRAPH ?g { } }"
    status, body = _wsgi_post(app, query, len(query), query_string)
    assert status.startswith("200"), (status, body)
    rows = json.loads(body)["results"]["bindings"]
    assert [r["g"]["value"] for r in rows] == [graph]


@pytest.mark.parametrize("body,query_string,media_type", [
    (b"query=ASK%7B%7D&format=xml", "", "application/sparql-results+xml"),     # the form's format beats Accept
    (b"query=ASK%7B%7D&format=xml", "format=csv", "text/csv"),                 # the URL's beats the form's
    (b"query=ASK%7B%7D", "format=tsv", "text/tab-separated-values"),
    (b"query=ASK%7B%7D", "", "application/sparql-results+json"),               # none: Accept decides
])
def test_a_format_parameter_beats_accept_and_the_urls_beats_the_forms(app, body: bytes, query_string: str,  # type: ignore[no-untyped-def]
                                                                       media_type: str) -> None:
    """The `format` parameter picks the format (Accept asks for JSON): the URL's, else the form's."""
    headers: dict[str, str] = {}
    status, answer = _wsgi_post(app, body, len(body), query_string,
                                content_type="application/x-www-form-urlencoded", seen_headers=headers)
    assert status.startswith("200"), (status, answer)
    assert headers["Content-Type"].split(";")[0] == media_type, headers


FORM_PIECES = ["%", "+", "&", "=", "\\", "x", "X", "0", "9", "a", "F", "g", " ", "é", "中", "\n", ";",
               "%C3%A9", "%E4%B8", "%ZZ", "%2", "%%", "\\x41", "%5C", "%5c%78%34%31", "%FF", "%00", "%2B", "%26"]


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(st.one_of(st.lists(st.one_of(st.sampled_from(FORM_PIECES), st.text(max_size=5)), max_size=25).map("".join),
                 st.dictionaries(st.text(max_size=8), st.text(max_size=40), max_size=3).map(urlencode)))
def test_the_form_body_is_read_as_parse_qsl_reads_it(body: str) -> None:
    """The protocol's own form reader (C-level percent decoding) gives exactly the pairs the
    standard library's `parse_qsl(keep_blank_values=True)` gives, escapes that are not escapes and
    invalid UTF-8 included."""
    from urllib.parse import parse_qsl

    from server.sparql.protocol import parse_form

    assert parse_form(body) == parse_qsl(body, keep_blank_values=True)
