"""A query process: opens the store read-only and answers one query at a time over pipes.

The server keeps a few of these (see `engine`). pyoxigraph cannot cancel a query from
Python, so a query past its time limit is ended by ending this process; a native crash
here costs one query, not the server.

Messages travel on stdin/stdout as `ipc` frames.
"""
from __future__ import annotations

import itertools
import sys
import time
from typing import Any

import pyoxigraph as ox

from ..errors import KGError, QuerySyntaxError
from ..http import formats
from ..http.renderers import native_bindings, render_bindings, render_boolean, render_triples
from ..sparql.projection import ordered_star
from .embedded import KGStore
from .ipc import read_frame, write_frame

_MAX_MESSAGE = 240


def _syntax(exc: SyntaxError) -> QuerySyntaxError:
    """pyoxigraph says 'error at L:C: …'; keep line and column as fields."""
    text = str(exc)
    line = col = None
    if text.startswith("error at "):
        where, _, rest = text[len("error at "):].partition(": ")
        try:
            line_s, col_s = where.split(":")
            line, col = int(line_s), int(col_s)
        except ValueError:
            rest = text
        text = f"line {line}, column {col}: {rest}" if line else text
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE:  # the parser can list hundreds of expected characters
        text = text[:_MAX_MESSAGE].rsplit(",", 1)[0] + ", …"
    return QuerySyntaxError(f"syntax error at {text}", line=line, column=col)


def _graphs(iris: list[str]) -> list[ox.NamedNode]:
    return [ox.NamedNode(i) for i in iris]


def run_query(store: KGStore, req: dict[str, Any]) -> dict[str, Any]:
    """Evaluate, pick the format by the answer's kind, serialize at most max_rows items."""
    options: dict[str, Any] = {}
    # The default graph is the union of the named graphs -- unless the request names a dataset.
    # pyoxigraph's use_default_graph_as_union wins over a query's FROM, so it is switched off
    # when the query has FROM/FROM NAMED (Query §13.2). A protocol dataset (default-graph-uri,
    # named-graph-uri) wins over FROM (Protocol §2.1.4); pyoxigraph's options do exactly that.
    # A protocol dataset is the whole dataset: a part it does not give is empty (Query §13.2.1).
    if req.get("has_dataset_clause"):
        options["use_default_graph_as_union"] = False
    if req.get("default_graph_uris") or req.get("named_graph_uris"):
        options["default_graph"] = _graphs(req.get("default_graph_uris") or [])
        options["named_graphs"] = _graphs(req.get("named_graph_uris") or [])
        options["use_default_graph_as_union"] = False
    if req.get("base_iri"):
        options["base_iri"] = req["base_iri"]
    started = time.perf_counter()
    try:
        result = store.query(req["query"], **options)
    except SyntaxError as exc:
        raise _syntax(exc) from None
    limit = int(req["max_rows"])
    if isinstance(result, ox.QueryBoolean):
        fmt = formats.negotiate(req.get("accept"), [formats.BINDINGS], req.get("format"))
        body, count, truncated, kind = render_boolean(fmt, bool(result)), 1, False, "boolean"
    elif isinstance(result, ox.QuerySolutions):
        spelt_out = ordered_star(req["query"], [v.value for v in result.variables])
        if spelt_out is not None:   # SELECT *: columns in the order the query names them
            result = store.query(spelt_out, **options)
            req = {**req, "query": spelt_out}
        fmt = formats.negotiate(req.get("accept"), [formats.BINDINGS], req.get("format"))
        native = native_bindings(result, fmt, limit)
        if native is not None:
            body, count, truncated = native
            return {"ok": True, "body": body, "format": fmt.name, "kind": "bindings", "count": count,
                    "truncated": truncated, "ms": (time.perf_counter() - started) * 1000}
        result = store.query(req["query"], **options)   # rows that cannot be read back: again, capped here
        variables = [v.value for v in result.variables]
        rows = [tuple(sol[i] for i in range(len(variables))) for sol in itertools.islice(result, limit + 1)]
        truncated = len(rows) > limit
        rows = rows[:limit]
        body, count, kind = render_bindings(fmt, variables, rows, truncated), len(rows), "bindings"
    else:
        fmt = formats.negotiate(req.get("accept"), [formats.GRAPH], req.get("format"))
        triples = list(itertools.islice(result, limit + 1))
        truncated = len(triples) > limit
        triples = triples[:limit]
        body, count, kind = render_triples(fmt, triples, req.get("prefixes")), len(triples), "graph"
    return {"ok": True, "body": body, "format": fmt.name, "kind": kind, "count": count, "truncated": truncated,
            "ms": (time.perf_counter() - started) * 1000}


def _error(exc: KGError) -> dict[str, Any]:
    return {"ok": False, "class": type(exc).__name__, "message": exc.message, "detail": exc.detail}


def answer(store: KGStore, req: dict[str, Any]) -> dict[str, Any]:
    """`run_query`, with the query's own errors as a reply rather than an exception."""
    try:
        return run_query(store, req)
    except KGError as exc:
        return _error(exc)
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        # Oxigraph evaluation errors (a bad regex, an unsupported SERVICE...) are the
        # query's fault; the message names what failed.
        return {"ok": False, "class": "BadRequest", "message": f"query evaluation failed: {exc}", "detail": {}}


def serve(store_path: str) -> None:
    store = KGStore(store_path, read_only=True)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    write_frame(stdout, {"ok": True, "ready": True})
    while True:
        req = read_frame(stdin)
        if req is None:
            return
        write_frame(stdout, answer(store, req))


if __name__ == "__main__":
    serve(sys.argv[1])
