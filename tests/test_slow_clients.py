"""Clients that send slowly, sit idle, never read their answer, or send a body that is too large,
against the real `kg serve` (gunicorn) over real sockets: they hold a connection, never the
worker, and the server cuts them off at its time limits. Socket timeouts only bound a failure."""
from __future__ import annotations

import datetime as dt
import email.utils
import json
import select
import socket
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import LiveServer, one_answer

pytestmark = pytest.mark.slow

ASK = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nAccept: application/sparql-results+json\r\n\r\n"
HALF = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nAcc"   # a request whose head never completes


def connect(server: LiveServer, timeout: float = 60.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def read_until_closed(sock: socket.socket, limit: int = 1 << 26) -> bytes:
    """Everything the server sends until it closes the connection (a reset ends it too)."""
    data = b""
    while len(data) < limit:
        try:
            chunk = sock.recv(1 << 16)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def asked(server: LiveServer) -> bool:
    with connect(server) as sock:
        sock.sendall(ASK)
        status, _headers, body = one_answer(sock)
    return status == b"HTTP/1.1 200 OK" and json.loads(body)["boolean"] is True


def still_open(sock: socket.socket) -> bool:
    """True while the server has neither answered nor closed the connection."""
    readable, _, _ = select.select([sock], [], [], 0)
    return not readable


@pytest.fixture(scope="module")
def patient(store_link: Path) -> Iterator[LiveServer]:
    """One worker that lets clients take a minute: connections held by slow clients stay held
    for the whole test."""
    server = LiveServer(store_link, env={"KG_WORKERS": "1", "KG_CLIENT_TIMEOUT_S": "60", "KG_KEEPALIVE_S": "60",
                                         "KG_MAX_RESULT_ROWS": "1000000"})
    yield server
    server.stop()


def test_many_slow_or_idle_connections_hold_no_worker(patient: LiveServer) -> None:
    """64 connections that stopped in the middle of their request's head, 64 that connected and
    said nothing, and 64 kept alive after an answer: every one is still held by the one worker
    while another client's question is answered (a worker of threads had 4 to give)."""
    held: list[socket.socket] = []
    try:
        for _ in range(64):
            sock = connect(patient)
            sock.sendall(HALF)
            held.append(sock)
        held += [connect(patient) for _ in range(64)]
        for _ in range(64):
            sock = connect(patient)
            sock.sendall(ASK)
            one_answer(sock)
            held.append(sock)
        assert asked(patient)
        assert all(still_open(s) for s in held)
    finally:
        for s in held:
            s.close()


def test_clients_that_never_read_their_answers_hold_no_worker(patient: LiveServer) -> None:
    """Eight clients each ask for an answer of several MiB and read none of it: the answers wait on
    their connections (more than a 4 KiB window and the kernel's buffers hold) while another
    client is answered."""
    query = "SELECT ?s ?p ?o ?a WHERE { ?s ?p ?o . ?a ?b ?c } LIMIT 100000"
    stalled: list[socket.socket] = []
    try:
        for _ in range(8):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(60)
            sock.connect(("127.0.0.1", patient.port))
            sock.sendall(f"GET /sparql?{urllib.parse.urlencode({'query': query})} HTTP/1.1\r\nHost: x\r\n"
                         "Accept: text/tab-separated-values\r\n\r\n".encode())
            stalled.append(sock)
        for sock in stalled:   # each answer has begun to arrive: it is being written, and stays unread
            readable, _, _ = select.select([sock], [], [], 60)
            assert readable
        assert asked(patient) and asked(patient)
    finally:
        for sock in stalled:
            sock.close()


@pytest.fixture(scope="module")
def strict(store_link: Path) -> Iterator[LiveServer]:
    """A server that gives clients 2 s, answers of at most 16 MiB, bodies of at most 1 MiB."""
    server = LiveServer(store_link, env={"KG_WORKERS": "1", "KG_CLIENT_TIMEOUT_S": "2", "KG_KEEPALIVE_S": "2",
                                         "KG_MAX_BODY_MB": "1", "KG_MAX_RESULT_ROWS": "1000000"})
    yield server
    server.stop()


def test_a_head_that_stops_arriving_is_cut_off_with_408(strict: LiveServer) -> None:
    with connect(strict) as sock:
        sock.sendall(HALF)
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n") and b"client_timeout_s" in answer


def test_a_head_sent_a_byte_at_a_time_is_cut_off_too(strict: LiveServer) -> None:
    """Each byte comes well within the time limit of one read, but the head as a whole does not."""
    with connect(strict) as sock:
        sent = 0
        for byte in HALF:
            readable, _, _ = select.select([sock], [], [], 0.5)
            if readable:
                break
            sock.sendall(bytes([byte]))
            sent += 1
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), (sent, answer[:80])


def test_an_idle_connection_is_closed(strict: LiveServer) -> None:
    with connect(strict) as fresh, connect(strict) as kept:
        kept.sendall(ASK)
        assert one_answer(kept)[0] == b"HTTP/1.1 200 OK"
        assert read_until_closed(fresh) == b"" and read_until_closed(kept) == b""


def test_a_body_that_stops_arriving_is_408(strict: LiveServer) -> None:
    with connect(strict) as sock:
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                     b"Content-Length: 100\r\nAccept: application/json\r\n\r\nASK")
        status, headers, body = one_answer(sock)
    assert status == b"HTTP/1.1 408 Request Timeout" and json.loads(body)["error"] == "Request timeout"


