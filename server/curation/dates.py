"""Dates a source gives only in part, resolved against its publication date.

A report says "Thursday", "Nov. 28" or "two years ago"; the graph keeps those words (`kgo:dateAsWritten`) and,
beside them, the date they stand for, marked as derived (`kgo:derivation`) with the method
named here. Each method is a pure function of the words and the publication day, so a derived
value can be checked again at any time (`kg evidence --check`).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# The methods, by their local names in the ontology's namespace (kgo:WeekdayResolved, …).
WEEKDAY_RESOLVED = "WeekdayResolved"
YEAR_FROM_PUBLICATION = "YearFromPublicationDate"
AS_OF_PUBLICATION = "AsOfPublication"
COUNTED_FROM_PUBLICATION = "CountedFromPublicationDate"
METHODS = (WEEKDAY_RESOLVED, YEAR_FROM_PUBLICATION, AS_OF_PUBLICATION, COUNTED_FROM_PUBLICATION)
XSD = "http://www.w3.org/2001/XMLSchema#"

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = {m: i for i, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
    ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
    ("dec", "december")), start=1) for m in names}
_DAY_MONTH = re.compile(r"(?:(?P<m1>[A-Za-z]+)\.?\s+(?P<d1>\d{1,2})|(?P<d2>\d{1,2})\s+(?P<m2>[A-Za-z]+)\.?)")


# A count of units back ("two years ago") or ahead ("in two weeks") from the publication date, or
# the words that say one unit ("last month", "this year", "yesterday").
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_STEPS = {"last": -1, "this": 0, "next": 1, "yesterday": -1, "today": 0, "tomorrow": 1}
_COUNT = re.compile(r"(?P<n>\d{1,3}|[a-z]+(?:\s+[a-z]+){0,2})\s+(?P<unit>decade|year|month|week|day)s?\s+ago"
                    r"|in\s+(?P<ahead>\d{1,3}|[a-z]+(?:\s+[a-z]+){0,2})\s+(?P<ahead_unit>decade|year|month|week|day)s?"
                    r"|(?P<step>last|this|next)\s+(?P<step_unit>year|month|week|day)"
                    r"|(?P<day>yesterday|today|tomorrow)", re.I)


@dataclass(frozen=True)
class Counted:
    """A unit of the calendar counted from the publication date: its lexical form and XSD type."""

    value: str
    datatype: str


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


def count_from_publication(words: str, published: dt.date) -> Counted:
    """'two years ago', 'in two weeks', 'last month' in a report of `published`: the year, month or
    day so many units back or ahead, at the precision the unit carries (years and decades: the
    year; months: the month; weeks and days: the day). A week alone ("last week") has no XSD
    type, and a count that is not a number ("a few", "several") no value: both are refused."""
    m = _COUNT.fullmatch(words.strip())
    if m is None:
        raise UnresolvableDate(f"{words!r} does not count years, months, weeks or days from the publication")
    unit = (m.group("unit") or m.group("ahead_unit") or m.group("step_unit") or "day").lower()
    steps = _steps(m)
    if m.group("step") and unit == "week":
        monday = published - dt.timedelta(days=published.weekday() - 7 * steps)
        raise UnresolvableDate(f"{words!r} is the week from Monday {monday.isoformat()}: no XSD date type holds a week")
    if unit in ("decade", "year"):
        return Counted(f"{published.year + steps * (10 if unit == 'decade' else 1):04d}", XSD + "gYear")
    if unit == "month":
        months = published.year * 12 + published.month - 1 + steps
        return Counted(f"{months // 12:04d}-{months % 12 + 1:02d}", XSD + "gYearMonth")
    return Counted((published + dt.timedelta(days=steps * (7 if unit == "week" else 1))).isoformat(), XSD + "date")


def _steps(m: re.Match[str]) -> int:
    """How many units, signed: back ('ago', 'last', 'yesterday') is negative."""
    if m.group("step") or m.group("day"):
        return _STEPS[(m.group("step") or m.group("day")).lower()]
    written = (m.group("n") or m.group("ahead")).lower()
    count = int(written) if written.isdigit() else _NUMBERS.get(written)
    if count is None:
        raise UnresolvableDate(f"{written!r} is not an exact count")
    return -count if m.group("n") else count


def derived_value(method: str, words: str | None, published: dt.date) -> str:
    """The lexical form of the value `method` gives: a day for the day methods, a year, month or
    day for a count from the publication date. What `kg evidence --check` compares with the graph."""
    if method.rsplit("#", 1)[-1] == COUNTED_FROM_PUBLICATION:
        if words is None:
            raise UnresolvableDate(f"{COUNTED_FROM_PUBLICATION} needs the words as written (kgo:dateAsWritten)")
        return count_from_publication(words, published).value
    return derive(method, words, published).isoformat()


def derive(method: str, words: str | None, published: dt.date) -> dt.date:
    """The day `method` (an IRI or a local name of `METHODS`) gives for the words and the publication day
    (a count from the publication may be a year or a month: `derived_value` gives any of them)."""
    method = method.rsplit("#", 1)[-1]
    if method == AS_OF_PUBLICATION:
        return published
    if words is None:
        raise UnresolvableDate(f"{method} needs the words as written (kgo:dateAsWritten)")
    if method == WEEKDAY_RESOLVED:
        return resolve_weekday(words, published)
    if method == YEAR_FROM_PUBLICATION:
        return complete_year(words, published)
    if method == COUNTED_FROM_PUBLICATION:
        counted = count_from_publication(words, published)
        if not counted.datatype.endswith("#date"):
            raise UnresolvableDate(f"{words!r} gives a {counted.datatype.rsplit('#', 1)[-1]}, not a day")
        return dt.date.fromisoformat(counted.value)
    raise UnresolvableDate(f"unknown derivation method {method!r}; use one of {', '.join(METHODS)}")
