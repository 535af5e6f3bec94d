"""Nodes the graph already has, found by type, words of their label, date and place: what a
curator links a new report's facts to instead of minting a second node for the same event.

- **date**: a day, a month or a year (`2025-11-28`, `2025-11`, `2025`), or a range (`from`,
  `to`, either open). A node's time is each value of the ontology's date properties (`kgo:date`,
  `kgo:startDate`, `kgo:endDate`, `kgo:statementDate`, `kgo:depictedDate`) taken as the stretch
  its precision covers (`"2023-02"^^xsd:gYearMonth` is all of February 2023), and the span from
  its start to its end when it has both; it matches when that stretch meets the asked one.
- **place**: a place's IRI, or words of its label (or other names). A node is there when one of
  its place properties (`kgo:location` and its sub-properties, `kgo:locatedIn`, `kgo:hasSide`,
  `kgo:linksPlace`) points to that place or to a place within it (`kgo:locatedIn`, any depth).
- **words**: every word begins a word of one of the node's labels or other names, whatever the
  case or diacritics.

One bounded SELECT through the app's engine gives each node with its label, classes, dates
and places, so that candidates can be told apart.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest
from .text import fold

LIMIT = 50
MAX_WORDS = 200   # characters of `q` or `place`: a search, not a text
DATE_PROPERTIES = ("date", "startDate", "endDate", "statementDate", "depictedDate")
PLACE_PROPERTIES = ("locatedIn", "hasSide", "linksPlace")   # and kgo:location with its sub-properties
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"
_CLASS = re.compile(r"[A-Z][A-Za-z0-9]{0,79}")
_IRI = re.compile(r"https?://[^\s<>\"{}|\\^`]+")
_SEPARATOR = "\u001f"   # between a place's IRI and its label in one aggregated value: no label holds it


@dataclass(frozen=True)
class Search:
    """What the curator asks for; every part optional, and all of them together narrow."""

    type: str | None = None
    words: tuple[str, ...] = ()
    first: str | None = None         # YYYY-MM-DD, the first day asked for
    last: str | None = None          # YYYY-MM-DD, the last day asked for
    place: str | None = None         # a place's IRI
    place_words: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()      # only these nodes (to describe the candidates of a suggestion)


def from_args(args: Mapping[str, str]) -> Search:
    """The search a query string asks for; BadRequest names the field to change."""
    for name in ("q", "place"):
        if len(args.get(name, "")) > MAX_WORDS:
            raise BadRequest(f"{name} has {len(args[name])} characters; give at most {MAX_WORDS}")
    kind = args.get("type", "").strip() or None
    if kind is not None and not _CLASS.fullmatch(kind):
        raise BadRequest(f"type {kind!r} is not a class of the ontology: give its local name, such as Meeting")
    first, last = _dates(args)
    place, place_words = _place(args.get("place", "").strip())
    words = tuple(fold(args.get("q", "")).split())
    search = Search(kind, words, first, last, place, place_words)
    if search == Search(kind):
        raise BadRequest("give words of the label (q), a date (date, or from and to) or a place (place)")
    return search


def _dates(args: Mapping[str, str]) -> tuple[str | None, str | None]:
    day, start, end = (args.get(k, "").strip() for k in ("date", "from", "to"))
    if day and (start or end):
        raise BadRequest("give either 'date' or 'from'/'to', not both")
    if day:
        return _span(day, "date")
    first = _span(start, "from")[0] if start else None
    last = _span(end, "to")[1] if end else None
    if first and last and first > last:
        raise BadRequest(f"'from' {start} comes after 'to' {end}")
    return first, last


def _span(value: str, name: str) -> tuple[str, str]:
    """(first day, last day) of a day, a month or a year as written."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return (dt.date.fromisoformat(value).isoformat(),) * 2
        if re.fullmatch(r"\d{4}-\d{2}", value):
            first = dt.date.fromisoformat(value + "-01")
            following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return first.isoformat(), (following - dt.timedelta(days=1)).isoformat()
        if re.fullmatch(r"\d{4}", value):
            return f"{value}-01-01", f"{value}-12-31"
    except ValueError:
        pass
    raise BadRequest(f"{name} {value!r} is not a day (2025-11-28), a month (2025-11) or a year (2025)")


