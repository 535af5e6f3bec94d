"""The one registry of formats, and content negotiation.

A format is one object: its media types, its extensions, and the writers of every kind of
answer it carries (SPARQL results, booleans, graphs, datasets, validation reports, errors), so
adding a format touches this table only. Every view, the engine and the CLI ask this module which
format answers a request; no route compares Accept strings itself. Negotiation follows RFC 9110
§12.5.1 through Werkzeug's parsed Accept header (q-values, wildcards, specificity); an explicit
`format=` or file extension wins over Accept. Errors are negotiated the same way
(`error_format`) and never fail: a client that accepts neither JSON nor text gets text.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import pyoxigraph as ox
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from ..errors import NotAcceptable
from . import result_writers as rw

# Kinds of answer a format can carry.
BINDINGS = "bindings"   # SELECT and ASK results
GRAPH = "graph"         # triples: CONSTRUCT, DESCRIBE, a resource description
DATASET = "dataset"     # quads: dumps, descriptions that keep named graphs
REPORT = "report"       # a SHACL validation report
PAGE = "page"           # a page for people
HITS = "hits"           # search results: things that match words
PATCH = "patch"         # an accepted change: the quads it deleted and added
ERROR = "error"         # the one error body (text or JSON)

Rows = Sequence[Sequence[object | None]]
BindingsWriter = Callable[[Sequence[str], Rows, bool], bytes]   # (variables, rows, truncated)
BooleanWriter = Callable[[bool], bytes]


class ReportLike(Protocol):
    """What a report writer reads of a validation report (`validation.validate.Report`)."""

    graph: Any

    def summary(self) -> str: ...
    def to_text(self) -> str: ...
    def to_csv(self) -> str: ...
    def to_json(self) -> str: ...


ReportWriter = Callable[[ReportLike, str], bytes]   # (report, preamble)
GraphWriter = Callable[[Sequence[ox.Triple], dict[str, str]], bytes]   # (triples, prefixes)


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    extension: str
    kinds: frozenset[str]
    label: str
    aliases: tuple[str, ...] = ()
    rdf: ox.RdfFormat | None = None                  # graphs and datasets: written by Oxigraph
    results: ox.QueryResultsFormat | None = None     # SPARQL results: written by Oxigraph when they fit
    write_bindings: BindingsWriter | None = None     # results rows written here (an answer cut at a cap)
    write_boolean: BooleanWriter | None = None
    write_report: ReportWriter | None = None
    write_graph: GraphWriter | None = None   # a graph written here, when prefixes are given (else by Oxigraph)
    readable: bool = False    # Oxigraph reads it back: a remote store may be asked for it as it is
    prefixes: bool = False    # its writer abbreviates IRIs with the prefixes it is given

    @property
    def content_type(self) -> str:
        """The exact Content-Type sent: text types say their charset, others are UTF-8 by definition."""
        if self.media_type.startswith("text/"):
            return self.media_type + "; charset=utf-8"
        return self.media_type

    @property
    def is_rdf(self) -> bool:
        return self.rdf is not None

    def write_triples(self, triples: Sequence[ox.Triple], prefixes: dict[str, str] | None = None,
                      graph: str | None = None) -> bytes:
        """Triples in this RDF format; TriG and N-Quads put them in `graph` (else the default graph)."""
        assert self.rdf is not None
        if self.write_graph is not None and prefixes:
            return self.write_graph(triples, prefixes)
        items: Sequence[object] = triples
        if self.name in ("trig", "nquads"):
            g = ox.NamedNode(graph) if graph else ox.DefaultGraph()
            items = [ox.Quad(t.subject, t.predicate, t.object, g) for t in triples]
        return ox.serialize(items, format=self.rdf, prefixes=prefixes if self.prefixes else None)  # type: ignore[arg-type]

    def write_quads(self, quads: Sequence[ox.Quad], prefixes: dict[str, str] | None = None) -> bytes:
        """Quads in this format: dataset syntaxes keep the graph names, the others get the triples."""
        assert self.rdf is not None
        if DATASET in self.kinds:
            return ox.serialize(quads, format=self.rdf, prefixes=prefixes if self.prefixes else None)  # type: ignore[arg-type]
        return self.write_triples([ox.Triple(q.subject, q.predicate, q.object) for q in quads], prefixes)


def _rdf_report(rdflib_name: str) -> ReportWriter:
    """The sh:ValidationReport graph itself, written by rdflib (a report is an rdflib graph)."""
    return lambda report, _preamble: report.graph.serialize(format=rdflib_name).encode("utf-8")


def _text_report(report: ReportLike, preamble: str) -> bytes:
    return ((preamble + "\n" if preamble else "") + report.to_text()).encode("utf-8")


def _json_report(report: ReportLike, preamble: str) -> bytes:
    data = json.loads(report.to_json())
    data["summary"] = report.summary()
    if preamble:
        data["message"] = preamble
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")


def _csv_report(report: ReportLike, _preamble: str) -> bytes:
    return report.to_csv().encode("utf-8")


def _jsonld_with_context(triples: Sequence[ox.Triple], prefixes: dict[str, str]) -> bytes:
    """JSON-LD with a readable @context: Oxigraph writes expanded JSON-LD (it ignores prefixes),
    and IRIs in keys, `@id` and `@type` are then shortened to compact IRIs of the prefixes."""
    expanded = json.loads(ox.serialize(list(triples), format=ox.RdfFormat.JSON_LD))
    ordered = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))

    def curie(iri: str) -> str:
        for name, ns in ordered:
            if iri.startswith(ns) and len(iri) > len(ns):
                local = iri[len(ns):]
                if not local.startswith("//") and "#" not in local:
                    return f"{name}:{local}"
        return iri

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "@id" and isinstance(value, str) and not value.startswith("_:"):
                out[key] = curie(value)
            elif key == "@type":
                out[key] = [curie(v) for v in value] if isinstance(value, list) else curie(value)
            elif key.startswith("@"):
                out[key] = walk(value)
            else:
                out[curie(key)] = walk(value)
        return out

    doc = {"@context": dict(sorted(prefixes.items())), "@graph": walk(expanded)}
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


R = ox.QueryResultsFormat
# Order matters: for each kind the first format that carries it is the default for `*/*`
# and for requests without Accept.
FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", "srj", frozenset([BINDINGS]), "SPARQL JSON",
           ("application/json",), results=R.JSON, write_bindings=rw.json_bindings,
           write_boolean=rw.json_boolean, readable=True),
    Format("xml", "application/sparql-results+xml", "srx", frozenset([BINDINGS]), "SPARQL XML", results=R.XML,
           write_bindings=rw.xml_bindings, write_boolean=rw.xml_boolean, readable=True),
    Format("csv", "text/csv", "csv", frozenset([BINDINGS, REPORT]), "CSV", results=R.CSV,
           write_bindings=rw.csv_bindings, write_boolean=rw.csv_boolean, write_report=_csv_report),
    Format("tsv", "text/tab-separated-values", "tsv", frozenset([BINDINGS]), "TSV", results=R.TSV,
           write_bindings=rw.tsv_bindings, write_boolean=rw.tsv_boolean, readable=True),
    Format("turtle", "text/turtle", "ttl", frozenset([GRAPH, REPORT]), "Turtle", ("application/x-turtle",),
           rdf=ox.RdfFormat.TURTLE, write_report=_rdf_report("turtle"), readable=True, prefixes=True),
    Format("trig", "application/trig", "trig", frozenset([DATASET, GRAPH]), "TriG", rdf=ox.RdfFormat.TRIG,
           readable=True, prefixes=True),
    Format("jsonld", "application/ld+json", "jsonld", frozenset([GRAPH, DATASET, REPORT]), "JSON-LD",
           rdf=ox.RdfFormat.JSON_LD, write_report=_rdf_report("json-ld"), write_graph=_jsonld_with_context,
           prefixes=True),
    Format("rdfxml", "application/rdf+xml", "rdf", frozenset([GRAPH]), "RDF/XML", rdf=ox.RdfFormat.RDF_XML,
           readable=True, prefixes=True),
    Format("ntriples", "application/n-triples", "nt", frozenset([GRAPH, REPORT]), "N-Triples",
           rdf=ox.RdfFormat.N_TRIPLES, write_report=_rdf_report("nt"), readable=True),
    Format("nquads", "application/n-quads", "nq", frozenset([DATASET, GRAPH]), "N-Quads",
           rdf=ox.RdfFormat.N_QUADS, readable=True),
    # N3 for clients that ask for it by name (SPARQLWrapper's `format=n3`): written as Turtle, which
    # is N3 without formulae or rules; an N3 body is read as Turtle (formulae are a syntax error).
    Format("n3", "text/n3", "n3", frozenset([GRAPH]), "N3", ("text/rdf+n3", "application/n3"),
           rdf=ox.RdfFormat.TURTLE, prefixes=True),
    Format("html", "text/html", "html", frozenset([PAGE, REPORT, HITS]), "HTML", ("application/xhtml+xml",)),
    Format("text", "text/plain", "txt", frozenset([REPORT]), "plain text", write_report=_text_report),
    # A validation report's rows (`Report.to_json`) or search hits as plain JSON; after "json" so
    # that SPARQL results keep application/json.
    Format("report-json", "application/json", "json", frozenset([REPORT, HITS]), "JSON rows",
           write_report=_json_report),
    # An accepted change as the patch log keeps it (https://afs.github.io/rdf-delta/rdf-patch.html).
    Format("rdfpatch", "application/rdf-patch", "rdfp", frozenset([PATCH]), "RDF Patch"),
    # The one error body (`responses.error_parts`): plain text unless the client prefers JSON.
    Format("error-text", "text/plain", "txt", frozenset([ERROR]), "plain text", ("text/html",)),
    Format("error-json", "application/json", "json", frozenset([ERROR]), "JSON",
           ("application/sparql-results+json",)),
)

BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}
BY_EXTENSION: dict[str, Format] = {}
for _f in FORMATS:
    BY_EXTENSION.setdefault(_f.extension, _f)
# Short names people type in `format=` besides our own names.
_FORMAT_WORDS = {"ttl": "turtle", "nt": "ntriples", "nq": "nquads", "rdf": "rdfxml", "rdf+xml": "rdfxml",
                 "json-ld": "jsonld", "srj": "json", "srx": "xml", "txt": "text", "n-triples": "ntriples",
                 "n-quads": "nquads"}


@lru_cache(maxsize=256)
def by_media_type(media_type: str) -> Format | None:
    """The format a Content-Type names (parameters ignored), or None. (A remote store names the
    same few types on every answer.)"""
    bare = media_type.split(";", 1)[0].strip().lower()
    for f in FORMATS:
        if bare == f.media_type or bare in f.aliases:
            return f
    return None


def formats_for(*kinds: str) -> list[Format]:
    """Formats able to carry any of these kinds, in server preference order."""
    wanted = set(kinds)
    return [f for f in FORMATS if f.kinds & wanted]


def by_name(word: str, kinds: Iterable[str]) -> Format:
    """Resolve an explicit `format=` value (name, extension or media type) for these kinds."""
    kinds = tuple(kinds)
    key = word.strip().lower()
    fmt = BY_NAME.get(_FORMAT_WORDS.get(key, key)) or BY_EXTENSION.get(key) or by_media_type(key)
    if fmt is not None and not (fmt.kinds & set(kinds)):  # e.g. "json" for a report: its own JSON format
        fmt = next((f for f in formats_for(*kinds) if key in (f.extension, f.media_type)), fmt)
    if fmt is None or not (fmt.kinds & set(kinds)):
        raise NotAcceptable(f"format {word!r} cannot carry this answer", offered=offered(kinds))
    return fmt


def offered(kinds: Iterable[str]) -> list[str]:
    return [f.media_type for f in formats_for(*kinds)]


def negotiate(accept: MIMEAccept | str | None, kinds: Iterable[str], explicit: str | None = None,
              prefer: str | None = None) -> Format:
    """Pick the format for an answer of one of `kinds`.

    `explicit` (a `format=` value or a URL extension) wins. Otherwise the Accept header
    decides by q-value and specificity; ties go to the server's order. No Accept header,
    or only wildcards, gives the first format of the kind (or `prefer`, a format name, when given).
    """
    kinds = tuple(kinds)
    if isinstance(accept, str) or accept is None:
        return _negotiate_header(accept, kinds, explicit, prefer)
    return _negotiate(accept, kinds, explicit, prefer)


@lru_cache(maxsize=1024)
def _negotiate_header(accept: str | None, kinds: tuple[str, ...], explicit: str | None,
                      prefer: str | None) -> Format:
    """Clients send the same few Accept headers again and again, and Werkzeug's matching costs
    about as much as a small query does. (A NotAcceptable is raised, never cached.)"""
    return _negotiate(parse_accept_header(accept or "", MIMEAccept), kinds, explicit, prefer)


def _negotiate(accept: MIMEAccept, kinds: tuple[str, ...], explicit: str | None, prefer: str | None) -> Format:
    if explicit:
        return by_name(explicit, kinds)
    candidates = formats_for(*kinds)
    if prefer:
        candidates.sort(key=lambda f: f.name != prefer)
    if not accept:
        return candidates[0]
    media: list[str] = []
    owner: dict[str, Format] = {}
    for f in candidates:
        for m in (f.media_type, *f.aliases):
            media.append(m)
            owner[m] = f
    best = accept.best_match(media)
    if best is None or accept[best] <= 0:
        raise NotAcceptable("none of the media types in Accept can carry this answer", offered=offered(kinds))
    return owner[best]


def error_format(accept: str | None) -> Format:
    """The format of an error body for this Accept header: JSON for clients that prefer JSON,
    plain text otherwise (also when Accept offers neither: an error is never a 406)."""
    try:
        return negotiate(accept, (ERROR,))
    except NotAcceptable:
        return BY_NAME["error-text"]


def answer_kinds(form: str | None) -> tuple[str, ...]:
    """What a query of this form answers with: a graph for CONSTRUCT and DESCRIBE, results for
    SELECT and ASK (a text with no form is not a query: its syntax error decides, not Accept)."""
    if form is None:
        return (BINDINGS, GRAPH)
    return (GRAPH,) if form in ("CONSTRUCT", "DESCRIBE") else (BINDINGS,)
