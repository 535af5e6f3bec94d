"""A query's answer written within the caps: at most `max_result_rows` rows (or triples) and at most
`max_answer_mb` bytes.

A capped answer is always a whole document of its format, cut between rows, never inside one:
an answer over a cap is written again from the rows that fit, and says so (`truncated`; the
HTTP layer announces it in `KG-Result-Truncated`). SELECT answers are written by Oxigraph's own
serializers when they fit (written in Rust, and counted here, which costs a fraction of writing
the rows in Python); rows are written by the format's own writer only when a cap cuts.

No I/O here: these functions run on the engine's native threads.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pyoxigraph as ox
import simdjson

from ..http.formats import Format

T = TypeVar("T")


@dataclass(frozen=True)
class Caps:
    rows: int
    bytes: int


@dataclass(frozen=True)
class Written:
    body: bytes
    kind: str              # "bindings", "boolean" or "graph"
    count: int
    truncated: bool
    cut_at_bytes: bool = False   # the byte budget (not only the row cap) cut it


def boolean(fmt: Format, value: bool) -> Written:
    assert fmt.write_boolean is not None
    return Written(fmt.write_boolean(value), "boolean", 1, False)


def fit(render: Callable[[int], bytes], count: int, budget: int) -> tuple[bytes, int]:
    """The longest prefix of `count` items whose rendering fits `budget` bytes, found by shrinking
    the count in proportion to the overshoot (two or three renderings in practice)."""
    body = render(count)
    while len(body) > budget and count > 0:
        count = min(count - 1, count * budget // len(body))
        body = render(count)
    return body, count


class _OverBudget(Exception):
    pass


class _BoundedBuffer:
    """Where Oxigraph's serializer writes; stops it once the answer is bigger than the budget."""

    def __init__(self, budget: int) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.budget = budget

    def write(self, chunk: bytes) -> int:
        self.size += len(chunk)
        if self.size > self.budget:
            raise _OverBudget()
        self.parts.append(bytes(chunk))
        return len(chunk)

    def flush(self) -> None:
        pass


def solutions(result: ox.QuerySolutions, fmt: Format, caps: Caps,
              again: Callable[[], ox.QuerySolutions]) -> Written:
    """A SELECT answer: Oxigraph's serialization when it fits both caps, else the first rows that
    do, written by the format's writer. `again` evaluates the query once more, for the one case
    where the rows cannot be read back from what Oxigraph wrote (CSV, which is lossy)."""
    assert fmt.results is not None
    body, whole = _serialized(result, fmt.results, caps.bytes)
    if whole:
        rows = _solutions_in(body, fmt)
        if rows <= caps.rows:
            return Written(body, "bindings", rows, False)
    if fmt.name == "csv":
        result = again()
        return bindings(result, [v.value for v in result.variables], fmt, caps)
    parsed = ox.parse_query_results(body, fmt.results)  # type: ignore[arg-type]
    variables = [v.value for v in parsed.variables]  # type: ignore[union-attr]
    return bindings(_read_back(parsed, whole), variables, fmt, caps, truncated=True,  # type: ignore[arg-type]
                    cut_at_bytes=not whole)


def _solutions_in(body: bytes, fmt: Format) -> int:
    """Rows of a whole SELECT answer Oxigraph wrote (`count_answer`; in SPARQL JSON the bindings
    array is looked up directly: the document is known to be a SELECT answer)."""
    counted = _count_json_bytes(body, _bindings_of) if fmt.name == "json" else count_answer(body, fmt.name)
    if counted is not None:
        return counted[1]
    return sum(1 for _ in ox.parse_query_results(body, fmt.results))  # type: ignore[arg-type, union-attr]


def _serialized(result: ox.QuerySolutions | ox.QueryTriples, format: Any, budget: int) -> tuple[bytes, bool]:
    """Oxigraph's serialization of a result, up to `budget` bytes; True if that is all of it."""
    out = _BoundedBuffer(budget)
    try:
        result.serialize(out, format=format)
        return b"".join(out.parts), True
    except _OverBudget:
        return b"".join(out.parts), False


