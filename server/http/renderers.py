"""Serializers for query answers, for every format in `formats`.

Graph answers use Oxigraph's own serializers. SELECT answers use Oxigraph's result serializers
when the answer fits the row limit (`native_bindings`). They cannot be handed a truncated
iterator, so a capped answer is written here (SPARQL 1.1 Query Results JSON, XML, CSV/TSV),
with the truncation said in the body where the format allows.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
from typing import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox
import simdjson

from .formats import Format

TRUNCATED_LINK = "urn:x-kg:result-truncated"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def term_json(t: object) -> dict[str, object]:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        out: dict[str, object] = {"type": "literal", "value": t.value}
        if t.language:
            out["xml:lang"] = t.language
        elif t.datatype.value != _XSD_STRING:
            out["datatype"] = t.datatype.value
        return out
    if isinstance(t, ox.Triple):
        return {"type": "triple", "value": {"subject": term_json(t.subject), "predicate": term_json(t.predicate),
                                             "object": term_json(t.object)}}
    raise TypeError(f"unexpected term {t!r}")


def _json(variables: Sequence[str], rows: Iterable[Sequence[object | None]], truncated: bool) -> bytes:
    bindings = [{v: term_json(t) for v, t in zip(variables, row) if t is not None} for row in rows]
    head: dict[str, object] = {"vars": list(variables)}
    doc: dict[str, object] = {"head": head, "results": {"bindings": bindings}}
    if truncated:
        head["link"] = [TRUNCATED_LINK]
        doc["truncated"] = True
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _xml_term(t: object) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{escape(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{escape(t.value)}</bnode>"
    if isinstance(t, ox.Literal):
        if t.language:
            return f"<literal xml:lang={quoteattr(t.language)}>{escape(t.value)}</literal>"
        if t.datatype.value != _XSD_STRING:
            return f"<literal datatype={quoteattr(t.datatype.value)}>{escape(t.value)}</literal>"
        return f"<literal>{escape(t.value)}</literal>"
    if isinstance(t, ox.Triple):
        return (f"<triple><subject>{_xml_term(t.subject)}</subject><predicate>{_xml_term(t.predicate)}</predicate>"
                f"<object>{_xml_term(t.object)}</object></triple>")
    raise TypeError(f"unexpected term {t!r}")


def _xml(variables: Sequence[str], rows: Iterable[Sequence[object | None]], truncated: bool) -> bytes:
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
    out += [f"<variable name={quoteattr(v)}/>" for v in variables]
    if truncated:
        out.append(f"<link href={quoteattr(TRUNCATED_LINK)}/>")
    out.append("</head><results>")
    for row in rows:
        out.append("<result>")
        out += [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>" for v, t in zip(variables, row)
                if t is not None]
        out.append("</result>")
    out.append("</results></sparql>\n")
    return "".join(out).encode("utf-8")


def _csv_cell(t: object | None) -> str:
    """SPARQL 1.1 CSV: lexical values only; quote when needed (RFC 4180)."""
    if t is None:
        return ""
    if isinstance(t, ox.BlankNode):
        value = "_:" + t.value
    elif isinstance(t, (ox.NamedNode, ox.Literal)):
        value = t.value
    else:
        value = str(t)
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv(variables: Sequence[str], rows: Iterable[Sequence[object | None]], truncated: bool) -> bytes:
    lines = [",".join(variables)]
    lines += [",".join(_csv_cell(t) for t in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _tsv_cell(t: object | None) -> str:
    """SPARQL 1.1 TSV: terms in Turtle syntax, tabs and newlines escaped inside literals."""
    if t is None:
        return ""
    text = str(t)
    return text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _tsv(variables: Sequence[str], rows: Iterable[Sequence[object | None]], truncated: bool) -> bytes:
    lines = ["\t".join("?" + v for v in variables)]
    lines += ["\t".join(_tsv_cell(t) for t in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


_BINDINGS_WRITERS = {"json": _json, "xml": _xml, "csv": _csv, "tsv": _tsv}
BYTES_PER_ROW = 2048   # a native answer's byte budget per row allowed; past it, the answer is capped here
MIN_BUDGET_BYTES = 1 << 20


class _OverBudget(Exception):
    pass


class _BoundedBuffer:
    """Where Oxigraph's serializer writes; stops it once the answer is bigger than any fitting one."""

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


_idle_parsers: list[simdjson.Parser] = []


