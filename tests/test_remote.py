"""The remote store (setting remote_query_url) on a real `oxigraph serve`: what differs from the
embedded store's path -- publishing, pass-through, the row cap, error mapping, writes, load,
validate. The competency questions and the Linked Data tests run on both stores already
(test_competency.py, test_resources.py).
"""
from __future__ import annotations

import http.server
import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from server import namespaces as ns
from server.build.pipeline import BuildResult
from server.cli import main as kg_main
from server.settings import load_settings
from server.store.remote_engine import RemoteEngine
from server.store.remote import RemoteStore, form_encode

from .conftest import OxigraphServer, QuietHTTPServer, start_remote

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
G = ns.GRAPH + "curated"
PFX = f"PREFIX kgo: <{ns.KGO}> PREFIX kg: <{ns.ID}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
COUNT_PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"


def remote_quads(server: OxigraphServer) -> set[str]:
    store = RemoteStore(load_settings(server.settings))
    try:
        return {str(q) for q in store.quads()}
    finally:
        store.close()


@pytest.fixture(scope="module")
def rapp(make_app, remote_oxigraph: OxigraphServer) -> Flask:  # type: ignore[no-untyped-def]
    return make_app(**remote_oxigraph.settings)


def rows(resp: Any) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in b.items()} for b in resp.json["results"]["bindings"]]


