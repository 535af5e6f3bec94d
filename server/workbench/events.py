"""Candidate events and attributed statements: deterministic patterns over a text's sentences.

- **Attributed statements** ("X said …", "According to X, …", "…, according to X, citing Y"):
  a `kgo:Claim` with its claimant (when the graph knows who X is), the reporting words as written
  and, when the sentence dates the saying ("said Thursday"), that date.
- **Meetings and talks** (who met whom, where, when: "met", "meets with", "receives", "held …
  talks"): typed with the ontology's classes (`kgo:TechnicalTalks`, `kgo:Talks`,
  `kgo:LeadersMeeting`, `kgo:Meeting`), with the participants, places and dates the sentence
  names, and the existing events of the graph they may be (same kind, and the same day or place).
- **Other events the ontology has a class for**, by the words reports use for them: a border
  closed, a declaration of determination, relations that thaw, an appointment, aid through a
  crossing, an upgrade. One sentence may report several (talks that follow meetings).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .date_expressions import DateExpression
from .gazetteer import Mention
from .text import Sentence, fold, sentences

PLACE_KINDS = frozenset({"City", "Place", "Region", "Venue", "BorderCrossing", "Country"})
PARTY_KINDS = frozenset({"Person", "Country", "GovernmentBody", "Organization", "InternationalBody"})
SAID = re.compile(r"\b(said|says|say|stated|announced|told|reported|described|added|noted|confirmed)\b")
ACCORDING = re.compile(r"\b([Aa]ccording to)\b")
CITING = re.compile(r"\b(citing)\b")
TALKS = re.compile(r"\b(?P<talks>(?:technical )?talks)\b")
MEETING = re.compile(r"\b(?P<verb>met|meets|meetings?|receives|received)\b")
LEADERS = re.compile(r"\bleaders\b")
# (class, the words that report it, words the sentence must also have): a closure is of a border,
# a thaw of relations, a humanitarian transit through a crossing.
CUES: tuple[tuple[str, re.Pattern[str], re.Pattern[str] | None], ...] = (
    ("BorderClosure", re.compile(r"\b(?:closed|closure|shut)\b", re.I), re.compile(r"\bborders?\b", re.I)),
    ("Declaration", re.compile(r"\b(?:(?:expressed|declared|voiced|reaffirmed) (?:their |its |a )?"
                               r"(?:determination|commitment|readiness|resolve)|(?:are|is|were) determined|pledged)\b",
                               re.I), None),
    ("RelationsThaw", re.compile(r"\bthaw(?:ed|ing)?\b", re.I), re.compile(r"\brelations\b", re.I)),
    ("Appointment", re.compile(r"\bappointment of\b", re.I), None),
    ("HumanitarianTransit", re.compile(r"\b(?:humanitarian|aid)\b", re.I),
     re.compile(r"\b(?:crossing|through|transit)\b", re.I)),
    ("InfrastructureUpgrade", re.compile(r"\b(?:upgraded|upgrading|modernized|modernised|renovated|rebuilt)\b", re.I),
     None),
)


@dataclass(frozen=True)
class Candidate:
    """An event or an attributed statement proposed from one sentence."""

    kind: str                      # "statement" or "event"
    type: str                      # local name of the ontology class
    start: int
    end: int
    exact: str
    cue: str                       # the words that made the pattern fire, as written
    claimant: str | None = None
    via: str | None = None         # whom the claim is relayed through ("citing …")
    participants: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()    # lexical date values in the sentence
    existing: tuple[str, ...] = ()
    confidence: float = 0.6
    explanation: str = ""


@dataclass(frozen=True)
class KnownEvent:
    iri: str
    type: str
    dates: frozenset[str]
    places: frozenset[str]
    labels: frozenset[str] = frozenset()


def find(text: str, mentions: Sequence[Mention], dates: Sequence[DateExpression],
         known: Iterable[KnownEvent] = ()) -> list[Candidate]:
    known = list(known)
    found: list[Candidate] = []
    for s in sentences(text):
        inside = [m for m in mentions if s.start <= m.start and m.end <= s.end]
        when = [d for d in dates if s.start <= d.start and d.end <= s.end]
        found.extend(_statements(s, inside, when))
        claimants = {c.claimant for c in found if c.start == s.start and c.claimant}
        found.extend(_events(s, [m for m in inside if m.entity not in claimants], when, known))
    return found


def _statements(s: Sentence, inside: Sequence[Mention], when: Sequence[DateExpression]) -> list[Candidate]:
    out: list[Candidate] = []
    said = SAID.search(s.text)
    if said:
        who = [m for m in inside if m.end <= s.start + said.start() and m.entity_type in PARTY_KINDS]
        claimant = who[-1].entity if who else None
        after = [d for d in when if d.start >= s.start + said.end() and d.start - (s.start + said.end()) <= 2]
        out.append(Candidate("statement", "Claim", s.start, s.end, s.text, said.group(), claimant=claimant,
                             dates=tuple(d.value for d in after if d.value),
                             confidence=0.8 if claimant else 0.5,
                             explanation=_why_statement(said.group(), claimant, s.text[:said.start()].strip())))
    according = ACCORDING.search(s.text)
    if according:
        tail = s.start + according.end()
        who = [m for m in inside if m.start >= tail and m.entity_type in PARTY_KINDS]
        citing = CITING.search(s.text, according.end())
        before_citing = [m for m in who if not citing or m.start < s.start + citing.start()]
        via = [m for m in who if citing and m.start >= s.start + citing.end()]
        claimant = before_citing[0].entity if before_citing else None
        out.append(Candidate("statement", "Claim", s.start, s.end, s.text, according.group(), claimant=claimant,
                             via=via[0].entity if via else None, confidence=0.8 if claimant else 0.5,
                             explanation=_why_statement(according.group(), claimant, s.text[according.end():].strip())
                             + (f"; relayed: {citing.group()!r} names where it came from" if citing else "")))
    return out


def _why_statement(cue: str, claimant: str | None, words: str) -> str:
    phrase = words.split(",")[0][:60]
    if claimant:
        return f"{cue!r}: a statement attributed to {phrase!r}, a node the graph knows"
    return f"{cue!r}: a statement attributed to {phrase!r}, whom the graph does not know yet (add them first)"


def _events(s: Sentence, inside: Sequence[Mention], when: Sequence[DateExpression],
            known: Sequence[KnownEvent]) -> list[Candidate]:
    """Talks, a meeting, and the other events the sentence's words report, each once."""
    found = [_event(s, m, inside, when, known) for m in (TALKS.search(s.text), MEETING.search(s.text))
             if m is not None]
    for kind, cue, context in CUES:
        if (m := cue.search(s.text)) is not None and (context is None or context.search(s.text)):
            found.append(_event(s, m, inside, when, known, kind))
    return found


