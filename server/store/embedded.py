"""The data layer: the embedded Oxigraph store on disk, and RDF parsing with exact error positions.

No Flask here. Queries go to Oxigraph's own engine with the query *string* (handing rdflib a
prepared query would make oxrdflib fall back to rdflib's slow engine). One parser of
pyoxigraph's syntax errors (`syntax_position`) serves RDF input, queries and updates.
"""
from __future__ import annotations

import gzip
import io
import os
import re
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator

import pyoxigraph as ox

from ..errors import InputSyntaxError, NotFound, QuerySyntaxError, UnsupportedMediaType
from ..http.formats import BY_NAME, Format, by_media_type
from .rdf_guard import check_rdf

RDF_EXTENSIONS = {"ttl": "turtle", "trig": "trig", "nt": "ntriples", "nq": "nquads", "jsonld": "jsonld",
                  "rdf": "rdfxml", "owl": "rdfxml", "xml": "rdfxml"}


@dataclass(frozen=True)
class SourceFile:
    """A file of the graph and the named graph it is loaded into."""

    path: Path
    graph: str


def format_for_path(path: Path | str) -> Format:
    """The RDF format of a file by its extension; `.gz` is looked through."""
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    ext = name.rsplit(".", 1)[-1]
    fmt = BY_NAME.get(RDF_EXTENSIONS.get(ext, ""))
    if fmt is None or fmt.rdf is None:
        raise UnsupportedMediaType(f"{path}: unknown RDF file extension .{ext}; use one of "
                                   + ", ".join("." + e for e in RDF_EXTENSIONS))
    return fmt


def format_for_media_type(media_type: str | None) -> Format:
    """The RDF format a request body's Content-Type names, or 415."""
    fmt = by_media_type(media_type or "")
    if fmt is None or fmt.rdf is None:
        raise UnsupportedMediaType(f"Content-Type {media_type or '(none)'} is not an RDF format this service reads; "
                                   "send text/turtle, application/trig, application/n-triples, application/n-quads, "
                                   "application/ld+json or application/rdf+xml")
    return fmt


def open_input(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def parse_rdf(data: bytes | IO[bytes], fmt: Format, *, source: str, graph: str | None = None,
              base_iri: str | None = None) -> list[ox.Quad]:
    """Parse all of `data` or raise InputSyntaxError naming source, line and column.

    Triples go into `graph` (a named graph IRI) unless the format carries its own graphs. Every
    document passes the guard first (nesting, XML entities, RDF 1.2: see rdf_guard).
    """
    target = ox.NamedNode(graph) if graph else None
    data = data if isinstance(data, bytes) else data.read()
    check_rdf(data, fmt.name, source=source)
    try:
        quads = list(ox.parse(data, format=fmt.rdf, base_iri=base_iri,
                              without_named_graphs=False, rename_blank_nodes=False))
    except SyntaxError as exc:
        raise syntax_error(exc, source) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputSyntaxError(f"{source}: {exc}", source=source) from None
    if target is None:
        return quads
    return [q if not isinstance(q.graph_name, ox.DefaultGraph) else ox.Quad(q.subject, q.predicate, q.object, target)
            for q in quads]


_AT = re.compile(r"error at (\d+):(\d+): (.*)", re.S)
_MAX_MESSAGE = 240


def syntax_position(exc: SyntaxError) -> tuple[int | None, int | None, str]:
    """(line, column, message) of one of pyoxigraph's syntax errors: its RDF parsers set `lineno`
    and `offset`; its SPARQL parser says 'error at L:C: …' in the message. The message is cut
    short (the SPARQL parser can list hundreds of expected characters)."""
    line, col = getattr(exc, "lineno", None), getattr(exc, "offset", None)
    message = str(exc.msg if getattr(exc, "msg", None) else exc)
    found = _AT.match(message)
    if found:
        line, col, message = int(found.group(1)), int(found.group(2)), found.group(3)
    message = " ".join(message.split())
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE].rsplit(",", 1)[0] + ", …"
    return line, col, message


def syntax_error(exc: SyntaxError, source: str) -> InputSyntaxError:
    """pyoxigraph's SyntaxError in RDF input as our error, keeping line and column."""
    line, col, message = syntax_position(exc)
    where = f" line {line}, column {col}" if line else ""
    return InputSyntaxError(f"{source}:{where}: {message}", source=source, line=line, column=col)


