"""Two WSGI apps that set how fast any gunicorn-served Python endpoint can be (bench/run.py --references).

- `hello`: reads the request and answers a fixed SPARQL JSON boolean, without a query: what
  gunicorn and the HTTP exchange alone cost.
- `bare`: runs the query on pyoxigraph and answers with pyoxigraph's own serializer, with no
  protocol checks, limits, negotiation, metrics or log: the floor for an endpoint on this store.

Not a server anyone should run: no error handling at all. The store is named by KG_BENCH_STORE.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable

import pyoxigraph as ox

_STORE = ox.Store.read_only(os.environ["KG_BENCH_STORE"]) if os.environ.get("KG_BENCH_STORE") else None
_TRUE = b'{"head":{},"boolean":true}'


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/sparql-results+json"), ("Content-Length", str(len(_TRUE)))])
    return [_TRUE]


def bare(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    assert _STORE is not None
    query = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode("utf-8")
    result = _STORE.query(query, use_default_graph_as_union=True)
    if isinstance(result, ox.QueryTriples):
        body, ctype = result.serialize(format=ox.RdfFormat.N_TRIPLES), "application/n-triples"
    else:
        body, ctype = result.serialize(format=ox.QueryResultsFormat.JSON), "application/sparql-results+json"
    start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]
