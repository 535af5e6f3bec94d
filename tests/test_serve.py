"""The real `kg serve` process (gunicorn) answering real clients over loopback, on the embedded
store (gthread workers) and on `oxigraph serve` as a remote store (gevent workers)."""
from __future__ import annotations

import json
import socket
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from server import namespaces as ns
from server.errors import SettingsError
from server.http.gunicorn_server import LingeringThreadWorker, _worker_class_option, worker_class
from server.settings import load_settings

from .conftest import KG, LiveServer, OxigraphServer

pytestmark = pytest.mark.slow

Q = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


@pytest.fixture(scope="module")
def remote_live_server(tmp_path_factory: pytest.TempPathFactory,
                       remote_oxigraph: OxigraphServer) -> Iterator[LiveServer]:
    env = {f"KG_{k.upper()}": v for k, v in remote_oxigraph.settings.items() if k != "remote_update_url"}
    server = LiveServer(tmp_path_factory.mktemp("unused") / "store", env=env)
    yield server
    log = server.stop()
    assert "Using worker: gevent" in log, log[-2000:]   # worker_class auto, with a remote store


@pytest.fixture(params=["embedded", "remote"])
def served(request: pytest.FixtureRequest) -> LiveServer:
    """Each test below runs on both: `kg serve` on the embedded store, and on the remote store."""
    name = "live_server" if request.param == "embedded" else "remote_live_server"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


def test_curl_style_get(served: LiveServer) -> None:
    url = served.url + "/sparql?" + urllib.parse.urlencode({"query": Q})
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/sparql-results+json"
        data = json.load(resp)
    graphs = {b["g"]["value"] for b in data["results"]["bindings"]}
    assert ns.G_ARTICLE in graphs


@pytest.mark.parametrize("fmt", [JSON, XML, CSV])
def test_sparqlwrapper(served: LiveServer, fmt: str) -> None:
    client = SPARQLWrapper(served.url + "/sparql")
    client.setQuery(Q)
    client.setReturnFormat(fmt)
    client.setMethod("POST")
    result = client.query().convert()
    if fmt == JSON:
        assert any(b["g"]["value"] == ns.G_ARTICLE for b in result["results"]["bindings"])
    elif fmt == XML:
        assert ns.G_ARTICLE in result.toxml()
    else:
        assert ns.G_ARTICLE in result.decode("utf-8")


def test_sparqlwrapper_construct_to_rdflib(served: LiveServer) -> None:
    client = SPARQLWrapper(served.url + "/sparql")
    client.setQuery(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ns.G_OUTSIDE}> {{ ?s ?p ?o }} }}")
    client.setReturnFormat(TURTLE)
    graph = client.queryAndConvert()
    import rdflib

    g = rdflib.Graph().parse(data=graph, format="turtle") if isinstance(graph, bytes) else graph
    assert len(g) > 10


def test_health(served: LiveServer) -> None:
    with urllib.request.urlopen(served.url + "/healthz", timeout=30) as resp:
        data = json.load(resp)
    assert data["status"] == "ok" and data["triples"] > 1000


def _echo(n: int) -> str:
    return f'SELECT ?n ?g WHERE {{ VALUES ?n {{ {n} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?n ?g'


def test_concurrent_clients_each_get_their_own_answer(remote_live_server: LiveServer) -> None:
    """Eight clients at once on the gevent workers, which share kept-alive connections to the
    remote between requests: every answer is the one its query asked for."""
    def ask(n: int) -> tuple[int, set[str]]:
        url = remote_live_server.url + "/sparql?" + urllib.parse.urlencode({"query": _echo(n)})
        with urllib.request.urlopen(url, timeout=30) as resp:
            rows = json.load(resp)["results"]["bindings"]
        return n, {r["n"]["value"] for r in rows}

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(160)))
    assert all(seen == {str(n)} for n, seen in answers), [a for a in answers if a[1] != {str(a[0])}][:3]


def test_the_worker_class_follows_the_store() -> None:
    remote = {"remote_query_url": "http://127.0.0.1:1/query"}
    assert worker_class(load_settings({}, environ={})) == "gthread"
    assert worker_class(load_settings(remote, environ={})) == "gevent"
    assert worker_class(load_settings({**remote, "worker_class": "gthread"}, environ={})) == "gthread"
    with pytest.raises(SettingsError, match="remote store only"):
        worker_class(load_settings({"worker_class": "gevent"}, environ={}))


