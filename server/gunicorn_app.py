"""Running the app under gunicorn, with workers chosen for the store's concurrency rules.

Every gunicorn worker opens the store read-only (through its query processes); read-only
opens are safe side by side. Writes need the single writer, so with a write token the
server runs one worker process (with threads) and the writer lives there.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication

from .settings import Settings

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
        from . import create_app

        return create_app(self.settings)


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


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    workers = 1 if settings.writes_enabled else max(1, settings.workers)
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": workers,
        "threads": max(1, settings.threads),
        "worker_class": "gthread",
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
    }


def run(settings: Settings) -> None:
    # Metrics from every worker process are added up through files in one folder, which must
    # be set before the workers start (prometheus_client's multiprocess mode).
    if not os.environ.get(MULTIPROC_ENV):
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="kg-metrics-")
    _Server(settings, gunicorn_options(settings)).run()
