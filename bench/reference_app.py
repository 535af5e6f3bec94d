"""WSGI apps that set how fast any gunicorn-served Python endpoint can be (bench/run.py and
bench/scale.py, --references).

- `hello`: reads the request and answers a fixed SPARQL JSON boolean, without a query: what
  gunicorn and the HTTP exchange alone cost.
- `bare`: runs the query on pyoxigraph and answers with pyoxigraph's own serializer, with no
  protocol checks, limits, negotiation, metrics or log: the floor for an endpoint on this store.

- `handoff`: `bare` as `kg serve` runs a query: a gevent worker reads the request and the query
  runs on a native thread of gevent's pool while the worker waits: the floor for this design
  (slow clients hold greenlets, queries run beside them), whose hand-off between threads `bare`
  does not pay.

- `proxy`: forwards the request body to a remote SPARQL endpoint on one kept-alive
  `http.client` connection per thread and returns its answer: the floor for a remote store.

Not a server anyone should run: no error handling at all. The store is named by KG_BENCH_STORE,
the remote (`host:port/path?query`) by KG_BENCH_REMOTE.
"""
from __future__ import annotations

import http.client
import os
import threading
from typing import Any, Callable, Iterable

import pyoxigraph as ox

_STORE = ox.Store.read_only(os.environ["KG_BENCH_STORE"]) if os.environ.get("KG_BENCH_STORE") else None
_TRUE = b'{"head":{},"boolean":true}'


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/sparql-results+json"), ("Content-Length", str(len(_TRUE)))])
    return [_TRUE]


def _answer(query: str) -> tuple[bytes, str]:
    assert _STORE is not None
    result = _STORE.query(query, use_default_graph_as_union=True)
    if isinstance(result, ox.QueryTriples):
        return result.serialize(format=ox.RdfFormat.N_TRIPLES), "application/n-triples"
    return result.serialize(format=ox.QueryResultsFormat.JSON), "application/sparql-results+json"


def bare(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    query = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode("utf-8")
    body, ctype = _answer(query)
    start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]


_pool: Any = None


def handoff(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    global _pool
    if _pool is None:
        from gevent.threadpool import ThreadPool

        _pool = ThreadPool(16)
    query = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode("utf-8")
    body, ctype = _pool.spawn(_answer, query).get()
    start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]


_REMOTE = os.environ.get("KG_BENCH_REMOTE", "")
_local = threading.local()


def proxy(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    host, _, target = _REMOTE.partition("/")
    headers = {"Content-Type": environ["CONTENT_TYPE"], "Accept": environ.get("HTTP_ACCEPT", "*/*")}
    for attempt in (0, 1):   # the remote may have closed a connection that sat idle
        conn = getattr(_local, "conn", None) or http.client.HTTPConnection(host, timeout=120)
        _local.conn = conn
        try:
            conn.request("POST", "/" + target, body=body, headers=headers)
            resp = conn.getresponse()
            break
        except (http.client.RemoteDisconnected, ConnectionError):
            conn.close()
            _local.conn = None
            if attempt:
                raise
    answer = resp.read()
    start_response(f"{resp.status} {resp.reason}", [("Content-Type", resp.getheader("Content-Type", "")),
                                                    ("Content-Length", str(len(answer)))])
    return [answer]