def _read_back(parsed: Iterable[T], whole: bool) -> Iterator[T]:
    """The rows (or statements) of a document as far as it reads; of a cut document, all but the
    last one read (which may itself be cut short)."""
    held = None
    try:
        for row in parsed:
            if whole:
                yield row
            else:
                if held is not None:
                    yield held
                held = row
    except SyntaxError:
        pass   # where the document was cut


def bindings(rows: Iterable[Sequence[object | None]], variables: list[str], fmt: Format, caps: Caps,
             truncated: bool = False, cut_at_bytes: bool = False) -> Written:
    """Rows written by the format's writer: the first ones that fit both caps. Rows are taken until
    the row cap, or until their terms alone are twice the byte budget. `truncated`: the rows are
    known to be only the first ones already (`cut_at_bytes`: by the byte budget)."""
    kept, more, big = _taken((tuple(row[i] for i in range(len(variables))) for row in rows), caps,
                             lambda row: sum(_term_size(t) for t in row if t is not None))
    cut = truncated or more

    def render(n: int) -> bytes:
        return fmt.write_bindings(variables, kept[:n], cut or n < len(kept))  # type: ignore[misc]

    body, count = fit(render, len(kept), caps.bytes)
    by_bytes = count < len(kept) or big or (cut_at_bytes and len(kept) < caps.rows)
    return Written(body, "bindings", count, cut or count < len(kept), cut_at_bytes=by_bytes)


def graph(result: ox.QueryTriples, fmt: Format, caps: Caps, again: Callable[[], ox.QueryTriples]) -> Written:
    """A CONSTRUCT or DESCRIBE answer written by Oxigraph's serializer, as SELECT answers are: when
    it fits both caps it is the answer (counted by its lines, or parsed back); over a cap, the
    triples are read back from what was written (a cut document reads up to the cut) and the first
    that fit are written again. JSON-LD is written in one piece and cannot be read back cut: it is
    evaluated again. (A graph with our prefixes or a graph name goes through `triples`.)"""
    assert fmt.rdf is not None
    body, whole = _serialized(result, fmt.rdf, caps.bytes)
    if whole:
        count = count_statements(body) if fmt.name in ("ntriples", "nquads") else \
            sum(1 for _ in ox.parse(body, format=fmt.rdf))
        if count <= caps.rows:
            return Written(body, "graph", count, False)
    if fmt.name in ("ntriples", "nquads"):
        return _first_lines(body, whole, caps)
    if fmt.name == "jsonld":
        return triples(again(), fmt, caps)
    quads = _read_back(ox.parse(body, format=fmt.rdf, rename_blank_nodes=False), whole)
    return triples((ox.Triple(q.subject, q.predicate, q.object) for q in quads), fmt, caps, truncated=True,
                   cut_at_bytes=not whole)


def _first_lines(body: bytes, whole: bool, caps: Caps) -> Written:
    """N-Triples and N-Quads write one statement a line (a newline inside a literal is escaped):
    an answer over a cap is its first whole lines, cut out of what Oxigraph wrote, with nothing
    read back, held or written again."""
    if not whole:
        body = body[:body.rfind(b"\n") + 1]
    count = count_statements(body)
    if count > caps.rows:
        kept, end = 0, 0
        for line in body.splitlines(keepends=True):
            if _is_statement(line):
                if kept == caps.rows:
                    break
                kept += 1
            end += len(line)
        body, count = body[:end], kept
    return Written(body, "graph", count, True, cut_at_bytes=not whole)


def triples(items: Iterable[ox.Triple], fmt: Format, caps: Caps, prefixes: dict[str, str] | None = None,
            graph: str | None = None, truncated: bool = False, cut_at_bytes: bool = False) -> Written:
    """A graph answer (CONSTRUCT, DESCRIBE, a graph read): the first triples that fit both caps.

    Triples are taken from the engine's iterator until the row cap, or until their terms alone
    are twice the byte budget (no serialization of them can be shorter than half that), so an
    answer of huge literals is not held in memory whole before it is cut."""
    kept, more, big = _taken(items, caps, lambda t: _term_size(t.subject) + _term_size(t.predicate)
                             + _term_size(t.object))
    body = fmt.write_triples(kept, prefixes, graph)
    if len(body) <= caps.bytes:
        return Written(body, "graph", len(kept), more or truncated,
                       cut_at_bytes=big or (cut_at_bytes and len(kept) < caps.rows))
    body, count = fit(lambda n: fmt.write_triples(kept[:n], prefixes, graph), len(kept), caps.bytes)
    return Written(body, "graph", count, True, cut_at_bytes=True)


