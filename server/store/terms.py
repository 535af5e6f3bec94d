"""RDF terms between pyoxigraph and rdflib, in one place.

rdflib compares `"x"` and `"x"^^xsd:string` as different literals (sh:in, sh:hasValue), while
RDF 1.1 and Oxigraph treat them as one: an xsd:string literal becomes a plain rdflib literal.
"""
from __future__ import annotations

import re
import warnings

import pyoxigraph as ox
import rdflib

from ..errors import BadRequest

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
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


_PLAIN = frozenset(XSD + t for t in ("boolean", "integer", "decimal", "double"))


class WrittenLiteral(rdflib.Literal):
    """A literal of a type rdflib's Turtle writer abbreviates (`true`, `42`, `1.5`, `1e3`), written in
    full instead, so that its lexical form comes out as written (rdflib would write `"none"^^xsd:boolean`
    as a bare `none`, invalid Turtle, and `"3.0E4"^^xsd:double` as `3e+04`)."""

    def _literal_n3(self, use_plain: bool = False, qname_callback: object = None) -> str:
        return super()._literal_n3(False, qname_callback)  # type: ignore[arg-type]


def to_rdflib_term(t: object, *, written: bool = False) -> rdflib.term.Node:
    """The rdflib term; `written`: its lexical form kept as it is (rdflib's normalisation would write
    `"01"^^xsd:integer` as `"1"`), value and ill-typed flag still computed (see validation.fidelity)."""
    if isinstance(t, ox.NamedNode):
        return rdflib.URIRef(t.value)
    if isinstance(t, ox.BlankNode):
        return rdflib.BNode(t.value)
    if isinstance(t, ox.Literal):
        keep = {"normalize": False} if written else {}
        if t.language:
            return rdflib.Literal(t.value, lang=t.language, **keep)
        if t.datatype.value == XSD_STRING:
            return rdflib.Literal(t.value, **keep)
        if written and t.datatype.value in _PLAIN:
            with warnings.catch_warnings():  # rdflib warns of an ill-typed boolean; SHACL reports it
                warnings.simplefilter("ignore")
                return WrittenLiteral(t.value, datatype=rdflib.URIRef(t.datatype.value), normalize=False)
        return rdflib.Literal(t.value, datatype=rdflib.URIRef(t.datatype.value), **keep)
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