def test_an_answer_the_client_does_not_take_is_cut_off(strict: LiveServer) -> None:
    """16 MiB cannot pass a 4 KiB receive window and the kernel's buffers: past the time limit the
    server drops the connection, and what arrives is shorter than announced."""
    query = "SELECT ?s ?p ?o ?a WHERE { ?s ?p ?o . ?a ?b ?c }"
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(60)
    sock.connect(("127.0.0.1", strict.port))
    with sock:
        sock.sendall(f"GET /sparql?{urllib.parse.urlencode({'query': query})} HTTP/1.1\r\nHost: x\r\n"
                     "Accept: text/tab-separated-values\r\n\r\n".encode())
        readable, _, _ = select.select([sock], [], [], 60)
        assert readable
        first = sock.recv(4096)
        announced = int(first.split(b"Content-Length: ", 1)[1].split(b"\r\n", 1)[0])
        assert announced > 8 * 1024 * 1024
        select.select([], [], [], 10)   # not reading, well past the 2 s limit
        received = len(first) + len(read_until_closed(sock))
    assert received < announced
    assert asked(strict)


@pytest.mark.parametrize("size_mb", [5, 64])
def test_a_body_over_the_limit_is_413_and_the_client_reads_it(strict: LiveServer, size_mb: int) -> None:
    """The 413 comes before the body is read, with `Connection: close`; the body a client sends
    anyway is read and dropped, so the client finishes sending and reads the answer."""
    body = b"#" * (size_mb * 1024 * 1024)
    with connect(strict) as sock:
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                     b"Accept: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        sock.sendall(body)
        status, headers, answer = one_answer(sock)
    assert status == b"HTTP/1.1 413 Request Entity Too Large" and headers["connection"] == "close"
    assert "max_body_mb" in json.loads(answer)["message"]


@pytest.mark.parametrize("path", ["/sparql", "/validate"])
def test_a_body_over_the_limit_is_never_asked_for_with_100_continue(strict: LiveServer, path: str) -> None:
    """A client that waits for `100 Continue` before sending its body gets the 413 instead."""
    with connect(strict) as sock:
        media = "application/sparql-query" if path == "/sparql" else "text/turtle"
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {media}\r\nAccept: application/json\r\n"
                     f"Content-Length: {64 * 1024 * 1024}\r\nExpect: 100-continue\r\n\r\n".encode())
        status, headers, answer = one_answer(sock)
    assert status.split()[1] == b"413" and headers["connection"] == "close"
    assert json.loads(answer)["status"] == 413


def test_a_body_within_the_limit_gets_100_continue(strict: LiveServer) -> None:
    query = b"ASK {}"
    with connect(strict) as sock:
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                     b"Accept: application/json\r\nContent-Length: 6\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(25) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(query)
        status, _headers, answer = one_answer(sock)
    assert status == b"HTTP/1.1 200 OK" and json.loads(answer)["boolean"] is True


def test_a_body_sent_after_its_whole_head_is_waited_for_and_each_answer_is_dated(strict: LiveServer) -> None:
    """A head that arrived whole (with its body, or before it) is read at once; a body that follows
    within the time limit is waited for. Every answer carries one Date header, the time it was sent."""
    query = b"ASK {}"
    head = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Accept: application/json\r\nContent-Length: 6\r\n\r\n")
    with connect(strict) as sock:
        sock.sendall(head + query)
        together = sock.recv(65536)
        sock.sendall(head)
        time.sleep(0.5)
        sock.sendall(query)
        apart = sock.recv(65536)
    for answer in (together, apart):
        head_, _, body = answer.partition(b"\r\n\r\n")
        lines = head_.decode().split("\r\n")
        assert lines[0] == "HTTP/1.1 200 OK" and json.loads(body)["boolean"] is True
        dates = [line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("date:")]
        assert len(dates) == 1, lines
        sent = email.utils.parsedate_to_datetime(dates[0])
        assert abs((sent - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 30


def test_small_answers_the_kernel_takes_in_parts_arrive_whole(strict: LiveServer) -> None:
    """An answer under 64 KiB goes out with its head in one send. To a client that sends a hundred
    requests at once and reads nothing for a while, the kernel's buffers (up to 4 MiB) fill: it
    takes only part of a later answer at first, and the rest follows as the client reads."""
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 200"
    request = (f"GET /sparql?{urllib.parse.urlencode({'query': query})} HTTP/1.1\r\nHost: x\r\n"
               "Accept: application/sparql-results+json\r\n\r\n").encode()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.settimeout(60)
    sock.connect(("127.0.0.1", strict.port))
    with sock:
        sock.sendall(request * 100)
        time.sleep(1)   # the server has sent what the kernel would take (within the 2 s limit)
        data = read_until_closed(sock)   # all of them, then the idle connection is closed
    for _ in range(100):
        head, _, data = data.partition(b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ", 1)[1].split(b"\r\n", 1)[0])
        body, data = data[:length], data[length:]
        assert head.startswith(b"HTTP/1.1 200 OK\r\n") and 16 * 1024 < length < 64 * 1024
        assert len(json.loads(body)["results"]["bindings"]) == 200
    assert data == b""
