"""The one registry of formats, and content negotiation.

Every view and the CLI ask this module which format answers a request; no route compares
Accept strings itself. Negotiation follows RFC 9110 §12.5.1 through Werkzeug's parsed
Accept header (q-values, wildcards, specificity); an explicit `format=` or file extension
wins over Accept.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

import pyoxigraph as ox
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from ..errors import NotAcceptable

# Kinds of answer a format can carry.
BINDINGS = "bindings"   # SELECT and ASK results
GRAPH = "graph"         # triples: CONSTRUCT, DESCRIBE, a resource description
DATASET = "dataset"     # quads: dumps, descriptions that keep named graphs
REPORT = "report"       # a SHACL validation report
PAGE = "page"           # a page for people
HITS = "hits"           # search results: things that match words
PATCH = "patch"         # an accepted change: the quads it deleted and added


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    extension: str
    kinds: frozenset[str]
    aliases: tuple[str, ...] = ()
    rdf: ox.RdfFormat | None = None
    results: ox.QueryResultsFormat | None = None
    label: str = ""

    @property
    def content_type(self) -> str:
        """The exact Content-Type sent: text types say their charset, others are UTF-8 by definition."""
        if self.media_type.startswith("text/"):
            return self.media_type + "; charset=utf-8"
        return self.media_type

    @property
    def is_rdf(self) -> bool:
        return self.rdf is not None


def _f(name: str, media: str, ext: str, kinds: Iterable[str], label: str, aliases: tuple[str, ...] = (),
       rdf: ox.RdfFormat | None = None, results: ox.QueryResultsFormat | None = None) -> Format:
    return Format(name, media, ext, frozenset(kinds), aliases, rdf, results, label)


# Order matters: for each kind the first format that carries it is the default for `*/*`
# and for requests without Accept.
FORMATS: tuple[Format, ...] = (
    _f("json", "application/sparql-results+json", "srj", [BINDINGS], "SPARQL JSON",
       ("application/json",), results=ox.QueryResultsFormat.JSON),
    _f("xml", "application/sparql-results+xml", "srx", [BINDINGS], "SPARQL XML",
       results=ox.QueryResultsFormat.XML),
    _f("csv", "text/csv", "csv", [BINDINGS, REPORT], "CSV", results=ox.QueryResultsFormat.CSV),
    _f("tsv", "text/tab-separated-values", "tsv", [BINDINGS], "TSV", results=ox.QueryResultsFormat.TSV),
    _f("turtle", "text/turtle", "ttl", [GRAPH, REPORT], "Turtle", ("application/x-turtle",),
       rdf=ox.RdfFormat.TURTLE),
    _f("trig", "application/trig", "trig", [DATASET, GRAPH], "TriG", rdf=ox.RdfFormat.TRIG),
    _f("jsonld", "application/ld+json", "jsonld", [GRAPH, DATASET, REPORT], "JSON-LD",
       rdf=ox.RdfFormat.JSON_LD),
    _f("rdfxml", "application/rdf+xml", "rdf", [GRAPH], "RDF/XML", rdf=ox.RdfFormat.RDF_XML),
    _f("ntriples", "application/n-triples", "nt", [GRAPH, REPORT], "N-Triples", rdf=ox.RdfFormat.N_TRIPLES),
    _f("nquads", "application/n-quads", "nq", [DATASET, GRAPH], "N-Quads", rdf=ox.RdfFormat.N_QUADS),
    # N3 for clients that ask for it by name (SPARQLWrapper's `format=n3`): written as Turtle, which
    # is N3 without formulae or rules; an N3 body is read as Turtle (formulae are a syntax error).
    _f("n3", "text/n3", "n3", [GRAPH], "N3", ("text/rdf+n3", "application/n3"), rdf=ox.RdfFormat.TURTLE),
    _f("html", "text/html", "html", [PAGE, REPORT, HITS], "HTML", ("application/xhtml+xml",)),
    _f("text", "text/plain", "txt", [REPORT], "plain text"),
    # A validation report's rows (`Report.to_json`) or search hits as plain JSON; after "json" so
    # that SPARQL results keep application/json.
    _f("report-json", "application/json", "json", [REPORT, HITS], "JSON rows"),
    # An accepted change as the patch log keeps it (https://afs.github.io/rdf-delta/rdf-patch.html).
    _f("rdfpatch", "application/rdf-patch", "rdfp", [PATCH], "RDF Patch"),
)

BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}
BY_EXTENSION: dict[str, Format] = {f.extension: f for f in FORMATS}
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
    """Clients send the same few Accept headers again and again; Werkzeug's matching costs about
    0.1 ms a request, as much as a small query. (A NotAcceptable is raised, never cached.)"""
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
