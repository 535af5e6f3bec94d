"""The HTTP/1.1 client the remote store talks through (server/remote_http.py): the framings a SPARQL
service may use, over plain TCP and TLS, and what a broken answer becomes for our client.

The engines themselves are in test_remote.py (a real `oxigraph serve`); here small servers on
loopback answer exactly the bytes a case needs.
"""
from __future__ import annotations

import http.server
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import trustme

from server.store.remote_http import Connection, MalformedResponse, RemoteClosed

from .conftest import QuietHTTPServer

ANSWER = {"head": {"vars": ["x"]},
          "results": {"bindings": [{"x": {"type": "literal", "value": f"row {i}"}} for i in range(300)]}}
BODY = json.dumps(ANSWER).encode()
JSON = "application/sparql-results+json"


@contextmanager
def raw_server(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A one-connection server that reads one request and lets `answer` write whatever bytes it likes."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                body += conn.recv(65536)
            answer(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        listener.close()
        thread.join(timeout=5)


def chunked(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + JSON.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    for start in range(0, len(BODY), 1000):
        part = BODY[start:start + 1000]
        conn.sendall(b"%x\r\n%s\r\n" % (len(part), part))
    conn.sendall(b"0\r\n\r\n")


def until_close(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + JSON.encode() + b"\r\nConnection: close\r\n\r\n" + BODY)


def cut_short(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + JSON.encode() + b"\r\nContent-Length: %d\r\n\r\n%s"
                 % (len(BODY), BODY[:100]))


def not_http(conn: socket.socket) -> None:
    conn.sendall(b"SPARQL OK\r\n\r\n{}")


def silent(conn: socket.socket) -> None:
    pass


def exchange(netloc: str) -> tuple[Any, bytes]:
    """One query's answer (the response and its whole body), its connection closed after."""
    conn = Connection("http", netloc, 5.0)
    try:
        conn.request("POST", "/sparql", body=b"query=ASK%7B%7D", headers={"Accept": JSON})
        resp = conn.getresponse()
        parts = []
        while chunk := resp.read1(4096):
            parts.append(chunk)
        resp.still_open = conn.sock is not None
        return resp, b"".join(parts)
    finally:
        conn.close()


@pytest.mark.parametrize("answer", [chunked, until_close], ids=["chunked", "until-close"])
def test_a_body_in_any_framing_reads_whole(answer: Callable[[socket.socket], None]) -> None:
    with raw_server(answer) as netloc:
        resp, body = exchange(netloc)
    assert resp.status == 200 and resp.headers["Content-Type"] == JSON
    assert json.loads(body) == ANSWER


def test_a_chunked_answer_leaves_its_connection_for_the_next_request() -> None:
    with raw_server(chunked) as netloc:
        resp, _ = exchange(netloc)
    assert resp.complete and resp.still_open


def test_an_answer_ending_at_close_does_not_leave_its_connection() -> None:
    with raw_server(until_close) as netloc:
        resp, _ = exchange(netloc)
    assert resp.complete and not resp.still_open


@pytest.mark.parametrize("answer, error", [(cut_short, MalformedResponse), (not_http, MalformedResponse),
                                           (silent, RemoteClosed)], ids=["cut-short", "not-http", "silent"])
def test_a_broken_answer_is_an_error_of_its_own(answer: Callable[[socket.socket], None], error: type) -> None:
    with raw_server(answer) as netloc, pytest.raises(error):
        exchange(netloc)


@pytest.mark.parametrize("answer, status", [(cut_short, 502), (not_http, 502), (silent, 503)],
                         ids=["cut-short", "not-http", "silent"])
def test_the_endpoint_answers_a_broken_remote_answer_with_a_gateway_error(
        make_app, answer: Callable[[socket.socket], None], status: int) -> None:  # type: ignore[no-untyped-def]
    """Never a 500: an answer that is not HTTP or stops half-way is the remote's fault (502); a remote
    that closes without a word is unreachable (503). Each says which it was."""
    with raw_server(answer) as netloc:
        client = make_app(remote_query_url=f"http://{netloc}/sparql").test_client()
        resp = client.post("/sparql", data={"query": "SELECT * WHERE { ?s ?p ?o }"},
                           headers={"Accept": "application/json"})
    assert resp.status_code == status
    assert "SPARQL store" in resp.json["message"]


def repeated_headers(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-SPARQL-MaxRows: 10000\r\nVary: Accept\r\nvary: Origin\r\n"
                 b"Content-Length: 2\r\n\r\n{}")


def test_headers_are_found_in_any_case_and_repeated_ones_joined() -> None:
    with raw_server(repeated_headers) as netloc:
        resp, body = exchange(netloc)
    assert body == b"{}" and resp.reason == "OK"
    assert "x-sparql-maxrows" in resp.headers and resp.headers["X-SPARQL-MAXROWS"] == "10000"
    assert resp.headers.get("VARY") == "Accept, Origin" and resp.headers.get("Content-Type") is None


@pytest.mark.parametrize("value", ["text/plain\r\nX-Injected: 1", "text/plain\nX-Injected: 1", "text/plain\r"])
def test_a_header_value_with_a_line_break_is_refused_before_anything_is_sent(value: str) -> None:
    conn = Connection("http", "127.0.0.1:9", 1.0)
    with pytest.raises(ValueError, match="line break"):
        conn.request("GET", "/", headers={"Accept": value})
    assert conn.sock is None


class _Answers(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", JSON)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_remote_over_https_is_queried_with_its_certificate_checked(
        make_app, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """TLS with the system's way of trusting a CA (SSL_CERT_FILE); a certificate nobody vouches for
    is refused with a 503 that says why."""
    ca = trustme.CA()
    server = QuietHTTPServer(("127.0.0.1", 0), _Answers)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/sparql"
    try:
        untrusted = make_app(remote_query_url=url).test_client().post(
            "/sparql", data={"query": "SELECT ?x WHERE { ?x ?p ?o }"}, headers={"Accept": JSON})
        assert untrusted.status_code == 503 and "CERTIFICATE_VERIFY_FAILED" in untrusted.text

        ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        resp = make_app(remote_query_url=url).test_client().post(
            "/sparql", data={"query": "SELECT ?x WHERE { ?x ?p ?o }"}, headers={"Accept": JSON})
        assert resp.status_code == 200 and resp.headers["KG-Result-Count"] == "300"
        assert json.loads(resp.data) == ANSWER
    finally:
        server.shutdown()
        server.server_close()
