"""The query engine on the embedded store (queries on native threads of the serving process): the
time limit, the fairness rule, a runaway query in a real gunicorn worker (which then retires),
and a store rebuilt while serving. A query held by a SERVICE endpoint that answers only when told
(`HeldService`) is a query still running, for certain: nothing here depends on how fast a slow
query is. Socket timeouts only bound a failure."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
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
from server.settings import load_settings
from server.store.embedded import SourceFile

from .conftest import ROOT, HeldService, LiveServer, asking_meanwhile, one_answer
from .hostile_support import build_private_store
from .test_observability import samples, value

SELECT = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
ASK = "ASK { ?s ?p ?o }"
NEW_GRAPH = "https://kars-gyumri.example.org/graph/rebuilt-while-serving"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
TOKEN = "engine-T0ken"


def test_a_query_past_its_time_limit_is_503_and_others_are_answered_meanwhile(
        make_app: Callable[..., Flask], held_service: HeldService) -> None:
    """Under Flask's test client there is no worker to retire: the held query keeps its thread,
    its client has the 503 at the limit, and other clients are answered while it runs."""
    app = make_app(query_timeout_s=1.0, service_allowlist=held_service.url)
    outcome: dict[str, object] = {}

    def held() -> None:
        outcome["held"] = app.test_client().get("/sparql", query_string={"query": held_service.query()},
                                                headers={"Accept": "application/json"})

    thread = threading.Thread(target=held)
    thread.start()
    held_service.wait_for(1)
    others = [app.test_client().get("/sparql", query_string={"query": ASK}) for _ in range(5)]
    thread.join(60)
    assert [r.status_code for r in others] == [200] * 5
    answer = outcome["held"]
    assert answer.status_code == 503 and answer.headers["Content-Type"] == "application/json"  # type: ignore[attr-defined]
    body = json.loads(answer.data)  # type: ignore[attr-defined]
    assert body["error"] == "Query timeout" and "limit of 1 s" in body["message"]
    metrics = samples(app.test_client().get("/metrics").get_data(as_text=True))
    assert value(metrics, "kg_query_timeouts_total") == 1


def test_a_client_over_its_share_waits_for_its_own_slots_and_others_are_answered(
        make_app: Callable[..., Flask], held_service: HeldService) -> None:
    """The fairness rule: one address holds at most max_client_queries evaluations; its next query
    waits for one of them, and is 503 with Retry-After when none ends within its time limit, while
    a query from another address is answered at once."""
    app = make_app(query_timeout_s=2.0, service_allowlist=held_service.url, max_client_queries=2,
                   query_threads=4)
    greedy = {"REMOTE_ADDR": "192.0.2.7"}
    held: list[object] = []

    def hold() -> None:
        held.append(app.test_client().get("/sparql", query_string={"query": held_service.query()},
                                          environ_base=greedy))

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for t in threads:
        t.start()
    held_service.wait_for(2)   # both of its slots are taken by queries that cannot end
    over = app.test_client().get("/sparql", query_string={"query": ASK}, environ_base=greedy,
                                 headers={"Accept": "application/json"})
    other = app.test_client().get("/sparql", query_string={"query": ASK},
                                  environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert other.status_code == 200 and json.loads(other.data)["boolean"] is True
    assert over.status_code == 503 and over.headers["Retry-After"] == "1"
    assert json.loads(over.data)["error"] == "Service busy"
    assert "max_client_queries" in json.loads(over.data)["message"]
    assert held_service.arrivals == 2   # the waiting query never started
    held_service.released.set()
    for t in threads:
        t.join(60)
    after = app.test_client().get("/sparql", query_string={"query": ASK}, environ_base=greedy)
    assert after.status_code == 200   # its slots are back once its queries have ended


# -- a real gunicorn worker ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(store_link: Path) -> Iterator[LiveServer]:
    srv = LiveServer(store_link, env={"KG_QUERY_TIMEOUT_S": "2", "KG_WORKERS": "2"})
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
    """The endless query is answered 503 at the limit while three other clients keep being
    answered (a question that a retiring worker had not answered yet is 503 `Service restarting`,
    to be sent again); its worker retires and a fresh one serves the next endless query the same
    way; the timeouts are counted."""
    def ask() -> tuple[int, str | None]:
        status, body, _h = _get(server, ASK)
        return status, None if status == 200 else json.loads(body)["error"]

    with asking_meanwhile(ask) as asked:
        first = _get(server, ENDLESS, accept="application/json")
        second = _get(server, ENDLESS, accept="text/csv, text/plain;q=0.5")   # a CSV answer, a text error
    status, body, headers = first
    assert status == 503 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"] == "Query timeout" and "limit of 2 s" in json.loads(body)["message"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert second[0] == 503 and second[1].decode().startswith("503 Query timeout: the query ran longer")
    assert (200, None) in asked and set(asked) <= {(200, None), (503, "Service restarting")}, asked
    status, body, _h = _get(server, SELECT)
    assert status == 200 and json.loads(body)["results"]["bindings"]
    with urllib.request.urlopen(server.url + "/metrics", timeout=30) as resp:
        metrics = samples(resp.read().decode())
    assert value(metrics, "kg_query_timeouts_total") >= 2


def test_a_retiring_worker_closes_the_connections_it_answers(store_link: Path, held_service: HeldService) -> None:
    """Two kept-alive clients whose queries are held when the only worker retires (the first one's
    runaway): both answers say `Connection: close`, so neither client sends its next request on a
    connection about to close; the next client is served by the fresh worker."""
    srv = LiveServer(store_link, env={"KG_WORKERS": "1", "KG_QUERY_TIMEOUT_S": "2",
                                      "KG_SERVICE_ALLOWLIST": held_service.url})
    request = (f"GET /sparql?{urllib.parse.urlencode({'query': held_service.query()})} HTTP/1.1\r\n"
               "Host: x\r\nAccept: application/json\r\n\r\n").encode()
    try:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=60) as first, \
                socket.create_connection(("127.0.0.1", srv.port), timeout=60) as second:
            first.sendall(request)
            held_service.wait_for(1)
            second.sendall(request)
            held_service.wait_for(2)
            answers = [one_answer(first), one_answer(second)]
        assert [(status, headers["connection"]) for status, headers, _ in answers] == \
            [(b"HTTP/1.1 503 Service Unavailable", "close")] * 2
        assert json.loads(answers[0][2])["error"] == "Query timeout"
        assert json.loads(answers[1][2])["error"] in ("Service restarting", "Query timeout")
        assert _get(srv, ASK)[0] == 200
    finally:
        srv.stop()


def test_in_write_mode_a_runaway_query_costs_the_worker_and_a_fresh_one_writes(tmp_path: Path) -> None:
    """With a write token there is one worker, which holds the store read-write: after its runaway
    query it ends (its lock with it), and the fresh worker in its place opens the store read-write
    and takes a write and the query that reads it back."""
    link = build_private_store(tmp_path)
    srv = LiveServer(link, env={"KG_QUERY_TIMEOUT_S": "2", "KG_WRITE_TOKEN": TOKEN})
    try:
        status, body, _h = _get(srv, ENDLESS, accept="application/json")
        assert status == 503 and json.loads(body)["error"] == "Query timeout"
        update = f'INSERT DATA {{ GRAPH <{NEW_GRAPH}> {{ <{NEW_GRAPH}#town> <{LABEL}> "After the runaway"@en }} }}'
        req = urllib.request.Request(srv.url + "/sparql", data=urllib.parse.urlencode({"update": update}).encode(),
                                     headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert resp.status == 200
        status, body, _h = _get(srv, f"SELECT ?l WHERE {{ GRAPH <{NEW_GRAPH}> {{ ?s <{LABEL}> ?l }} }}")
        assert status == 200
        assert [b["l"]["value"] for b in json.loads(body)["results"]["bindings"]] == ["After the runaway"]
    finally:
        srv.stop()


RETIRE_UNDER_GEVENT = r"""
from gevent import monkey
monkey.patch_all()
import json, select, sys
import gevent
from server import create_app

