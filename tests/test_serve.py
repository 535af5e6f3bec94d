"""The real `kg serve` process (gunicorn) answering real clients over loopback, on the embedded
store and on `oxigraph serve` as a remote store (the same gevent worker for both)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from server import namespaces as ns
from server.errors import SettingsError
from server.http.gunicorn_server import gunicorn_options
from server.settings import load_settings

from .conftest import KG, ROOT, LiveServer, OxigraphServer

pytestmark = pytest.mark.slow

Q = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


@pytest.fixture(scope="module")
def remote_live_server(tmp_path_factory: pytest.TempPathFactory,
                       remote_oxigraph: OxigraphServer) -> Iterator[LiveServer]:
    env = {f"KG_{k.upper()}": v for k, v in remote_oxigraph.settings.items() if k != "remote_update_url"}
    server = LiveServer(tmp_path_factory.mktemp("unused") / "store", env=env)
    yield server
    server.stop()


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


@pytest.mark.parametrize("name,value", [("client_timeout_s", 0), ("keepalive_s", -1), ("max_connections", 0)])
def test_limits_that_cannot_serve_are_refused(name: str, value: float) -> None:
    with pytest.raises(SettingsError, match=name):
        gunicorn_options(load_settings({name: value}, environ={}))


def test_kg_serve_refuses_a_limit_that_cannot_serve(tmp_path: Path) -> None:
    done = subprocess.run([KG, "serve", "--store", str(tmp_path / "store"), "--port", "0", "--client-timeout-s", "0"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "client_timeout_s" in done.stderr and not (tmp_path / "store").exists()


OFFLOAD_UNDER_GEVENT = r"""
from gevent import monkey
monkey.patch_all()
import gevent
from server.store.threads import computation

native_lock = monkey.get_original("_thread", "allocate_lock")()   # waited for without yielding to gevent
native_lock.acquire()


def long_computation():
    return native_lock.acquire(timeout=20)     # True once another greenlet of this hub has run meanwhile


def another_request():
    gevent.sleep(0)
    native_lock.release()


other = gevent.spawn(another_request)
print("answered-meanwhile" if computation(long_computation) else "held-up")
other.join()
"""


def test_a_validation_computes_beside_the_other_requests_of_a_gevent_worker() -> None:
    """What a validation computes (`store.threads.computation`) runs on a native thread under gevent: the
    worker's other greenlets run while it computes. The computation here waits for another
    greenlet of the same hub, so it ends only if that greenlet could run (on the event loop itself
    it would wait the whole 20 s for nothing)."""
    done = subprocess.run([sys.executable, "-c", OFFLOAD_UNDER_GEVENT], capture_output=True, text=True,
                          timeout=120, cwd=str(ROOT))
    assert done.stdout.strip() == "answered-meanwhile", done.stdout + done.stderr


STOPPED_UNDER_GEVENT = r"""
from gevent import monkey
monkey.patch_all()
import socket
import gevent
from gevent.event import Event
from gevent.pool import Pool
from gevent.pywsgi import WSGIServer
from server.http.gunicorn_server import ClientLimitedHandler

arrived = Event()


class QuietLog:   # gunicorn's logger, as its handler calls it
    def access(self, *args):
        pass

    def write(self, *args):
        pass


def never_answers(environ, start_response):
    arrived.set()
    gevent.sleep(120)


listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
server = WSGIServer(listener, never_answers, handler_class=ClientLimitedHandler, spawn=Pool(10), log=QuietLog(),
                    error_log=QuietLog())   # as gunicorn's gevent worker makes it
server.start()
client = socket.create_connection(listener.getsockname(), timeout=60)
client.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n\r\n")
arrived.wait(60)
server.stop(timeout=0.1)   # what gunicorn does with the requests still open after its graceful time
answer = b""
while chunk := client.recv(65536):
    answer += chunk
print(answer.decode())
"""


def test_a_request_cut_short_by_the_workers_stop_is_503_not_500() -> None:
    """gunicorn ends the requests a stopping worker has not answered within its graceful time;
    gevent's server answered those 500, as if the server had failed on them."""
    done = subprocess.run([sys.executable, "-c", STOPPED_UNDER_GEVENT], capture_output=True, text=True,
                          timeout=120, cwd=str(ROOT))
    head, _, body = done.stdout.partition("\n\n")   # (text mode reads CRLF as \n)
    lines = head.split("\n")
    assert lines[0] == "HTTP/1.1 503 Service Unavailable", done.stdout + done.stderr
    assert "Retry-After: 1" in lines and "Connection: close" in lines
    assert body.startswith("503 Service restarting")


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
def one_worker_server(store_link: Path) -> Iterator[LiveServer]:
    """`kg serve` with one worker: what a connection keeps waiting shows at once (idle connections
    are kept a minute, so that nothing here depends on how fast the machine is)."""
    server = LiveServer(store_link, env={"KG_WORKERS": "1", "KG_KEEPALIVE_S": "60"})
    yield server
    server.stop()


def test_requests_sent_back_to_back_or_pipelined_are_each_answered(one_worker_server: LiveServer) -> None:
    """Each request on a kept-alive connection is answered, whether it comes right after the
    previous answer or was sent with the first request (pipelining)."""
    with socket.create_connection(("127.0.0.1", one_worker_server.port), timeout=30) as sock:
        for n in range(20):
            sock.sendall(_ask(n))
            assert _answers(sock, 1)[0][0] == b"HTTP/1.1 200 OK"
        sock.sendall(_ask(1) + _ask(2) + _ask(3))
        answers = _answers(sock, 3)
    assert [(status, json.loads(body)["boolean"]) for status, body in answers] == [(b"HTTP/1.1 200 OK", True)] * 3


def test_an_idle_kept_alive_client_does_not_hold_the_only_worker(one_worker_server: LiveServer) -> None:
    """A client that keeps its connection open and says nothing leaves the worker to others."""
    with socket.create_connection(("127.0.0.1", one_worker_server.port), timeout=30) as idle:
        idle.sendall(_ask(1))
        assert _answers(idle, 1)[0][0] == b"HTTP/1.1 200 OK"
        for n in range(3):   # each on a new connection, while `idle` stays open
            with socket.create_connection(("127.0.0.1", one_worker_server.port), timeout=10) as other:
                other.sendall(_ask(n))
                assert _answers(other, 1)[0][0] == b"HTTP/1.1 200 OK"
        idle.sendall(_ask(2))   # and the idle client is still served on its connection
        assert _answers(idle, 1)[0][0] == b"HTTP/1.1 200 OK"


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


@pytest.mark.parametrize("to_group", [True, False], ids=["ctrl-c", "sigint-to-gunicorn"])
def test_ctrl_c_stops_every_worker_itself(store_link: Path, to_group: bool) -> None:
    """Ctrl-C is a quick stop: each worker ends on the signal (no worker left for gunicorn to kill
    with SIGKILL after its graceful timeout, logged as "Perhaps out of memory?"), and kg serve
    exits 0."""
    server = LiveServer(store_link)
    with urllib.request.urlopen(f"{server.url}/healthz", timeout=30) as resp:
        assert resp.status == 200
    if to_group:
        os.killpg(server.proc.pid, signal.SIGINT)
    else:
        server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(60) == 0
    log = server.stop()
    assert "SIGKILL" not in log and "Shutting down: Master" in log, log
