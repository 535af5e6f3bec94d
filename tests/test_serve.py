"""The real `kg serve` process (gunicorn) answering real clients over loopback, on the embedded
store (gthread workers) and on `oxigraph serve` as a remote store (gevent workers)."""
from __future__ import annotations

import json
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
from server.gunicorn_app import worker_class
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
