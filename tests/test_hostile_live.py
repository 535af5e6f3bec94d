"""Hostile input against a real `kg serve` (gunicorn): what the Flask test client cannot show —
request-line limits, a body refused before it is read, and a crashing query process while other
clients are being served. Socket timeouts here only bound a failure; nothing is timed."""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import LiveServer, asking_meanwhile
from .hostile_support import LEAK, build_private_store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_private_store(tmp_path_factory.mktemp("live-hostile-store"))


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[LiveServer]:
    # The depth guard lifted on purpose: the crash test needs pyoxigraph's parser to see 3,000 groups.
    srv = LiveServer(store, env={"KG_MAX_BODY_MB": "0.25", "KG_MAX_QUERY_DEPTH": "100000", "KG_WORKERS": "1",
                                 "KG_WRITE_TOKEN": TOKEN})
    yield srv
    srv.stop()


def raw(server: LiveServer, data: bytes, *, read_timeout: float = 30.0) -> bytes:
    """Send raw bytes, return everything the server answers (until it closes or goes quiet)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=read_timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and len(b"".join(chunks)) > 4096:
                break
        return b"".join(chunks)


def get(server: LiveServer, path: str, accept: str = "application/json") -> tuple[int, bytes]:
    req = urllib.request.Request(server.url + path, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_overlong_request_line_is_414(server: LiveServer) -> None:
    query = urllib.parse.quote("SELECT * WHERE { ?s ?p ?o } # " + "x" * 9000)
    answer = raw(server, f"GET /sparql?query={query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status_of(answer) == 414
    assert get(server, "/healthz")[0] == 200


def test_huge_header_and_too_many_headers_are_431(server: LiveServer) -> None:
    """RFC 6585 §5: Request Header Fields Too Large (gunicorn's limits: 8,190 bytes a field, 100 fields)."""
    big = raw(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    many = raw(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(300))
               + b"\r\n")
    assert (status_of(big), status_of(many)) == (431, 431)
    assert get(server, "/healthz")[0] == 200


def test_oversized_body_is_refused_before_it_is_read(server: LiveServer) -> None:
    """Content-Length announces 200 MB; only 64 KB are sent. The 413 must come back anyway: a server
    that read the whole body first would wait for the rest and the recv below would time out."""
    head = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Accept: application/json\r\nContent-Length: 209715200\r\n\r\n")
    answer = raw(server, head + b" " * 65536)
    assert answer, "no answer: the server waited for the whole body"
    assert status_of(answer) == 413
    body = answer.split(b"\r\n\r\n", 1)[1]
    assert b"max_body_mb" in body and not LEAK.search(body.decode("utf-8", "replace"))
    assert get(server, "/healthz")[0] == 200


def test_oversized_chunked_body_is_413(server: LiveServer) -> None:
    """Without Content-Length the limit still holds: reading stops at max_body_mb."""
    chunk = b" " * 32768
    chunks = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(16)) + b"0\r\n\r\n"  # 512 KB
    head = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    answer = raw(server, head + chunks)
    assert status_of(answer) == 413  # Werkzeug alone would cut the body at the limit and parse the rest
    small = b"".join(b"%x\r\n" % len(part) + part + b"\r\n" for part in (b"ASK ", b"{ ?s ?p ?o }")) + b"0\r\n\r\n"
    answer = raw(server, head.replace(b"Content-Type", b"Accept: application/json\r\nContent-Type") + small)
    assert status_of(answer) == 200 and b'"boolean": true' in answer.replace(b'"boolean":true', b'"boolean": true')
    assert get(server, "/healthz")[0] == 200


