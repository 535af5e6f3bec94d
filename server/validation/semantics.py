"""SHACL value semantics on rdflib terms, decided as pySHACL decides them.

The compiled engine narrows candidates in SPARQL and judges them here, on the term as written
(`fidelity.as_rdflib`), so that its answer is pySHACL's even where SPARQL on the store would
differ: lexical forms the store rewrote, rdflib's ill-typed flag, Python's regular expressions,
rdflib's order of literals.
"""
from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Callable

import rdflib
from pyshacl.rdfutil.compare import compare_literal
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

# Datatypes whose lexical forms rdflib parses (an ill-typed literal fails sh:datatype in pySHACL):
# SPARQL does not decide these. Any lexical form is a valid xsd:string.
PARSED = ({d for d in rdflib.term.XSDToPython if d is not None} - {XSD.string}) | {RDF.langString, RDFS.Literal,
                                                                                  RDFS.Datatype}
_PY_TYPES: dict[Node, type | tuple[type, ...]] = {
    XSD.string: (str, bytes), RDF.langString: (str, bytes), XSD.integer: int, XSD.boolean: bool, XSD.float: float,
    XSD.decimal: decimal.Decimal, XSD.date: datetime.date, XSD.time: datetime.time, XSD.dateTime: datetime.datetime}
_COMPARE: dict[str, Callable[[int], bool]] = {">=": lambda c: c >= 0, "<=": lambda c: c <= 0,
                                              ">": lambda c: c > 0, "<": lambda c: c < 0}


def datatype_ok(v: Node, datatype: Node) -> bool:
    """sh:datatype: the datatype IRI matches and rdflib parsed the lexical form."""
    if not isinstance(v, rdflib.Literal):
        return False
    if v.datatype == datatype:
        if getattr(v, "ill_typed", None) is True:
            return False
    elif datatype == RDFS.Literal:
        return True
    elif datatype == RDFS.Datatype and v.datatype:
        return True
    elif not ((v.datatype is None and v.language is None and datatype == XSD.string)
              or (datatype == RDF.langString and v.language)):
        return False
    expected = _PY_TYPES.get(datatype)
    return expected is None or isinstance(v.value, expected)


def in_range(v: Node, bound: rdflib.Literal, op: str) -> bool:
    """sh:minInclusive and kin: rdflib's order of literals, strings only with strings."""
    if not isinstance(v, rdflib.Literal) or isinstance(v.value, str) != isinstance(bound.value, str):
        return False
    try:
        return _COMPARE[op](compare_literal(v, bound))
    except (TypeError, NotImplementedError):
        return False


def lexical(v: Node) -> str:
    """The string sh:minLength, sh:maxLength and sh:pattern read."""
    if isinstance(v, rdflib.Literal) and v.value is not None and v.datatype in (None, RDF.langString, XSD.string):
        return str(v.value)
    return str(v)


def length_ok(v: Node, n: int, op: str) -> bool:
    if op == ">=" and n == 0:
        return True
    if isinstance(v, rdflib.BNode):
        return False
    return len(lexical(v)) >= n if op == ">=" else len(lexical(v)) <= n


def compile_pattern(pattern: rdflib.Literal, flags: Node | None) -> re.Pattern[str]:
    options = 0
    if isinstance(flags, rdflib.Literal):
        text = str(flags.value).lower()
        options |= re.I if "i" in text else 0
        options |= re.M if "m" in text else 0
    return re.compile(str(pattern.value) if pattern.value is not None and len(pattern.value) > 1 else str(pattern),
                      options)


def pattern_ok(v: Node, matcher: re.Pattern[str]) -> bool:
    return not isinstance(v, rdflib.BNode) and matcher.search(lexical(v)) is not None


def language_in(v: Node, wanted: frozenset[str]) -> bool:
    """sh:languageIn: the whole tag or its first subtag is listed (lower case), or `*` is."""
    if not isinstance(v, rdflib.Literal) or not v.language:
        return False
    tag = v.language.lower()
    return "*" in wanted or tag in wanted or tag.split("-")[0] in wanted


def language_in_sparql(v: str, wanted: frozenset[str]) -> str:
    """`language_in` as SPARQL (exact: Oxigraph keeps tags in lower case, pySHACL compares them so)."""
    if "*" in wanted:
        return f"(!isLiteral({v}) || LANG({v}) = \"\")"
    listed = ", ".join(f'"{w}"' for w in sorted(wanted)) or '""'
    lang = f"LCASE(LANG({v}))"
    return (f"(!isLiteral({v}) || LANG({v}) = \"\" || !({lang} IN ({listed}) || "
            f"STRBEFORE(CONCAT({lang}, \"-\"), \"-\") IN ({listed})))")


class Incomparable(Exception):
    """sh:lessThan met a blank node (pySHACL stops with a failure)."""


def less_than(a: Node, b: Node, or_equal: bool) -> bool:
    """sh:lessThan / sh:lessThanOrEquals for one pair: strings (and IRIs) only with strings, else
    rdflib's order of literals."""
    if isinstance(a, rdflib.BNode) or isinstance(b, rdflib.BNode):
        raise Incomparable("sh:lessThan cannot compare a blank node")
    x, x_str = _comparable(a)
    y, y_str = _comparable(b)
    if x_str != y_str:
        return False
    return bool(x <= y) if or_equal else bool(x < y)


def _comparable(t: Node) -> tuple[object, bool]:
    if isinstance(t, rdflib.URIRef):
        return str(t), True
    if isinstance(t, rdflib.Literal) and isinstance(t.value, str):
        return t.value, True
    return t, False