def _event(s: Sentence, m: re.Match[str], inside: Sequence[Mention], when: Sequence[DateExpression],
           known: Sequence[KnownEvent], kind: str | None = None) -> Candidate:
    persons = [x.entity for x in inside if x.entity_type == "Person"]
    parties = tuple(dict.fromkeys(x.entity for x in inside if x.entity_type in PARTY_KINDS - {"Country"}
                                  or (x.entity_type == "Country" and x.start - s.start < (m.start() or 1))))
    places = tuple(dict.fromkeys(x.entity for x in inside if x.entity_type in PLACE_KINDS
                                 and _after_preposition(s, x)))
    days = tuple(d.value for d in when if d.value and d.datatype and d.datatype.endswith("#date"))
    kind = kind or _meeting_kind(s, m, persons)
    existing = tuple(dict.fromkeys(e.iri for e in known if _may_be(e, kind, days, places, fold(s.text))))
    why = (f"{m.group()!r}: a {kind} with {len(parties)} known participant(s), {len(places)} place(s), "
           f"{len(days)} day(s)" + (f"; the graph may already have it: {len(existing)} candidate(s)" if existing
                                    else ""))
    return Candidate("event", kind, s.start, s.end, s.text, m.group(), participants=parties, places=places,
                     dates=days, existing=existing, confidence=0.7 if (parties or places) else 0.4, explanation=why)


def _meeting_kind(s: Sentence, m: re.Match[str], persons: Sequence[str]) -> str:
    if "talks" in m.groupdict():
        return "TechnicalTalks" if "technical" in m.group() else "Talks"
    return "LeadersMeeting" if len(set(persons)) >= 2 or LEADERS.search(s.text) else "Meeting"


def _after_preposition(s: Sentence, mention: Mention) -> bool:
    """A place where something happens: 'in Gyumri', 'at the … crossing', 'in the Armenian city of Gyumri'."""
    before = s.text[:mention.start - s.start]
    return re.search(r"\b(?:in|at|to|of)\s+(?:the\s+)?(?:[\w’'-]+\s+){0,3}$", before) is not None


def _may_be(event: KnownEvent, kind: str, days: Sequence[str], places: Sequence[str], words: str) -> bool:
    """The same kind of event, and the same day, place, or most words of its label in the sentence."""
    family = {"TechnicalTalks": {"TechnicalTalks", "Talks"}, "Talks": {"TechnicalTalks", "Talks"},
              "LeadersMeeting": {"LeadersMeeting", "Meeting", "Visit"}, "Meeting": {"Meeting", "LeadersMeeting"}}
    if event.type not in family.get(kind, {kind}):
        return False
    return bool(event.dates & set(days)) or bool(event.places & set(places)) or any(
        _overlap(label, words) >= 0.6 for label in event.labels)


def _overlap(label: str, words: str) -> float:
    content = [w for w in fold(label).split() if w not in ("the", "of", "on", "in", "at", "a", "an", "and")]
    present = set(words.split())
    return sum(w in present for w in content) / len(content) if content else 0.0


def events_query(base: str) -> str:
    kgo = f"{base}ontology#"
    return f"""SELECT ?event ?type ?date ?place ?label WHERE {{
  VALUES ?type {{ <{kgo}Talks> <{kgo}TechnicalTalks> <{kgo}Meeting> <{kgo}LeadersMeeting> <{kgo}Visit> }}
  ?event a ?type .
  OPTIONAL {{ ?event <{kgo}date> ?date }}
  OPTIONAL {{ ?event <{kgo}location> ?place }}
  OPTIONAL {{ ?event <http://www.w3.org/2000/01/rdf-schema#label> ?label }}
}}"""


def known_events(rows: Iterable[Mapping[str, str]]) -> list[KnownEvent]:
    grouped: dict[tuple[str, str], tuple[set[str], set[str], set[str]]] = {}
    for r in rows:
        dates, places, labels = grouped.setdefault((r["event"], r["type"].rsplit("#", 1)[-1]), (set(), set(), set()))
        for key, into in (("date", dates), ("place", places), ("label", labels)):
            if r.get(key):
                into.add(r[key])
    return [KnownEvent(iri, t, frozenset(d), frozenset(p), frozenset(lab))
            for (iri, t), (d, p, lab) in sorted(grouped.items())]