def _place(value: str) -> tuple[str | None, tuple[str, ...]]:
    if not value:
        return None, ()
    if value.startswith(("http://", "https://")):
        if not _IRI.fullmatch(value):
            raise BadRequest(f"place {value!r} is not an absolute http(s) IRI")
        return value, ()
    words = tuple(fold(value).split())
    if not words or len("".join(words)) < 2:
        raise BadRequest(f"place {value!r}: give a place's IRI, or at least two letters of its name")
    return None, words


def query(search: Search, base: str, limit: int = LIMIT) -> str:
    """The one SELECT: each node once, with its label, classes, dates and places aggregated."""
    kgo = base + "ontology#"
    dates = " ".join(f"<{kgo}{p}>" for p in DATE_PROPERTIES)
    return f"""PREFIX kgo: <{kgo}>
PREFIX rdfs: <{RDFS}>
PREFIX xsd: <{XSD}>
SELECT ?node (SAMPLE(?l) AS ?label) (GROUP_CONCAT(DISTINCT STR(?t); separator=" ") AS ?types)
       (GROUP_CONCAT(DISTINCT ?when; separator=" ") AS ?dates)
       (GROUP_CONCAT(DISTINCT ?where; separator="\\n") AS ?places)
WHERE {{
  {_nodes(search)}
  ?node rdfs:label ?l .
  FILTER (STRSTARTS(STR(?node), "{base}id/"))
  {_type(search)}
  {_words(search.words, "?node")}
  {_time(search)}
  {_where(search, kgo)}
  OPTIONAL {{ ?node a ?t FILTER (STRSTARTS(STR(?t), STR(kgo:)))
              FILTER NOT EXISTS {{ ?node a ?u . ?u rdfs:subClassOf+ ?t FILTER (?u != ?t) }} }}
  OPTIONAL {{ VALUES ?dp {{ {dates} }} ?node ?dp ?d
              BIND (CONCAT(STRAFTER(STR(?dp), "#"), "=", STR(?d)) AS ?when) }}
  OPTIONAL {{ {_place_link(kgo, "?node", "?p")} ?p rdfs:label ?pl
              BIND (CONCAT(STR(?p), "{_SEPARATOR}", STR(?pl)) AS ?where) }}
}} GROUP BY ?node ORDER BY LCASE(STR(?label)) ?node LIMIT {int(limit)}"""


def _nodes(search: Search) -> str:
    return f"VALUES ?node {{ {' '.join(f'<{n}>' for n in search.nodes)} }}" if search.nodes else ""


def _type(search: Search) -> str:
    return f"?node a/rdfs:subClassOf* kgo:{search.type} ." if search.type else ""


def _words(words: Sequence[str], node: str) -> str:
    """Every word in one label or other name of `node`, any case or diacritics (a pattern per word)."""
    if not words:
        return ""
    return f"FILTER EXISTS {{ {node} rdfs:label|<{SKOS}altLabel>|<{SKOS}prefLabel> ?name {_matching(words)} }}"


def _matching(words: Sequence[str]) -> str:
    return "FILTER (" + " && ".join(f'REGEX(?name, "{_pattern(w)}", "i")' for w in words) + ")"


def _time(search: Search) -> str:
    if search.first is None and search.last is None:
        return ""
    tests = [f'?first <= "{search.last}"' if search.last else "", f'?last >= "{search.first}"' if search.first else ""]
    dates = " ".join(f"kgo:{p}" for p in DATE_PROPERTIES)
    return f"""FILTER EXISTS {{
    {{ VALUES ?tp {{ {dates} }} ?node ?tp ?from_value . BIND (?from_value AS ?to_value) }}
    UNION {{ ?node kgo:startDate ?from_value ; kgo:endDate ?to_value }}
    BIND ({_first_day("?from_value")} AS ?first) BIND ({_last_day("?to_value")} AS ?last)
    FILTER ({" && ".join(t for t in tests if t)})
  }}"""