store, held_url, held_query = sys.argv[1:4]
ended = []
app = create_app({"store": store, "service_allowlist": held_url, "query_timeout_s": 120},
                 on_runaway=lambda: ended.append(True))
client = app.test_client()
accept = {"Accept": "application/json"}
held = gevent.spawn(client.get, "/sparql", query_string={"query": held_query}, headers=accept)
select.select([sys.stdin], [], [])   # (gevent's select: the held request runs meanwhile) until told
sys.stdin.readline()                 # that its SERVICE call has arrived: it is inside Oxigraph now
app.extensions["kg"].engine.retire()
answers = [held.get(timeout=60), client.get("/sparql", query_string={"query": held_query}, headers=accept)]
print(json.dumps({"ended": ended,
                  "answers": [[r.status_code, r.headers.get("Retry-After"), r.json["error"]] for r in answers]}))
"""


def test_a_retiring_worker_answers_the_queries_it_waits_for_at_once(store_link: Path,
                                                                   held_service: HeldService) -> None:
    """A gevent worker that retires (a runaway query) must end soon: the query it is waiting for
    (held by the SERVICE endpoint for a minute, within a 120 s limit) is answered 503 `Service
    restarting` with `Retry-After` at once, and one asked after and held again gets the same
    (after retire_grace_s, not at its 120 s limit); then the process ends."""
    proc = subprocess.Popen([sys.executable, "-c", RETIRE_UNDER_GEVENT, str(store_link), held_service.url,
                             held_service.query()], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
    try:
        held_service.wait_for(1)
        out, err = proc.communicate("go\n", timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    result = json.loads(out)
    assert result == {"ended": [True], "answers": [[503, "1", "Service restarting"]] * 2}
    assert held_service.arrivals == 2


def test_a_store_rebuilt_while_serving_is_answered_without_a_restart(tmp_path: Path) -> None:
    """`kg build` swaps the store link under a running server: each worker reopens the new store
    (it looks at the link at most once a second), and no request fails meanwhile."""
    link = build_private_store(tmp_path)
    srv = LiveServer(link, env={"KG_WORKERS": "2"})
    try:
        status, body, _h = _get(srv, SELECT)
        assert status == 200 and NEW_GRAPH not in body.decode()
        publish(link, read_sources(project_sources() + [SourceFile(ROOT / "tests" / "fixtures" / "markup.ttl",
                                                                   NEW_GRAPH)]))
        seen, statuses = 0, []
        for _ in range(1200):  # bounded: a minute or so at most (workers look once a second)
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


@pytest.mark.parametrize("grace_s,status", [(0, 503), (60, 200)])
def test_a_retiring_process_answers_a_query_within_its_grace_or_not_at_all(
        make_app: Callable[..., Flask], grace_s: float, status: int) -> None:
    """Once the process retires, a query asked of it gets `retire_grace_s` from its start: with
    none it is answered 503 `Service restarting` at once (sent again, it reaches a fresh worker);
    within a grace a quick query is answered."""
    app = make_app(retire_grace_s=grace_s)
    app.extensions["kg"].engine.retire()
    resp = app.test_client().get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": "application/json"})
    assert resp.status_code == status
    if status == 503:
        assert resp.json["error"] == "Service restarting" and resp.headers["Retry-After"] == "1"
    else:
        assert resp.json["boolean"] is True


def test_a_negative_grace_is_refused_before_serving() -> None:
    from server.errors import SettingsError
    from server.http.gunicorn_server import check

    with pytest.raises(SettingsError, match="retire_grace_s"):
        check(load_settings({"retire_grace_s": -1}, environ={}))