def test_kg_serve_refuses_gevent_on_the_embedded_store(tmp_path: Path) -> None:
    done = subprocess.run([KG, "serve", "--store", str(tmp_path / "store"), "--port", "0", "--worker-class", "gevent"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "remote store only" in done.stderr


def test_queries_are_answered_while_a_validation_computes(tmp_path: Path, remote_oxigraph: OxigraphServer) -> None:
    """One gevent worker: GET /validate computes in a native thread (server/offload.py), so the
    worker's other requests do not wait for it; on the event loop they would wait while it computes."""
    env = {f"KG_{k.upper()}": v for k, v in remote_oxigraph.settings.items() if k != "remote_update_url"}
    server = LiveServer(tmp_path / "store", env={**env, "KG_WORKERS": "1"})
    try:
        ask = server.url + "/sparql?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
        urllib.request.urlopen(ask, timeout=30).read()
        with ThreadPoolExecutor(1) as pool:
            validation = pool.submit(lambda: urllib.request.urlopen(server.url + "/validate?format=report-json",
                                                                    timeout=120).read())
            answered = 0
            while not validation.done():
                with urllib.request.urlopen(ask, timeout=30) as resp:
                    answered += json.load(resp)["boolean"] is True
            report = json.loads(validation.result())
        assert "conforms" in report
        # Measured: 88 queries answered during the validation; 10 when it computed on the event
        # loop (those came while it was still reading the remote store).
        assert answered >= 25, answered
    finally:
        server.stop()


def _answers(sock: socket.socket, count: int) -> list[tuple[bytes, bytes]]:
    """`count` HTTP/1.1 answers read off one connection (each with Content-Length): (status line, body)."""
    data, statuses = b"", []
    while len(statuses) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"the connection closed after {len(statuses)} answers"
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")))
        while len(data) < length:
            data += sock.recv(65536)
        body, data = data[:length], data[length:]
        statuses.append((head.split(b"\r\n")[0], body))
    return statuses


def _ask(n: int) -> bytes:
    query = urllib.parse.urlencode({"query": f"ASK {{ FILTER({n} = {n}) }}"})
    return f"GET /sparql?{query} HTTP/1.1\r\nHost: x\r\nAccept: application/sparql-results+json\r\n\r\n".encode()


@pytest.fixture(scope="module")
def one_thread_server(store_link: Path) -> Iterator[LiveServer]:
    """`kg serve` with one worker of one thread: what a thread keeps waiting shows at once."""
    server = LiveServer(store_link, env={"KG_WORKERS": "1", "KG_THREADS": "1"})
    yield server
    log = server.stop()
    assert "Using worker: LingeringThreadWorker" in log, log[-2000:]


def test_requests_sent_back_to_back_or_pipelined_are_each_answered(one_thread_server: LiveServer) -> None:
    """The thread that answered a request goes on to the next one on the same connection, whether
    it comes right after the answer or was sent with the first request (pipelining)."""
    with socket.create_connection(("127.0.0.1", one_thread_server.port), timeout=30) as sock:
        for n in range(20):
            sock.sendall(_ask(n))
            assert _answers(sock, 1)[0][0] == b"HTTP/1.1 200 OK"
        sock.sendall(_ask(1) + _ask(2) + _ask(3))
        answers = _answers(sock, 3)
    assert [(status, json.loads(body)["boolean"]) for status, body in answers] == [(b"HTTP/1.1 200 OK", True)] * 3


def test_an_idle_kept_alive_client_does_not_hold_the_only_thread(one_thread_server: LiveServer) -> None:
    """After its answer, a thread waits only briefly (keepalive_linger_ms) for that client's next
    request: a client that keeps its connection open and says nothing leaves the thread to others."""
    with socket.create_connection(("127.0.0.1", one_thread_server.port), timeout=30) as idle:
        idle.sendall(_ask(1))
        assert _answers(idle, 1)[0][0] == b"HTTP/1.1 200 OK"
        for n in range(3):   # each on a new connection, while `idle` stays open
            with socket.create_connection(("127.0.0.1", one_thread_server.port), timeout=10) as other:
                other.sendall(_ask(n))
                assert _answers(other, 1)[0][0] == b"HTTP/1.1 200 OK"
        idle.sendall(_ask(2))   # and the idle client is still served on its connection
        assert _answers(idle, 1)[0][0] == b"HTTP/1.1 200 OK"


def test_the_linger_setting_chooses_the_worker_class() -> None:
    assert issubclass(_worker_class_option(load_settings({}, environ={})), LingeringThreadWorker)
    assert _worker_class_option(load_settings({}, environ={})).linger_s == pytest.approx(0.001)
    assert _worker_class_option(load_settings({"keepalive_linger_ms": 0}, environ={})) == "gthread"
    remote = {"remote_query_url": "http://127.0.0.1:1/query"}
    assert _worker_class_option(load_settings(remote, environ={})) == "gevent"


def test_kg_serve_refuses_a_negative_linger(tmp_path: Path) -> None:
    done = subprocess.run([KG, "serve", "--store", str(tmp_path / "store"), "--port", "0",
                           "--keepalive-linger-ms", "-1"], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "keepalive_linger_ms" in done.stderr and not (tmp_path / "store").exists()


def test_a_port_in_use_names_the_flag_that_changes_it(store_link: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([KG, "serve", "--store", str(store_link), "--port", str(port)],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr
