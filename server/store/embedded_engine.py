"""Queries on the embedded Oxigraph store, evaluated on native threads of the serving process.

Why in the process: a query of the benchmark mix costs Oxigraph a fraction of a millisecond; a
hop to another process (pickling, two pipe hops, the context switches) cost as much again.
pyoxigraph releases the GIL while it evaluates, so a query on a native thread (`threads`) runs
beside the other requests of its worker, on another core, and within one process a read-write
store serves concurrent queries beside its writes, each on a snapshot: a server with a write
token needs no second process either.

How a runaway query is stopped (the one way): it is not. pyoxigraph's `Store.query` cannot be
cancelled from Python, so at the time limit the request stops waiting and is answered 503
(`QueryTimeout`) like any other error, while the query goes on in its thread, holding its
client's slot (`admission`). The engine then calls `on_runaway`: under gunicorn the worker
retires (it stops accepting, and ends, query and all, as soon as the requests it is answering
are done; gunicorn starts a fresh one). Ending the process is the only way to end the query.
So that the worker ends soon, every query it is still running, or is asked meanwhile (on a
connection it had already taken), gets `retire_grace_s` from its start at most (a quick query is
answered; one that has run that long already is answered at once) and is otherwise answered
503 `Restarting` with `Retry-After` (a resend reaches a worker that serves it): waiting for their
own time limits would hold the retiring worker, and in write mode, where it is the only one, the
whole service. Elsewhere (Flask's test client, the CLI) the query keeps its thread until it
ends. A native crash also costs this process only.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .. import errors
from ..settings import Settings
from . import answers
from .admission import Admission
from .embedded import KGStore, data_version, open_shared, query_syntax_error
from .engine import QueryAnswer, QueryRequest, caps, deadline, timeout_error
from .threads import NativeThreads, Waiters

log = logging.getLogger("kg.engine")
RECHECK_S = 1.0   # how often the store link is looked at (`kg build` swaps it under a running server)


class EmbeddedEngine:
    """The `Engine` of the embedded store: read-only when the server does not write, read-write
    (shared with the write path, `curation`) when it does."""

    def __init__(self, settings: Settings, *, on_runaway: Callable[[], None] | None = None,
                 writable: bool = False) -> None:
        self.settings = settings
        self.link = Path(settings.store)
        self.writable = writable
        self.on_timeout: Callable[[], object] | None = None
        self.on_runaway = on_runaway
        self._ends_by: float | None = None   # when a retiring process stops answering queries
        self._caps = caps(settings)
        self._threads = NativeThreads(settings.query_threads)
        self._waiters = Waiters()
        self._admission = Admission(settings.query_threads, settings.max_client_queries)
        self._store: KGStore | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()

    def data_version(self) -> tuple[str, float]:
        return data_version(self.link)

    def close(self) -> None:
        self._store = None

    # -- queries ------------------------------------------------------------
    def run(self, request: QueryRequest) -> QueryAnswer:
        until = deadline(request, self.settings)
        limit = until
        if self._ends_by is not None:   # retiring: within the grace, or not at all
            limit = min(until, request.started + self.settings.retire_grace_s, self._ends_by)
            if limit <= time.monotonic():
                raise restarting()
        store = self.current_store()
        entered = self._waiters.enter(request.started)
        try:
            try:
                release = self._admission.acquire(request.client, limit)
                answer = self._threads.run(limit - time.monotonic(), evaluate, store, request, self._caps,
                                           when_done=release)
            finally:
                self._waiters.leave(entered)
        except errors.Busy:
            if limit < until:   # this process ends before the query's own limit
                raise restarting() from None
            raise
        except TimeoutError:
            if limit < until:
                raise restarting() from None
            self._runaway()
            raise timeout_error(self.settings) from None
        answer.total_ms = (time.monotonic() - request.started) * 1000
        return answer

    @property
    def retiring(self) -> bool:
        return self._ends_by is not None

    def _runaway(self) -> None:
        if self.on_timeout is not None:
            self.on_timeout()
        if self.retiring:
            return
        if self.on_runaway is None:
            log.warning("a query ran past %g s and keeps its thread until it ends", self.settings.query_timeout_s)
            return
        log.warning("a query ran past %g s and cannot be stopped: this process retires and a fresh one "
                    "takes its place", self.settings.query_timeout_s)
        self.retire()

    def retire(self) -> None:
        """This process is to end: every query it runs, or is asked from now on, gets `retire_grace_s`
        from its start, and `retire_grace_s` from now, at most, and is `Restarting` past that; then
        `on_runaway` ends the process."""
        if self.retiring:
            return
        grace = self.settings.retire_grace_s
        self._ends_by = time.monotonic() + grace
        self._waiters.interrupt(restarting, grace)
        if self.on_runaway is not None:
            self.on_runaway()

    # -- the store ----------------------------------------------------------
    def current_store(self) -> KGStore:
        """The store the link points at (looked at once a second: `kg build` swaps the link)."""
        now = time.monotonic()
        store = self._store
        if store is not None and now - self._checked <= RECHECK_S:
            return store
        with self._lock:
            if not self.link.exists():
                raise errors.ServiceUnavailable(f"no store at {self.link}; run `kg build`")
            target = self.link.resolve()
            if self._store is None or self._store.path != target:
                self._store = self._open(target)
            self._checked = now
            return self._store

    def _open(self, target: Path) -> KGStore:
        try:
            return open_shared(target, writable=self.writable)
        except OSError as exc:
            # A replaced worker may still hold the read-write lock for a moment: say so, briefly.
            raise errors.ServiceUnavailable(f"the store at {target} could not be opened: {exc}") from None

    @contextmanager
    def reading(self) -> Iterator[tuple[Path, ox.Store]]:
        """The store directory now served and its Oxigraph store, for reads outside SPARQL
        (validation, the write path's snapshot). Each of its iterators reads one snapshot."""
        store = self.current_store()
        assert store.path is not None
        yield store.path, store.ox

    @contextmanager
    def writable_store(self, target: Path) -> Iterator[ox.Store]:
        """The served store, read-write, for one write (`curation.store_access`), if it is still the
        one at `target` (the write path found it there under the store's lock file). Writers take
        turns; queries go on meanwhile, each on its own snapshot. Flushed after the write, so that
        a process opening the store read-only afterwards (`kg dump`) reads it whole."""
        if not self.writable:
            raise errors.Forbidden("this server is read-only: writes need the write token")
        with self._write_lock:
            store = self.current_store()
            if store.path != target:
                raise errors.ServiceUnavailable("the store was rebuilt while the write was being prepared; "
                                                "send it again")
            yield store.ox
            store.ox.flush()

def restarting() -> errors.Restarting:
    return errors.Restarting("this server process is being replaced (a query ran past its time limit, and ending "
                             "the process is the only way to stop it); the query was not evaluated: send it again",
                             retry_after_s=1)


def evaluate(store: KGStore, request: QueryRequest, caps_: answers.Caps) -> QueryAnswer:
    """Evaluate and write the answer in the negotiated format, within the caps (on a native thread)."""
    started = time.perf_counter()
    try:
        options = query_options(request)
        result = store.query(request.query, **options)
    except SyntaxError as exc:
        raise query_syntax_error(exc) from None
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        # Oxigraph's evaluation errors (a bad regex, an unreachable SERVICE…) are the query's
        # fault; the message names what failed.
        raise errors.BadRequest(f"query evaluation failed: {exc}") from None
    fmt = request.format
    if request.star is not None and isinstance(result, ox.QuerySolutions):
        spelt_out = star_spelt_out(request, [v.value for v in result.variables])
        if spelt_out is not None:   # SELECT *: the columns in the order the query names them
            request = dataclasses.replace(request, query=spelt_out)
            result = store.query(spelt_out, **options)
    try:
        if isinstance(result, ox.QueryBoolean):
            written = answers.boolean(_carrying(fmt, "bindings"), bool(result))
        elif isinstance(result, ox.QuerySolutions):
            written = answers.solutions(result, _carrying(fmt, "bindings"), caps_,
                                        again=lambda: store.query(request.query, **options))  # type: ignore[arg-type, return-value]
        elif request.prefixes or request.into_graph:
            written = answers.triples(result, _carrying(fmt, "graph"), caps_,  # type: ignore[arg-type]
                                      request.prefixes, request.into_graph)
        else:
            written = answers.graph(result, _carrying(fmt, "graph"), caps_,  # type: ignore[arg-type]
                                    again=lambda: store.query(request.query, **options))  # type: ignore[arg-type, return-value]
    except (OSError, ValueError, RuntimeError) as exc:   # raised while the rows are being evaluated
        raise errors.BadRequest(f"query evaluation failed: {exc}") from None
    ms = (time.perf_counter() - started) * 1000
    return QueryAnswer(written.body, fmt, written.kind, written.count, written.truncated, ms, ms,
                       caps_.bytes if written.cut_at_bytes else None)


def star_spelt_out(request: QueryRequest, variables: list[str]) -> str | None:
    """The query with the `*` of its `SELECT *` spelt out in the order its variables first appear
    (Oxigraph lists them sorted by name; `sparql.projection` says why), or None when nothing
    changes."""
    if request.star is None:
        return None
    star, textual = request.star
    order = {name: i for i, name in enumerate(textual)}
    wanted = sorted(variables, key=lambda v: order.get(v, len(order)))
    if wanted == variables:
        return None
    return request.query[:star] + " ".join("?" + v for v in wanted) + request.query[star + 1:]


def query_options(request: QueryRequest) -> dict[str, Any]:
    """pyoxigraph's options for this request's dataset.

    The default graph is the union of the named graphs -- unless the request names a dataset.
    pyoxigraph's use_default_graph_as_union wins over a query's FROM, so it is switched off when
    the query has FROM/FROM NAMED (Query §13.2). A protocol dataset (default-graph-uri,
    named-graph-uri) wins over FROM (Protocol §2.1.4); pyoxigraph's options do exactly that. A
    protocol dataset is the whole dataset: a part it does not give is empty (Query §13.2.1)."""
    options: dict[str, Any] = {}
    if request.has_dataset_clause:
        options["use_default_graph_as_union"] = False
    if request.default_graph_uris or request.named_graph_uris:
        options["default_graph"] = [ox.NamedNode(i) for i in request.default_graph_uris]
        options["named_graphs"] = [ox.NamedNode(i) for i in request.named_graph_uris]
        options["use_default_graph_as_union"] = False
    if request.base_iri:
        options["base_iri"] = request.base_iri
    return options


def _carrying(fmt: Any, kind: str) -> Any:
    """The negotiated format, if it can carry what the query turned out to answer."""
    if (kind == "graph" and fmt.rdf is None) or (kind == "bindings" and fmt.write_bindings is None):
        from ..http.formats import offered

        raise errors.NotAcceptable(f"{fmt.media_type} cannot carry this query's answer", offered=offered([kind]))
    return fmt
