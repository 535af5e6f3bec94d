"""Query execution with limits: a small pool of query processes (see `executor`).

Why processes: pyoxigraph's `Store.query` has no timeout and cannot be cancelled, and its
parser can crash the process on hostile input. A query past `query_timeout_s` is ended by
killing its process (503 to that client; the others keep being served), and a new process
takes its place. Query processes open the store read-only; they are restarted when
`kg build` swaps the store link.
"""
from __future__ import annotations

import functools
import io
import itertools
import re
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .. import errors
from ..http import formats
from ..http.renderers import BYTES_PER_ROW, count_answer, render_bindings, render_boolean, render_triples
from ..settings import Settings
from ..sparql.guard import check_query
from .ipc import read_frame, write_frame
from .remote import CUT_HEADER, BodyReader

_ERRORS = {name: getattr(errors, name) for name in dir(errors) if isinstance(getattr(errors, name), type)}


@dataclass
class QueryRequest:
    query: str
    accept: str | None = None
    format: str | None = None
    default_graph_uris: list[str] = field(default_factory=list)
    named_graph_uris: list[str] = field(default_factory=list)
    base_iri: str | None = None
    prefixes: dict[str, str] | None = None


@dataclass
class QueryAnswer:
    body: bytes
    format: str
    kind: str
    count: int
    truncated: bool
    engine_ms: float
    total_ms: float



def query_message(request: QueryRequest, shape: Any, settings: Settings) -> dict[str, Any]:
    """What `executor.answer` needs to evaluate one request (a plain dict: it may cross a pipe)."""
    return {"query": request.query, "accept": request.accept, "format": request.format,
            "default_graph_uris": request.default_graph_uris, "named_graph_uris": request.named_graph_uris,
            "base_iri": request.base_iri, "prefixes": request.prefixes,
            "has_dataset_clause": shape.has_dataset_clause, "max_rows": settings.max_result_rows}


def answer_from_reply(reply: dict[str, Any], started: float) -> QueryAnswer:
    """`executor.answer`'s reply as an answer, or its error raised again in this process."""
    if not reply["ok"]:
        cls = _ERRORS.get(reply["class"], errors.BadRequest)
        exc = cls.__new__(cls)
        errors.KGError.__init__(exc, reply["message"], **reply.get("detail", {}))
        raise exc
    return QueryAnswer(reply["body"], reply["format"], reply["kind"], reply["count"], reply["truncated"],
                       reply["ms"], (time.monotonic() - started) * 1000)


def timeout_error(settings: Settings) -> errors.QueryTimeout:
    return errors.QueryTimeout(
        f"the query ran longer than the limit of {settings.query_timeout_s:g} s and was stopped; "
        "narrow it (LIMIT, more selective patterns) or ask the operator for a longer query_timeout_s",
        limit_s=settings.query_timeout_s)


