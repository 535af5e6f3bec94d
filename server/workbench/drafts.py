"""What the page asks to write, as RDF made here rather than by string pasting in the browser.

- `source_facts`: the new article's own node (headline, publisher, publication date) for
  POST /sources, which stores the text unchanged beside it.
- `fact_update`: one fact a curator built, with the quote that states it (the same quote node
  and statement record `kg evidence` makes) as a SPARQL INSERT DATA into the source's graph.
  A date the source gives only in part keeps its words (`kgo:dateAsWritten`) and its record says
  how it was derived, as the seed article's records do, so that `kg evidence --check` redoes it.
Every value is checked here, before the shapes see it: a precise 400 says what to change. Whether
an object must be a node or a value is the ontology's say (`owl:ObjectProperty`,
`owl:DatatypeProperty`), never the page's.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from ..curation import dates
from ..curation.evidence import (Printing, Statement, printing_at, quote_iri, quote_triples, statement_iri,
                                 statement_triples)
from ..curation.sources import SLUG, source_graph
from ..errors import BadRequest
from .date_expressions import find as find_dates
from .date_expressions import parse_published

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
N = ox.NamedNode
A = N(RDF + "type")
IRI = re.compile(r"https?://[^\s<>\"{}|\\^`]+")


def field(data: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadRequest(f"give the field {name!r}")
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"the field {name!r} must be a string")
    return value.strip()


def iri(value: str, what: str) -> N:
    if not IRI.fullmatch(value):
        raise BadRequest(f"{what} {value!r} is not an absolute http(s) IRI")
    return N(value)


def source_facts(data: Mapping[str, Any], base: str) -> tuple[str, str]:
    """(slug, Turtle) of a new article's node: what POST /sources needs beside the text."""
    slug = field(data, "slug")
    if not SLUG.fullmatch(slug):
        raise BadRequest(f"slug {slug!r} is not usable: use lower-case letters, digits and hyphens (at most 80)")
    published = field(data, "published")
    try:
        when = parse_published(published)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    kgo, kg = base + "ontology#", base + "id/"
    article = N(kg + "article-" + slug)
    headline = ox.Literal(field(data, "headline"), language="en")
    publisher_iri = field(data, "publisher_iri", required=False)
    publisher = iri(publisher_iri, "publisher") if publisher_iri else N(kg + "publisher-" + slug)
    datatype = "dateTime" if "T" in when.isoformat() else "date"
    triples = [ox.Triple(article, A, N(kgo + "NewsArticle")), ox.Triple(article, N(RDFS + "label"), headline),
               ox.Triple(article, N(SCHEMA + "headline"), headline),
               ox.Triple(article, N(SCHEMA + "publisher"), publisher),
               ox.Triple(article, N(SCHEMA + "datePublished"), ox.Literal(when.isoformat(), datatype=N(XSD + datatype)))]
    if not publisher_iri:
        triples += [ox.Triple(publisher, A, N(kgo + "Publisher")),
                    ox.Triple(publisher, N(RDFS + "label"), ox.Literal(field(data, "publisher"), language="en"))]
    url = field(data, "url", required=False)
    if url:
        triples.append(ox.Triple(article, N(SCHEMA + "url"), iri(url, "url")))
    return slug, ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=_prefixes(base)).decode("utf-8")


def term(value: Mapping[str, Any], what: str) -> ox.NamedNode | ox.Literal:
    """An object as the page sends it: {"iri": …} or {"value": …, "datatype"|"language": …}."""
    if not isinstance(value, Mapping):
        raise BadRequest(f"{what} must be an object with 'iri', or 'value' (and 'datatype' or 'language')")
    if "iri" in value:
        return iri(field(value, "iri"), what)
    text = value.get("value")
    if not isinstance(text, str) or not text:
        raise BadRequest(f"{what} needs an 'iri' or a non-empty 'value'")
    if value.get("datatype"):
        return ox.Literal(text, datatype=iri(str(value["datatype"]), f"{what}'s datatype"))
    if value.get("language"):
        return ox.Literal(text, language=str(value["language"]))
    return ox.Literal(text)