def query_syntax_error(exc: SyntaxError, what: str = "") -> QuerySyntaxError:
    """pyoxigraph's SyntaxError in a SPARQL query (or, named by `what`, an update) as our error,
    keeping line and column."""
    line, col, message = syntax_position(exc)
    where = f" at line {line}, column {col}" if line else ""
    return QuerySyntaxError(f"syntax error{' in the ' + what if what else ''}{where}: {message}",
                            line=line, column=col)


_ANY_URI = "http://www.w3.org/2001/XMLSchema#anyURI"


def rebase_quads(quads: Iterable[ox.Quad], old: str, new: str) -> Iterator[ox.Quad]:
    """Map IRIs under `old` to `new`, term by term (never inside literals)."""
    if old == new:
        yield from quads
        return

    def term(t):  # type: ignore[no-untyped-def]
        if isinstance(t, ox.NamedNode) and t.value.startswith(old):
            return ox.NamedNode(new + t.value[len(old):])
        if isinstance(t, ox.Literal) and t.datatype.value == _ANY_URI and t.value.startswith(old):
            return ox.Literal(new + t.value[len(old):], datatype=t.datatype)  # e.g. sh:namespace
        return t

    for q in quads:
        g = q.graph_name
        yield ox.Quad(term(q.subject), term(q.predicate), term(q.object),
                      g if isinstance(g, ox.DefaultGraph) else term(g))


class KGStore:
    """An opened store directory. Read-only opens are safe side by side; one writer at a time."""

    def __init__(self, path: str | os.PathLike[str] | None, *, read_only: bool = True) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is None:
            self.ox = ox.Store()
        elif read_only:
            if not self.path.exists():
                raise NotFound(f"no store at {self.path}; run `kg build` first")
            self.ox = ox.Store.read_only(str(self.path.resolve()))
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            self.ox = ox.Store(str(self.path.resolve()))
        self.read_only = read_only

    @property
    def writable(self) -> bool:
        return not self.read_only

    def query(self, sparql: str, **options: object) -> object:
        """Oxigraph's engine, the union of named graphs as default graph unless told otherwise."""
        options.setdefault("use_default_graph_as_union", True)
        return self.ox.query(sparql, **options)  # type: ignore[arg-type]

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self.ox.named_graphs() if isinstance(g, ox.NamedNode))

    def graph_sizes(self) -> dict[str, int]:
        """Triples per named graph, one COUNT query (cheap on Oxigraph, unlike len() through rdflib)."""
        rows = self.ox.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        return {r["g"].value: int(r["n"].value) for r in rows}  # type: ignore[index]

    def dump(self, output: IO[bytes], fmt: Format, graph: str | None = None) -> None:
        if graph is None:
            self.ox.dump(output, format=fmt.rdf)
        else:
            self.ox.dump(output, format=fmt.rdf, from_graph=ox.NamedNode(graph))

    def dump_bytes(self, fmt: Format, graph: str | None = None) -> bytes:
        buf = io.BytesIO()
        self.dump(buf, fmt, graph)
        return buf.getvalue()

    def close(self) -> None:
        if not self.read_only:
            self.ox.flush()
        del self.ox


_SHARED: weakref.WeakValueDictionary[str, KGStore] = weakref.WeakValueDictionary()
_SHARED_LOCK = threading.Lock()


def open_shared(directory: Path, *, writable: bool) -> KGStore:
    """The store in `directory`, opened once per process and shared by whoever asks in it.

    Why: one process may open a directory read-write only once (the store's lock file), and
    opening it read-only beside a writer is undefined behaviour; within one process a read-write
    store serves queries from several threads beside its writes (each query reads a snapshot).
    So a read-write open is shared by every engine and app of the process, readers included."""
    key = str(directory.resolve())
    with _SHARED_LOCK:
        found = _SHARED.get(key)
        if found is not None and (found.writable or not writable):
            return found
        store = KGStore(key, read_only=not writable)
        _SHARED[key] = store
        return store


def data_version(store_link: Path) -> tuple[str, float]:
    """An opaque version of the served data and when it last changed, for ETag and Last-Modified.

    It changes when `kg build` swaps the store and when a write touches the store's sidecar file
    (`<store dir>.json`), which every accepted write rewrites.
    """
    target = store_link.resolve()
    sidecar = target.parent / (target.name + ".json")
    stamp = sidecar.stat().st_mtime if sidecar.exists() else target.stat().st_mtime
    return f"{target.name}-{int(stamp * 1000)}", stamp


def touch_version(store_link: Path) -> None:
    """Record that the data changed (called after every committed write)."""
    target = store_link.resolve()
    sidecar = target.parent / (target.name + ".json")
    sidecar.touch()