def _first_day(v: str) -> str:
    """The first day of a date, month or year value, as YYYY-MM-DD (unbound for other values)."""
    return (f'IF(DATATYPE({v}) = xsd:gYear, CONCAT(SUBSTR(STR({v}), 1, 4), "-01-01"), '
            f'IF(DATATYPE({v}) = xsd:gYearMonth, CONCAT(SUBSTR(STR({v}), 1, 7), "-01"), '
            f'IF(DATATYPE({v}) = xsd:date || DATATYPE({v}) = xsd:dateTime, SUBSTR(STR({v}), 1, 10), ?unbound)))')


def _last_day(v: str) -> str:
    """The last day, as a string that sorts after every day of the month or year ("-31" for any month)."""
    return (f'IF(DATATYPE({v}) = xsd:gYear, CONCAT(SUBSTR(STR({v}), 1, 4), "-12-31"), '
            f'IF(DATATYPE({v}) = xsd:gYearMonth, CONCAT(SUBSTR(STR({v}), 1, 7), "-31"), '
            f'IF(DATATYPE({v}) = xsd:date || DATATYPE({v}) = xsd:dateTime, SUBSTR(STR({v}), 1, 10), ?unbound)))')


def _where(search: Search, kgo: str) -> str:
    """The nodes at the place, or at a place within it, as a sub-select: found from the place
    outwards, which stays small, rather than tested node by node."""
    if search.place:
        target = f"?at kgo:locatedIn* <{search.place}> ."
    elif search.place_words:
        named = f"?region rdfs:label|<{SKOS}altLabel> ?name {_matching(search.place_words)}"
        target = f"{named} ?at kgo:locatedIn* ?region ."
    else:
        return ""
    return f"{{ SELECT DISTINCT ?node WHERE {{ {target} {_place_link(kgo, '?node', '?at')} }} }}"


def _place_link(kgo: str, node: str, place: str) -> str:
    """`node` is at `place`: its location (or a sub-property's), its containing place, a side, a linked place."""
    others = " ".join(f"kgo:{p}" for p in PLACE_PROPERTIES)
    return (f"{{ {node} ?lp {place} . ?lp rdfs:subPropertyOf* kgo:location }} "
            f"UNION {{ VALUES ?op {{ {others} }} {node} ?op {place} }}")


def _pattern(word: str) -> str:
    """A regular expression (as a SPARQL string's content) for a word's start in any of its spellings
    with diacritics ('turkiye' finds 'Türkiye'), initials with or without dots ('un' finds 'U.N.')."""
    return r"\\b" + r"\\.?".join(_letter(c) for c in word)


def _letter(c: str) -> str:
    variants = sorted(_VARIANTS.get(c, set()) | {c})
    return "[" + "".join(re.escape(v).replace("\\", "\\\\") for v in variants) + "]" if len(variants) > 1 \
        else re.escape(c).replace("\\", "\\\\")


def _variants() -> dict[str, set[str]]:
    """Each ASCII letter with the Latin letters that fold to it (ü, ú, û … to u), as `fold` folds them."""
    found: dict[str, set[str]] = {}
    for code in range(0xC0, 0x250):
        c = chr(code)
        folded = fold(c)
        if len(folded) == 1 and folded.isascii() and unicodedata.category(c).startswith("L"):
            found.setdefault(folded, set()).add(c)
    return found


_VARIANTS = _variants()


def results(rows: Sequence[Mapping[str, str]], base: str) -> list[dict[str, Any]]:
    """The rows as the page shows them: label, classes (the most specific), dates and places."""
    kgo = base + "ontology#"
    return [{"iri": r["node"], "label": r.get("label", ""),
             "types": sorted(t[len(kgo):] for t in r.get("types", "").split() if t.startswith(kgo)),
             "dates": [dict(zip(("property", "value"), d.split("=", 1))) for d in sorted(r.get("dates", "").split())],
             "places": sorted(({"iri": p.split(_SEPARATOR)[0], "label": p.split(_SEPARATOR)[1]}
                               for p in r.get("places", "").split("\n") if _SEPARATOR in p), key=lambda p: p["label"])}
            for r in rows]
