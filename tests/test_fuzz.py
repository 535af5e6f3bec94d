"""Fuzzing every endpoint with generated and mutated input: never a 500, never Python's exception
text in a body, the app answers the next request, and the store is unchanged at the end.

Hypothesis runs derandomized (the same examples every run) with bounded example counts, so the
suite is reproducible and costs well under a minute. The store is a private one built for this
module (the project's files plus the markup fixtures); its N-Quads dump is compared before and
after everything here ran.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .hostile_support import ROOT, assert_clean, unchanged_store

FUZZ = settings(max_examples=150, deadline=timedelta(seconds=30), derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
COMPETENCY = sorted((ROOT / "tests" / "competency").glob("*.rq"))
QUERIES = [p.read_text(encoding="utf-8") for p in COMPETENCY]
KEYWORDS = ["SELECT", "CONSTRUCT", "DESCRIBE", "ASK", "WHERE", "FILTER", "OPTIONAL", "UNION", "MINUS", "GRAPH",
            "SERVICE", "LOAD", "INSERT", "DELETE", "DATA", "VALUES", "BIND", "GROUP BY", "ORDER BY", "LIMIT",
            "OFFSET", "FROM", "FROM NAMED", "PREFIX", "BASE", "REGEX(", "STR(", "COUNT(*)", "SUM(", "EXISTS",
            "NOT", "IN", "a", "*", "?s", "$o", "_:b", "[]", "()", "<>", '"""', "'", "@en", "^^", "#", ";", ",",
            ".", "|", "^", "/", "+", "?", "!", "&&", "||", "<javascript:x>", "<http://127.0.0.1:1/>", "\\u0000"]
ODD_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
ODD_BYTES = st.binary(max_size=60)
# A header value cannot hold a line break (it would end the header); clients refuse to send one.
ODD_HEADER = ODD_TEXT.map(lambda t: t.replace("\r", "").replace("\n", ""))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with unchanged_store(tmp_path_factory.mktemp("fuzz-store")) as link:
        yield link


@pytest.fixture(scope="module")
def fuzz_app(make_app: Any, store: Path) -> Flask:
    # A short time limit: a mutation can turn a query into a cartesian product (503 is fine).
    return make_app(store=str(store), query_timeout_s=2.0)


def still_answers(client: Any) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json()["status"] == "ok"


# -- SPARQL: competency questions, mutated ---------------------------------------------------------

@st.composite
def mutated_query(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(QUERIES))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "bracket", "keyword", "nest", "unicode", "nul",
                                   "truncate"]))
        pos = draw(st.integers(0, len(text)))
        if op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 20)):]
        elif op == "insert":
            text = text[:pos] + draw(ODD_TEXT) + text[pos:]
        elif op == "duplicate":
            end = min(len(text), pos + draw(st.integers(1, 40)))
            text = text[:end] + text[pos:end] * draw(st.integers(1, 5)) + text[end:]
        elif op == "bracket":
            text = text[:pos] + draw(st.text(alphabet="{}()[]<>\"'", min_size=1, max_size=8)) + text[pos:]
        elif op == "keyword":
            text = text[:pos] + " " + draw(st.sampled_from(KEYWORDS)) + " " + text[pos:]
        elif op == "nest":
            n = draw(st.sampled_from([10, 63, 65, 200, 3000]))
            kind = draw(st.sampled_from(["{ ", "( ", "[ "]))
            closing = {"{ ": " }", "( ": " )", "[ ": " ]"}[kind]
            text = text[:pos] + kind * n + "?x" + closing * n + text[pos:]
        elif op == "unicode":
            text = text[:pos] + draw(st.sampled_from(["\u202e", "\ufeff", "\U0001F600", "e\u0301", "\u0130", "\uffff",
                                                      "\u2028", "İ"])) + text[pos:]
        elif op == "nul":
            text = text[:pos] + "\x00" + text[pos:]
        else:
            text = text[:pos]
    return text


@FUZZ
@given(query=mutated_query(), how=st.sampled_from(["get", "form", "direct"]),
       accept=st.sampled_from([None, "application/sparql-results+json", "text/csv", "text/turtle", "*/*", "text/html",
                               "application/sparql-results+xml", "application/n-triples"]))
def test_mutated_queries(fuzz_app: Flask, query: str, how: str, accept: str | None) -> None:
    client = fuzz_app.test_client()
    headers = {"Accept": accept} if accept else {}
    if how == "get":
        resp = client.get("/sparql?query=" + quote(query, safe=""), headers=headers)
    elif how == "form":
        resp = client.post("/sparql", data={"query": query}, headers=headers)
    else:
        resp = client.post("/sparql", data=query.encode("utf-8", "surrogatepass"),
                           headers={**headers, "Content-Type": "application/sparql-query"})
    assert_clean(resp.status_code, resp.data, f"{how} {query[:80]!r}")
    still_answers(client)


@FUZZ
@given(body=ODD_BYTES, ctype=st.sampled_from(["application/sparql-query", "application/sparql-update",
                                               "application/x-www-form-urlencoded",
                                               "application/sparql-query; charset=latin-1"]))
