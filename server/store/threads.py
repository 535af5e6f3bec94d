"""Native threads for work that releases the GIL or takes long: queries on the embedded store
(`NativeThreads`, and `Waiters`, the requests waiting on them), validation (`computation`).

Why native threads: pyoxigraph releases the GIL while it evaluates, so a query on a thread of
its own runs beside the requests of the same process, on another core. Under `kg serve` the
requests themselves are greenlets (gevent) on one thread: a query computed there would hold up
every other request of the worker. So the work goes to a pool of native threads and the request
waits for it, at most until its deadline.

Two backends, chosen at first use (after gunicorn has forked and gevent has patched): gevent's
`ThreadPool` when gevent has patched the socket module (waiting yields to the other greenlets),
else daemon threads (the CLI, Flask's test client). Daemon threads, not concurrent.futures':
those are joined at exit, and a query past its limit would keep the process alive until it ends.

Threads started once a pool exists get a stack of STACK_BYTES (address space; memory is used only
as deep as a thread goes): Oxigraph's SPARQL parser recurses once per operator or pattern of a
flat chain (`FILTER(1+1+…)`, `{} UNION {} UNION …`), and on a default 8 MiB stack chains of a
few thousand ended the process (bench/README.md has the sizes). On this stack they are parsed,
slowly: the time limit ends them like any long query.
"""
from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

T = TypeVar("T")
STACK_BYTES = 256 * 1024 * 1024


_patched = False


def gevent_patched() -> bool:
    """True in a gevent worker (sockets patched): blocking there must yield to other greenlets.
    Once patched, a process stays patched: that answer is kept."""
    global _patched
    if not _patched:
        monkey = sys.modules.get("gevent.monkey")
        _patched = monkey is not None and bool(monkey.is_module_patched("socket"))
    return _patched


class NativeThreads:
    """At most `size` jobs at once, each on a native thread; more jobs wait for a free thread.

    `run` waits for a job until a deadline and raises TimeoutError past it; the job itself cannot
    be stopped and goes on. `when_done` callbacks run once the job has really ended, in the
    context that submitted it (the gevent hub, or the job's own thread otherwise).
    """

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._pool: _Pool | None = None
        self._lock = threading.Lock()

    def _backend(self) -> _Pool:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    _deep_stacks()
                    self._pool = _GeventPool(self.size) if gevent_patched() else _DaemonPool(self.size)
        return self._pool

    def run(self, deadline_s: float, fn: Callable[..., T], *args: Any,
            when_done: Callable[[], None] | None = None) -> T:
        """`fn(*args)` on a native thread; its result, its exception, or TimeoutError after
        `deadline_s` seconds (then the job goes on until it ends)."""
        pool = self._pool or self._backend()
        return pool.run(max(deadline_s, 0.0), fn, args, when_done)


class Waiters:
    """The requests now waiting on native threads (for a slot, or for a query's thread), so that
    a gevent worker that must end can answer them soon (`interrupt`) rather than keep them -- and
    itself, and in write mode the whole service -- waiting until their own time limits."""

    def __init__(self) -> None:
        self._waits: dict[Any, tuple[object, float]] = {}   # greenlet -> (this wait, when it started)
        self._timers: list[Any] = []

    def enter(self, started: float) -> tuple[Any, object] | None:
        """The wait of one request that started at `started` (time.monotonic()) begins; in a gevent
        worker only (elsewhere there is no worker to end). What it returns goes to `leave`."""
        if not gevent_patched():
            return None
        from greenlet import getcurrent

        me, wait = getcurrent(), object()
        self._waits[me] = (wait, started)
        return me, wait

    def leave(self, entered: tuple[Any, object] | None) -> None:
        if entered is not None and self._waits.get(entered[0], (None, 0.0))[0] is entered[1]:
            del self._waits[entered[0]]

    def interrupt(self, error: Callable[[], BaseException], grace_s: float) -> None:
        """Raise `error()` (each its own instance) in every request waiting now, once `grace_s`
        have passed since it started (at once for one that has waited that long): it answers with
        the error. As gevent's kill does, from the event loop; unlike it, only into the same wait
        (not into a request answering already, which would cut its answer)."""
        if not self._waits:
            return
        import gevent

        loop = gevent.get_hub().loop
        now = time.monotonic()
        for greenlet, (wait, started) in list(self._waits.items()):
            timer = loop.timer(max(0.0, started + grace_s - now))
            timer.start(self._throw, greenlet, wait, error)
            self._timers.append(timer)

    def _throw(self, greenlet: Any, wait: object, error: Callable[[], BaseException]) -> None:
        if self._waits.get(greenlet, (None, 0.0))[0] is wait:
            greenlet.throw(error())


