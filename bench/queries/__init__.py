"""The researcher query mix: one SPARQL template per file here, parameters drawn per request.

Templates use `$name` placeholders (string.Template). Each template's parameters are picked at
random from what a generated graph holds (its manifest), so consecutive requests differ and no
cache can answer them.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from string import Template
from typing import Any, Callable

from bench.generate import LANGS, person_label, place_label, state_label

HERE = Path(__file__).resolve().parent


def _skewed(rng: random.Random, n: int) -> int:
    return min(n - 1, int(n * rng.random() ** 2.5))


def _actor(rng: random.Random, m: dict[str, Any]) -> str:
    kind = rng.choice(["person", "person", "state", "ministry"])
    n = {"person": m["persons"], "state": m["states"], "ministry": m["ministries"]}[kind]
    return f"{kind}-{_skewed(rng, n)}"


def _event(rng: random.Random, m: dict[str, Any]) -> str:
    # Articles have 3 to 7 events; event 0..2 always exist.
    return f"event-a{rng.randrange(m['articles'])}-{rng.randrange(3)}"


def _label(rng: random.Random, m: dict[str, Any]) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return person_label(rng.randrange(m["persons"]))
    if kind == 1:
        return state_label(rng.randrange(m["states"]))
    return place_label(rng.randrange(m["places"]))


def _window(rng: random.Random, m: dict[str, Any]) -> dict[str, str]:
    first = date(m["year_first"], 1, 1)
    start = first + timedelta(days=rng.randrange((m["year_last"] - m["year_first"] + 1) * 365))
    end = start + timedelta(days=rng.choice([90, 365, 3 * 365]))
    return {"actor": _actor(rng, m), "start": start.isoformat(), "end": end.isoformat()}


def _two_people(rng: random.Random, m: dict[str, Any]) -> dict[str, str]:
    a = _skewed(rng, m["persons"])
    b = _skewed(rng, m["persons"])
    return {"a": f"person-{a}", "b": f"person-{b if b != a else (a + 1) % m['persons']}"}


PICKERS: dict[str, Callable[[random.Random, dict[str, Any]], dict[str, str]]] = {
    "label_lookup": lambda r, m: {"label": _label(r, m)},
    "events_of_actor": lambda r, m: {"actor": _actor(r, m)},
    "meetings_between": lambda r, m: {"a": f"state-{_skewed(r, m['states'])}", "b": _actor(r, m)},
    "per_year": lambda r, m: {"actor": _actor(r, m)},
    "date_range": _window,
    "labels_language": lambda r, m: {"parent": f"place-{_skewed(r, m['places'])}", "lang": r.choice(LANGS)},
    "claims_by_state_ministries": lambda r, m: {"state": f"state-{_skewed(r, m['states'])}"},
    "event_paths": lambda r, m: {"event": _event(r, m)},
    "describe_event": lambda r, m: {"event": _event(r, m)},
    "construct_actor": lambda r, m: {"actor": _actor(r, m)},
    "ask_met": _two_people,
    "evidence_for_event": lambda r, m: {"event": _event(r, m)},
}

GRAPH_RESULTS = {"describe_event", "construct_actor"}
BOOLEAN_RESULTS = {"ask_met"}


@dataclass(frozen=True)
class QueryTemplate:
    name: str
    template: Template
    pick: Callable[[random.Random, dict[str, Any]], dict[str, str]]

    @property
    def kind(self) -> str:
        return "graph" if self.name in GRAPH_RESULTS else "boolean" if self.name in BOOLEAN_RESULTS else "bindings"

    @property
    def accept(self) -> str:
        return "application/n-triples" if self.kind == "graph" else "application/sparql-results+json"

    def render(self, rng: random.Random, manifest: dict[str, Any]) -> str:
        return self.template.substitute(self.pick(rng, manifest))


def load_mix() -> list[QueryTemplate]:
    """The templates, in a fixed order; each file name (without .rq) must have a picker."""
    mix = []
    for path in sorted(HERE.glob("*.rq")):
        name = path.stem
        if name not in PICKERS:
            raise KeyError(f"{path.name}: no parameter picker for this template in bench/queries/__init__.py")
        mix.append(QueryTemplate(name, Template(path.read_text(encoding="utf-8")), PICKERS[name]))
    missing = set(PICKERS) - {q.name for q in mix}
    if missing:
        raise KeyError(f"pickers without a template: {sorted(missing)}")
    return mix