def test_random_bytes_as_query_bodies(fuzz_app: Flask, body: bytes, ctype: str) -> None:
    client = fuzz_app.test_client()
    resp = client.post("/sparql", data=body, headers={"Content-Type": ctype})
    assert 400 <= resp.status_code < 500 or resp.status_code in (200, 503), resp.status_code
    assert_clean(resp.status_code, resp.data, repr(body))
    still_answers(client)


# -- paths -----------------------------------------------------------------------------------------

SEGMENTS = ["..", "%2e%2e", "%2F", "%00", "%", "%zz", "%ff%fe", "%C0%AF", "a b", "<script>", "javascript:alert(1)",
            "~", "?", "#", ";", "x" * 5000, "%E2%80%AE", "%F0%9F%98%80", "\\", "//", ".", "gyumri", "gyumri.ttl",
            "gyumri.", "gyumri.exe", "a.b.c.d", "%3Cx%3E", "{}", "|", "^", "`"]


@FUZZ
@given(prefix=st.sampled_from(["/id/", "/doc/", "/graph/", "/ontology/", "/ontology.", "/dumps/", "/static/vendor/yasgui/",
                               "/", "/sparql/", "/shapes/"]),
       parts=st.lists(st.one_of(st.sampled_from(SEGMENTS), ODD_TEXT.map(lambda s: quote(s, safe=""))), min_size=1,
                      max_size=4),
       method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]))
def test_odd_paths(fuzz_app: Flask, prefix: str, parts: list[str], method: str) -> None:
    client = fuzz_app.test_client()
    path = prefix + "/".join(parts)
    if path.startswith("//"):  # the test client would read it as a host name
        path = "/x" + path
    resp = client.open(path, method=method, headers={"Accept": "text/html"})
    assert_clean(resp.status_code, resp.data, f"{method} {path[:120]}")
    if "<script>" in parts and resp.mimetype == "text/html":
        assert "<script>" not in resp.get_data(as_text=True)  # echoed paths are escaped
    still_answers(client)


# -- headers ---------------------------------------------------------------------------------------

ACCEPTS = st.one_of(st.sampled_from([
    "", "*/*", "text/*", "*/html", "text/html;q=0", "text/html;q=abc", "text/html;q=-1", "text/html;q=1e9",
    "application/json;charset=utf-16", "text/turtle;q=0.5, application/ld+json;q=0.5", ";;;", ",,,", "a/b/c",
    "text/html;" + "p=1;" * 200, ", ".join(["text/x-%d" % i for i in range(300)]), "image/svg+xml", "\x00",
    "text/plain;charset=\"\\\"\"", "application/sparql-results+json; q=0.0001"]), ODD_HEADER)
CONTENT_TYPES = st.one_of(st.sampled_from([
    "", "application/sparql-query; charset=utf-16", "application/sparql-query; charset=", "application/sparql-query;;",
    "application/sparql-query; charset=\"utf-8\"", "application/x-www-form-urlencoded; charset=ebcdic",
    "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=x",
    "text/turtle", "application/rdf+xml", "application/ld+json; profile=\"http://127.0.0.1:1/\"", "*/*",
    "application/sparql-update; charset=utf-8; charset=latin-1"]), ODD_HEADER)
ENCODINGS = st.sampled_from(["", "gzip", "br", "deflate;q=0", "identity;q=0", "*;q=0", "x" * 3000, "gzip, \x01"])


@FUZZ
@given(path=st.sampled_from(["/", "/sparql", "/doc/gyumri", "/id/gyumri", "/graph/outside", "/ontology", "/dataset",
                             "/shapes", "/healthz", "/settings.json", "/metrics", "/doc/markup-test-place",
                             "/dumps/dataset.trig.gz", "/.well-known/void"]),
       accept=ACCEPTS, encoding=ENCODINGS, ctype=CONTENT_TYPES, post=st.booleans())
def test_odd_headers(fuzz_app: Flask, path: str, accept: str, encoding: str, ctype: str, post: bool) -> None:
    client = fuzz_app.test_client()
    headers = {"Accept": accept, "Accept-Encoding": encoding, "If-None-Match": accept, "If-Modified-Since": accept}
    if post:
        headers["Content-Type"] = ctype
        resp = client.post(path, data=b"query=ASK%7B%7D", headers=headers)
    else:
        target = path + ("?query=ASK%7B%7D" if path == "/sparql" else "")
        resp = client.get(target, headers=headers)
    assert_clean(resp.status_code, resp.data, f"{path} Accept={accept!r} CT={ctype!r}")
    still_answers(client)


# -- query-string parameters -----------------------------------------------------------------------

PARAMS = ["query", "update", "format", "default-graph-uri", "named-graph-uri", "using-graph-uri", "graph", "default",
          "mode", "access_token", "token", "page", "limit", "offset", "v", ""]


