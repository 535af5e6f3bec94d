"""Evidence: where a source's text says what the graph says, and whether every stored selector still holds.

A quote is found in a source text at every place it is printed (a caption printed twice, a
dateline repeated at the foot of the page): each printing is one `kgo:EvidenceQuote` with a
Web Annotation text-quote selector (exact, prefix, suffix) and a text-position selector
(0-based start inclusive, end exclusive, counted in Unicode code points, which is what Python's
`str` indexes). Each value a source states is a `kgo:SourcedStatement` in that source's graph:
the triple (rdf:subject, rdf:predicate, rdf:object), the source (`kgo:statedIn`), the quotes
that say it (`kgo:evidence`), and for a date the source gives only in part, how it was derived.

Used by `kg evidence` (find a quote, check a store or files) and, through the same functions,
by whoever proposes evidence for a curator.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .. import namespaces as ns
from ..errors import BadRequest, NotFound, QuoteNotFound
from ..store.embedded import format_for_path, open_input, parse_rdf
from . import dates

AFFIX = 32  # characters of context kept before and after a quote (oa:prefix, oa:suffix)

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OA = "http://www.w3.org/ns/oa#"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"

N = ox.NamedNode
A = N(RDF + "type")

# Triples a statement record does not cover: names and types are what the node's own evidence
# supports (the places the source names it); the rest is how evidence itself is written down.
NAMING = frozenset({RDF + "type", RDFS + "label", SKOS + "prefLabel", SKOS + "altLabel", SKOS + "hiddenLabel"})


@dataclass(frozen=True)
class Printing:
    """One place where a quote is printed in a source text."""

    exact: str
    prefix: str
    suffix: str
    start: int
    end: int


def printing_at(text: str, start: int, end: int, affix: int = AFFIX) -> Printing:
    return Printing(text[start:end], text[max(0, start - affix):start], text[end:end + affix], start, end)


def printings(text: str, exact: str, affix: int = AFFIX) -> list[Printing]:
    """Every place `exact` is printed in `text`, in order; QuoteNotFound (with a hint) when none."""
    if not exact:
        raise QuoteNotFound("the quote is empty; give the words of the source to look for")
    starts = []
    i = text.find(exact)
    while i >= 0:
        starts.append(i)
        i = text.find(exact, i + 1)
    if not starts:
        raise QuoteNotFound(f"{exact!r} is not in the source text, character for character{_near_miss(text, exact)}")
    return [printing_at(text, s, s + len(exact), affix) for s in starts]


def _fold(s: str) -> str:
    """Case, dashes, quotes and runs of spaces folded: only to say why a quote was not found."""
    s = unicodedata.normalize("NFC", s).casefold()
    s = re.sub(r"[\u2010-\u2015\u2212]", "-", s)
    s = re.sub(r"[\u2018\u2019\u201b\u2032]", "'", re.sub(r"[\u201c\u201d\u201f\u2033]", '"', s))
    return re.sub(r"\s+", " ", s)


def _near_miss(text: str, exact: str) -> str:
    if _fold(exact) in _fold(text):
        return ("; it is there when case, dashes (– vs -), quotes (’ vs ') or line breaks are ignored: "
                "copy the words from the text as they are printed")
    return ""


# -- IRIs and triples ---------------------------------------------------------------------------------

def quote_iri(article: str, printing: Printing) -> str:
    """One IRI per printed span of one source: every statement and node citing it shares it."""
    return f"{article}/quote/{printing.start}-{printing.end}"


def statement_iri(article: str, subject: object, predicate: object, obj: object) -> str:
    """One IRI per (source, triple): the same triple in two sources gives two records."""
    digest = hashlib.sha1(f"{subject} {predicate} {obj}".encode("utf-8")).hexdigest()[:12]
    return f"{article}/statement/{digest}"


def _int(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=N(XSD + "nonNegativeInteger"))


def quote_triples(article: str, p: Printing, kgo: str = ns.KGO) -> list[ox.Triple]:
    """The EvidenceQuote of one printing, with its two selectors."""
    q = quote_iri(article, p)
    return [
        ox.Triple(N(q), A, N(kgo + "EvidenceQuote")), ox.Triple(N(q), A, N(OA + "SpecificResource")),
        ox.Triple(N(q), N(OA + "hasSource"), N(article)),
        ox.Triple(N(q), N(OA + "hasSelector"), N(q + "-quote")),
        ox.Triple(N(q), N(OA + "hasSelector"), N(q + "-position")),
        ox.Triple(N(q + "-quote"), A, N(OA + "TextQuoteSelector")),
        ox.Triple(N(q + "-quote"), N(OA + "exact"), ox.Literal(p.exact)),
        ox.Triple(N(q + "-quote"), N(OA + "prefix"), ox.Literal(p.prefix)),
        ox.Triple(N(q + "-quote"), N(OA + "suffix"), ox.Literal(p.suffix)),
        ox.Triple(N(q + "-position"), A, N(OA + "TextPositionSelector")),
        ox.Triple(N(q + "-position"), N(OA + "start"), _int(p.start)),
        ox.Triple(N(q + "-position"), N(OA + "end"), _int(p.end)),
    ]


@dataclass
class Statement:
    """A value one source states, with what says it."""

    subject: ox.NamedNode
    predicate: ox.NamedNode
    object: ox.NamedNode | ox.Literal
    quotes: list[str]                      # EvidenceQuote IRIs
    through_claim: str | None = None       # the attributed claim the source states it through
    derivation: str | None = None          # the IRI of a method of `dates`, when the value is derived
    derived_from: list[str] = field(default_factory=list)  # statement records of the words and the date


def statement_triples(article: str, st: Statement, kgo: str = ns.KGO) -> list[ox.Triple]:
    r = N(statement_iri(article, st.subject, st.predicate, st.object))
    out = [ox.Triple(r, A, N(kgo + "SourcedStatement")), ox.Triple(r, N(kgo + "statedIn"), N(article)),
           ox.Triple(r, N(RDF + "subject"), st.subject), ox.Triple(r, N(RDF + "predicate"), st.predicate),
           ox.Triple(r, N(RDF + "object"), st.object)]
    out += [ox.Triple(r, N(kgo + "evidence"), N(q)) for q in st.quotes]
    if st.through_claim:
        out.append(ox.Triple(r, N(kgo + "throughClaim"), N(st.through_claim)))
    if st.derivation:
        out.append(ox.Triple(r, N(kgo + "derivation"), N(st.derivation)))
    out += [ox.Triple(r, N(PROV + "wasDerivedFrom"), N(d)) for d in st.derived_from]
    return out


def to_turtle(triples: Iterable[ox.Triple], prefixes: Mapping[str, str]) -> str:
    """Triples as Turtle, subject by subject, without the prefix lines (the file has its own)."""
    text = ox.serialize(list(triples), format=ox.RdfFormat.TURTLE, prefixes=dict(prefixes)).decode("utf-8")
    return "\n".join(line.replace("\t", "    ") for line in text.splitlines() if not line.startswith("@prefix"))


# -- checking ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """An `error` makes the check fail (a selector that no longer holds); a `note` is advice."""

    kind: str
    subject: str
    message: str


@dataclass
class EvidenceCheck:
    quotes: int = 0
    statements: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "error"]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "note"]

    def error(self, subject: object, message: str) -> None:
        self.findings.append(Finding("error", _name(subject), message))

    def note(self, subject: object, message: str) -> None:
        self.findings.append(Finding("note", _name(subject), message))

    def summary(self) -> str:
        return (f"{self.quotes} quotes, {self.statements} statement records: "
                f"{len(self.errors)} error{'s' if len(self.errors) != 1 else ''}, "
                f"{len(self.notes)} note{'s' if len(self.notes) != 1 else ''}")


def _name(term: object) -> str:
    return term.value if isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal)) else str(term)


class _View:
    """The quads a check reads, one predicate at a time (the store may be large)."""

    def __init__(self, store: ox.Store, kgo: str) -> None:
        self.store = store
        self.kgo = kgo

    def pairs(self, predicate: str) -> Iterable[ox.Quad]:
        return self.store.quads_for_pattern(None, N(predicate), None, None)

    def one(self, subject: object, predicate: str) -> object | None:
        for q in self.store.quads_for_pattern(subject, N(predicate), None, None):  # type: ignore[arg-type]
            return q.object
        return None

    def all(self, subject: object, predicate: str) -> list[object]:
        return [q.object for q in self.store.quads_for_pattern(subject, N(predicate), None, None)]  # type: ignore[arg-type]

    def typed(self, subject: object, cls: str) -> bool:
        return any(True for _ in self.store.quads_for_pattern(subject, A, N(cls), None))  # type: ignore[arg-type]


def source_texts(store: ox.Store, overrides: Mapping[str, str] | None = None, kgo: str = ns.KGO) -> dict[str, str]:
    """Each source's text by source IRI: its kgo:fullText, or the text given for it."""
    texts = {q.subject.value: q.object.value for q in store.quads_for_pattern(None, N(kgo + "fullText"), None, None)
             if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.Literal)}
    texts.update(overrides or {})
    return texts


