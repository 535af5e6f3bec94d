"""HTTP/1.1 exchanges with the remote SPARQL service: one kept-alive connection, one request at a time.

Why not the standard library's `http.client`: most of its CPU time per exchange goes to reading
the response's status line and headers line by line in Python and building an `email.message`
of them, a noticeable share of a short query. Here the request is written as one block and the
response is parsed by httptools (llhttp, the parser of Node.js), which also undoes chunked
transfer coding (the figures are in bench/README.md).

What it does not do, because the remote store never needs it: HEAD requests (the parser would
wait for the body a HEAD answer does not have), `Expect: 100-continue`, redirects, proxies,
compression (`Accept-Encoding: identity` is sent by the caller).
"""
from __future__ import annotations

import socket
import ssl
import urllib.parse
from collections import deque

import httptools

_RECV = 1 << 16


class RemoteClosed(ConnectionResetError):
    """The remote closed the connection before answering (a kept-alive connection it had dropped)."""


class MalformedResponse(Exception):
    """The remote's answer is not HTTP/1.1 this client can read (a 502 for our client)."""


class Headers(dict[str, str]):
    """Response headers by lower-cased name (repeated headers joined with ", "); looked up in any case."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(name.lower(), default)


class Connection:
    """A connection to one host, opened on first use and again after it was closed."""

    def __init__(self, scheme: str, netloc: str, timeout: float) -> None:
        self.scheme = scheme
        self.netloc = netloc
        parts = urllib.parse.urlsplit(f"//{netloc}")
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if scheme == "https" else 80)
        self.timeout = timeout
        self.sock: socket.socket | None = None

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.scheme == "https":
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()

    def request(self, method: str, target: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> None:
        """Send the request line, the headers and the body in one write."""
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.netloc}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body is not None or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body or b'')}")
        head = "\r\n".join(lines)
        breaks = len(lines) - 1   # the joins' own; one more is a line break inside a header
        if head.count("\n") != breaks or head.count("\r") != breaks:
            raise ValueError("a header of the request to the SPARQL store holds a line break")
        if self.sock is None:
            self.connect()
        assert self.sock is not None
        self.sock.sendall(head.encode("latin-1") + b"\r\n\r\n" + (body or b""))

    def getresponse(self) -> Response:
        """The response, once its status line and headers are in; the body is read as asked for."""
        resp = Response(self)
        while not resp.headers_done:
            resp.fill()
        return resp


class Response:
    """One response: `status`, `reason`, `headers`, and its body by `read1` or `read`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.status = 0
        self.reason = ""
        self.headers = Headers()
        self.headers_done = False
        self.keep_alive = False
        self.complete = False
        self._reason = bytearray()
        self._body: deque[bytes] = deque()
        self._received = False
        self._parser = httptools.HttpResponseParser(self)

    # httptools' callbacks
    def on_status(self, status: bytes) -> None:
        self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        old = dict.get(self.headers, key)
        dict.__setitem__(self.headers, key, text if old is None else f"{old}, {text}")

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self.reason = self._reason.decode("latin-1")
        self.keep_alive = self._parser.should_keep_alive()   # llhttp knows it here, not after the body
        self.headers_done = True

    def on_body(self, chunk: bytes) -> None:
        self._body.append(chunk)

    def on_message_complete(self) -> None:
        self.complete = True

    def fill(self) -> None:
        """Receive once and parse what came."""
        sock = self.conn.sock
        if sock is None:
            raise RemoteClosed("the connection to the SPARQL store is closed")
        data = sock.recv(_RECV)
        if not data:
            self._ended()
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            raise MalformedResponse("the SPARQL store switched protocols") from None
        except httptools.HttpParserError as exc:
            raise MalformedResponse(f"the SPARQL store's answer is not valid HTTP/1.1: {exc}") from None
        if self.complete and not self.keep_alive:
            self.conn.close()

    def _ended(self) -> None:
        """The remote closed the connection: the end of a body sent without a length, or an error."""
        self.conn.close()
        if not self._received:
            raise RemoteClosed("the SPARQL store closed the connection without answering")
        framed = "content-length" in self.headers or "chunked" in self.headers.get("transfer-encoding", "")
        if not self.headers_done or framed:
            raise MalformedResponse("the SPARQL store closed the connection in the middle of its answer")
        self.complete = True

    def read1(self, size: int = _RECV) -> bytes:
        """Up to `size` bytes of the body, waiting only when none has come yet; b"" at its end."""
        while not self._body and not self.complete:
            self.fill()
        if not self._body:
            return b""
        chunk = self._body.popleft()
        if len(chunk) > size:
            self._body.appendleft(chunk[size:])
            chunk = chunk[:size]
        return chunk

    def read(self) -> bytes:
        """The rest of the body."""
        while not self.complete:
            self.fill()
        body = b"".join(self._body)
        self._body.clear()
        return body

    def reusable(self) -> bool:
        """Read to its end on a connection the remote keeps open: free for the next request."""
        return self.complete and not self._body and self.conn.sock is not None
