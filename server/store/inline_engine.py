"""Query execution inside the serving process: the fast path of a read-only `kg serve`.

Why: handing each query to a query process (`engine.QueryEngine`) costs two pipe hops and as
many context switches; on two cores that was most of a small query's time (0.30x of
`oxigraph serve`'s queries/s at 10k triples against 0.5x with the query run in place).

How the time limit still holds: pyoxigraph releases the GIL while it evaluates, so another
thread runs while a query does. Under gunicorn a query runs on its request thread (handing it to
another thread cost a third of the throughput) and one watchdog thread per worker watches the
deadlines; past one it answers the client 503 on the connection itself (`abort`) and the worker
retires (`retire_gunicorn_worker`: no new connections, requests in flight finish, then the
process ends with its runaway query, and gunicorn starts a fresh worker while the others go on
serving). Elsewhere (Flask's test client, `flask run`) a query runs on a daemon thread the
request thread waits for, at most the time limit. A native crash also costs this worker only.

Used only when nothing in the process writes: opening a store read-only beside a writer is
undefined behaviour, so a server with a write token keeps the query processes.
"""
from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import errors
from ..settings import Settings
from ..sparql.guard import check_query
from .embedded import KGStore, data_version
from .engine import QueryAnswer, QueryRequest, answer_from_reply, query_message, timeout_error
from .query_process import answer

log = logging.getLogger("kg.engine")