@FUZZ
@given(path=st.sampled_from(["/sparql", "/doc/gyumri", "/graph/outside", "/ontology", "/dataset", "/", "/shapes",
                             "/id/gyumri", "/metrics", "/healthz", "/settings.json"]),
       pairs=st.lists(st.tuples(st.sampled_from(PARAMS),
                                st.one_of(st.sampled_from(["", "ASK {}", "html", "json", "x" * 20000, "%", "%00",
                                                           "urn:x", "javascript:1", "https://127.0.0.1:1/g"]),
                                          ODD_TEXT)), max_size=6))
def test_odd_parameters(fuzz_app: Flask, path: str, pairs: list[tuple[str, str]]) -> None:
    client = fuzz_app.test_client()
    qs = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    resp = client.get(path + ("?" + qs if qs else ""))
    assert_clean(resp.status_code, resp.data, f"{path}?{qs[:200]}")
    if path == "/sparql" and sum(1 for k, _ in pairs if k == "query") > 1:
        assert resp.status_code == 400
    still_answers(client)


# -- the query guard's two scanners ----------------------------------------------------------------

GUARD_PIECES = ["SELECT", "select", "SERVICE", "LOAD", "FROM", "ASK", "CONSTRUCT", "DESCRIBE", "SELECT:", "from_x",
                "Selected", "x1SELECT", "ex:a", "?v", "$w", "<http://x/>", "<a b>", "'", '"', "'''", '"""', "#",
                "\n", " ", "{", "}", "(", ")", "[", "]", "\\", ":", "-", "1", "\u212a", "\u017f", "é", "中", "<",
                "PREFIX", "prefix ", "@", "_:", ".", "1.5e3", "false", "SILENT", "%2F", "\\.", "<a(b)>", "xſervice:",
                ">", "<<", ">>", "<<(", ")>>"]
_KEYWORD_WORDS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "FROM", "SERVICE", "LOAD")


def _every_token(text: str) -> dict[str, Any]:
    """The guard's decisions from every token of the text, one at a time (`guard.TOKEN`): the
    reference its fast scan (which steps over the tokens that change nothing) is held to."""
    import re

    from server.sparql.guard import TOKEN, services

    shape: dict[str, Any] = {"depth": 0, "services": [], "loads": 0, "has_dataset_clause": False, "form": None,
                             "form_end": None, "first_brace": None, "selects": 0, "ambiguous": None}
    depth, service, declaring, glued = 0, False, False, []
    for m in TOKEN.finditer(text):
        kind, token = m.lastgroup, m.group()
        if kind in ("space", "comment"):
            continue
        if token in ("<<", ">>"):   # SPARQL 1.2 triple terms and reifiers nest as brackets do
            depth += 1 if token == "<<" else -1
            shape["depth"] = max(shape["depth"], depth)
        for offset, char in enumerate(token if kind in ("open", "close", "iri") else ""):
            if char == "{" and shape["first_brace"] is None:
                shape["first_brace"] = m.start() + offset
            depth += (char in "{([") - (char in "})]")
            shape["depth"] = max(shape["depth"], depth)
        upper = "".join(c.upper() if c.isascii() else c for c in token)   # keywords are ASCII (§19.3)
        if kind in ("word", "pname") and not (kind == "pname" and declaring):
            keyword = next((k for k in _KEYWORD_WORDS if upper.startswith(k)), None)
            if keyword in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE") and shape["form"] is None:
                shape["form"] = keyword
                # where the keyword ends, when it is a word of its own (the star is looked for there)
                shape["form_end"] = m.end() if kind == "word" and upper == keyword else None
            if keyword in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
                shape["selects"] += keyword == "SELECT" and kind == "word"
            exact = kind == "word" and upper in ("FROM", "LOAD", "SERVICE")
            if exact:
                shape["has_dataset_clause"] |= upper == "FROM"
                shape["loads"] += upper == "LOAD"
                service |= upper == "SERVICE"
            elif re.search("SERVICE|LOAD|FROM", upper.partition(":")[0]):
                glued.append(token)
        declaring = kind == "word" and upper == "PREFIX"
    shape["ambiguous"] = glued[0] if glued else None
    if service:
        shape["services"] = services(text)
    return shape


@settings(max_examples=2000, deadline=None, derandomize=True, database=None)
@given(pieces=st.lists(st.one_of(st.sampled_from(GUARD_PIECES), ODD_TEXT), max_size=30))
def test_guard_fast_scan_agrees_with_the_token_loop(pieces: list[str]) -> None:
    """The guard's fast scan (the regex engine steps over tokens that change nothing; a word that
    holds a keyword and the SERVICE endpoints are read by second passes) reads every text as the
    loop over all tokens does: the same depth, keywords, form, first brace, SERVICE endpoints and
    ambiguous words (which one is found first may differ; that there is one may not)."""
    from dataclasses import asdict

    from server.sparql.guard import scan

    text = "".join(pieces)
    fast, slow = asdict(scan(text)), _every_token(text)
    assert (fast.pop("ambiguous") is None) == (slow.pop("ambiguous") is None), repr(text)
    assert fast == slow, repr(text)
