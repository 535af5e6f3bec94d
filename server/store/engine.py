"""The query engine: one interface (`Engine`) with the embedded and the remote store behind it.

An engine takes a query whose format was negotiated already and returns its answer, written,
within the limits: the time limit (`query_timeout_s`), the row cap (`max_result_rows`), the byte
budget (`max_answer_mb`) and the fairness rule (`admission`). It raises the errors of
`server.errors` (QueryTimeout, QuerySyntaxError, Busy…) and never builds an HTTP response; the
layers above do not know which engine they have.

- `embedded_engine.EmbeddedEngine`: Oxigraph in this process, queries on native threads.
- `remote_engine.RemoteEngine`: a SPARQL 1.1 service over HTTP (setting remote_query_url).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .. import errors
from ..http.formats import Format
from ..settings import Settings
from .answers import Caps

if TYPE_CHECKING:
    from .embedded_engine import EmbeddedEngine
    from .remote_engine import RemoteEngine


@dataclass(frozen=True)
class QueryRequest:
    """One query to answer: its text as the guard judged it, and the format already negotiated."""

    query: str
    format: Format
    form: str | None                  # SELECT, ASK, CONSTRUCT, DESCRIBE (from the guard)
    has_dataset_clause: bool = False  # FROM / FROM NAMED in the query (from the guard)
    default_graph_uris: Sequence[str] = ()
    named_graph_uris: Sequence[str] = ()
    base_iri: str | None = None
    prefixes: dict[str, str] | None = None   # for the writers of Turtle, TriG, JSON-LD, RDF/XML
    into_graph: str | None = None     # a read of one graph: TriG and N-Quads name it
    client: str = ""                  # who asks (the client's address): the fairness rule's key
    star: tuple[int, tuple[str, ...]] | None = None   # a SELECT *: where the star is, the variables in textual order
    started: float = field(default_factory=time.monotonic)


@dataclass
class QueryAnswer:
    body: bytes
    format: Format
    kind: str                 # "bindings", "boolean" or "graph"
    count: int                # rows, or triples
    truncated: bool           # cut at the row cap or the byte budget
    engine_ms: float
    total_ms: float
    byte_budget: int | None = None   # the budget, when it (not only the row cap) cut the answer


class Engine(Protocol):
    """What the HTTP layer, the Linked Data pages and the CLI use to ask the store."""

    on_timeout: Callable[[], object] | None   # called for each query stopped at the time limit

    def run(self, request: QueryRequest) -> QueryAnswer:
        """The answer, or an error of `server.errors` (QueryTimeout and Busy are 503)."""

    def data_version(self) -> tuple[str, float]:
        """(opaque version, last-modified epoch seconds) of the served data."""

    def close(self) -> None:
        """Let go of the store (the remote's connections)."""


def caps(settings: Settings) -> Caps:
    return Caps(rows=settings.max_result_rows, bytes=settings.max_answer_bytes)


def deadline(request: QueryRequest, settings: Settings) -> float:
    """When the query's time limit runs out (time.monotonic()): it counts from the request."""
    return request.started + settings.query_timeout_s


def timeout_error(settings: Settings) -> errors.QueryTimeout:
    return errors.QueryTimeout(
        f"the query ran longer than the limit of {settings.query_timeout_s:g} s and was stopped; "
        "narrow it (LIMIT, more selective patterns) or ask the operator for a longer query_timeout_s",
        limit_s=settings.query_timeout_s)


def make_engine(settings: Settings, *, on_runaway: Callable[[], None] | None = None,
                writable: bool | None = None) -> EmbeddedEngine | RemoteEngine:
    """The one place that chooses the store: the remote service when remote_query_url is set,
    else the embedded store, opened read-write when the server writes (`writable` overrides:
    the CLI's reads never open it read-write). `on_runaway` is what the process does when a
    query cannot be stopped (see `embedded_engine`): under gunicorn, the worker retires."""
    if settings.remote:
        from .remote_engine import RemoteEngine

        return RemoteEngine(settings)
    from .embedded_engine import EmbeddedEngine

    return EmbeddedEngine(settings, on_runaway=on_runaway,
                          writable=settings.writes_enabled if writable is None else writable)