@dataclass(frozen=True)
class Source:
    """A stored source as a fact about it needs it: its node, its text, its publication date and the
    record of that date, if its graph has one (a derived date is derived from it)."""

    article: str
    text: str
    published: str = ""                    # the lexical form of its schema:datePublished
    published_datatype: str = XSD + "date"
    published_record: str | None = None


def check_object_kind(predicate: ox.NamedNode, obj: ox.NamedNode | ox.Literal, kind: str | None) -> None:
    """The ontology says whether the property links nodes or gives values: the object must be of that kind."""
    name = predicate.value
    if kind is None:
        raise BadRequest(f"property <{name}> is not a property of the ontology (an owl:ObjectProperty or "
                         "owl:DatatypeProperty): pick one that /workbench/properties offers")
    if kind == OWL + "ObjectProperty" and not isinstance(obj, ox.NamedNode):
        raise BadRequest(f"object {obj.value!r} is a value, but <{name}> links to a node (owl:ObjectProperty): "
                         "give the node's IRI as the object ({'iri': …})")
    if kind == OWL + "DatatypeProperty" and not isinstance(obj, ox.Literal):
        raise BadRequest(f"object <{obj.value}> is a node, but <{name}> takes a value (owl:DatatypeProperty): "
                         "give the object as {'value': …} with its datatype or language")


def fact_triples(data: Mapping[str, Any], source: Source, base: str, kind: str | None = None) -> list[ox.Triple]:
    """The fact, its quote (checked against the stored text) and its statement record; for a derived
    date, its words as written and the derivation on the record. `kind` is the property's class in
    the ontology (owl:ObjectProperty or owl:DatatypeProperty; None when it is neither)."""
    article, text = source.article, source.text
    subject = iri(field(data, "subject"), "subject")
    naming = not field(data, "property", required=False)  # the words name the subject: its own evidence
    predicate = None if naming else iri(field(data, "property"), "property")
    obj = None if naming else term(data.get("object"), "object")
    if predicate is not None and obj is not None:
        check_object_kind(predicate, obj, kind)
    printing = _quote(data.get("quote"), text)
    kgo = base + "ontology#"
    quote = quote_iri(article, printing)
    # The source's own node, already stored: repeated so that a validation of the pending change
    # alone (POST /validate) sees which source its graph describes, as the write will.
    triples = [ox.Triple(N(article), A, N(kgo + "NewsArticle")), *quote_triples(article, printing, kgo)]
    if predicate is None or obj is None:
        return triples + [ox.Triple(subject, N(kgo + "evidence"), N(quote))]
    triples.insert(1, ox.Triple(subject, predicate, obj))
    statement = Statement(subject, predicate, obj, [quote])
    if data.get("derivation") is not None:
        triples += _derivation(data, statement, source, printing, kgo)
    triples += statement_triples(article, statement, kgo)
    return triples


def _quote(quote: Any, text: str) -> Printing:
    if not isinstance(quote, Mapping) or not all(isinstance(quote.get(k), int) for k in ("start", "end")):
        raise BadRequest("give the quote as {'start': …, 'end': …} (code-point offsets into the article's text)")
    start, end = quote["start"], quote["end"]
    if not 0 <= start < end <= len(text):
        raise BadRequest(f"the quote {start}-{end} is not inside the article's {len(text)} characters")
    printing = printing_at(text, start, end)
    if isinstance(quote.get("exact"), str) and quote["exact"] != printing.exact:
        raise BadRequest(f"the text at {start}-{end} is {printing.exact!r}, not {quote['exact']!r}: "
                         "select the words again")
    return printing


