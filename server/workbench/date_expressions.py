"""Date and time expressions of a text, resolved against the source's publication date.

Expressions are found by patterns (a weekday, a day and month, a month and year, a year after
"in"/"since", "last month", "this year", "two years ago", "in two weeks", a date-time with its
zone, a stretch of time such as "more than three decades") and resolved relative to the
publication date-time: dates with dateparser, counts of units by the project's own method. The
words stay as written; a value the words give only in part (no year, a weekday, "last month",
"three months ago") is marked derived with its derivation method (`server.curation.dates`), and
the value must be what that method gives, so that `kg evidence --check` recomputes the same
date. What cannot be resolved is said so, not guessed: a stretch of time, a week ("last week"),
which no XSD date type holds, a count that is not exact ("a few years ago"), and a count from
another time the text reports ("a year earlier").
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import dateparser

from ..curation import dates as methods

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_TIME = r"\d{1,2}:\d{2}(?:\s*[AP]\.?M\.?)?(?:\s*(?:GMT|UTC)\s*[+-]\d{1,2}(?::?\d{2})?)?"
# How long something lasted ("more than three decades", "for decades"): not a point in time. The
# bare plural needs its "for"; a count does not. "Two years ago" is a date, not a duration.
_DURATION = (r"(?:(?:(?:more|less|fewer)\s+than|over|nearly|almost|about|some|at\s+least)\s+)?"
             r"(?:\d+|a\s+few|several|many|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+"
             r"(?:decades?|years?|months?|weeks?|days?)\b(?!\s+(?:ago|later|earlier|before|after|old)\b)"
             r"|for\s+(?:decades|years|months|weeks)\b")
# A count of units back or ahead: "two years ago", "in two weeks"; "a year earlier" and "two days
# after" count from another time the text gives, and "about two years ago" is not an exact count.
_COUNT = (r"(?:\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a\s+few|few|several|"
          r"many)\s+(?:decades?|years?|months?|weeks?|days?)")
_QUALIFIER = r"(?:(?:more|less|fewer)\s+than|over|nearly|almost|about|around|roughly|some|at\s+least)\s+"
_COUNTED = (rf"(?:{_QUALIFIER})?(?:{_COUNT}|decades|years|months|weeks|days)\s+(?:ago|earlier|later|before|after)\b"
            rf"|in\s+(?:{_QUALIFIER})?{_COUNT}\b(?!\s+(?:ago|earlier|later|before|after|old)\b)")
_FROM_ANOTHER_TIME = re.compile(r"\b(?:earlier|later|before|after)$", re.IGNORECASE)
_RELATIVE = re.compile(rf"(?:{_COUNTED}|(?:last|this|next)\s+(?:year|month|week)|yesterday|today|tomorrow)",
                       re.IGNORECASE)
# Longest forms first: one alternation, so that a match never starts inside a longer one.
PATTERN = re.compile(
    rf"(?:{_WEEKDAY},\s+)?{_MONTH}\s+\d{{1,2}},\s+\d{{4}}(?:\s+{_TIME})?"     # Sunday, Nov. 30, 2025 [11:18 AM GMT+03:00]
    rf"|(?:{_WEEKDAY},\s+)?{_MONTH}\s+\d{{1,2}}\b"                            # Monday, Dec. 1 / Nov. 28
    rf"|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}"                                       # 28 November 2025
    rf"|{_MONTH}\s+\d{{4}}"                                                   # February 2023
    rf"|\b(?:{_COUNTED})"                                                     # two years ago, in two weeks
    rf"|\b(?:last|this|next)\s+(?:year|month|week)\b"                         # last month
    rf"|\b(?:yesterday|today|tomorrow)\b"
    rf"|\b(?:{_DURATION})"                                                    # a stretch of time, not a date
    rf"|\b{_WEEKDAY}\b"                                                       # Thursday
    rf"|\b(?:in|since|until|of)\s+(?P<year>(?:1[89]|20)\d{{2}})\b"            # in 1993, since 1993
    rf"|\b(?:1[89]|20)\d{{2}}(?= [A-Z][a-z]+ war\b)",                         # the 2020 Karabakh war
    re.IGNORECASE)

XSD = "http://www.w3.org/2001/XMLSchema#"


@dataclass(frozen=True)
class DateExpression:
    start: int
    end: int
    exact: str
    value: str | None           # lexical form, or None when unresolved
    datatype: str | None        # xsd:date, xsd:dateTime, xsd:gYear, xsd:gYearMonth
    derived: bool
    method: str | None          # WeekdayResolved, YearFromPublicationDate, CountedFromPublicationDate
    explanation: str


def find(text: str, published: dt.datetime | dt.date) -> list[DateExpression]:
    found = []
    for m in PATTERN.finditer(text):
        group = "year" if m.group("year") else 0  # "in 1993": the year is the expression
        if not _capitalised_word_only(m.group(group), text, m.start(group)):
            found.append(resolve(m.group(group), m.start(group), m.end(group), published))
    return found


def _capitalised_word_only(words: str, text: str, start: int) -> bool:
    """'May' or 'March' alone is a month only with a day or a year; a weekday must be capitalised."""
    return words[:1].islower() and re.fullmatch(_WEEKDAY, words, re.IGNORECASE) is not None


def resolve(words: str, start: int, end: int, published: dt.datetime | dt.date) -> DateExpression:
    base = published if isinstance(published, dt.datetime) else dt.datetime.combine(published, dt.time(12))
    day = base.date()
    has_year = re.search(r"\b(?:1[89]|20)\d{2}\b", words) is not None
    has_time = re.search(r"\d{1,2}:\d{2}", words) is not None
    settings = {"RELATIVE_BASE": base.replace(tzinfo=None), "PREFER_DATES_FROM": "past",
                "RETURN_AS_TIMEZONE_AWARE": has_time, "REQUIRE_PARTS": []}
    if re.fullmatch(_DURATION, words, re.IGNORECASE):
        return DateExpression(start, end, words, None, None, False, None,
                              "how long something lasted, not a point in time: left unresolved")
    if _RELATIVE.fullmatch(words):
        return _counted(words, start, end, day)
    cleaned = re.sub(r"\bSept\.", "Sep.", words)
    data = dateparser.date.DateDataParser(languages=["en"], settings=settings).get_date_data(cleaned)
    if data.date_obj is None:
        return DateExpression(start, end, words, None, None, False, None,
                              "no date could be read from these words: left unresolved")
    when, period = data.date_obj, data.period
    if re.fullmatch(r"(?:1[89]|20)\d{2}", words):
        period = "year"
    if has_time:
        if when.tzinfo is None:
            return DateExpression(start, end, words, None, None, False, None,
                                  "a time without a zone: left unresolved (say the zone to resolve it)")
        return DateExpression(start, end, words, when.isoformat(), XSD + "dateTime", False, None,
                              "a date and time with its zone, as written")
    value, datatype = _value(when.date(), period)
    if has_year:
        return DateExpression(start, end, words, value, datatype, False, None, f"a {period} given in full")
    return _derived_day(words, start, end, value, datatype, day)


def _counted(words: str, start: int, end: int, day: dt.date) -> DateExpression:
    """'two years ago', 'last month': the project's method gives the value and its precision,
    so that the check recomputes it from the same words; a count from another time is not ours to make."""
    if _FROM_ANOTHER_TIME.search(words):
        return DateExpression(start, end, words, None, None, False, None,
                              "counted from another time the text reports, not from the publication: left unresolved")
    try:
        counted = methods.count_from_publication(words, day)
    except methods.UnresolvableDate as exc:
        return DateExpression(start, end, words, None, None, False, None, f"{exc}: left unresolved")
    unit = {"gYear": "year", "gYearMonth": "month", "date": "day"}[counted.datatype.rsplit("#", 1)[-1]]
    return DateExpression(start, end, words, counted.value, counted.datatype, True, methods.COUNTED_FROM_PUBLICATION,
                          f"{words!r} counted from the publication day {day.isoformat()}, to the {unit}")


def _derived_day(words: str, start: int, end: int, value: str, datatype: str, day: dt.date) -> DateExpression:
    """A weekday or a day and month: the project's own method must give the same day."""
    weekday_only = re.fullmatch(_WEEKDAY, words.strip(), re.IGNORECASE) is not None
    method = methods.WEEKDAY_RESOLVED if weekday_only else methods.YEAR_FROM_PUBLICATION
    try:
        expected = methods.derive(method, words, day).isoformat()
    except methods.UnresolvableDate as exc:
        return DateExpression(start, end, words, None, None, False, None, f"{exc}: left unresolved")
    if expected != value:
        return DateExpression(start, end, words, None, None, False, None,
                              f"dateparser reads {value}, the method {method} {expected}: left unresolved")
    weekday = re.match(_WEEKDAY, words, re.IGNORECASE)
    if weekday and not weekday_only and dt.date.fromisoformat(value).strftime("%A").casefold() != \
            weekday.group().casefold():
        return DateExpression(start, end, words, None, None, False, None,
                              f"{value} is not a {weekday.group()}: left unresolved")
    why = (f"the latest {words.strip()} on or before the publication day {day.isoformat()}" if weekday_only
           else f"the year supplied from the publication day {day.isoformat()}")
    return DateExpression(start, end, words, value, datatype, True, method, why)


def _value(day: dt.date, period: str) -> tuple[str, str]:
    if period == "year":
        return f"{day.year:04d}", XSD + "gYear"
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}", XSD + "gYearMonth"
    return day.isoformat(), XSD + "date"


def parse_published(value: str) -> dt.datetime | dt.date:
    """A publication date (YYYY-MM-DD) or date-time with its zone; ValueError says what to write."""
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return dt.date.fromisoformat(value)
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (2025-11-30) or a date-time with its zone "
                         "(2025-11-29T11:18:00+03:00)") from None
    if when.tzinfo is None:
        raise ValueError(f"{value!r} has no zone: write it as 2025-11-29T11:18:00+03:00 (or give the date only)")
    return when