class _Worker:
    """One query process and its pipes."""

    def __init__(self, store_path: str) -> None:
        self.store_path = store_path
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.store.query_process", store_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=None, cwd=str(Path(__file__).resolve().parents[2]), close_fds=True)
        ready = self._read(60.0)
        if not ready or not ready.get("ready"):
            self.kill()
            raise errors.ServiceUnavailable(f"the query process could not open the store at {store_path}")

    def _read(self, timeout: float) -> dict[str, Any] | None:
        assert self.proc.stdout is not None
        readable, _, _ = select.select([self.proc.stdout], [], [], max(timeout, 0))
        if not readable:
            raise TimeoutError
        return read_frame(self.proc.stdout)

    def ask(self, message: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        assert self.proc.stdin is not None
        write_frame(self.proc.stdin, message)
        return self._read(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream:
                stream.close()


class QueryEngine:
    """Hands each query to an idle query process and waits for it, at most the time limit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.link = Path(settings.store)
        self._idle: list[_Worker] = []
        self._size = 0
        self._cond = threading.Condition()
        self._target: str | None = None
        self._checked = 0.0
        self.timeouts = 0
        self.on_timeout: Callable[[], object] | None = None   # e.g. a metrics counter's inc
        self._paused = False

    def data_version(self) -> tuple[str, float]:
        """(opaque version, last-modified epoch seconds) of the served data."""
        from .embedded import data_version

        return data_version(self.link)

    # -- pool ---------------------------------------------------------------
    def _current_target(self) -> str:
        """The store directory the link points at now (checked at most once a second)."""
        now = time.monotonic()
        if self._target is None or now - self._checked > 1.0:
            if not self.link.exists():
                raise errors.ServiceUnavailable(f"no store at {self.link}; run `kg build`")
            target = str(self.link.resolve())
            self._checked = now
            if target != self._target:
                with self._cond:
                    stale, self._idle = self._idle, []
                    self._size -= len(stale)
                for w in stale:
                    w.kill()
                self._target = target
        return self._target

    def _checkout(self, deadline: float) -> _Worker:
        target = self._current_target()
        with self._cond:
            while self._paused:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise errors.ServiceUnavailable("a write is being applied; try again shortly")
                self._cond.wait(remaining)
            while True:
                while self._idle:
                    worker = self._idle.pop()
                    if worker.store_path == target and worker.proc.poll() is None:
                        return worker
                    self._size -= 1
                    worker.kill()
                if self._size < self.settings.query_workers:
                    self._size += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise errors.ServiceUnavailable("every query process is busy; try again shortly")
                self._cond.wait(remaining)
        try:
            return _Worker(target)
        except Exception:
            with self._cond:
                self._size -= 1
                self._cond.notify_all()
            raise

    def _checkin(self, worker: _Worker | None) -> None:
        with self._cond:
            if worker is not None and worker.proc.poll() is None and worker.store_path == self._target:
                self._idle.append(worker)
            else:
                self._size -= 1
                if worker is not None:
                    worker.kill()
            # notify_all: a write waiting in exclusive() for every process to be idle waits on this
            # condition beside queries waiting for a process; notify() woke one query, which went
            # back to sleep, and the write waited out its whole 30 s while every read got 503.
            self._cond.notify_all()

    @contextmanager
    def exclusive(self, wait_s: float = 30.0) -> Iterator[None]:
        """Close every query process so that one writer may open the store read-write.

        An on-disk Oxigraph store has one writing process, and opening it read-only beside a
        writer is undefined behaviour: queries wait (up to their time limit) while a write runs.
        """
        deadline = time.monotonic() + wait_s
        with self._cond:
            while self._paused:
                if not self._cond.wait(max(deadline - time.monotonic(), 0)):
                    raise errors.ServiceUnavailable("another write is being applied; try again shortly")
            self._paused = True
            while len(self._idle) < self._size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._paused = False
                    self._cond.notify_all()
                    raise errors.ServiceUnavailable("queries are still running; the write was not applied")
                self._cond.wait(remaining)
            idle, self._idle = self._idle, []
            self._size -= len(idle)
        for w in idle:
            w.kill()
        try:
            yield
        finally:
            with self._cond:
                self._paused = False
                self._target = None
                self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            workers, self._idle = self._idle, []
            self._size -= len(workers)
        for w in workers:
            w.kill()

    # -- queries ------------------------------------------------------------
    def run(self, request: QueryRequest) -> QueryAnswer:
        """Guard, evaluate within the time limit, and return the serialized answer."""
        started = time.monotonic()
        shape = check_query(request.query, max_depth=self.settings.max_query_depth,
                            allowed_services=self.settings.allowed_services, max_kb=self.settings.max_query_kb,
                            base_iri=request.base_iri)
        deadline = started + self.settings.query_timeout_s
        worker = self._checkout(deadline)
        try:
            reply = worker.ask(query_message(request, shape, self.settings), deadline - time.monotonic())
        except TimeoutError:
            self.timeouts += 1
            if self.on_timeout is not None:
                self.on_timeout()
            self._checkin(self._discard(worker))
            raise timeout_error(self.settings) from None
        except (BrokenPipeError, OSError):
            reply = None
        if reply is None:
            self._checkin(self._discard(worker))
            raise errors.ServiceUnavailable("the query process ended while answering; the query was not completed")
        self._checkin(worker)
        return answer_from_reply(reply, started)

    @staticmethod
    def _discard(worker: _Worker) -> None:
        worker.kill()
        return None


# -- a remote SPARQL service as the store ------------------------------------------------------

# What the remote is asked for when our negotiated format is one pyoxigraph cannot read back
# (CSV results are lossy; JSON-LD is ours): SPARQL JSON and N-Triples are lossless, and every
# engine writes them right (Virtuoso 7.2's TSV quotes IRIs as strings).
_WIRE_FALLBACK = {"bindings": "json", "graph": "ntriples"}


@functools.lru_cache(maxsize=64)
def _wire_accept(fmt_name: str, kind: str) -> str:
    """The Accept sent to the remote for an answer in `fmt_name`: that format when pyoxigraph can
    read it back (to count and cap it), else a lossless one (JSON, N-Triples; CSV and JSON-LD are
    rendered here), with the lossless one as a lower-q fallback."""
    fmt = formats.BY_NAME[fmt_name]
    readable = fmt.results in (ox.QueryResultsFormat.JSON, ox.QueryResultsFormat.XML, ox.QueryResultsFormat.TSV) \
        or fmt.name in ("turtle", "ntriples", "nquads", "trig", "rdfxml")
    wire = fmt if readable else formats.BY_NAME[_WIRE_FALLBACK[kind]]
    fallback = formats.BY_NAME["json" if kind == "bindings" else "ntriples"]
    return wire.media_type if wire == fallback else f"{wire.media_type}, {fallback.media_type};q=0.5"


class RemoteEngine:
    """The same `run(QueryRequest) -> QueryAnswer` as `QueryEngine`, answered by a remote SPARQL 1.1 service.

    - Guarded the same way (`check_query`), and the query form is read by the same lexical
      scan, so OUR `formats.negotiate` picks the format before the remote is asked.
    - The remote is asked for that format (or JSON / N-Triples when pyoxigraph cannot read the
      format back, e.g. CSV, JSON-LD), with a lower-q fallback. Its body is read ahead and
      counted (`renderers.count_answer`; else with pyoxigraph's parsers, at most max_result_rows + 1
      items); when the answer fits and came in the negotiated format, the remote's bytes are
      passed through unchanged.
      Only a capped answer (or one in another format, or Turtle with our prefixes) is
      re-serialized. The query text is never rewritten (no LIMIT is added: a LIMIT around an
      ORDER BY subquery would not keep the order in every engine); a capped answer stops
      reading and drops the connection, so the remote's excess rows are not transferred.
    - The time limit is the HTTP client's: past query_timeout_s the answer is 503 QueryTimeout
      (the remote may go on evaluating; give it a timeout of its own too, see the README, Scale).
    - The default graph is the union of the named graphs, as in the embedded store: queries
      naming no dataset carry `remote_union_param` when the remote needs one.
    """

    def __init__(self, settings: Settings) -> None:
        from .remote import RemoteStore

        self.settings = settings
        self.remote = RemoteStore(settings)
        self.timeouts = 0
        self.on_timeout: Callable[[], object] | None = None

    def data_version(self) -> tuple[str, float]:
        return self.remote.data_version()

    @contextmanager
    def exclusive(self, wait_s: float = 30.0) -> Iterator[None]:
        """Nothing to pause: the remote serializes its own transactions."""
        yield

    def close(self) -> None:
        self.remote.close()

    def run(self, request: QueryRequest) -> QueryAnswer:
        started = time.monotonic()
        shape = check_query(request.query, max_depth=self.settings.max_query_depth,
                            allowed_services=self.settings.allowed_services, base_iri=request.base_iri)
        kind = "graph" if shape.form in ("CONSTRUCT", "DESCRIBE") else "bindings"
        fmt = formats.negotiate(request.accept, [formats.GRAPH if kind == "graph" else formats.BINDINGS],
                                request.format)
        accept = _wire_accept(fmt.name, kind)
        data = self.remote.form(with_base(request.query, request.base_iri), accept=accept,
                                default_graph_uris=request.default_graph_uris,
                                named_graph_uris=request.named_graph_uris,
                                union=not shape.has_dataset_clause)
        limit = self.settings.max_result_rows
        deadline = started + self.settings.query_timeout_s
        try:
            with self.remote.stream_query(data, accept, deadline - time.monotonic()) as resp:
                got = formats.by_media_type(resp.headers.get("content-type", ""))
                if got is None or (got.results is None and got.rdf is None):
                    raise errors.BadGateway(f"the SPARQL store answered with {resp.headers.get('content-type')!r}, "
                                            "which this service cannot read")
                reader = BodyReader(resp, deadline, self.remote.timeout)
                answer = self._count(reader, got, fmt, limit, request.prefixes,
                                     cut_by_remote=CUT_HEADER in resp.headers)
        except errors.QueryTimeout:
            self.timeouts += 1
            if self.on_timeout is not None:
                self.on_timeout()
            raise
        except SyntaxError as exc:
            raise errors.BadGateway(f"the SPARQL store's answer does not parse: {exc}") from None
        body, kind_out, count, truncated = answer
        ms = (time.monotonic() - started) * 1000
        return QueryAnswer(body, fmt.name, kind_out, count, truncated, ms, ms)

    @staticmethod
    def _count(reader: Any, got: Any, fmt: Any, limit: int,
               prefixes: dict[str, str] | None, cut_by_remote: bool = False) -> tuple[bytes, str, int, bool]:
        """Count (and if needed re-serialize) the remote's answer. An answer the remote itself cut
        (Virtuoso's ResultSetMaxRows) is announced as truncated, like one cut at our own cap."""
        same = got.name == fmt.name and not cut_by_remote
        if same and reader.prefetch(limit * BYTES_PER_ROW):
            whole = bytes(reader.kept)
            counted = count_answer(whole, got.name)
            if counted is not None and counted[1] <= limit:
                return whole, counted[0], counted[1], False
        buffered = io.BufferedReader(reader, buffer_size=1 << 16)   # for pyoxigraph's parsers
        if got.results is not None:
            result = ox.parse_query_results(buffered, got.results)
            if isinstance(result, ox.QueryBoolean):
                body = reader.drain() if same else render_boolean(fmt, bool(result))
                return body, "boolean", 1, False
            variables = [v.value for v in result.variables]
            # Rows are only counted, unless they have to be written again here (a tuple per row
            # costs more than the parse).
            solutions = list(itertools.islice(result, limit + 1))
            truncated = len(solutions) > limit or cut_by_remote
            solutions = solutions[:limit]
            if same and not truncated:
                return reader.drain(), "bindings", len(solutions), False
            rows = [tuple(sol[i] for i in range(len(variables))) for sol in solutions]
            return render_bindings(fmt, variables, rows, truncated), "bindings", len(rows), truncated
        quads = list(itertools.islice(ox.parse(buffered, format=got.rdf), limit + 1))
        truncated = len(quads) > limit or cut_by_remote
        quads = quads[:limit]
        if same and not truncated and not (prefixes and fmt.name in ("turtle", "trig")):
            return reader.drain(), "graph", len(quads), False
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
        return render_triples(fmt, triples, prefixes), "graph", len(triples), truncated


_RELATIVE_IRI = re.compile(r"<(?![A-Za-z][A-Za-z0-9+.\-]*:)[^<>\"{}|^`\\\x00-\x20]*>")


def with_base(query: str, base_iri: str | None) -> str:
    """The query as the remote must read it: the remote would resolve a relative IRI against its
    own URL, so a query that may hold one is sent with our base declared first (a BASE of the
    query's own comes later and still wins)."""
    if base_iri is None or not _RELATIVE_IRI.search(query):
        return query
    return f"BASE <{base_iri}> {query}"


def make_engine(settings: Settings) -> Any:
    """The one place that chooses how queries run: on the remote service when remote_query_url is
    set; else in this process (query_isolation=worker, see `inline_engine`) or in query processes."""
    if settings.remote:
        return RemoteEngine(settings)
    if settings.query_isolation == "worker":
        from .inline_engine import InlineEngine

        return InlineEngine(settings)
    return QueryEngine(settings)