def _derivation(data: Mapping[str, Any], statement: Statement, source: Source, printing: Printing,
                kgo: str) -> list[ox.Triple]:
    """A date the source gives only in part: the method must give the value from the words and the
    publication day (as `kg evidence --check` will redo it); the words are kept beside the value
    (`kgo:dateAsWritten`, with their own record) and the value's record derives from both records."""
    method = field(data, "derivation")
    if method not in dates.METHODS:
        raise BadRequest(f"derivation {method!r} is not a method of the ontology; use one of {', '.join(dates.METHODS)}")
    if not isinstance(statement.object, ox.Literal) or not source.published:
        raise BadRequest("a derivation is for a date value of a source with a publication date")
    words = field(data, "as_written", required=False) or printing.exact
    published = dates.publication_day(source.published)
    try:
        expected = dates.derived_value(method, words, published)
    except dates.UnresolvableDate as exc:
        raise BadRequest(f"derivation: {exc}") from None
    if expected != statement.object.value:
        raise BadRequest(f"object {statement.object.value!r}: {method} gives {expected} from {words!r} and the "
                         f"publication day {published.isoformat()}")
    article, quote = source.article, statement.quotes[0]
    written = Statement(statement.subject, N(kgo + "dateAsWritten"), ox.Literal(words), [quote])
    published_node = ox.Literal(source.published, datatype=N(source.published_datatype))
    record = source.published_record or statement_iri(article, N(article), N(SCHEMA + "datePublished"), published_node)
    statement.derivation = kgo + method
    statement.derived_from = [statement_iri(article, written.subject, written.predicate, written.object), record]
    triples = [ox.Triple(written.subject, written.predicate, written.object), *statement_triples(article, written, kgo)]
    if source.published_record is None:
        triples += _publication_record(source, published_node, kgo)
    return triples


def _publication_record(source: Source, value: ox.Literal, kgo: str) -> list[ox.Triple]:
    """The record of the source's publication date, which a derived date derives from, citing where
    the text prints that day in full ("Sunday, Nov. 30, 2025"), if it does."""
    day = source.published[:10]
    printed = [printing_at(source.text, d.start, d.end) for d in find_dates(source.text, dates.publication_day(day))
               if d.value is not None and not d.derived and d.value[:10] == day]
    quotes = [quote_iri(source.article, p) for p in printed]
    # The stored date itself, repeated: a record's triple is stated by the record's own graph.
    triples = [ox.Triple(N(source.article), N(SCHEMA + "datePublished"), value)]
    triples += [t for p in printed for t in quote_triples(source.article, p, kgo)]
    return triples + statement_triples(source.article, Statement(N(source.article), N(SCHEMA + "datePublished"),
                                                                 value, quotes), kgo)


def insert_data(triples: list[ox.Triple], graph: str) -> str:
    body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    return f"INSERT DATA {{ GRAPH <{graph}> {{\n{body}}} }}"


def trig(triples: list[ox.Triple], graph: str) -> str:
    """The pending triples in their graph, as POST /validate reads them (the shapes count per graph)."""
    quads = [ox.Quad(t.subject, t.predicate, t.object, N(graph)) for t in triples]
    return ox.serialize(quads, format=ox.RdfFormat.TRIG).decode("utf-8")


def graph_of(slug: str, base: str) -> str:
    return source_graph(base, slug)


def _prefixes(base: str) -> dict[str, str]:
    return {"kgo": base + "ontology#", "kg": base + "id/", "rdfs": RDFS, "schema": SCHEMA, "xsd": XSD}


def turtle(triples: list[ox.Triple], base: str, article: str | None = None) -> str:
    """The pending triples for people: the source's quotes and records under prefixes of their own
    (`q:433-440`, as the seed data writes them), so that no name needs an escaped slash."""
    own = {"q": article + "/quote/", "st": article + "/statement/"} if article else {}
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE,
                        prefixes={**_prefixes(base), **own, "oa": "http://www.w3.org/ns/oa#", "prov": PROV,
                                  "rdf": RDF}).decode("utf-8")
