"""RDF terms between pyoxigraph and rdflib, in one place.

rdflib compares `"x"` and `"x"^^xsd:string` as different literals (sh:in, sh:hasValue), while
RDF 1.1 and Oxigraph treat them as one: an xsd:string literal becomes a plain rdflib literal.
"""
from __future__ import annotations

import re

import pyoxigraph as ox
import rdflib

from ..errors import BadRequest

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
# Characters that RFC 3987 does not allow in an IRI, and that would break out of `<…>` in SPARQL.
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f-\x9f]')


def checked_iri(text: str, what: str) -> str:
    """`text` when it is an absolute IRI (RFC 3987) that can stand in `<…>`; else 400 saying why."""
    shown = repr(text[:120] + ("…" if len(text) > 120 else ""))
    bad = _NOT_IN_IRI.search(text)
    if bad:
        raise BadRequest(f"{what} {shown} holds {bad.group()!r}, which an IRI cannot contain; "
                         "percent-encode it (%20 for a space)")
    try:
        ox.NamedNode(text)
    except ValueError as exc:
        raise BadRequest(f"{what} {shown} is not an absolute IRI ({exc}); write it with its scheme, "
                         "e.g. https://…") from None
    return text


def to_rdflib_term(t: object) -> rdflib.term.Node:
    if isinstance(t, ox.NamedNode):
        return rdflib.URIRef(t.value)
    if isinstance(t, ox.BlankNode):
        return rdflib.BNode(t.value)
    if isinstance(t, ox.Literal):
        if t.language:
            return rdflib.Literal(t.value, lang=t.language)
        if t.datatype.value == XSD_STRING:
            return rdflib.Literal(t.value)
        return rdflib.Literal(t.value, datatype=rdflib.URIRef(t.datatype.value))
    raise TypeError(f"unexpected term {t!r}")


def to_ox_term(t: rdflib.term.Node) -> object:
    if isinstance(t, rdflib.URIRef):
        return ox.NamedNode(str(t))
    if isinstance(t, rdflib.BNode):
        return ox.BlankNode(str(t))
    if isinstance(t, rdflib.Literal):
        if t.language:
            return ox.Literal(str(t), language=t.language)
        return ox.Literal(str(t), datatype=ox.NamedNode(str(t.datatype)) if t.datatype else None)
    raise TypeError(f"unexpected term {t!r}")
