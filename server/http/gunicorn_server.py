"""Running the app under gunicorn, with workers chosen for the store's concurrency rules.

Every gunicorn worker opens the store read-only; read-only opens are safe side by side. A
read-only server answers queries inside its workers (`inline_engine`: a worker whose query
runs past the time limit retires and gunicorn starts a fresh one). Writes need the single
writer, so with a write token the server runs one worker process (with threads), the writer
lives there and queries run in query processes that step aside while a write is applied.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import selectors
import shutil
import socket
import sys
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from ..settings import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        from .. import create_app
        from ..store.inline_engine import InlineEngine, retire_gunicorn_worker

        app = create_app(self.settings)
        engine = app.extensions["kg"].engine
        if isinstance(engine, InlineEngine):
            front = app.wsgi_app  # the lean SPARQL path: it counts the requests in flight
            engine.retire = functools.partial(
                retire_gunicorn_worker, still_running=lambda: front.in_flight() > engine.stuck(),
                grace_s=float(self.options["graceful_timeout"]))
        return app


def _when_ready(server: Any) -> None:
    for listener in server.LISTENERS:
        print(f"kg: serving on {str(listener).rstrip('/')}/ (SPARQL at /sparql)", file=sys.stderr, flush=True)


def _child_exit(server: Any, worker: Any) -> None:
    from .observability import worker_exited

    worker_exited(worker.pid)


def _on_exit(server: Any) -> None:
    folder = os.environ.get(MULTIPROC_ENV, "")
    if folder.startswith(tempfile.gettempdir()) and os.path.basename(folder).startswith("kg-metrics-"):
        shutil.rmtree(folder, ignore_errors=True)


class LingeringThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker, except that the thread that answered a request on a kept-alive
    connection waits up to `linger_s` for that client's next request and answers it too.

    Why: gthread hands every kept-alive connection back to its poller thread after each answer
    (through a pipe) and the poller hands the next request to a pool thread again: two thread
    wake-ups per request, about 0.2 ms on these machines, paid by every client that sends
    queries back to back (scripts, SPARQLWrapper loops, benchmarks). A client that pauses longer
    goes back to the poller as before; a thread is held at most `linger_s` per answer, and not
    at all while other connections wait for a thread."""

    linger_s = 0.001

    def handle(self, conn: Any) -> Any:
        result = super().handle(conn)
        while result is True and self.alive and self._next_request_soon(conn):
            result = super().handle(conn)
        return result

    def _next_request_soon(self, conn: Any) -> bool:
        if conn.parser.unreader.buf.getvalue():   # the last read took in the start of the next request
            return True
        waiting = getattr(self.tpool, "_work_queue", None)   # connections waiting for a thread
        if self.linger_s <= 0 or (waiting is not None and not waiting.empty()):
            return False
        with selectors.DefaultSelector() as selector:
            selector.register(conn.sock, selectors.EVENT_READ)
            return bool(selector.select(self.linger_s))


def _lingering(linger_ms: float) -> type[LingeringThreadWorker]:
    """The worker class with this linger (a class of its own: gunicorn instantiates it in each worker)."""
    return type("LingeringThreadWorker", (LingeringThreadWorker,), {"linger_s": linger_ms / 1000})


def worker_class(settings: Settings) -> str:
    """`gevent` for a remote store: a request there mostly waits on the remote, and greenlets answer
    it without gthread's hand-offs between the poller and a pool thread (0.12 ms less a query,
    measured at 1M triples). Queries on the embedded store compute in the worker, which a greenlet
    must never do: they keep `gthread`."""
    if settings.keepalive_linger_ms < 0:
        from ..errors import SettingsError

        raise SettingsError(f"keepalive_linger_ms is a time in milliseconds, 0 or more; got {settings.keepalive_linger_ms:g}")
    if settings.worker_class == "auto":
        return "gevent" if settings.remote else "gthread"
    if settings.worker_class == "gevent" and not settings.remote:
        from ..errors import SettingsError

        raise SettingsError("worker_class=gevent serves a remote store only (remote_query_url): queries on the "
                            "embedded store run in the worker and would hold up every other request; use gthread")
    return settings.worker_class


def _worker_class_option(settings: Settings) -> Any:
    """What gunicorn is given: gthread with a linger (see LingeringThreadWorker) unless it is 0."""
    chosen = worker_class(settings)
    if chosen == "gthread" and settings.keepalive_linger_ms > 0:
        return _lingering(settings.keepalive_linger_ms)
    return chosen


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.worker_processes,
        "threads": max(1, settings.threads),
        "worker_class": _worker_class_option(settings),
        # The app enforces the query time limit itself; gunicorn's limit is a backstop.
        "timeout": int(settings.query_timeout_s) + 30,
        "graceful_timeout": 10,
        # The app writes the access log itself (observability.py): gunicorn's would print the
        # query string, which holds the whole query.
        "accesslog": None,
        "child_exit": _child_exit,
        "on_exit": _on_exit,
        "errorlog": "-",
        "when_ready": _when_ready,
        "limit_request_line": 8190,
        # gunicorn's control socket lives at one fixed path in the home folder: two servers on one
        # machine (a benchmark beside the served store, the tests) would take it from each other.
        "control_socket_disable": True,
    }


def resolve_isolation(settings: Settings) -> Settings:
    """`auto`: queries in the worker when nothing writes, in query processes when something does."""
    if settings.writes_enabled and settings.query_isolation == "worker":
        from ..errors import SettingsError

        raise SettingsError("query_isolation=worker cannot be combined with a write token: opening the store "
                            "read-only beside its writer is undefined behaviour; use process (or auto)")
    if settings.query_isolation != "auto":
        return settings
    return dataclasses.replace(settings, query_isolation="process" if settings.writes_enabled else "worker")


def check_port_free(settings: Settings) -> None:
    """A port another process listens on is named with the flag that changes it. (gunicorn retries
    for five seconds and then says only "Can't connect".)"""
    if settings.port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            from ..errors import SettingsError

            raise SettingsError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}; is another "
                                f"server running there? Choose another port with --port (e.g. --port "
                                f"{settings.port + 1}) or KG_PORT, or --port 0 for any free one") from None


def run(settings: Settings) -> None:
    # Metrics from every worker process are added up through files in one folder, which must
    # be set before the workers start (prometheus_client's multiprocess mode).
    if not os.environ.get(MULTIPROC_ENV):
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="kg-metrics-")
    settings = resolve_isolation(settings)
    check_port_free(settings)
    _Server(settings, gunicorn_options(settings)).run()
