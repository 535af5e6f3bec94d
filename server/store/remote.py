"""A remote SPARQL 1.1 service as the store: queries, updates and the Graph Store Protocol over HTTP.

No Flask here. Used by `engine.RemoteEngine` (queries), `curation` (reads for validation, one
update per write), `build` (publishing) and `loader` (bulk loading) when `remote_query_url`
is set. Only the configured URLs are ever contacted.

Errors are mapped once, here: the remote's 400 is the client's 400 with the remote's message;
a refused connection or the remote's 503 is our 503; anything else the remote gets wrong
(401/403 from a misconfigured password, 404 from a wrong URL, 5xx) is 502 Bad Gateway, since
the client's request was fine. A time-out is `QueryTimeout` (503).
"""
from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import select
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pyoxigraph as ox

from ..errors import BadGateway, BadRequest, KGError, PayloadTooLarge, QueryTimeout, ServiceUnavailable
from ..settings import Settings
from .remote_http import Connection, MalformedResponse, Response

_MAX_MESSAGE = 400
BATCH_TRIPLES = 50_000        # triples per Graph Store request when publishing or loading
VERSION_TTL_S = 2.0           # how long a data version is trusted before the remote is asked again
_ALL_QUADS = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
_GRAPH_SIZES = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
_JSON = "application/sparql-results+json"
_NT = "application/n-triples"
CUT_HEADER = "X-SPARQL-MaxRows"   # Virtuoso: the answer was cut at its ResultSetMaxRows
_VIRTUOSO_BNODE = "nodeID://"


_STALE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
_TRANSPORT = (OSError, MalformedResponse)

# application/x-www-form-urlencoded exactly as urllib.parse.urlencode writes it (quote_plus: ASCII
# letters, digits and "_.-~" kept, space as "+", every other UTF-8 byte as %XX), by one C-level
# str.translate: urlencode quotes byte by byte in Python.
_FORM_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_FORM_TABLE = [chr(b) if b in _FORM_SAFE else "+" if b == 0x20 else f"%{b:02X}" for b in range(256)]


class Connections:
    """Kept-alive HTTP/1.1 connections to the remote, shared by a worker's threads (or greenlets,
    under the gevent worker): a request takes an idle connection or opens one, and gives it back
    once its answer was read to the end.

    The exchanges themselves are `remote_http`'s (httptools parses the answers). Nothing is
    taken from the environment (no proxy, no .netrc) and redirects are not followed: only the
    configured URLs are contacted.
    """

    MAX_IDLE = 32   # idle connections kept per host; a burst beyond that closes its extra ones

    def __init__(self, user: str | None, password: str | None) -> None:
        self.auth = "Basic " + base64.b64encode(f"{user}:{password or ''}".encode()).decode() if user else None
        self._idle: dict[tuple[str, str], list[Connection]] = {}
        self._opened: set[Connection] = set()
        self._lock = threading.Lock()

    def _take(self, key: tuple[str, str], timeout_s: float, fresh: bool) -> Connection:
        """An idle connection to `key`'s host, or a new one when there is none (or `fresh`).
        Every idle connection is checked first (`_dropped`): bytes waiting on it before a request
        is sent are no answer to that request. list.pop and append need no lock."""
        idle = self._idle.setdefault(key, [])
        conn = None
        while not fresh and idle:
            try:
                conn = idle.pop()
            except IndexError:   # another thread took the last one
                conn = None
                break
            if _dropped(conn):
                self._discard(conn)
                conn = None
                continue
            break
        if conn is None:
            conn = Connection(key[0], key[1], timeout_s)
            with self._lock:
                self._opened.add(conn)
        conn.timeout = timeout_s
        # A socket's timeout is set by a system call; a query's remaining time differs from the
        # last one's by microseconds, so only a real change is applied.
        if conn.sock is not None and abs((conn.sock.gettimeout() or 0.0) - timeout_s) > 0.01:
            conn.sock.settimeout(timeout_s)
        return conn

    def _give_back(self, key: tuple[str, str], conn: Connection) -> None:
        idle = self._idle.setdefault(key, [])
        if len(idle) < self.MAX_IDLE:
            idle.append(conn)
        else:
            self._discard(conn)

    def _discard(self, conn: Connection) -> None:
        conn.close()
        with self._lock:
            self._opened.discard(conn)

    @contextmanager
    def open(self, method: str, url: str, *, timeout_s: float, body: bytes | None = None,
             headers: dict[str, str] | None = None, params: dict[str, Any] | None = None,
             idempotent: bool = False) -> Iterator[Response]:
        """Send one request and yield its response; a response left unread closes its connection.

        A kept-alive connection the remote closed meanwhile is tried once more on a fresh one,
        for requests that may be repeated (queries)."""
        scheme, netloc, target = _split(url)
        key = (scheme, netloc)
        if params:
            target += ("&" if "?" in target else "?") + form_encode(params).decode("ascii")
        sent = {"Accept-Encoding": "identity", **(headers or {})}
        if self.auth:
            sent["Authorization"] = self.auth
        for attempt in (0, 1):
            conn = self._take(key, timeout_s, fresh=attempt > 0)
            reused = conn.sock is not None
            try:
                conn.request(method, target, body=body, headers=sent)
                resp = conn.getresponse()
            except _STALE:
                self._discard(conn)
                if attempt or not reused or not idempotent:
                    raise
                continue
            except BaseException:
                self._discard(conn)
                raise
            try:
                yield resp
            finally:
                if resp.reusable():
                    self._give_back(key, conn)
                else:   # unread, or closed by the remote: it cannot carry another request
                    self._discard(conn)
            return

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, set()
            self._idle.clear()
        for conn in opened:
            conn.close()