@contextmanager
def fake_remote(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[http.server.ThreadingHTTPServer]:
    """A small HTTP server on loopback answering as `handler` says, with counters of the requests
    and connections it saw (for handlers that count them)."""
    server = QuietHTTPServer(("127.0.0.1", 0), handler)
    server.requests = server.connections = 0  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_the_remote_app_queries_the_remote_and_build_published_every_graph(
        rapp: Flask, built: BuildResult) -> None:
    assert isinstance(rapp.extensions["kg"].engine, RemoteEngine)
    r = rapp.test_client().post("/sparql", data={"query": COUNT_PER_GRAPH},
                                headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200
    assert {row["g"]: int(row["n"]) for row in rows(r)} == built.graph_sizes


def test_a_fitting_answer_is_the_remotes_body_unchanged(rapp: Flask, remote_oxigraph: OxigraphServer) -> None:
    query = PFX + "SELECT ?s ?l WHERE { ?s rdfs:label ?l } ORDER BY ?s ?l"
    for accept in ("application/sparql-results+json", "application/sparql-results+xml"):
        ours = rapp.test_client().post("/sparql", data={"query": query}, headers={"Accept": accept})
        theirs = httpx.post(remote_oxigraph.url + "/query", data={"query": query, "union-default-graph": ""},
                            headers={"Accept": accept})
        assert ours.status_code == 200 and ours.mimetype == accept
        assert ours.data == theirs.content and int(ours.headers["KG-Result-Count"]) >= 2


def test_csv_and_jsonld_are_rendered_here_from_a_lossless_wire_format(rapp: Flask, make_app) -> None:  # type: ignore[no-untyped-def]
    query = PFX + "SELECT ?s ?l WHERE { ?s rdfs:label ?l } ORDER BY ?s ?l"
    embedded = make_app().test_client().post("/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    remote = rapp.test_client().post("/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert remote.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert remote.data == embedded.data
    construct = PFX + "CONSTRUCT { ?s rdfs:label ?l } WHERE { ?s rdfs:label ?l }"
    r = rapp.test_client().post("/sparql", data={"query": construct}, headers={"Accept": "application/ld+json"})
    assert r.headers["Content-Type"] == "application/ld+json"
    g = rdflib.Graph().parse(data=r.data, format="json-ld")
    assert len(g) == int(r.headers["KG-Result-Count"]) >= 2


def test_the_row_cap_cuts_select_and_construct_and_says_so(make_app, remote_oxigraph: OxigraphServer) -> None:  # type: ignore[no-untyped-def]
    client = make_app(max_result_rows=5, **remote_oxigraph.settings).test_client()
    r = client.post("/sparql", data={"query": "SELECT * WHERE { ?s ?p ?o }"},
                    headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and len(rows(r)) == 5
    assert r.headers["KG-Result-Truncated"] == "true; limit=5" and r.json["truncated"] is True
    r = client.post("/sparql", data={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["KG-Result-Truncated"] == "true; limit=5"
    assert len(rdflib.Graph().parse(data=r.data, format="turtle")) == 5


def test_from_keeps_its_meaning_on_the_remote(rapp: Flask, make_app) -> None:  # type: ignore[no-untyped-def]
    query = f"SELECT (COUNT(*) AS ?n) FROM <{ns.G_OUTSIDE}> WHERE {{ ?s ?p ?o }}"
    answers = [app.test_client().post("/sparql", data={"query": query}, headers={"Accept": "text/csv"}).text
               for app in (make_app(), rapp)]
    assert answers[0] == answers[1]
    union = rapp.test_client().post("/sparql", data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                                    headers={"Accept": "text/csv"}).text
    assert int(answers[1].split()[-1]) < int(union.split()[-1])


def test_a_remote_400_is_our_400_with_its_message(rapp: Flask) -> None:
    r = rapp.test_client().post("/sparql", data={"query": "SELECT ?s WHERE { ?s ?p }"},
                                headers={"Accept": "application/json"})
    assert r.status_code == 400
    assert r.json["message"].startswith("the SPARQL store refused the query: ")
    assert len(r.json["message"]) > len("the SPARQL store refused the query: ")


def test_the_guard_still_refuses_before_the_remote_sees_anything(rapp: Flask) -> None:
    r = rapp.test_client().post("/sparql", data={"query": "SELECT * WHERE { SERVICE <http://x.example/> { ?s ?p ?o } }"})
    assert r.status_code == 400 and "SERVICE" in r.text


class _Misbehaving(http.server.BaseHTTPRequestHandler):
    """/silent never answers; /broken answers 500; /busy-503 and /busy-429 are overloaded;
    /nonsense answers text/html."""

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.startswith("/silent"):
            self.server.release.wait(30)  # type: ignore[attr-defined]
            return
        if self.path.startswith("/broken"):
            body, status, ctype = b"out of memory", 500, "text/plain"
        elif self.path.startswith("/busy-"):
            body, status, ctype = b"too many queries at once", int(self.path[len("/busy-"):]), "text/plain"
        else:
            body, status, ctype = b"<html></html>", 200, "text/html"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def misbehaving() -> Iterator[str]:
    server = QuietHTTPServer(("127.0.0.1", 0), _Misbehaving)
    server.release = threading.Event()  # type: ignore[attr-defined]
    server.daemon_threads = False   # server_close() waits for the handlers, which close their sockets
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.release.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("path, status, title, message", [
    ("/silent", 503, "Query timeout", "the SPARQL store did not answer within the limit of 1 s"),
    ("/broken", 502, "Bad gateway", "the SPARQL store answered the query with 500: out of memory"),
    ("/nonsense", 502, "Bad gateway", "the SPARQL store answered with 'text/html'"),
    # A remote that is busy or rate-limits us is busy for our client too: try again later.
    ("/busy-503", 503, "Service unavailable", "the SPARQL store is busy (503): too many queries at once"),
    ("/busy-429", 503, "Service unavailable", "the SPARQL store is busy (429): too many queries at once")])
def test_remote_failures_are_precise_statuses(make_app, misbehaving: str, path: str, status: int, title: str,  # type: ignore[no-untyped-def]
                                              message: str) -> None:
    client = make_app(remote_query_url=misbehaving + path, query_timeout_s=1.0).test_client()
    r = client.post("/sparql", data={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers={"Accept": "application/json"})
    assert (r.status_code, r.json["error"]) == (status, title), r.text
    assert r.json["message"].startswith(message), r.json["message"]


def test_an_unreachable_remote_is_503(make_app) -> None:  # type: ignore[no-untyped-def]
    client = make_app(remote_query_url=f"http://127.0.0.1:{_closed_port()}/query").test_client()
    r = client.post("/sparql", data={"query": "ASK {}"}, headers={"Accept": "application/json"})
    assert r.status_code == 503 and "cannot be reached" in r.json["message"]


@pytest.fixture(scope="module")
def writable_remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    server = start_remote(tmp_path_factory.mktemp("oxigraph-w"))
    yield server
    server.stop()


def test_guarded_writes_go_to_the_remote_as_one_update(make_app, writable_remote: OxigraphServer) -> None:  # type: ignore[no-untyped-def]
    client = make_app(write_token=TOKEN, **writable_remote.settings).test_client()
    before = remote_quads(writable_remote)
    bad = client.post("/sparql", data={"update": PFX + f"INSERT DATA {{ GRAPH <{G}> {{ kg:unnamed-town a kgo:City }} }}"},
                      headers={**AUTH, "Accept": "application/json"})
    assert bad.status_code == 422 and bad.json["conforms"] is False
    assert remote_quads(writable_remote) == before
    good = client.post("/sparql", data={"update": PFX + f'INSERT DATA {{ GRAPH <{G}> {{ kg:test-town a kgo:City ; '
                                                       f'rdfs:label "Test Town"@en }} }}'},
                       headers={**AUTH, "Accept": "application/json"})
    assert good.status_code == 200, good.text
    after = remote_quads(writable_remote)
    added = after - before
    assert f'<{ns.ID}test-town> <http://www.w3.org/2000/01/rdf-schema#label> "Test Town"@en <{G}>' in added
    assert any(q.endswith(f"<{ns.G_CHANGELOG}>") for q in added)   # the change log entry came in the same update
    assert before <= after
    # the Graph Store read and the validation service read the remote too
    r = client.get(f"/rdf-graph-store?graph={G}", headers={"Accept": "application/n-triples"})
    assert r.status_code == 200 and len(rdflib.Graph().parse(data=r.data, format="nt")) == 2
    r = client.get("/validate", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json["passed"] is True
    undo = client.post(f"/history/{good.headers['KG-Change'].rsplit('/', 1)[-1]}/undo", headers=AUTH)
    assert undo.status_code == 200, undo.text
    assert not any("test-town" in q and q.endswith(f"<{G}>") for q in remote_quads(writable_remote))


def test_kg_validate_and_query_use_the_remote(remote_oxigraph: OxigraphServer) -> None:
    env = {f"KG_{k.upper()}": v for k, v in remote_oxigraph.settings.items()}
    env["KG_STORE"] = "/nonexistent/store"
    runner = CliRunner()
    r = runner.invoke(kg_main, ["validate", "--format", "json"], env=env)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["passed"] is True
    r = runner.invoke(kg_main, ["query", f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ns.G_SHAPES}> {{ ?s ?p ?o }} }}"],
                      env=env)
    assert r.exit_code == 0 and int(r.output.splitlines()[2]) > 0


def test_kg_load_posts_batches_and_a_bad_file_sends_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import server.store.remote as remote

    monkeypatch.setattr(remote, "BATCH_TRIPLES", 3)   # several batches from a small file
    server_ = OxigraphServer(tmp_path)
    try:
        env = {f"KG_{k.upper()}": v for k, v in server_.settings.items()}
        good = tmp_path / "good.nq"
        good.write_text("".join(f"<http://e.example/s{i}> <http://e.example/p> \"{i}\" <http://e.example/g{i % 2}> .\n"
                                for i in range(8)))
        bad = tmp_path / "bad.ttl"
        bad.write_text("<http://e.example/x> <http://e.example/p> 1 .\n<http://e.example/y> <http://e.example/p> .\n")
        runner = CliRunner()
        r = runner.invoke(kg_main, ["load", str(good)], env=env)
        assert r.exit_code == 0, r.output
        assert "loaded 8 triples" in r.output
        r = runner.invoke(kg_main, ["load", "--graph", "http://e.example/h", str(bad)], env=env)
        assert r.exit_code == 2 and "bad.ttl" in r.output and "line 2" in r.output
        quads = remote_quads(server_)
        assert len(quads) == 8
        expected = {str(q) for q in ox.parse(good.read_bytes(), format=ox.RdfFormat.N_QUADS)}
        assert quads == expected
    finally:
        server_.stop()


class _VirtuosoLike(http.server.BaseHTTPRequestHandler):
    """Answers as Virtuoso 7.2 does: one row with ?g unbound for `GRAPH ?g {}`, blank nodes labelled
    `nodeID://…`, and an answer cut at its ResultSetMaxRows (here 2) carries `X-SPARQL-MaxRows`."""

    GRAPHS = {"http://e.example/g1": 3, "http://e.example/g2": 1}

    def do_POST(self) -> None:  # noqa: N802
        from urllib.parse import parse_qs
        query = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())["query"][0]
        headers = {"Content-Type": "application/sparql-results+json"}
        if "GROUP BY" in query:
            bindings = [{"g": {"type": "uri", "value": g}, "n": {"type": "literal", "value": str(n)}}
                        for g, n in self.GRAPHS.items()]
        elif "GRAPH ?g { }" in query:
            bindings = [{}]
        elif "GRAPH <" in query:   # one graph's triples: Virtuoso's blank node labels, and a literal that looks like one
            node = {"type": "bnode", "value": "nodeID://b10001"}
            bindings = [{"s": node, "p": {"type": "uri", "value": "http://e.example/p"}, "o": o}
                        for o in ({"type": "literal", "value": "nodeID://b10001"}, node)]
        else:
            term = {"type": "uri", "value": "http://e.example/x"}
            bindings = [{"s": term, "p": term, "o": term, "g": {"type": "uri", "value": g}} for g in list(self.GRAPHS)[:2]]
            headers["X-SPARQL-MaxRows"] = "2"
        names = sorted({v for b in bindings for v in b} | {"g"})
        body = json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}}).encode()
        self.send_response(200)
        for k, v in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def virtuoso_like() -> Iterator[RemoteStore]:
    with fake_remote(_VirtuosoLike) as server:
        store = RemoteStore(load_settings({"remote_query_url": f"http://127.0.0.1:{server.server_address[1]}/sparql"}))
        yield store
        store.close()


def test_graph_names_include_graphs_an_engine_leaves_out_of_graph_g_empty(virtuoso_like: RemoteStore) -> None:
    # `kg build` deletes our stale graphs from this list: a graph missing here would stay behind.
    assert virtuoso_like.graph_names() == ["http://e.example/g1", "http://e.example/g2"]


def test_an_answer_the_remote_cut_at_its_row_limit_is_refused(virtuoso_like: RemoteStore) -> None:
    # validation and writes read the whole store: a cut read must fail, not validate a part as the whole
    from server.errors import BadGateway

    with pytest.raises(BadGateway, match="ResultSetMaxRows"):
        virtuoso_like.quads()


def test_virtuosos_blank_node_labels_are_read_as_one_blank_node(virtuoso_like: RemoteStore) -> None:
    # Virtuoso ships graphs with blank nodes (its copy of OWL): before, reading the store for a write was a 502
    quads = virtuoso_like.graph_quads("http://e.example/g1")
    assert quads is not None and len(quads) == 2
    literal, loop = quads
    assert isinstance(literal.subject, ox.BlankNode) and literal.subject == loop.subject == loop.object
    assert literal.object == ox.Literal("nodeID://b10001")


def test_a_query_answer_the_remote_cut_is_announced_as_truncated(make_app) -> None:  # type: ignore[no-untyped-def]
    """Through /sparql, an answer Virtuoso cut at its ResultSetMaxRows says so, as one cut at our own cap."""
    with fake_remote(_VirtuosoLike) as server:
        app = make_app(remote_query_url=f"http://127.0.0.1:{server.server_address[1]}/sparql")
        resp = app.test_client().get("/sparql", query_string={"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"},
                                     headers={"Accept": "application/sparql-results+json"})
        assert resp.status_code == 200
        assert resp.headers["KG-Result-Truncated"] == "true; limit=2"
        data = json.loads(resp.data)
        assert len(data["results"]["bindings"]) == 2 and data["truncated"] is True


def test_virtuosos_blank_nodes_pass_through_in_sparql_json(make_app) -> None:  # type: ignore[no-untyped-def]
    """A SPARQL JSON answer is counted, not read term by term: Virtuoso's `nodeID://` labels (which
    pyoxigraph's parser refuses) reach the client unchanged, with the right row count."""
    with fake_remote(_VirtuosoLike) as server:
        app = make_app(remote_query_url=f"http://127.0.0.1:{server.server_address[1]}/sparql")
        query = "SELECT * WHERE { GRAPH <http://e.example/g1> { ?s ?p ?o } }"
        resp = app.test_client().post("/sparql", data={"query": query},
                                      headers={"Accept": "application/sparql-results+json"})
        assert resp.status_code == 200, resp.text
        assert resp.headers["KG-Result-Count"] == "2" and "KG-Result-Truncated" not in resp.headers
        subjects = {b["s"]["value"] for b in json.loads(resp.data)["results"]["bindings"]}
        assert subjects == {"nodeID://b10001"}


class _DropsIdleConnections(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 that keeps a connection for one request and then closes it without saying so, as a
    remote does when its idle timeout runs out between two of our queries; counts connections."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests += 1  # type: ignore[attr-defined]
        body = b'{"head":{"vars":[]},"boolean":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args: Any) -> None:
        pass


def test_a_connection_the_remote_dropped_meanwhile_is_replaced(make_app) -> None:  # type: ignore[no-untyped-def]
    with fake_remote(_DropsIdleConnections) as server:
        client = make_app(remote_query_url=f"http://127.0.0.1:{server.server_address[1]}/sparql").test_client()
        answers = [client.post("/sparql", data={"query": "ASK {}"}, headers={"Accept": "application/json"})
                   for _ in range(5)]
        assert [r.status_code for r in answers] == [200] * 5 and all(r.json["boolean"] for r in answers)
        assert server.requests == 5  # type: ignore[attr-defined]


class _KeepsConnections(_DropsIdleConnections):
    """The same answer with Content-Length on a connection kept alive; counts connections."""

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1  # type: ignore[attr-defined]

    def do_POST(self) -> None:  # noqa: N802
        super().do_POST()
        self.close_connection = False


def test_an_answer_with_content_length_leaves_its_connection_for_the_next_query(make_app) -> None:  # type: ignore[no-untyped-def]
    """A Content-Length answer read to its end frees its connection (each such answer once cost a
    new connection to the remote)."""
    with fake_remote(_KeepsConnections) as server:
        client = make_app(remote_query_url=f"http://127.0.0.1:{server.server_address[1]}/sparql").test_client()
        answers = [client.post("/sparql", data={"query": "ASK {}"}, headers={"Accept": "application/json"})
                   for _ in range(5)]
        assert [r.status_code for r in answers] == [200] * 5 and all(r.json["boolean"] for r in answers)
        assert server.requests == 5 and server.connections == 1  # type: ignore[attr-defined]


class _SpeaksWhenIdle(_KeepsConnections):
    """Answers, then writes a 500 on the idle connection on its own, as `oxigraph serve` does when
    a kept-alive connection has been idle for a minute: once the test releases `server.idle` (our
    side has read the answer), and then it releases `server.spoke`."""

    def do_POST(self) -> None:  # noqa: N802
        super().do_POST()
        self.wfile.flush()
        assert self.server.idle.acquire(timeout=60)  # type: ignore[attr-defined]
        self.wfile.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: 46\r\n\r\nResource temporarily unavailable (os error 11)")
        self.wfile.flush()
        self.server.spoke.release()  # type: ignore[attr-defined]


def test_what_the_remote_wrote_on_an_idle_connection_is_not_taken_for_an_answer(make_app) -> None:  # type: ignore[no-untyped-def]
    """Bytes waiting on a kept-alive connection before the query is sent answer no query of ours:
    the connection is dropped and the query goes out on a fresh one."""
    with fake_remote(_SpeaksWhenIdle) as server:
        server.idle, server.spoke = threading.Semaphore(0), threading.Semaphore(0)  # type: ignore[attr-defined]
        client = make_app(remote_query_url=f"http://127.0.0.1:{server.server_address[1]}/sparql").test_client()
        statuses = []
        for _ in range(3):
            statuses.append(client.post("/sparql", data={"query": "ASK {}"}, headers={"Accept": "application/json"}))
            server.idle.release()  # type: ignore[attr-defined]
            assert server.spoke.acquire(timeout=60)  # type: ignore[attr-defined]  # its bytes wait on our side now
        assert [r.status_code for r in statuses] == [200] * 3 and all(r.json["boolean"] for r in statuses)
        assert server.requests == 3 and server.connections == 3  # type: ignore[attr-defined]


class _DropsIdleWrites(_DropsIdleConnections):
    """The same remote for Graph Store writes: answers 204, then closes the connection unannounced
    (`server.closed` is released once its end of the connection is shut)."""

    def _no_content(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests += 1  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_WR)
        self.close_connection = True
        self.server.closed.release()  # type: ignore[attr-defined]

    do_PUT = do_POST = _no_content  # noqa: N815


def test_a_write_checks_its_connection_first_and_is_never_sent_twice() -> None:
    """A write is not repeated after a failure (the remote may have applied it), so before sending
    one the connection is checked: the remote closed it while idle, a fresh one carries the write."""
    with fake_remote(_DropsIdleWrites) as server:
        server.closed = threading.Semaphore(0)  # type: ignore[attr-defined]
        url = f"http://127.0.0.1:{server.server_address[1]}"
        remote = RemoteStore(load_settings({"remote_query_url": url + "/sparql", "remote_gsp_url": url + "/store"},
                                           environ={}))
        triple = ox.Triple(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.Literal("o"))
        for _ in range(3):
            assert remote.put_graph("urn:x:g", [triple]) == 1
            assert server.closed.acquire(timeout=60)  # type: ignore[attr-defined]  # the remote has closed it
        assert server.requests == 3  # type: ignore[attr-defined]
        remote.close()


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from(["query", "default-graph-uri", "union-default-graph", "named-graph-uri"]),
                       st.one_of(st.text(), st.lists(st.text(), max_size=3)), max_size=4))
def test_the_form_sent_to_the_remote_is_what_urlencode_writes(fields: dict[str, Any]) -> None:
    """Any text a query may hold (spaces, `+`, `%`, `&`, non-ASCII, emoji) is sent as the standard
    library would send it, so every engine reads the same query back."""
    assert form_encode(fields) == urllib.parse.urlencode(fields, doseq=True).encode("ascii")
    for key, value in urllib.parse.parse_qsl(form_encode(fields).decode("ascii"), keep_blank_values=True):
        assert value in ([fields[key]] if isinstance(fields[key], str) else fields[key])
