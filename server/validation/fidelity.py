"""Literals as they were written, where the store would rewrite them.

Oxigraph stores typed literals of the datatypes it knows in canonical form: `"1.0"^^xsd:decimal`
comes back as `"1"`, `"3.0E4"^^xsd:double` as `"30000"`, `"1"^^xsd:boolean` as `"true"`, every
integer type (`xsd:byte`, `xsd:negativeInteger`, ...) as `xsd:integer`, and language tags in
lower case. rdflib, asked to normalise, rewrites too (`"01"^^xsd:integer` becomes `"1"`,
`"2020-01-01Z"^^xsd:date` loses its time zone). SHACL reads lexical forms and datatypes
(sh:datatype, sh:minLength, sh:pattern, sh:in, the values a report shows), so validation of
parsed input reads the literals as written:

- `as_rdflib` turns a pyoxigraph term into an rdflib one without rdflib's normalisation (its
  value and its ill-typed flag are still computed);
- `Fidelity` maps each literal the store rewrites back to the literal that was written, so that
  the compiled engine decides and reports on the written form; two written literals that are one
  term in the store (`"1.0"` and `"1.00"`) cannot be told apart there (`collisions`).

A store built earlier (the published store, the served graph) holds canonical forms only: what
was written before is gone, and validation reads what is stored.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib

from ..store.terms import to_ox_term, to_rdflib_term

XSD = "http://www.w3.org/2001/XMLSchema#"
# The datatypes whose literals Oxigraph re-encodes (oxrdf's native value types).
_REWRITTEN_TYPES = frozenset(XSD + t for t in (
    "boolean", "float", "double", "decimal", "integer", "nonPositiveInteger", "negativeInteger", "long", "int",
    "short", "byte", "nonNegativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
    "positiveInteger", "dateTime", "dateTimeStamp", "date", "time", "gYearMonth", "gYear", "gMonthDay", "gDay",
    "gMonth", "duration", "yearMonthDuration", "dayTimeDuration"))
_PROBE_SUBJECT = "urn:x-kg:validation:probe:"
_PROBE_PREDICATE = ox.NamedNode("urn:x-kg:validation:probe")


def as_rdflib(t: object) -> rdflib.term.Node:
    """A pyoxigraph term in rdflib, its lexical form kept."""
    return to_rdflib_term(t, written=True)


def may_be_rewritten(lit: rdflib.Literal) -> bool:
    """Whether the store might hold this literal in another form (a cheap test before the probe).
    (pyoxigraph lower-cases a language tag as soon as it makes the term.)"""
    if lit.language:
        return lit.language != lit.language.lower()
    return lit.datatype is not None and str(lit.datatype) in _REWRITTEN_TYPES


def stored_forms(literals: Iterable[ox.Literal]) -> dict[ox.Literal, ox.Literal]:
    """Each literal as an Oxigraph store holds it, from one round trip through a scratch store."""
    probe = ox.Store()
    listed = list(dict.fromkeys(literals))
    probe.extend(ox.Quad(ox.NamedNode(f"{_PROBE_SUBJECT}{i}"), _PROBE_PREDICATE, lit) for i, lit in enumerate(listed))
    out: dict[ox.Literal, ox.Literal] = {}
    for q in probe.quads_for_pattern(None, _PROBE_PREDICATE, None, None):
        out[listed[int(q.subject.value[len(_PROBE_SUBJECT):])]] = q.object  # type: ignore[assignment]
    return out


@dataclass
class Fidelity:
    """The written form of every literal the store rewrites (keyed by the stored form), and the
    written literals the store cannot tell apart: two written forms of one stored term (`"1.0"` and
    `"1.00"`), or a payload's literal whose stored form the store already holds (`collisions`)."""

    written: dict[ox.Literal, rdflib.Literal] = field(default_factory=dict)
    collisions: list[tuple[rdflib.Literal, rdflib.Literal]] = field(default_factory=list)

    @classmethod
    def of(cls, terms: Iterable[rdflib.term.Node]) -> Fidelity:
        """From the terms of parsed input (rdflib terms holding the written forms)."""
        candidates: dict[rdflib.Literal, ox.Literal] = {}
        kept: set[ox.Literal] = set()
        for t in terms:
            if isinstance(t, rdflib.Literal):
                o = to_ox_term(t)
                if may_be_rewritten(t):
                    candidates[t] = o  # type: ignore[assignment]
                else:
                    kept.add(o)  # type: ignore[arg-type]
        by_stored: dict[ox.Literal, list[rdflib.Literal]] = {}
        stored = stored_forms(candidates.values()) if candidates else {}
        for t, o in candidates.items():
            s = stored[o]
            if s == o and not t.language:
                kept.add(o)
            else:
                by_stored.setdefault(s, []).append(t)
        fidelity = cls()
        for s, forms in by_stored.items():
            if len(forms) > 1 or s in kept:
                fidelity.collisions += [(forms[0], other) for other in forms[1:]] or [(forms[0], as_rdflib(s))]  # type: ignore[misc]
            else:
                fidelity.written[s] = forms[0]
        return fidelity

    @classmethod
    def of_payload(cls, quads: Iterable[ox.Quad], store: ox.Store) -> Fidelity:
        """From a payload written into `store`, whose other triples were written before in forms
        that are gone: a payload literal whose stored form another triple of the store holds too
        is a collision."""
        quads = [q for q in quads if isinstance(q.object, ox.Literal)]
        fidelity = cls.of(as_rdflib(q.object) for q in quads)
        if not fidelity.written:
            return fidelity
        stored = stored_forms(q.object for q in quads)  # type: ignore[misc]
        mine = {(q.subject, q.predicate, stored[q.object], q.graph_name) for q in quads}  # type: ignore[index]
        for s in list(fidelity.written):
            if any((q.subject, q.predicate, s, q.graph_name) not in mine
                   for q in store.quads_for_pattern(None, None, s, None)):
                fidelity.collisions.append((fidelity.written.pop(s), as_rdflib(s)))  # type: ignore[arg-type]
        return fidelity

    def term(self, t: object) -> rdflib.term.Node:
        """The rdflib term for a term read from the store: as written when the store rewrote it
        (a colliding literal stays as stored)."""
        if isinstance(t, ox.Literal) and self.written:
            found = self.written.get(t)
            if found is not None:
                return found
        return as_rdflib(t)

    def note(self) -> str | None:
        """What a report says when some literals could only be judged as stored."""
        if not self.collisions:
            return None
        shown = "; ".join(f"{a.n3()} and {b.n3()}" for a, b in self.collisions[:3])
        more = f" (and {len(self.collisions) - 3} more)" if len(self.collisions) > 3 else ""
        return (f"{len(self.collisions)} literal(s) are one term in the store though written differently "
                f"({shown}{more}): they were judged in the form the store holds.")