def test_a_query_that_overflowed_the_parser_does_not_take_other_clients_with_it(server: LiveServer) -> None:
    """3,000 nested groups overflowed pyoxigraph's parser on a default 8 MiB stack (guard lifted
    here); on the query threads' stack they are parsed and answered. Meanwhile three clients keep
    asking a normal question: every one of their requests is answered."""
    normal = "/sparql?" + urllib.parse.urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
    deep = "SELECT * WHERE " + "{ " * 3000 + "?s ?p ?o" + " }" * 3000
    answers = []
    with asking_meanwhile(lambda: get(server, normal)[0], most=40) as results:
        for _ in range(4):
            req = urllib.request.Request(server.url + "/sparql", data=deep.encode(),
                                         headers={"Content-Type": "application/sparql-query",
                                                  "Accept": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    answers.append((resp.status, json.loads(resp.read())))
            except urllib.error.HTTPError as err:
                answers.append((err.code, json.loads(err.read())))
    assert [c for c, _ in answers] == [200] * 4
    assert all(body["results"]["bindings"] for _, body in answers)
    assert results and set(results) == {200}, results
    assert get(server, normal)[0] == 200


# Malformed requests and the answer each gets: gunicorn's own 400 for what is no HTTP request,
# the app's 404 for a path that names nothing, and its 400 for what it cannot read.
PROBES = [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400),
    (b"GET /%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    (b"GET /doc/%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
    (b"GET /sparql?query=%ZZ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 4\r\n\r\n"
     b"\xff\xfe\x00\x01", 400),
]


def test_no_python_text_in_gunicorn_or_app_errors(server: LiveServer) -> None:
    for probe, status in PROBES:
        answer = raw(server, probe, read_timeout=10)
        assert answer and status_of(answer) == status, (probe, answer[:200])
        assert not LEAK.search(answer.decode("utf-8", "replace")), probe
    assert get(server, "/healthz")[0] == 200


# -- with writes enabled ---------------------------------------------------------------------------

TOKEN = "live-T0ken-9c2f7a"


class LoggedServer(LiveServer):
    """`kg serve` with its stderr (gunicorn's log and the access log) going to a file we can grep."""

    def __init__(self, store: Path, log: Path, env: dict[str, str]) -> None:
        import os
        import subprocess

        from .conftest import KG, free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        environ = {**os.environ, "KG_STORE": str(store), "KG_PORT": str(self.port), **env}
        with log.open("wb") as fh:
            self.proc = subprocess.Popen([KG, "serve"], env=environ, stdout=fh, stderr=fh, start_new_session=True)
        self._wait(60.0)


@pytest.fixture(scope="module")
def writable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedServer]:
    folder = tmp_path_factory.mktemp("live-writable")
    link = build_private_store(folder)
    srv = LoggedServer(link, folder / "server.log", {"KG_WRITE_TOKEN": TOKEN})
    yield srv
    srv.stop()


def send(server: LiveServer, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
         ) -> tuple[int, bytes]:
    req = urllib.request.Request(server.url + path, data=body or None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_the_token_never_reaches_the_log(writable: LoggedServer) -> None:
    g = "https://kars-gyumri.example.org/graph/live-hostile"
    ttl = b'<https://kars-gyumri.example.org/id/live-town> <http://www.w3.org/2000/01/rdf-schema#label> "Live town"@en .'
    auth = {"Authorization": f"Bearer {TOKEN}"}
    answers = [
        send(writable, "PUT", f"/rdf-graph-store?graph={g}", ttl, {**auth, "Content-Type": "text/turtle"}),
        send(writable, "PUT", f"/rdf-graph-store?graph={g}&access_token={TOKEN}", ttl, {"Content-Type": "text/turtle"}),
        send(writable, "POST", f"/sparql?token={TOKEN}", f"update=CLEAR GRAPH <{g}>".encode(),
             {"Content-Type": "application/x-www-form-urlencoded"}),
        send(writable, "POST", "/sparql", f"update=CLEAR GRAPH <{g}>&access_token={TOKEN}".encode(),
             {"Content-Type": "application/x-www-form-urlencoded"}),
        send(writable, "POST", "/sparql", f"CLEAR GRAPH <{g}>".encode(),
             {"Authorization": f"Bearer {TOKEN}-wrong", "Content-Type": "application/sparql-update"}),
        send(writable, "GET", f"/sparql?query=ASK%7B%7D&access_token={TOKEN}"),
        send(writable, "DELETE", f"/rdf-graph-store?graph={g}", b"", auth),
    ]
    # a token in a form body is not a header (401); a read ignores tokens, and the log never shows query strings
    assert [s for s, _ in answers] == [201, 400, 400, 401, 403, 200, 200], answers
    assert all(TOKEN.encode() not in body for _, body in answers)
    writable.stop()  # flush and close the log
    log = writable.log.read_text(encoding="utf-8", errors="replace")
    assert "PUT /rdf-graph-store 201" in log  # the access log is there…
    assert TOKEN not in log and TOKEN[:8] not in log  # …and holds no token, not even a path holding one


@pytest.fixture(scope="module")
def xml_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    link = build_private_store(tmp_path_factory.mktemp("live-xml"))
    srv = LiveServer(link, env={"KG_WRITE_TOKEN": TOKEN})
    yield srv
    srv.stop()


def test_billion_laughs_is_refused_with_memory_flat(xml_server: LiveServer) -> None:
    """Unguarded, pyoxigraph expanded this 1 KB document to a 3 GB literal (9 GB of memory)."""
    from .hostile_support import tree_rss_kb
    from .test_hostile import billion_laughs

    g = "https://kars-gyumri.example.org/graph/laughs"
    assert send(xml_server, "GET", "/healthz")[0] == 200
    before = tree_rss_kb(xml_server.proc.pid)
    for path, method, headers in [("/validate", "POST", {}), ("/validate?mode=standalone", "POST", {}),
                                  (f"/rdf-graph-store?graph={g}", "PUT", {"Authorization": f"Bearer {TOKEN}"})]:
        status, body = send(xml_server, method, path, billion_laughs(),
                            {**headers, "Content-Type": "application/rdf+xml", "Accept": "application/json"})
        assert status == 413 and b"entities would expand" in body, (path, status, body[:200])
    after = tree_rss_kb(xml_server.proc.pid)
    assert after - before < 50 * 1024, (before, after)
    assert send(xml_server, "GET", f"/rdf-graph-store?graph={g}")[0] == 404  # nothing was stored
