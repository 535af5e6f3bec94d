"""The `Engine` of a remote SPARQL 1.1 service (setting remote_query_url).

- The query was guarded and its format negotiated before it came here, as for the embedded
  store. The remote is asked for that format when Oxigraph can read it back (to count and cap
  it), else for a lossless one (SPARQL JSON, N-Triples: CSV is lossy, JSON-LD is ours), with the
  lossless one as a lower-q fallback. An answer that fits the caps and came in the negotiated
  format is passed through unchanged; any other is read (Oxigraph's parsers) and written again
  within the caps. The query text is never rewritten (no LIMIT is added: a LIMIT around an
  ORDER BY subquery would not keep the order in every engine); a capped answer stops reading and
  drops the connection, so the remote's excess rows are not transferred.
- The time limit is the HTTP client's: past query_timeout_s the answer is 503 QueryTimeout (the
  remote may go on evaluating; give it a timeout of its own too, see the docs, Scale).
- The default graph is the union of the named graphs, as in the embedded store: queries naming
  no dataset carry `remote_union_param` when the remote needs one.
- The fairness rule (`admission`) counts the queries a client has at the remote.
"""
from __future__ import annotations

import dataclasses
import functools
import io
import re
import time
from collections.abc import Callable

import pyoxigraph as ox

from .. import errors
from ..http import formats
from ..settings import Settings
from . import answers
from .admission import Admission
from .engine import QueryAnswer, QueryRequest, caps, deadline
from .remote import CUT_HEADER, BodyReader, RemoteStore


@functools.lru_cache(maxsize=64)
def wire_accept(fmt: formats.Format, kind: str) -> str:
    """The Accept sent to the remote for an answer in `fmt`: that format when Oxigraph can read it
    back, else a lossless one, with the lossless one as a lower-q fallback."""
    fallback = formats.BY_NAME["json" if kind == "bindings" else "ntriples"]
    wire = fmt if fmt.readable else fallback
    return wire.media_type if wire == fallback else f"{wire.media_type}, {fallback.media_type};q=0.5"


_RELATIVE_IRI = re.compile(r"<(?![A-Za-z][A-Za-z0-9+.\-]*:)[^<>\"{}|^`\\\x00-\x20]*>")


def with_base(query: str, base_iri: str | None) -> str:
    """The query as the remote must read it: the remote would resolve a relative IRI against its
    own URL, so a query that may hold one is sent with our base declared first (a BASE of the
    query's own comes later and still wins)."""
    if base_iri is None or not _RELATIVE_IRI.search(query):
        return query
    return f"BASE <{base_iri}> {query}"


class RemoteEngine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.remote = RemoteStore(settings)
        self.on_timeout: Callable[[], object] | None = None
        self._caps = caps(settings)
        self._admission = Admission(settings.query_threads, settings.max_client_queries)

    def data_version(self) -> tuple[str, float]:
        return self.remote.data_version()

    def close(self) -> None:
        self.remote.close()

    def run(self, request: QueryRequest) -> QueryAnswer:
        until = deadline(request, self.settings)
        release = self._admission.acquire(request.client, until)
        try:
            return self._run(request, until)
        except errors.QueryTimeout:
            if self.on_timeout is not None:
                self.on_timeout()
            raise
        finally:
            release()

    def _run(self, request: QueryRequest, until: float) -> QueryAnswer:
        fmt = request.format
        kind = "graph" if fmt.rdf is not None else "bindings"
        accept = wire_accept(fmt, kind)
        data = self.remote.form(with_base(request.query, request.base_iri), accept=accept,
                                default_graph_uris=request.default_graph_uris,
                                named_graph_uris=request.named_graph_uris, union=not request.has_dataset_clause)
        try:
            with self.remote.stream_query(data, accept, until - time.monotonic()) as resp:
                got = formats.by_media_type(resp.headers.get("content-type", ""))
                if got is None or (got.results is None and got.rdf is None):
                    raise errors.BadGateway(f"the SPARQL store answered with {resp.headers.get('content-type')!r}, "
                                            "which this service cannot read")
                reader = BodyReader(resp, until, self.remote.timeout)
                written = self._written(reader, got, request, cut_by_remote=CUT_HEADER in resp.headers)
        except SyntaxError as exc:
            raise errors.BadGateway(f"the SPARQL store's answer does not parse: {exc}") from None
        ms = (time.monotonic() - request.started) * 1000
        return QueryAnswer(written.body, fmt, written.kind, written.count, written.truncated, ms, ms,
                           self._caps.bytes if written.cut_at_bytes else None)

    def _written(self, reader: BodyReader, got: formats.Format, request: QueryRequest,
                 cut_by_remote: bool) -> answers.Written:
        """The remote's answer, passed through when it fits and is in the negotiated format, else
        read and written again within the caps. An answer the remote itself cut (Virtuoso's
        ResultSetMaxRows) is announced as truncated, like one cut at our own cap."""
        fmt, limits = request.format, self._caps
        same = got == fmt and not cut_by_remote
        whole = same and reader.prefetch(limits.bytes)
        if whole:
            counted = answers.count_answer(bytes(reader.kept), got.name)
            if counted is not None and counted[1] <= limits.rows:
                return answers.Written(bytes(reader.kept), counted[0], counted[1], False)
        buffered = io.BufferedReader(reader, buffer_size=1 << 16)   # for Oxigraph's parsers
        if got.results is not None:
            result = ox.parse_query_results(buffered, got.results)
            if isinstance(result, ox.QueryBoolean):
                body = reader.drain() if same else fmt.write_boolean(bool(result))  # type: ignore[misc]
                return answers.Written(body, "boolean", 1, False)
            variables = [v.value for v in result.variables]
            written = answers.bindings(result, variables, fmt, limits, truncated=cut_by_remote)
            if whole and not written.truncated:
                return dataclasses.replace(written, body=reader.drain())
            return written
        quads = ox.parse(buffered, format=got.rdf)
        keep_ours = bool(request.prefixes) and fmt.name in ("turtle", "trig")   # ours, not the remote's
        written = answers.triples((ox.Triple(q.subject, q.predicate, q.object) for q in quads), fmt, limits,
                                  request.prefixes, request.into_graph, truncated=cut_by_remote)
        if whole and not written.truncated and not keep_ours and request.into_graph is None:
            return dataclasses.replace(written, body=reader.drain())
        return written