def check_evidence(store: ox.Store, texts: Mapping[str, str] | None = None, kgo: str = ns.KGO) -> EvidenceCheck:
    """Every stored selector against its source's text; every printing of a cited quote cited; every
    value of a source graph backed by a statement record; every derived date recomputed."""
    view, result = _View(store, kgo), EvidenceCheck()
    texts = source_texts(store, texts, kgo)
    cited = _check_quotes(view, texts, result)
    _check_printings(view, texts, cited, result)
    _check_statements(view, result)
    _check_coverage(view, texts, result)
    return result


def _check_quotes(view: _View, texts: Mapping[str, str], result: EvidenceCheck) -> dict[object, tuple[str, str, int]]:
    """Selectors against the text; returns each quote's (source, exact, start) for the printing check."""
    found: dict[object, tuple[str, str, int]] = {}
    for q in view.pairs(OA + "hasSource"):
        quote, source = q.subject, q.object
        if not view.typed(quote, view.kgo + "EvidenceQuote"):
            continue
        result.quotes += 1
        text = texts.get(_name(source))
        if text is None:
            result.error(quote, f"no text is stored for its source <{_name(source)}> (kgo:fullText)")
            continue
        exact = prefix = suffix = start = end = None
        for sel in view.all(quote, OA + "hasSelector"):
            if view.typed(sel, OA + "TextQuoteSelector"):
                exact, prefix, suffix = (view.one(sel, OA + p) for p in ("exact", "prefix", "suffix"))
            if view.typed(sel, OA + "TextPositionSelector"):
                start, end = view.one(sel, OA + "start"), view.one(sel, OA + "end")
        if exact is None or start is None or end is None:
            result.error(quote, "needs a text-quote selector with oa:exact and a text-position selector")
            continue
        s, e, words = int(_name(start)), int(_name(end)), _name(exact)
        if text[s:e] != words or e - s != len(words):
            result.error(quote, f"{words!r} is not the text at {s}–{e} (there: {text[s:e]!r}); "
                                f"recompute its selectors with `kg evidence`")
            continue
        if prefix is not None and not text[:s].endswith(_name(prefix)):
            result.error(quote, f"its oa:prefix {_name(prefix)!r} is not the text before {s}")
        if suffix is not None and not text[e:].startswith(_name(suffix)):
            result.error(quote, f"its oa:suffix {_name(suffix)!r} is not the text after {e}")
        found[quote] = (_name(source), words, s)
    return found


