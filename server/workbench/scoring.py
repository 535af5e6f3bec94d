"""Suggestions measured against a hand-made answer key (tests/fixtures/*.key.json).

A mention counts when its span and its entity are the key's; a date when its span is the key's
and its value and datatype are too, or when both leave it unresolved; an event or statement when
it is proposed for the key's sentence with the key's kind and class.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import namespaces as ns
from .suggestions import Proposal


@dataclass(frozen=True)
class Score:
    found: int      # proposed
    expected: int   # in the key
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 1.0

    def line(self, what: str) -> str:
        return (f"{what}: precision {self.precision:.2f} ({self.correct}/{self.found}), "
                f"recall {self.recall:.2f} ({self.correct}/{self.expected})")


@dataclass(frozen=True)
class DateScore:
    expected: int
    resolved_correctly: int
    left_unresolved: int        # the key says unresolvable, and so does the suggestion
    wrong: tuple[str, ...]      # resolved to another value, or left unresolved where the key resolves it
    missed: tuple[str, ...]

    @property
    def all_right(self) -> bool:
        return not self.wrong and not self.missed


@dataclass(frozen=True)
class Scores:
    mentions: Score
    dates: DateScore
    events: Score

    def report(self) -> str:
        d = self.dates
        return "\n".join([self.mentions.line("entity mentions"), self.events.line("events and statements"),
                          f"dates: {d.resolved_correctly} resolved correctly, {d.left_unresolved} honestly left "
                          f"unresolved, {len(d.wrong)} wrong, {len(d.missed)} missed, of {d.expected}"])


def expand(iri: str, base: str = ns.DEFAULT_BASE) -> str:
    return base + "id/" + iri[3:] if iri.startswith("kg:") else iri


def score(p: Proposal, key: Mapping[str, Any], base: str = ns.DEFAULT_BASE) -> Scores:
    want = {(m["start"], m["end"], expand(m["entity"], base)) for m in key["mentions"]}
    got = {(m.start, m.end, m.entity) for m in p.mentions}
    mentions = Score(len(got), len(want), len(got & want))
    want_events = {(e["sentence_start"], e["kind"], e["type"]) for e in key["events"]}
    got_events = {(c.start, c.kind, c.type) for c in p.candidates}
    events = Score(len(got_events), len(want_events), len(got_events & want_events))
    return Scores(mentions, _dates(p, key["dates"]), events)


def _dates(p: Proposal, expected: list[Mapping[str, Any]]) -> DateScore:
    by_span = {(d.start, d.end): d for d in p.dates}
    right = unresolved = 0
    wrong: list[str] = []
    missed: list[str] = []
    for e in expected:
        d = by_span.get((e["start"], e["end"]))
        if d is None:
            missed.append(e["exact"])
        elif e["value"] is None and d.value is None:
            unresolved += 1
        elif d.value == e["value"] and (d.datatype or "").endswith("#" + str(e["datatype"])):
            right += 1
        else:
            wrong.append(f"{e['exact']!r}: {d.value} instead of {e['value']}")
    return DateScore(len(expected), right, unresolved, tuple(wrong), tuple(missed))