def _count_json_bytes(body: bytes) -> tuple[str, int] | None:
    """Count with an idle simdjson parser: its buffers are kept from one answer to the next (a
    fresh parser allocates and faults in new ones for every answer: 100 us for 48 KB in a server).
    A parser serves one answer at a time (list.pop and append need no lock), whether requests
    run on threads or on greenlets."""
    try:
        parser = _idle_parsers.pop()
    except IndexError:
        parser = simdjson.Parser()
    counted = _count_json(parser.parse(body))   # raising, it drops the parser (its document may live on)
    _idle_parsers.append(parser)
    return counted


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
    simdjson (its own parse, no Python object per value: 23 us for 200 rows, where Python's JSON
    reader took 0.46 ms and pyoxigraph's parser 0.67 ms), CSV records after the header, N-Triples
    and N-Quads by their lines. None for other formats, or what does not read: pyoxigraph's parser
    decides then (and names the error)."""
    if fmt_name == "json":
        try:
            return _count_json_bytes(body)
        except (ValueError, KeyError, TypeError):
            return None
    if fmt_name == "csv":   # pyoxigraph does not read CSV (it is lossy)
        return "bindings", sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8", "replace"), newline=""))) - 1
    if fmt_name in ("ntriples", "nquads"):
        return "graph", count_statements(body)
    return None


def count_statements(body: bytes) -> int:
    """Statements of an N-Triples or N-Quads document (one a line), not counting blank lines and
    comments. Such a line starts with whitespace or `#`, bytes that sort before a statement's
    first (`<` or `_`): when the least line sorts after `#` (one C-level pass), every line is a
    statement; else each line is looked at (a Python loop: 0.26 ms for 80 KB)."""
    lines = body.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    if lines and min(lines)[:1] > b"#":
        return len(lines)
    return sum(1 for line in lines if line.strip() and not line.lstrip().startswith(b"#"))


def native_bindings(result: ox.QuerySolutions, fmt: Format, limit: int) -> tuple[bytes, int, bool] | None:
    """(body, rows, truncated) of a SELECT answer, written by Oxigraph's own serializer.

    Written in Rust and counted (`count_answer`, else by parsing it back), which costs a fraction
    of writing the rows here (1 ms of 7 for 200 rows of JSON). An answer with more than `limit` rows is capped from
    what was written (its first rows read back, then written here with the truncation marked),
    so the query is not evaluated twice. None (`result` consumed; evaluate again and cap) only
    when the rows cannot be read back: CSV, or rows longer than the byte budget allows for."""
    assert fmt.results is not None
    out = _BoundedBuffer(max(MIN_BUDGET_BYTES, limit * BYTES_PER_ROW))
    try:
        result.serialize(out, format=fmt.results)  # type: ignore[arg-type]
        whole = True
    except _OverBudget:
        whole = False
    body = b"".join(out.parts)
    if whole:
        counted = count_answer(body, fmt.name)
        rows = counted[1] if counted is not None else \
            sum(1 for _ in ox.parse_query_results(body, fmt.results))  # type: ignore[arg-type, union-attr]
        if rows <= limit:
            return body, rows, False
    if fmt.name == "csv":
        return None
    try:   # a body cut at the budget still reads row by row up to the cut
        parsed = ox.parse_query_results(body, fmt.results)  # type: ignore[arg-type]
        variables = [v.value for v in parsed.variables]  # type: ignore[union-attr]
        solutions = list(itertools.islice(parsed, limit + 1))  # type: ignore[arg-type]
    except SyntaxError:
        return None
    if len(solutions) <= limit:   # the last row read may be cut short: only ever the (limit + 1)th is dropped
        return None
    rows_kept = [tuple(sol[i] for i in range(len(variables))) for sol in solutions[:limit]]
    return render_bindings(fmt, variables, rows_kept, True), limit, True


def render_bindings(fmt: Format, variables: Sequence[str], rows: Sequence[Sequence[object | None]],
                    truncated: bool) -> bytes:
    return _BINDINGS_WRITERS[fmt.name](variables, rows, truncated)


def render_boolean(fmt: Format, value: bool) -> bytes:
    if fmt.name == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt.name == "xml":
        return ('<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head/><boolean>{'true' if value else 'false'}</boolean></sparql>\n").encode()
    if fmt.name == "csv":
        return f"_askResult\r\n{'true' if value else 'false'}\r\n".encode()
    return f"?_askResult\n{'true' if value else 'false'}\n".encode()


def render_triples(fmt: Format, triples: Sequence[ox.Triple], prefixes: dict[str, str] | None = None) -> bytes:
    """Triples in an RDF format; quad formats put them in the default graph."""
    assert fmt.rdf is not None
    items: Sequence[object] = triples
    if fmt.name in ("trig", "nquads"):
        items = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]
    usable = prefixes if fmt.name in ("turtle", "trig", "rdfxml", "jsonld") else None
    return ox.serialize(items, format=fmt.rdf, prefixes=usable)  # type: ignore[arg-type]


def render_quads(fmt: Format, quads: Sequence[ox.Quad], prefixes: dict[str, str] | None = None) -> bytes:
    """Quads in a dataset format; graph-only formats get the triples (graph names dropped)."""
    assert fmt.rdf is not None
    if fmt.name in ("trig", "nquads", "jsonld"):
        usable = prefixes if fmt.name in ("trig", "jsonld") else None
        return ox.serialize(quads, format=fmt.rdf, prefixes=usable)  # type: ignore[arg-type]
    return render_triples(fmt, [ox.Triple(q.subject, q.predicate, q.object) for q in quads], prefixes)
