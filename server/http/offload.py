"""Long computations of a request, kept off a gevent worker's event loop.

Why: on a remote store `kg serve` runs gevent workers (see `gunicorn_app.worker_class`). Their
requests take turns on one thread and change turns only while one waits. A validation computes
without waiting (0.2 s on the project's graph, far longer at a million triples), and every other
request of that worker would wait for it. On a gevent worker it runs in a native thread of
gevent's pool instead: its greenlet waits for the result and the others go on. Elsewhere
(threads, the CLI, the tests) it simply runs. What runs there must not use the worker's sockets
(gevent ties each to the thread that opened it): validation computes on an in-memory copy.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def computation(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)`, in a native thread when this is a gevent worker."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("socket"):
        return fn(*args, **kwargs)
    import gevent

    return gevent.get_hub().threadpool.apply(fn, args, kwargs)  # type: ignore[no-any-return]