def _deep_stacks() -> None:
    """Threads started from now on in this process get STACK_BYTES of stack (see the module docstring)."""
    stack_size: Callable[[int], int] = threading.stack_size
    if gevent_patched():
        from gevent import monkey

        stack_size = monkey.get_original("_thread", "stack_size")
    stack_size(STACK_BYTES)


class _Pool:
    def run(self, timeout: float, fn: Callable[..., T], args: tuple[Any, ...],
            when_done: Callable[[], None] | None) -> T:
        """`fn(*args)` on a thread of the pool: its result or its exception, or TimeoutError after
        `timeout` s; `when_done` once the job has ended (or failed to start)."""
        raise NotImplementedError


class _DaemonPool(_Pool):
    """`size` daemon threads, started as needed, serving one queue of jobs."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = queue.SimpleQueue()
        self._started = 0
        self._idle = 0
        self._lock = threading.Lock()

    def run(self, timeout: float, fn: Callable[..., T], args: tuple[Any, ...],
            when_done: Callable[[], None] | None) -> T:
        future: Future[T] = Future()
        if when_done is not None:
            future.add_done_callback(lambda _f: when_done())
        with self._lock:
            start = self._idle == 0 and self._started < self.size
            if start:
                self._started += 1
            elif self._idle:
                self._idle -= 1
        self._jobs.put((future, fn, args))
        if start:
            try:
                threading.Thread(target=self._loop, name="kg-native", daemon=True).start()
            except BaseException:
                if when_done is not None:
                    when_done()
                raise
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            raise TimeoutError from None

    def _loop(self) -> None:
        while True:
            future, fn, args = self._jobs.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # handed to the waiting caller
                    future.set_exception(exc)
            del future, fn, args   # an idle thread holds no store, no request
            with self._lock:
                self._idle += 1


class _GeventPool(_Pool):
    """gevent's pool of native threads; the caller's greenlet waits, the others go on."""

    def __init__(self, size: int) -> None:
        from gevent import Timeout
        from gevent.threadpool import ThreadPool

        self._pool = ThreadPool(size)
        self._timeout = Timeout

    def run(self, timeout: float, fn: Callable[..., T], args: tuple[Any, ...],
            when_done: Callable[[], None] | None) -> T:
        try:
            result = self._pool.spawn(fn, *args)
        except BaseException:
            if when_done is not None:
                when_done()
            raise
        try:
            return result.get(timeout=timeout)  # type: ignore[no-any-return]
        except self._timeout:
            raise TimeoutError from None
        finally:
            if when_done is not None:
                if result.ready():   # the job has ended (its value or its error is here)
                    when_done()
                else:                # it goes on (past the time limit, or this wait was interrupted)
                    result.rawlink(lambda _r: when_done())   # runs in the hub once it has ended


def computation(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` on a native thread of gevent's pool when this is a gevent worker (a
    validation computes for a long while without waiting on anything, and every other request of
    the worker would wait for it on the event loop); elsewhere (threads, the CLI) it simply runs.
    What runs there must not use the worker's sockets (gevent ties each to the thread that opened
    it): validation computes on an in-memory copy."""
    if not gevent_patched():
        return fn(*args, **kwargs)
    import gevent

    return gevent.get_hub().threadpool.apply(fn, args, kwargs)  # type: ignore[no-any-return]
