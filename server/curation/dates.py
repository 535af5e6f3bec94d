"""Dates a source gives only in part, resolved against its publication date.

A report says "Thursday" or "Nov. 28"; the graph keeps those words (`kgo:dateAsWritten`) and,
beside them, the date they stand for, marked as derived (`kgo:derivation`) with the method
named here. Each method is a pure function of the words and the publication day, so a derived
value can be checked again at any time (`kg evidence --check`).
"""
from __future__ import annotations

import datetime as dt
import re

# The methods, by their local names in the ontology's namespace (kgo:WeekdayResolved, …).
WEEKDAY_RESOLVED = "WeekdayResolved"
YEAR_FROM_PUBLICATION = "YearFromPublicationDate"
AS_OF_PUBLICATION = "AsOfPublication"
METHODS = (WEEKDAY_RESOLVED, YEAR_FROM_PUBLICATION, AS_OF_PUBLICATION)

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = {m: i for i, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
    ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
    ("dec", "december")), start=1) for m in names}
_DAY_MONTH = re.compile(r"(?:(?P<m1>[A-Za-z]+)\.?\s+(?P<d1>\d{1,2})|(?P<d2>\d{1,2})\s+(?P<m2>[A-Za-z]+)\.?)")


class UnresolvableDate(ValueError):
    """The words do not name what the method resolves (no weekday, no day and month)."""


def publication_day(value: str) -> dt.date:
    """The day of an xsd:date or xsd:dateTime publication value, in the zone it is written in."""
    return dt.date.fromisoformat(value[:10])


def resolve_weekday(words: str, published: dt.date) -> dt.date:
    """'Thursday' in a report of `published`: the latest such day on or before publication."""
    found = [i for i, name in enumerate(_WEEKDAYS) if re.search(rf"\b{name}\b", words, re.I)]
    if len(found) != 1:
        raise UnresolvableDate(f"{words!r} does not name exactly one weekday")
    return published - dt.timedelta(days=(published.weekday() - found[0]) % 7)


def complete_year(words: str, published: dt.date) -> dt.date:
    """'Nov. 28' in a report of `published`: that day in the publication's year, or in the year
    before when that day would come after the publication (a December date in a January report)."""
    m = _DAY_MONTH.search(words)
    month = _MONTHS.get(((m.group("m1") or m.group("m2")) if m else "").lower())
    if not m or month is None:
        raise UnresolvableDate(f"{words!r} does not name a day and a month")
    day = int(m.group("d1") or m.group("d2"))
    candidate = dt.date(published.year, month, day)
    return candidate if candidate <= published else dt.date(published.year - 1, month, day)


def derive(method: str, words: str | None, published: dt.date) -> dt.date:
    """The date `method` (an IRI or a local name of `METHODS`) gives for the words and the publication day."""
    method = method.rsplit("#", 1)[-1]
    if method == AS_OF_PUBLICATION:
        return published
    if words is None:
        raise UnresolvableDate(f"{method} needs the words as written (kgo:dateAsWritten)")
    if method == WEEKDAY_RESOLVED:
        return resolve_weekday(words, published)
    if method == YEAR_FROM_PUBLICATION:
        return complete_year(words, published)
    raise UnresolvableDate(f"unknown derivation method {method!r}; use one of {', '.join(METHODS)}")