def _check_printings(view: _View, texts: Mapping[str, str], cited: Mapping[object, tuple[str, str, int]],
                     result: EvidenceCheck) -> None:
    """A node or statement citing a passage cites every printing of it (a caption printed twice)."""
    by_citer: dict[tuple[object, str, str], set[int]] = defaultdict(set)
    for q in view.pairs(view.kgo + "evidence"):
        if q.object in cited:
            source, words, start = cited[q.object]
            by_citer[(q.subject, source, words)].add(start)
    for (citer, source, words), starts in sorted(by_citer.items(), key=lambda kv: str(kv[0])):
        every = {p.start for p in printings(texts[source], words)}
        missing = sorted(every - starts)
        if missing:
            result.note(citer, f"{words!r} is printed {len(every)} times in <{source}>; it cites the printing(s) at "
                               f"{sorted(starts)} but not at {missing}")


def _check_statements(view: _View, result: EvidenceCheck) -> None:
    """Each record's quotes are of its own source, and a derived date is what its method gives."""
    for q in view.pairs(RDF + "type"):
        if q.object != N(view.kgo + "SourcedStatement"):
            continue
        record = q.subject
        result.statements += 1
        source = view.one(record, view.kgo + "statedIn")
        quotes = view.all(record, view.kgo + "evidence")
        if not quotes:
            result.error(record, "has no quote (kgo:evidence)")
        for quote in quotes:
            if view.one(quote, OA + "hasSource") != source:
                result.error(record, f"cites <{_name(quote)}>, a quote of another source than <{_name(source)}>")
        method = view.one(record, view.kgo + "derivation")
        if method is not None:
            _check_derivation(view, record, _name(method), result)


