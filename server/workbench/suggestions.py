"""Every suggestion for one text: entity mentions, dates, statements and events, each with its span."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import pyoxigraph as ox

from .. import namespaces as ns
from ..curation.evidence import AFFIX, printing_at
from . import date_expressions, events, gazetteer
from .date_expressions import DateExpression
from .events import Candidate, KnownEvent
from .gazetteer import Gazetteer, Mention

Select = Callable[[str], list[dict[str, str]]]


@dataclass
class Proposal:
    text: str
    published: dt.datetime | dt.date
    mentions: list[Mention]
    dates: list[DateExpression]
    candidates: list[Candidate]
    known_entities: dict[str, str] = field(default_factory=dict)   # IRI -> class (local name)

    def as_json(self) -> dict[str, Any]:
        """The suggestions with their selectors (exact, prefix, suffix, start, end), for the page."""
        return {
            "published": self.published.isoformat(),
            "mentions": [{**asdict(m), **self._affixes(m.start, m.end), "kind": "mention"} for m in self.mentions],
            "dates": [{**asdict(d), **self._affixes(d.start, d.end), "kind": "date"} for d in self.dates],
            "candidates": [{**asdict(c), **self._affixes(c.start, c.end)} for c in self.candidates],
        }

    def _affixes(self, start: int, end: int) -> dict[str, str]:
        p = printing_at(self.text, start, end, AFFIX)
        return {"prefix": p.prefix, "suffix": p.suffix}


def propose(text: str, published: dt.datetime | dt.date, names: Gazetteer,
            known: Iterable[KnownEvent] = ()) -> Proposal:
    mentions = names.find(text)
    taken = [(m.start, m.end) for m in mentions]
    # A word such as "Today" inside a name ("Türkiye Today") is part of the name; a year inside
    # one ("the 2020 Karabakh war") still dates it.
    found_dates = [d for d in date_expressions.find(text, published)
                   if any(c.isdigit() for c in d.exact) or not any(a <= d.start and d.end <= b for a, b in taken)]
    candidates = events.find(text, mentions, found_dates, known)
    kinds = {n.entity: n.entity_type for n in names.names}
    return Proposal(text, published, mentions, found_dates, candidates, kinds)


def propose_from_graph(text: str, published: dt.datetime | dt.date, select: Select, base: str,
                       exclude_graphs: Iterable[str] = ()) -> Proposal:
    """Suggestions against the names and events of a graph read through `select` (SPARQL SELECT rows)."""
    exclude = list(exclude_graphs)
    names = gazetteer.from_select(select, base, exclude)
    known = events.known_events(select(events.events_query(base)))
    return propose(text, published, names, known)


def store_select(store: ox.Store) -> Select:
    """`select` over a pyoxigraph store: rows of plain strings, the union of its graphs as default."""
    def select(query: str) -> list[dict[str, str]]:
        solutions = store.query(query, use_default_graph_as_union=True)
        names = [v.value for v in solutions.variables]
        return [{n: t.value for n in names if (t := row[n]) is not None} for row in solutions]
    return select


def default_article(base: str = ns.DEFAULT_BASE) -> str:
    return base + "id/article-draft"