def _taken(items: Iterable[T], caps: Caps, size_of: Callable[[T], int]) -> tuple[list[T], bool, bool]:
    """The first items, up to the row cap or until their terms alone are twice the byte budget:
    (kept, more were left, the budget stopped the reading)."""
    kept: list[T] = []
    size = 0
    for item in items:
        if len(kept) == caps.rows:
            return kept, True, False
        if size > 2 * caps.bytes:
            return kept, True, True
        kept.append(item)
        size += size_of(item)
    return kept, False, False


def _term_size(term: object) -> int:
    value = getattr(term, "value", None)
    return len(value) if isinstance(value, str) else len(str(term))


# -- counting an answer that is already written ------------------------------------------------

_idle_parsers: list[simdjson.Parser] = []


def _count_json_bytes(body: bytes, count: Callable[[object], tuple[str, int] | None]) -> tuple[str, int] | None:
    """Count with an idle simdjson parser: its buffers are kept from one answer to the next (a
    fresh parser allocates and faults in new ones for every answer). A parser serves one answer at
    a time (list.pop and append need no lock), whether requests run on threads or on greenlets.
    None for what does not read."""
    try:
        parser = _idle_parsers.pop()
    except IndexError:
        parser = simdjson.Parser()
    try:
        counted = count(parser.parse(body))
    except (ValueError, KeyError, TypeError):   # not JSON, or not a SPARQL answer: the caller decides
        return None   # the parser is dropped (its document may live on in the error)
    _idle_parsers.append(parser)
    return counted


def _bindings_of(doc: object) -> tuple[str, int] | None:
    """Rows of a parsed SPARQL JSON SELECT answer (one pointer lookup, a fraction of `_count_json`)."""
    if not isinstance(doc, simdjson.Object):
        return None
    try:
        bindings = doc.at_pointer("/results/bindings")
    except KeyError:
        return None
    return ("bindings", len(bindings)) if isinstance(bindings, simdjson.Array) else None


def _count_json(doc: object) -> tuple[str, int] | None:
    """Rows of a parsed SPARQL JSON answer. The document's proxies are gone when this returns, so
    the parser may take the next answer (simdjson refuses while they are alive)."""
    if not isinstance(doc, simdjson.Object):
        return None
    if isinstance(doc.get("boolean"), bool):
        return "boolean", 1
    bindings = doc["results"]["bindings"]
    return ("bindings", len(bindings)) if isinstance(bindings, simdjson.Array) else None


def count_answer(body: bytes, fmt_name: str) -> tuple[str, int] | None:
    """(kind, rows) of a whole answer, counted without building a term per value: SPARQL JSON with
    simdjson (its own parse, no Python object per value), CSV records after the header, N-Triples
    and N-Quads by their lines. None for other formats, or what does not read: pyoxigraph's parser
    decides then (and names the error)."""
    if fmt_name == "json":
        return _count_json_bytes(body, _count_json)
    if fmt_name == "csv":   # pyoxigraph does not read CSV (it is lossy)
        return "bindings", sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8", "replace"), newline=""))) - 1
    if fmt_name in ("ntriples", "nquads"):
        return "graph", count_statements(body)
    return None


def count_statements(body: bytes) -> int:
    """Statements of an N-Triples or N-Quads document (one a line), not counting blank lines and
    comments. Such a line starts with whitespace or `#`, bytes that sort before a statement's
    first (`<` or `_`): when the least line sorts after `#` (one C-level pass), every line is a
    statement; else each line is looked at."""
    lines = body.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    if lines and min(lines)[:1] > b"#":
        return len(lines)
    return sum(1 for line in lines if _is_statement(line))


def _is_statement(line: bytes) -> bool:
    """A line of N-Triples or N-Quads that is neither blank nor a comment."""
    return bool(line.strip()) and not line.lstrip().startswith(b"#")

