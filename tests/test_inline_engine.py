"""Queries answered inside the serving process (query_isolation=worker) and the lean WSGI path
for `/sparql`: same answers, same headers, same errors as the Flask view, and the time limit
still holds -- in a real gunicorn worker (which then retires) and under Flask's test client.
Socket timeouts only bound a failure; nothing is timed."""
from __future__ import annotations

import io
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from server.build.pipeline import project_sources, publish, read_sources
from server.errors import SettingsError
from server.http.gunicorn_server import resolve_isolation
from server.settings import load_settings
from server.store.embedded import SourceFile
from server.store.inline_engine import InlineEngine

from .conftest import ROOT, LiveServer
from .hostile_support import build_private_store
from .test_observability import samples, value

SELECT = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
# About 25 million pairs over the project's graphs: seconds, not forever (a thread under the
# test client cannot be stopped, so this one must end by itself).
FINITE_SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"
NEW_GRAPH = "https://kars-gyumri.example.org/graph/rebuilt-while-serving"
EXPECTED_HEADERS = {"content-type", "vary", "access-control-allow-origin", "access-control-expose-headers",
                    "server-timing", "kg-result-count", "x-content-type-options", "referrer-policy",
                    "content-length"}


def test_auto_isolation_is_worker_only_for_a_read_only_server() -> None:
    assert resolve_isolation(load_settings({})).query_isolation == "worker"
    assert resolve_isolation(load_settings({"write_token": "t"})).query_isolation == "process"
    assert resolve_isolation(load_settings({"query_isolation": "process"})).query_isolation == "process"
    with pytest.raises(SettingsError, match="cannot be combined with a write token"):
        resolve_isolation(load_settings({"query_isolation": "worker", "write_token": "t"}))
    with pytest.raises(SettingsError, match="one of auto, worker, process"):
        load_settings({"query_isolation": "thread"})


@pytest.fixture(scope="module")
def inline_app(make_app: Callable[..., Flask]) -> Flask:
    app = make_app(query_isolation="worker", query_timeout_s=1.0)
    assert isinstance(app.extensions["kg"].engine, InlineEngine)
    return app


def test_lean_path_answers_with_the_views_headers(inline_app: Flask, make_app: Callable[..., Flask]) -> None:
    """The same query through the lean path (form POST) and through the Flask view (a chunked body,
    which only Flask reads): same rows, same header names, same content type."""
    client = inline_app.test_client()
    lean = client.post("/sparql", data={"query": SELECT}, headers={"Accept": "application/sparql-results+json"})
    assert lean.status_code == 200
    assert {k.lower() for k in lean.headers.keys()} == EXPECTED_HEADERS
    assert lean.headers["Content-Type"] == "application/sparql-results+json"
    rows = json.loads(lean.data)["results"]["bindings"]
    assert int(lean.headers["KG-Result-Count"]) == len(rows) >= 5

    viewed = client.post("/sparql", input_stream=io.BytesIO(SELECT.encode()),
                         environ_overrides={"wsgi.input_terminated": True},
                         headers={"Content-Type": "application/sparql-query", "Transfer-Encoding": "chunked",
                                  "Accept": "application/sparql-results+json"})
    assert viewed.status_code == 200
    assert json.loads(viewed.data)["results"]["bindings"] == rows
    assert viewed.headers["Content-Type"] == lean.headers["Content-Type"]
    assert {k.lower() for k in viewed.headers.keys()} == EXPECTED_HEADERS


def test_lean_path_head_has_length_and_no_body(inline_app: Flask) -> None:
    client = inline_app.test_client()
    get = client.get("/sparql", query_string={"query": SELECT, "format": "csv"})
    head = client.head("/sparql", query_string={"query": SELECT, "format": "csv"})
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len(get.data))
    assert head.headers["Content-Type"] == get.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_errors_met_on_the_lean_path_are_the_apps_errors(inline_app: Flask) -> None:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect()
    logging.getLogger("kg.access").addHandler(handler)
    try:
        client = inline_app.test_client()
        bad = client.post("/sparql", data="SELECT * WHERE { ?s ?p }",
                          headers={"Content-Type": "application/sparql-query", "Accept": "application/json"})
        unacceptable = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": "image/png"})
    finally:
        logging.getLogger("kg.access").removeHandler(handler)
    assert bad.status_code == 400 and bad.headers["Content-Type"] == "application/json"
    body = json.loads(bad.data)
    assert body["line"] == 1 and body["column"] > 0 and "syntax error" in body["message"]
    assert bad.headers["X-Content-Type-Options"] == "nosniff"
    assert unacceptable.status_code == 406 and "application/sparql-results+json" in unacceptable.get_data(as_text=True)
    assert any(line.startswith("POST /sparql 400") and "q=" in line and "q=-" not in line for line in lines)
    metrics = samples(client.get("/metrics").get_data(as_text=True))
    assert value(metrics, "kg_http_requests_total", route="/sparql", method="POST", status="400") == 1