@functools.lru_cache(maxsize=64)
def _split(url: str) -> tuple[str, str, str]:
    """(scheme, host:port, path?query) of a configured URL (a handful per server, split once)."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.netloc, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _dropped(conn: Connection) -> bool:
    """A kept-alive socket that is readable between requests was closed by the remote, or holds
    what the remote sent on its own: `oxigraph serve` writes a 500 ("Resource temporarily
    unavailable") on a connection idle for a minute, which would otherwise be read as the answer
    to the next query sent on it."""
    if conn.sock is None:
        return False
    try:
        poller = select.poll()   # not select.select: it refuses descriptors past 1023
        poller.register(conn.sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def _message(resp: Response) -> str:
    try:
        text = resp.read().decode("utf-8", "replace")
    except _TRANSPORT:
        text = ""
    text = " ".join(text.split())
    return text[:_MAX_MESSAGE] + ("…" if len(text) > _MAX_MESSAGE else "")


def raise_for_status(resp: Response, what: str) -> None:
    """The remote's error as ours (see the module docstring); nothing for 2xx."""
    if resp.status < 300:
        return
    message = _message(resp) or resp.reason
    if resp.status == 400:
        raise BadRequest(f"the SPARQL store refused the {what}: {message}")
    if resp.status == 413:
        raise PayloadTooLarge(f"the SPARQL store refused the {what} as too large: {message}")
    if resp.status in (503, 429):
        raise ServiceUnavailable(f"the SPARQL store is busy ({resp.status}): {message}")
    raise BadGateway(f"the SPARQL store answered the {what} with {resp.status}: {message}")


class RemoteStore:
    """The HTTP client of one remote SPARQL service (thread- and greenlet-safe: a pool of kept-alive connections)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.remote_query_url:
            raise ValueError("RemoteStore needs remote_query_url")
        self.query_url = settings.remote_query_url
        self.update_url = settings.remote_update_url
        self.gsp_url = settings.remote_gsp_url
        self.union_param = settings.remote_union_param
        self.timeout_s = settings.query_timeout_s
        self.http = Connections(settings.remote_user, settings.remote_password)
        self._version_lock = threading.Lock()
        self._version: tuple[float, str, float] | None = None     # (checked at, version, stamp)
        self._first_seen: dict[str, float] = {}

    def close(self) -> None:
        self.http.close()

    # -- queries --------------------------------------------------------------
    def form(self, query: str, *, accept: str, default_graph_uris: Iterable[str] = (),
             named_graph_uris: Iterable[str] = (), union: bool = True) -> dict[str, Any]:
        """The POST form of a query (Protocol §2.1.2: query via URL-encoded POST)."""
        data: dict[str, Any] = {"query": query}
        dgu, ngu = list(default_graph_uris), list(named_graph_uris)
        if dgu:
            data["default-graph-uri"] = dgu
        if ngu:
            data["named-graph-uri"] = ngu
        if union and self.union_param and not dgu and not ngu:
            data[self.union_param] = ""
        return data

    @contextmanager
    def stream_query(self, data: dict[str, Any], accept: str, timeout_s: float) -> Iterator[Response]:
        """POST a query and yield the streaming response (already checked for errors)."""
        body = form_encode(data)
        headers = {"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"}
        try:
            with self.http.open("POST", self.query_url, body=body, headers=headers, timeout_s=max(timeout_s, 0.001),
                                idempotent=True) as resp:
                raise_for_status(resp, "query")
                yield resp
        except TimeoutError:
            raise self.timeout() from None
        except MalformedResponse as exc:
            raise BadGateway(str(exc)) from None
        except _TRANSPORT as exc:
            raise ServiceUnavailable(f"the SPARQL store at {self.query_url} cannot be reached: {exc}") from None

    def timeout(self) -> QueryTimeout:
        return QueryTimeout(f"the SPARQL store did not answer within the limit of {self.timeout_s:g} s; "
                            "narrow the query (LIMIT, more selective patterns) or ask the operator for a longer "
                            "query_timeout_s", limit_s=self.timeout_s)

    def select(self, query: str, timeout_s: float | None = None) -> list[ox.QuerySolution]:
        """A SELECT's rows as pyoxigraph terms (SPARQL JSON on the wire: lossless, and every engine writes it
        correctly -- Virtuoso 7.2's TSV quotes IRIs as strings)."""
        with self.stream_query(self.form(query, accept=_JSON), _JSON, timeout_s or self.timeout_s) as resp:
            body = resp.read()
        if CUT_HEADER in resp.headers:
            # Virtuoso cuts answers at its ResultSetMaxRows and says so only in this header (sent
            # whenever the cap is reached); a cut read of the store must not be validated as the whole.
            raise BadGateway(f"the SPARQL store cut its answer at {resp.headers[CUT_HEADER]} rows "
                             "(Virtuoso: raise ResultSetMaxRows in the [SPARQL] section of virtuoso.ini)")
        if not resp.headers.get("content-type", "").startswith(_JSON):
            raise BadGateway(f"the SPARQL store answered a SELECT with {resp.headers.get('content-type')!r}, "
                             "not SPARQL JSON results")
        try:
            try:
                return list(ox.parse_query_results(body, ox.QueryResultsFormat.JSON))  # type: ignore[arg-type]
            except SyntaxError:
                if _VIRTUOSO_BNODE.encode() not in body:
                    raise
                return list(ox.parse_query_results(_blank_labels(body), ox.QueryResultsFormat.JSON))  # type: ignore[arg-type]
        except SyntaxError as exc:
            raise BadGateway(f"the SPARQL store's results do not parse: {exc}") from None

    def quads(self, timeout_s: float | None = None) -> list[ox.Quad]:
        """Every quad of every named graph (the validation and write paths read the whole store)."""
        return [ox.Quad(r["s"], r["p"], r["o"], r["g"])  # type: ignore[arg-type, index]
                for r in self.select(_ALL_QUADS, timeout_s=timeout_s or max(self.timeout_s, 300.0))]

    def graph_quads(self, graph: str) -> list[ox.Quad] | None:
        node = ox.NamedNode(graph)
        rows = self.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        if not rows and graph not in self.graph_names():
            return None
        return [ox.Quad(r["s"], r["p"], r["o"], node) for r in rows]  # type: ignore[arg-type, index]

    def graph_names(self) -> list[str]:
        """Every named graph: the empty ones (`GRAPH ?g {}`) and those with triples -- Virtuoso 7.2
        answers `GRAPH ?g {}` with one row where ?g is unbound, so the graphs with triples are asked for apart."""
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        empty_pattern = {r["g"].value for r in rows if r["g"] is not None}  # type: ignore[index]
        return sorted(empty_pattern | set(self.graph_sizes()))

    def graph_sizes(self) -> dict[str, int]:
        return {r["g"].value: int(r["n"].value) for r in self.select(_GRAPH_SIZES)}  # type: ignore[index]

    # -- the data version ----------------------------------------------------------
    def data_version(self, fresh: bool = False) -> tuple[str, float]:
        """An opaque version of the remote data: a hash of the triples per named graph.

        Every write through this service adds to the change log, and a build replaces graphs,
        so the counts move with the data; a change elsewhere that keeps every count equal goes
        unseen. Asked again at most every VERSION_TTL_S; the time stamp is when this process
        first saw the version.
        """
        now = time.monotonic()
        with self._version_lock:
            if not fresh and self._version and now - self._version[0] < VERSION_TTL_S:
                return self._version[1], self._version[2]
        sizes = self.graph_sizes()
        digest = hashlib.sha256(repr(sorted(sizes.items())).encode()).hexdigest()[:16]
        version = f"remote-{digest}"
        with self._version_lock:
            stamp = self._first_seen.setdefault(version, float(int(time.time())))
            self._version = (now, version, stamp)
        return version, stamp

    def forget_version(self) -> None:
        with self._version_lock:
            self._version = None

    # -- updates and the Graph Store Protocol ---------------------------------------
    def update(self, request: str) -> None:
        """ONE SPARQL Update request (Protocol §2.2.2, POST application/sparql-update)."""
        if not self.update_url:
            raise ServiceUnavailable("this service has no remote update endpoint (setting remote_update_url); "
                                     "writes are not possible")
        self._send("POST", self.update_url, "update", content=request.encode("utf-8"),
                   headers={"Content-Type": "application/sparql-update"})
        self.forget_version()

    def _gsp(self, method: str, graph: str | None, body: bytes | None = None) -> None:
        if not self.gsp_url:
            raise ServiceUnavailable("this service has no remote Graph Store endpoint (setting remote_gsp_url)")
        params = {"graph": graph} if graph else {"default": ""}
        headers = {"Content-Type": _NT} if body is not None else {}
        self._send(method, self.gsp_url, f"Graph Store {method}", params=params, content=body, headers=headers)

    def _send(self, method: str, url: str, what: str, *, content: bytes | None = None,
              headers: dict[str, str] | None = None, params: dict[str, Any] | None = None) -> None:
        try:
            with self.http.open(method, url, body=content, headers=headers, params=params,
                                timeout_s=max(self.timeout_s, 60.0) * 10) as resp:
                if method == "DELETE" and resp.status == 404:
                    resp.read()
                    return   # deleting a graph that is not there leaves the same state
                raise_for_status(resp, what)
                resp.read()
        except TimeoutError:
            raise ServiceUnavailable(f"the SPARQL store did not finish the {what} in time") from None
        except MalformedResponse as exc:
            raise BadGateway(str(exc)) from None
        except _TRANSPORT as exc:
            raise ServiceUnavailable(f"the SPARQL store at {url} cannot be reached: {exc}") from None

    def put_graph(self, graph: str | None, triples: Iterable[ox.Triple]) -> int:
        """Replace a graph with these triples: PUT the first batch, POST the rest. Returns triples sent."""
        sent = 0
        method = "PUT"
        for batch in batched(triples, BATCH_TRIPLES):
            self._gsp(method, graph, ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES))
            sent += len(batch)
            method = "POST"
        if method == "PUT":   # no triples: the graph becomes empty
            self.delete_graph(graph)
        self.forget_version()
        return sent

    def post_triples(self, graph: str | None, triples: list[ox.Triple]) -> None:
        self._gsp("POST", graph, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
        self.forget_version()

    def post_quads(self, quads: list[ox.Quad]) -> None:
        """Add quads: one GSP POST when they are all in one graph, else one INSERT DATA (many small graphs)."""
        graphs = {q.graph_name for q in quads}
        if len(graphs) == 1 or not self.update_url:
            for g in graphs:
                name = g.value if isinstance(g, ox.NamedNode) else None
                self.post_triples(name, [ox.Triple(q.subject, q.predicate, q.object) for q in quads
                                         if q.graph_name == g])
            return
        blocks: dict[str, list[str]] = {}
        for q in quads:
            key = str(q.graph_name) if isinstance(q.graph_name, ox.NamedNode) else ""
            blocks.setdefault(key, []).append(f"{q.subject} {q.predicate} {q.object} .")
        body = "\n".join((f"GRAPH {g} {{\n" + "\n".join(lines) + "\n}") if g else "\n".join(lines)
                         for g, lines in blocks.items())
        self.update("INSERT DATA {\n" + body + "\n}")

    def delete_graph(self, graph: str | None) -> None:
        self._gsp("DELETE", graph)
        self.forget_version()


def _blank_labels(body: bytes) -> bytes:
    """SPARQL JSON results with Virtuoso's blank node labels (`nodeID://b10001`, not valid labels for
    pyoxigraph) renamed. A label names a node within one answer only, so renaming keeps the meaning."""
    try:
        doc = json.loads(body)
        for row in doc["results"]["bindings"]:
            for term in row.values():
                if term.get("type") == "bnode" and term["value"].startswith(_VIRTUOSO_BNODE):
                    term["value"] = "virtuoso" + term["value"][len(_VIRTUOSO_BNODE):]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadGateway(f"the SPARQL store's results do not parse: {exc}") from None
    return json.dumps(doc).encode()


def form_encode(fields: dict[str, str | list[str]]) -> bytes:
    """A form body: `fields` values are one string or a list of them (repeated keys)."""
    def quote(text: str) -> str:
        return text.encode("utf-8").decode("latin-1").translate(_FORM_TABLE)

    pairs = ((k, v) for k, vs in fields.items() for v in ([vs] if isinstance(vs, str) else vs))
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs).encode("ascii")


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class BodyReader(io.RawIOBase):
    """The remote's response body as a file for pyoxigraph's parsers, kept as it is read.

    `prefetch` reads ahead (an answer that fits is then counted from its bytes); the parsers
    are served those bytes first. Reads stop with QueryTimeout past the deadline (a remote that
    trickles bytes is cut off too).
    """

    def __init__(self, resp: Response, deadline: float, on_timeout: Callable[[], KGError]) -> None:
        if resp.headers.get("content-encoding", "identity") != "identity":
            raise BadGateway(f"the SPARQL store sent a {resp.headers['content-encoding']}-encoded answer "
                             "although it was asked for identity")
        self.resp = resp
        self.deadline = deadline
        self.on_timeout = on_timeout
        self.kept = bytearray()
        self.served = 0
        self.finished = False

    def readable(self) -> bool:
        return True

    def _more(self, size: int) -> bytes:
        if self.finished:
            return b""
        if time.monotonic() > self.deadline:
            raise self.on_timeout()
        try:
            chunk = self.resp.read1(size)
        except TimeoutError:
            raise self.on_timeout() from None
        self.finished = not chunk
        self.kept += chunk
        return chunk

    def prefetch(self, budget: int) -> bool:
        """Read ahead up to `budget` bytes; True when that is the whole body."""
        while len(self.kept) <= budget and self._more(1 << 16):
            pass
        return self.finished

    def readinto(self, buffer: Any) -> int:
        if self.served == len(self.kept) and not self._more(len(buffer)):
            return 0
        n = min(len(buffer), len(self.kept) - self.served)
        buffer[:n] = self.kept[self.served:self.served + n]
        self.served += n
        return n

    def drain(self) -> bytes:
        """Read what the parser left (trailing bytes) and return the whole body."""
        while self._more(1 << 16):
            pass
        return bytes(self.kept)


def memory_copy(settings: Settings) -> ox.Store:
    """Every quad of the remote store, read with one SELECT, in an in-memory Oxigraph store (for reads
    that walk the whole graph: validation, the evidence check)."""
    remote = RemoteStore(settings)
    try:
        mem = ox.Store()
        mem.extend(remote.quads())
    finally:
        remote.close()
    return mem
