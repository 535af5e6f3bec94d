"""Suggestions as TriG: entities as their IRIs, spans as Web Annotation selectors, dates as typed literals.

The spans are the `kgo:EvidenceQuote` nodes `kg evidence` makes for the same words (the same
IRIs, `<article>/quote/<start>-<end>`, and selectors), so a suggestion accepted as evidence is
exactly what the rest of the project writes. The suggestions themselves use a vocabulary of
their own (`kgw:`): they are proposals for a curator, never stored in the graph.
"""
from __future__ import annotations

from urllib.parse import quote

import pyoxigraph as ox

from .. import namespaces as ns
from ..curation.evidence import printing_at, quote_iri, quote_triples
from .suggestions import Proposal

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
N = ox.NamedNode
A = N(RDF + "type")


def kgw(base: str) -> str:
    return base + "workbench#"


def suggestion_quads(p: Proposal, article: str, base: str = ns.DEFAULT_BASE) -> list[ox.Quad]:
    w, kgo = kgw(base), base + "ontology#"
    graph = N(base + "graph/suggestions")
    triples: list[ox.Triple] = []
    spans: set[tuple[int, int]] = set()

    def span(start: int, end: int) -> N:
        printing = printing_at(p.text, start, end)
        if (start, end) not in spans:
            spans.add((start, end))
            triples.extend(quote_triples(article, printing, kgo))
        return N(quote_iri(article, printing))

    def node(kind: str, start: int, end: int, confidence: float, why: str, tail: str = "") -> N:
        s = N(f"{article}/suggestion/{kind.lower()}/{start}-{end}{tail}")
        triples.extend([ox.Triple(s, A, N(w + kind)), ox.Triple(s, N(w + "span"), span(start, end)),
                        ox.Triple(s, N(w + "confidence"), ox.Literal(f"{confidence:.2f}", datatype=N(XSD + "decimal"))),
                        ox.Triple(s, N(w + "explanation"), ox.Literal(why))])
        return s

    for m in p.mentions:
        s = node("Mention", m.start, m.end, m.confidence, m.explanation)
        triples += [ox.Triple(s, N(w + "entity"), N(m.entity)), ox.Triple(s, N(w + "entityType"), N(kgo + m.entity_type)),
                    ox.Triple(s, N(w + "matchedName"), ox.Literal(m.name))]
        triples += [ox.Triple(s, N(w + "alternative"), N(a)) for a in m.alternatives]
    for d in p.dates:
        s = node("Date", d.start, d.end, 1.0 if d.value and not d.derived else 0.8 if d.value else 0.0, d.explanation)
        triples.append(ox.Triple(s, N(kgo + "dateAsWritten"), ox.Literal(d.exact)))
        triples.append(ox.Triple(s, N(w + "derived"), ox.Literal("true" if d.derived else "false", datatype=N(XSD + "boolean"))))
        if d.value and d.datatype:
            triples.append(ox.Triple(s, N(w + "value"), ox.Literal(d.value, datatype=N(d.datatype))))
        else:
            triples.append(ox.Triple(s, A, N(w + "Unresolved")))
        if d.method:
            triples.append(ox.Triple(s, N(kgo + "derivation"), N(kgo + d.method)))
    for c in p.candidates:
        # A sentence may report several events, or say who said it twice ("said", "according to").
        s = node("Statement" if c.kind == "statement" else "Event", c.start, c.end, c.confidence, c.explanation,
                 f"/{c.type}/{quote(c.cue.casefold().replace(' ', '-'))}")
        triples += [ox.Triple(s, N(w + "suggestedType"), N(kgo + c.type)), ox.Triple(s, N(w + "cue"), ox.Literal(c.cue))]
        if c.claimant:
            triples.append(ox.Triple(s, N(kgo + "claimant"), N(c.claimant)))
        if c.via:
            triples.append(ox.Triple(s, N(w + "via"), N(c.via)))
        triples += [ox.Triple(s, N(kgo + "participant"), N(x)) for x in c.participants]
        triples += [ox.Triple(s, N(kgo + "location"), N(x)) for x in c.places]
        triples += [ox.Triple(s, N(kgo + "date"), ox.Literal(x, datatype=N(XSD + "date"))) for x in c.dates]
        triples += [ox.Triple(s, N(w + "existingNode"), N(x)) for x in c.existing]
    return [ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples]


def to_trig(p: Proposal, article: str, base: str = ns.DEFAULT_BASE) -> str:
    prefixes = {"kgw": kgw(base), "kgo": base + "ontology#", "kg": base + "id/", "oa": "http://www.w3.org/ns/oa#",
                "xsd": XSD, "rdf": RDF}
    return ox.serialize(suggestion_quads(p, article, base), format=ox.RdfFormat.TRIG, prefixes=prefixes).decode("utf-8")
