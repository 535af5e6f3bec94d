"""Operations: `/metrics` in Prometheus text format and one access-log line per request.

Metrics use `prometheus_client`. Under `kg serve` gunicorn runs several worker processes;
`gunicorn_server.run` sets PROMETHEUS_MULTIPROC_DIR before the workers start, so every worker
writes its counters to files there and `/metrics` (answered by any one worker) adds up all
of them. Without that variable (tests, `flask run`) the figures are this process's own.

The access log never holds the query text or the query string (they can carry personal
data and are long): it holds the method, the path, the status, the duration and a short
hash of the query, enough to correlate repeated queries. No header is logged.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request

from ..store.threads import gevent_patched

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The classic text format every Prometheus version scrapes (generate_latest writes it).
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

_LOADED = time.time()
FLUSH_S = 0.05   # longest a gevent worker holds an access-log line before writing it


class BatchingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Access-log lines of a gevent worker go out together, at most FLUSH_S after the first of
    them: one write to the log for all the requests answered meanwhile rather than a system call
    for each. Elsewhere (Flask's test client, the CLI) each line is written at once. `flush`
    writes what is held; `logging.shutdown`, which every way a worker ends goes through, calls it."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._held: list[str] = []
        self._timer: Any = None

    def emit(self, record: logging.LogRecord) -> None:
        if not gevent_patched():
            super().emit(record)
            return
        try:
            self.hold(self.format(record))
        except Exception:  # noqa: BLE001 (logging's own rule: a bad record never stops the app)
            self.handleError(record)

    def hold(self, line: str) -> None:
        """Keep a formatted line until the next write (in a gevent worker only)."""
        self._held.append(line + self.terminator)
        if self._timer is None:
            import gevent

            self._timer = gevent.get_hub().loop.timer(FLUSH_S)
            self._timer.start(self.flush)

    def flush(self) -> None:
        held, self._held = self._held, []
        if self._timer is not None:
            self._timer.close()
            self._timer = None
        if held:
            self.stream.write("".join(held))
        super().flush()


class AccessFormatter(logging.Formatter):
    """`asctime message`, the time as logging writes it by default (`2026-11-27 21:16:11,148`),
    with its date and time of day made once a second rather than for every line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s")
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        return self.time_of(record.created, record.msecs)

    def time_of(self, created: float, msecs: float) -> str:
        second, stamp = self._second
        if second != int(created):
            second = int(created)
            stamp = time.strftime(self.default_time_format, self.converter(created))
            self._second = (second, stamp)
        return self.default_msec_format % (stamp, msecs)

    def access_line(self, created: float, args: tuple[object, ...]) -> str:
        """The text `format` gives an AccessRecord of these `args`, made without the record."""
        return f"{self.time_of(created, (created - int(created)) * 1000)} {ACCESS_MESSAGE % args}"


ACCESS_MESSAGE = "%s %s %s %.1fms q=%s"


access_log = logging.getLogger("kg.access")
_default: tuple[BatchingHandler, AccessFormatter] | None = None
if not access_log.handlers:
    _default = (BatchingHandler(sys.stderr), AccessFormatter())
    _default[0].setFormatter(_default[1])
    access_log.addHandler(_default[0])
    access_log.setLevel(logging.INFO)
    access_log.propagate = False


def _default_handler() -> BatchingHandler | None:
    """The access log's own handler in a gevent worker, while the log is as this module set it up
    (that handler alone, its formatter, no filters): its lines are then made without a LogRecord
    and handed to it directly, as logging would."""
    if _default is None or not gevent_patched():
        return None
    handler, formatter = _default
    if access_log.handlers != [handler] or access_log.filters or handler.filters or handler.formatter is not formatter:
        return None
    return handler

bp = Blueprint("observability", __name__)


class Metrics:
    """The app's metrics, in a registry of its own (several apps may live in one test process)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("kg_http_requests", "HTTP requests answered, by route, method and status",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("kg_http_request_duration_seconds", "Time to answer a request, by route",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.errors = Counter("kg_http_errors", "Answers with a 4xx or 5xx status, by status",
                              ["status"], registry=self.registry)
        self.timeouts = Counter("kg_query_timeouts", "SPARQL queries stopped at the time limit",
                                registry=self.registry)
        self._series: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def series(self, route: str, method: str, code: str) -> tuple[Any, Any]:
        """The request counter's and the latency histogram's series for these labels, looked up
        once (prometheus_client's labels() validates and locks on every call)."""
        key = (route, method, code)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = (self.requests.labels(route, method, code), self.latency.labels(route))
        return found

    def exposition(self) -> tuple[bytes, str]:
        from prometheus_client import CollectorRegistry, generate_latest, multiprocess

        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), TEXT_FORMAT
        return generate_latest(self.registry), TEXT_FORMAT


def query_hash(text: str | None) -> str:
    """A short, stable fingerprint of a query: equal queries, equal hashes; the text stays private."""
    if not text:
        return "-"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def init_app(app: Flask) -> None:
    metrics = Metrics()
    app.extensions["kg_metrics"] = metrics
    app.extensions["kg"].engine.on_timeout = metrics.timeouts.inc
    app.register_blueprint(bp)

    @app.before_request
    def _start() -> None:
        g.kg_started = time.perf_counter()

    @app.after_request
    def _record(resp: Response) -> Response:
        seconds = time.perf_counter() - g.get("kg_started", time.perf_counter())
        # The route's rule, never the raw path: unknown paths must not create new series.
        route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
        text = request.args.get("query") or request.args.get("update")
        record_request(metrics, route, request.method, resp.status_code, request.path, seconds, text)
        return resp


def record_request(metrics: Metrics, route: str, method: str, status: int, path: str, seconds: float,
                   query: str | None) -> None:
    """Count one answered request and write its access-log line (Flask views and the lean path alike)."""
    code = str(status)
    count, latency = metrics.series(route, method, code)
    count.inc()
    latency.observe(seconds)
    if status >= 400:
        metrics.errors.labels(code).inc()
    if access_log.isEnabledFor(logging.INFO):
        args = (method, path, code, seconds * 1000, query_hash(query))
        handler = _default_handler()
        if handler is not None:
            handler.hold(_default[1].access_line(time.time(), args))  # type: ignore[index]
        else:
            access_log.handle(AccessRecord(args))


class AccessRecord(logging.LogRecord):
    """One access-log line, made with only what a formatter reads. Logger.info would first walk
    the stack for the caller's file and line, and LogRecord's own constructor looks up the module,
    thread and process names: most of a line's cost, for fields the log never shows."""

    def __init__(self, args: tuple[object, ...]) -> None:  # noqa: D107 (no super().__init__: see above)
        self.name, self.levelno, self.levelname = access_log.name, logging.INFO, "INFO"
        self.msg, self.args = ACCESS_MESSAGE, args
        self.pathname = self.filename = __file__
        self.module, self.lineno, self.funcName = "observability", 0, "record_request"
        self.exc_info = self.exc_text = self.stack_info = None
        self.created = time.time()
        self.msecs = (self.created - int(self.created)) * 1000
        self.relativeCreated = (self.created - _LOADED) * 1000
        self.thread = self.threadName = self.process = self.processName = self.taskName = None


@bp.get("/metrics")
def metrics_view() -> Response:
    body, ctype = current_app.extensions["kg_metrics"].exposition()
    return Response(body, content_type=ctype)


def worker_exited(pid: int) -> None:
    """gunicorn's child_exit hook: a dead worker's live gauges are dropped (counters are kept)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