def _check_derivation(view: _View, record: object, method: str, result: EvidenceCheck) -> None:
    words, published = None, None
    for origin in view.all(record, PROV + "wasDerivedFrom"):
        predicate, value = view.one(origin, RDF + "predicate"), view.one(origin, RDF + "object")
        if predicate == N(view.kgo + "dateAsWritten"):
            words = _name(value)
        elif predicate == N(SCHEMA + "datePublished"):
            published = dates.publication_day(_name(value))
    if published is None:
        result.error(record, "is derived but not from the source's publication date (prov:wasDerivedFrom its record)")
        return
    try:
        expected = dates.derived_value(method, words, published)
    except dates.UnresolvableDate as exc:
        result.error(record, f"its derivation cannot be redone: {exc}")
        return
    value = _name(view.one(record, RDF + "object"))
    if value != expected:
        result.error(record, f"states {value} but {method.rsplit('#', 1)[-1]} gives {expected} "
                             f"from {words!r} and the publication day {published}")


def _check_coverage(view: _View, texts: Mapping[str, str], result: EvidenceCheck) -> None:
    """In every graph that holds a source, each value has a statement record (notes, not errors)."""
    graphs = {}
    for q in view.pairs(RDF + "type"):
        if q.object == N(view.kgo + "NewsArticle") and q.subject.value in texts:  # type: ignore[union-attr]
            graphs[q.graph_name] = q.subject
    skip_types = {N(view.kgo + t) for t in ("SourcedStatement", "EvidenceQuote")} | {
        N(OA + "TextQuoteSelector"), N(OA + "TextPositionSelector"), N(RDF + "Statement")}
    for graph in graphs:
        recorded = set()
        for q in view.store.quads_for_pattern(None, N(RDF + "subject"), None, graph):
            s, p, o = q.object, view.one(q.subject, RDF + "predicate"), view.one(q.subject, RDF + "object")
            if view.typed(q.subject, view.kgo + "SourcedStatement"):
                recorded.add((s, p, o))
        skipped = {q.subject for q in view.store.quads_for_pattern(None, A, None, graph) if q.object in skip_types}
        for q in view.store.quads_for_pattern(None, None, None, graph):
            if q.subject in skipped or q.predicate.value in NAMING or q.predicate.value in (
                    view.kgo + "evidence", view.kgo + "fullText"):
                continue
            if (q.subject, q.predicate, q.object) not in recorded:
                result.note(q.subject, f"no quote says its {_short(q.predicate.value)} {_name(q.object)!r} "
                                       f"(no kgo:SourcedStatement in <{_name(graph)}>)")


def _short(iri: str) -> str:
    for prefix, namespace in ns.PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return f"<{iri}>"


# -- inputs ---------------------------------------------------------------------------------------------

def load_files(paths: Iterable[Path], text: str | None = None, kgo: str = ns.KGO) -> tuple[ox.Store, dict[str, str]]:
    """RDF files as a check reads them: each file of triples in a graph of its own (quad formats keep
    theirs). `text`, when given, is the text of the one source they describe without a kgo:fullText
    (a facts file sent to POST /sources is written so: the service attaches the text)."""
    store = ox.Store()
    for i, path in enumerate(paths):
        with open_input(path) as fh:
            store.extend(parse_rdf(fh, format_for_path(path), source=str(path), graph=f"urn:x-kg:file:{i}"))
    texts: dict[str, str] = {}
    if text is not None:
        stored = source_texts(store, kgo=kgo)
        articles = sorted({q.subject.value for q in store.quads_for_pattern(None, A, N(kgo + "NewsArticle"), None)
                           if isinstance(q.subject, ox.NamedNode)} - set(stored))
        if len(articles) != 1:
            raise BadRequest(f"the text given belongs to one source without a kgo:fullText; the files describe "
                                f"{len(articles)} such sources ({', '.join(articles) or 'none'})")
        texts[articles[0]] = text
    return store, texts


def stored_text(store: ox.Store, source: str, base: str, kgo: str = ns.KGO) -> tuple[str, str]:
    """(article IRI, text) of a stored source, named by its graph's slug, its graph or its IRI."""
    graph = source if source.startswith(base) and "/graph/" in source else base + ns.G_SOURCES[len(ns.DEFAULT_BASE):] + source
    candidates = [q for q in store.quads_for_pattern(None, N(kgo + "fullText"), None, N(graph))]
    if not candidates and source.startswith(("http://", "https://")):
        candidates = list(store.quads_for_pattern(N(source), N(kgo + "fullText"), None, None))
    if len(candidates) != 1:
        raise NotFound(f"no stored source text for {source!r}: name a source by its graph's slug "
                       f"(graph/article/<slug>), its graph IRI or its IRI")
    q = candidates[0]
    return q.subject.value, q.object.value  # type: ignore[union-attr]
