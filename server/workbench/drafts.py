"""What the page asks to write, as RDF made here rather than by string pasting in the browser.

- `source_facts`: the new article's own node (headline, publisher, publication date) for
  POST /sources, which stores the text unchanged beside it.
- `fact_update`: one fact a curator built, with the quote that states it (the same quote node
  and statement record `kg evidence` makes) as a SPARQL INSERT DATA into the source's graph.
Every value is checked here, before the shapes see it: a precise 400 says what to change.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pyoxigraph as ox

from ..curation.evidence import Statement, printing_at, quote_iri, quote_triples, statement_triples
from ..curation.sources import SLUG, source_graph
from ..errors import BadRequest
from .date_expressions import parse_published

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SCHEMA = "https://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
N = ox.NamedNode
A = N("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
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


def fact_triples(data: Mapping[str, Any], text: str, article: str, base: str) -> list[ox.Triple]:
    """The fact, its quote (checked against the stored text) and its statement record."""
    subject = iri(field(data, "subject"), "subject")
    naming = not field(data, "property", required=False)  # the words name the subject: its own evidence
    predicate = None if naming else iri(field(data, "property"), "property")
    obj = None if naming else term(data.get("object"), "object")
    quote = data.get("quote")
    if not isinstance(quote, Mapping) or not all(isinstance(quote.get(k), int) for k in ("start", "end")):
        raise BadRequest("give the quote as {'start': …, 'end': …} (code-point offsets into the article's text)")
    start, end = quote["start"], quote["end"]
    if not 0 <= start < end <= len(text):
        raise BadRequest(f"the quote {start}-{end} is not inside the article's {len(text)} characters")
    printing = printing_at(text, start, end)
    if isinstance(quote.get("exact"), str) and quote["exact"] != printing.exact:
        raise BadRequest(f"the text at {start}-{end} is {printing.exact!r}, not {quote['exact']!r}: "
                         "select the words again")
    kgo = base + "ontology#"
    # The source's own node, already stored: repeated so that a validation of the pending change
    # alone (POST /validate) sees which source its graph describes, as the write will.
    triples = [ox.Triple(N(article), A, N(kgo + "NewsArticle")), *quote_triples(article, printing, kgo)]
    if predicate is None or obj is None:
        return triples + [ox.Triple(subject, N(kgo + "evidence"), N(quote_iri(article, printing)))]
    triples.insert(1, ox.Triple(subject, predicate, obj))
    triples += statement_triples(article, Statement(subject, predicate, obj, [quote_iri(article, printing)]), kgo)
    return triples


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


def turtle(triples: list[ox.Triple], base: str) -> str:
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE,
                        prefixes={**_prefixes(base), "oa": "http://www.w3.org/ns/oa#",
                                  "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}).decode("utf-8")