class _DaemonThreads:
    """Runs jobs on daemon threads, started as needed and kept while idle.

    Not concurrent.futures.ThreadPoolExecutor: its threads are joined at exit, and a runaway
    query's thread would keep the retiring process alive until the query ends (possibly never).
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            start = self._idle == 0
            if not start:
                self._idle -= 1
        self._jobs.put((future, fn, args))
        if start:
            threading.Thread(target=self._loop, name="kg-query", daemon=True).start()
        return future

    def _loop(self) -> None:
        while True:
            future, fn, args = self._jobs.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # handed to the waiting request thread
                    future.set_exception(exc)
            with self._lock:
                self._idle += 1


class _Watchdog:
    """Deadlines of the queries running on request threads; calls a query's `abort` past its own.

    It wakes every half second rather than being told of each new query: telling it would cost a
    thread switch per query (the limit is met to within half a second).
    """

    TICK_S = 0.5

    def __init__(self, on_expired: Callable[[Callable[[], None]], None]) -> None:
        self._running: dict[int, tuple[float, Callable[[], None]]] = {}
        self._lock = threading.Lock()
        self._ids = iter(range(1 << 62))
        self._on_expired = on_expired
        self._thread: threading.Thread | None = None

    def watch(self, deadline: float, abort: Callable[[], None]) -> int:
        with self._lock:
            token = next(self._ids)
            self._running[token] = (deadline, abort)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="kg-watchdog", daemon=True)
                self._thread.start()
        return token

    def done(self, token: int) -> bool:
        """False when the query had already been aborted."""
        with self._lock:
            return self._running.pop(token, None) is not None

    def _loop(self) -> None:
        while True:
            time.sleep(self.TICK_S)
            now = time.monotonic()
            with self._lock:
                expired = [t for t, (deadline, _a) in self._running.items() if deadline <= now]
                aborts = [self._running.pop(t)[1] for t in expired]
            for abort in aborts:
                self._on_expired(abort)


def retire_gunicorn_worker(still_running: Callable[[], bool], grace_s: float, linger_s: float = 2.5) -> None:
    """Stop this gunicorn worker: SIGTERM makes it stop accepting and finish what is in flight;
    its arbiter starts a fresh worker once it has gone. It cannot exit by itself while a runaway
    query holds a thread, so it is ended here once nothing else runs (after gunicorn's linger for
    kept-alive connections) or after `grace_s`."""
    os.kill(os.getpid(), signal.SIGTERM)

    def finish() -> None:
        started = time.monotonic()
        while True:
            time.sleep(0.1)
            waited = time.monotonic() - started
            if waited >= grace_s or (waited >= linger_s and not still_running()):
                logging.shutdown()
                os._exit(0)

    threading.Thread(target=finish, name="kg-retire", daemon=True).start()


class InlineEngine:
    """The same `run(QueryRequest) -> QueryAnswer` as `QueryEngine`, evaluated in this process."""

    def __init__(self, settings: Settings, retire: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.link = Path(settings.store)
        self.retire = retire
        self.timeouts = 0
        self.on_timeout: Callable[[], object] | None = None
        self.retiring = False
        self._threads = _DaemonThreads()
        self._watchdog = _Watchdog(self._expired)
        self._stuck = 0   # aborted queries whose request thread is still inside the engine
        self._stuck_lock = threading.Lock()
        self._lock = threading.Lock()
        self._store: KGStore | None = None
        self._target: str | None = None
        self._checked = 0.0

    def data_version(self) -> tuple[str, float]:
        """(opaque version, last-modified epoch seconds) of the served data."""
        return data_version(self.link)

    def _current_store(self) -> KGStore:
        """The store the link points at (checked at most once a second: `kg build` swaps the link)."""
        now = time.monotonic()
        if self._store is not None and now - self._checked <= 1.0:
            return self._store
        with self._lock:
            if not self.link.exists():
                raise errors.ServiceUnavailable(f"no store at {self.link}; run `kg build`")
            target = str(self.link.resolve())
            if target != self._target or self._store is None:
                try:
                    self._store = KGStore(target, read_only=True)
                except OSError as exc:
                    raise errors.ServiceUnavailable(f"the store at {target} could not be opened: {exc}") from None
                self._target = target
            self._checked = now
            return self._store

    @contextmanager
    def exclusive(self, wait_s: float = 30.0) -> Iterator[None]:
        """Never granted: this engine is chosen only when the server does not write."""
        raise errors.ServiceUnavailable("this server answers queries in place and does not write "
                                        "(query_isolation=worker); writes need query_isolation=process")
        yield  # pragma: no cover

    def close(self) -> None:
        self._store = None

    def run(self, request: QueryRequest, abort: Callable[[], None] | None = None) -> QueryAnswer:
        """Guard, evaluate, and keep the time limit.

        `abort` answers the client 503 on the connection itself: given one (and a way to retire
        this process), the query runs on the calling thread; else on a query thread, waited for.
        """
        started = time.monotonic()
        shape = check_query(request.query, max_depth=self.settings.max_query_depth,
                            allowed_services=self.settings.allowed_services, max_kb=self.settings.max_query_kb,
                            base_iri=request.base_iri)
        store = self._current_store()
        message = query_message(request, shape, self.settings)
        deadline = started + self.settings.query_timeout_s
        if abort is not None and self.retire is not None:
            return self._run_here(store, message, started, deadline, abort)
        future = self._threads.submit(answer, store, message)
        try:
            reply = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            self._runaway()
            raise timeout_error(self.settings) from None
        return answer_from_reply(reply, started)

    def _run_here(self, store: KGStore, message: dict[str, Any], started: float, deadline: float,
                  abort: Callable[[], None]) -> QueryAnswer:
        token = self._watchdog.watch(deadline, abort)
        aborted = False
        try:
            reply = answer(store, message)
        finally:
            if not self._watchdog.done(token):
                aborted = True
                with self._stuck_lock:
                    self._stuck -= 1
        if aborted:
            raise timeout_error(self.settings)  # the client already has its 503
        return answer_from_reply(reply, started)

    def stuck(self) -> int:
        """Aborted queries still running on their request threads."""
        return self._stuck

    def _expired(self, abort: Callable[[], None]) -> None:
        with self._stuck_lock:
            self._stuck += 1
        try:
            abort()
        finally:
            self._runaway()

    def _runaway(self) -> None:
        """A query is past its limit and cannot be stopped: count it and retire this process."""
        self.timeouts += 1
        if self.on_timeout is not None:
            self.on_timeout()
        if self.retiring:
            return
        self.retiring = True
        if self.retire is not None:
            log.warning("a query ran past %.0f s; this worker (pid %d) retires and a fresh one takes its place",
                        self.settings.query_timeout_s, os.getpid())
            self.retire()
        else:
            log.warning("a query ran past %.0f s and keeps its thread until it ends (no worker to retire here)",
                        self.settings.query_timeout_s)
