"""Running the app under gunicorn, with workers chosen for the store's concurrency rules.

Every gunicorn worker opens the store read-only (through its query processes); read-only
opens are safe side by side. Writes need the single writer, so with a write token the
server runs one worker process (with threads) and the writer lives there.
"""
from __future__ import annotations

import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from .settings import Settings


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
        print(f"kg: serving on http://{listener}/ (SPARQL at /sparql)", file=sys.stderr, flush=True)


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
        "accesslog": "-",
        # The path without its query string: a query string may carry a token someone put
        # there by mistake (refused, and never logged) or a query that is nobody's business.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms',
        "errorlog": "-",
        "when_ready": _when_ready,
        "limit_request_line": 8190,
    }


def run(settings: Settings) -> None:
    _Server(settings, gunicorn_options(settings)).run()