def test_time_limit_under_the_test_client(inline_app: Flask) -> None:
    """No worker to retire here: the query keeps its thread to its end, the client has its 503 at
    the limit, and other clients are answered meanwhile."""
    outcome: dict[str, object] = {}

    def slow() -> None:
        outcome["slow"] = inline_app.test_client().get("/sparql", query_string={"query": FINITE_SLOW})

    thread = threading.Thread(target=slow)
    thread.start()
    fast = [inline_app.test_client().get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}) for _ in range(5)]
    thread.join(60)
    assert [r.status_code for r in fast] == [200] * 5
    answer = outcome["slow"]
    assert answer.status_code == 503  # type: ignore[attr-defined]
    assert "limit of 1 s" in answer.get_data(as_text=True)  # type: ignore[attr-defined]


# -- a real gunicorn worker ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(store_link: Path) -> Iterator[LiveServer]:
    srv = LiveServer(store_link, env={"KG_QUERY_TIMEOUT_S": "2", "KG_WORKERS": "2", "KG_THREADS": "2"})
    yield srv
    srv.stop()


def _get(server: LiveServer, query: str, accept: str = "application/sparql-results+json") -> tuple[int, bytes, dict[str, str]]:
    req = urllib.request.Request(server.url + "/sparql?" + urllib.parse.urlencode({"query": query}),
                                 headers={"Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def test_a_runaway_query_gets_503_and_its_worker_is_replaced(server: LiveServer) -> None:
    """The endless query is answered 503 on its connection at the limit while three other clients
    keep being answered; its worker retires and a fresh one serves the next endless query the
    same way; the timeouts are counted."""
    results: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def reader() -> None:
        for _ in range(60):  # bounded
            if stop.is_set():
                return
            status, _body, _h = _get(server, "ASK { ?s ?p ?o }")
            with lock:
                results.append(status)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    first = _get(server, ENDLESS, accept="application/json")
    second = _get(server, ENDLESS, accept="text/plain")
    stop.set()
    for t in threads:
        t.join(120)
    status, body, headers = first
    assert status == 503 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"] == "Query timeout" and "limit of 2 s" in json.loads(body)["message"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert second[0] == 503 and second[1].decode().startswith("503 Query timeout: the query ran longer")
    assert results and set(results) == {200}, results
    status, body, _h = _get(server, SELECT)
    assert status == 200 and json.loads(body)["results"]["bindings"]
    with urllib.request.urlopen(server.url + "/metrics", timeout=30) as resp:
        metrics = samples(resp.read().decode())
    assert value(metrics, "kg_query_timeouts_total") >= 2


def test_a_store_rebuilt_while_serving_is_answered_without_a_restart(tmp_path: Path) -> None:
    """`kg build` swaps the store link under a running server: each worker reopens the new store
    (it looks at the link at most once a second), and no request fails meanwhile."""
    link = build_private_store(tmp_path)
    srv = LiveServer(link, env={"KG_WORKERS": "2", "KG_THREADS": "2"})
    try:
        status, body, _h = _get(srv, SELECT)
        assert status == 200 and NEW_GRAPH not in body.decode()
        publish(link, read_sources(project_sources() + [SourceFile(ROOT / "tests" / "fixtures" / "markup.ttl",
                                                                   NEW_GRAPH)]))
        seen, statuses = 0, []
        for _ in range(300):  # bounded: about 15 s at most
            status, body, _h = _get(srv, SELECT)
            statuses.append(status)
            seen = seen + 1 if NEW_GRAPH in body.decode() else 0
            if seen == 8:   # eight answers in a row, from whichever worker, have the new graph
                break
            time.sleep(0.05)
        assert seen == 8
        assert set(statuses) == {200}
    finally:
        srv.stop()
