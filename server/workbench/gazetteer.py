"""Which entities the graph already knows, by every name it gives them, and where a text names them.

Names come from the graph: `rdfs:label`, `skos:prefLabel`, `skos:altLabel` of nodes of the
kinds a text names (people, countries, places, organisations, infrastructure, wars, posts).
Matching folds case and diacritics ("Erdogan" / "Erdoğan", "Turkiye" / "Türkiye"), then
tolerates small misspellings and other spellings with rapidfuzz ("Armanian", "Gümrü" for the
"Gumri" spelling of Gyumri). Descriptive labels ("officials from Ankara", "the ministry") are
not names and are left out: they would match words that name something else in another report.
"""
from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from .. import namespaces as ns
from .text import Word, fold, words

# Kinds of node whose labels are names a text uses (local names in the ontology's namespace).
NAMED_KINDS = ("Person", "Country", "City", "Place", "Region", "Venue", "Border", "BorderCrossing", "RailwayLine",
               "GovernmentBody", "InternationalBody", "Publisher", "Organization", "War", "Post")
ORGANISATION_KINDS = frozenset({"GovernmentBody", "Organization", "InternationalBody", "Publisher"})
LABEL_KINDS = {"http://www.w3.org/2000/01/rdf-schema#label": "label",
               "http://www.w3.org/2004/02/skos/core#prefLabel": "prefLabel",
               "http://www.w3.org/2004/02/skos/core#altLabel": "altLabel"}
MAX_WORDS = 8
FUZZY_CUTOFF_ONE_WORD = 80   # "gumru" / "gumri" is 80; "turks" / "turkey" 73
FUZZY_CUTOFF = 88            # several words: one letter wrong in a two-word name


@dataclass(frozen=True)
class Name:
    """One name of one entity, as the graph writes it."""

    entity: str
    written: str
    kind: str          # label, prefLabel, altLabel, or surname (the last word of a person's label)
    entity_type: str   # local name of the entity's class (Person, City, …)
    graph: str = ""

    @property
    def folded(self) -> str:
        return fold(self.written)


@dataclass(frozen=True)
class Mention:
    """Words of the text that name an entity the graph knows."""

    start: int
    end: int
    exact: str
    entity: str
    entity_type: str
    name: str
    confidence: float
    explanation: str
    alternatives: tuple[str, ...] = ()


@dataclass
class Gazetteer:
    names: list[Name]
    by_folded: dict[str, list[Name]] = field(default_factory=dict)
    by_length: dict[int, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        grouped: dict[str, list[Name]] = defaultdict(list)
        for name in self.names:
            if name.folded:
                grouped[name.folded].append(name)
        self.by_folded = dict(grouped)
        lengths: dict[int, list[str]] = defaultdict(list)
        for key in self.by_folded:
            lengths[len(key.split())].append(key)
        self.by_length = dict(lengths)

    @property
    def entities(self) -> dict[str, list[Name]]:
        out: dict[str, list[Name]] = defaultdict(list)
        for n in self.names:
            out[n.entity].append(n)
        return dict(out)

    def find(self, text: str) -> list[Mention]:
        """Every place `text` names a known entity: longest name first, no two mentions overlap."""
        ws = words(text)
        found: list[Mention] = []
        i = 0
        while i < len(ws):
            hit = self._match_at(text, ws, i)
            if hit is None:
                i += 1
                continue
            mention, used = hit
            found.append(mention)
            i += used
        return found

    def _match_at(self, text: str, ws: list[Word], i: int) -> tuple[Mention, int] | None:
        """The longest name starting at word i: a name as the graph writes it, else one spelled close to it."""
        for n in range(min(MAX_WORDS, len(ws) - i), 0, -1):
            if not _contiguous(text, ws[i:i + n]):
                continue
            candidate = fold(" ".join(w.text for w in ws[i:i + n]))
            if candidate in self.by_folded:
                mention = self._mention(text, ws[i], ws[i + n - 1], self.by_folded[candidate], score=100.0, fuzzy=False)
            elif ws[i].capitalised and (best := self._fuzzy(candidate, n)) is not None:
                mention = self._mention(text, ws[i], ws[i + n - 1], self.by_folded[best[0]], score=best[1], fuzzy=True)
            else:
                continue
            if mention is not None:
                return mention, n
        return None

    def _fuzzy(self, candidate: str, n: int) -> tuple[str, float] | None:
        cutoff = FUZZY_CUTOFF_ONE_WORD if n == 1 else FUZZY_CUTOFF
        if n == 1 and len(candidate) < 5:
            return None  # a short word is one letter from too many others
        best: tuple[str, float] | None = None
        for key in self.by_length.get(n, []):
            if _inflection(candidate, key):
                continue  # "armenian" is the adjective of "armenia", not a misspelling of it
            score = fuzz.token_sort_ratio(candidate, key) if n > 1 else fuzz.ratio(candidate, key)
            if score >= cutoff and (best is None or score > best[1]):
                best = (key, score)
        return best

    def _mention(self, text: str, first: Word, last: Word, names: list[Name], *, score: float,
                 fuzzy: bool) -> Mention | None:
        start, end = first.start, last.end
        if names[0].written.endswith(".") and text[end:end + 1] == ".":
            end += 1  # "U.S." keeps its last dot
        entities = sorted({n.entity for n in names})
        name = min(names, key=lambda n: (n.kind != "label", n.kind != "prefLabel", n.kind == "surname", n.entity))
        if name.entity_type in ORGANISATION_KINDS and _qualified(text, start):
            return None  # "Armenian Foreign Ministry" is not the graph's bare "Foreign Ministry"
        exact = text[start:end]
        confidence, why = _confidence(exact, name, score, fuzzy)
        if len(entities) > 1:
            confidence = round(confidence / len(entities), 2)
            why += f"; the name is shared by {len(entities)} entities: pick one"
        return Mention(start, end, exact, name.entity, name.entity_type, name.written, confidence, why,
                       tuple(e for e in entities if e != name.entity))


def _confidence(exact: str, name: Name, score: float, fuzzy: bool) -> tuple[float, str]:
    how = {"label": "label", "prefLabel": "display name", "altLabel": "other name",
           "surname": "surname of"}[name.kind]
    if fuzzy and score >= 100:
        return 0.9, f"the {how} {name.written!r}, its words in another order"
    if fuzzy:
        return round(0.9 * score / 100, 2), f"spelled close to the {how} {name.written!r} ({score:.0f}% similar)"
    if exact == name.written:
        return (0.8 if name.kind == "surname" else 1.0), f"the {how} {name.written!r}, as written"
    if exact.casefold() == name.written.casefold():
        return 0.95, f"the {how} {name.written!r}, in other capitals"
    return (0.75 if name.kind == "surname" else 0.9), f"the {how} {name.written!r}, other diacritics or punctuation"


def _contiguous(text: str, ws: list[Word]) -> bool:
    """Words of one name: separated by spaces, dashes or dots only, not by a comma or a line break."""
    return all(set(text[a.end:b.start]) <= set(" -–—.’'") and text[a.end:b.start].count(" ") <= 1
               for a, b in zip(ws, ws[1:]))


def _inflection(candidate: str, key: str) -> bool:
    """Another form of the same word, not a misspelling: "armenian" of "armenia", "presidency" of
    "president" (a shared stem of six letters or the whole shorter word, then other endings)."""
    for a, b in zip(sorted(candidate.split()), sorted(key.split())):
        if a == b:
            continue
        stem = len(os.path.commonprefix([a, b]))
        if stem == min(len(a), len(b)) or stem >= 6:
            return True
    return False


def _qualified(text: str, start: int) -> bool:
    """Is the name preceded by a capitalised word of the same phrase ("Armenian Foreign Ministry")?"""
    before = text[max(0, start - 40):start]
    if not before.endswith(" "):
        return False
    prev = before.rstrip().rsplit(None, 1)[-1] if before.strip() else ""
    return re.fullmatch(r"[A-Z][a-z]+(?:an|ish|ese|i)", prev) is not None  # a nationality: Armenian, Turkish


# -- reading names from a graph -----------------------------------------------------------------------------

def names_query(base: str, exclude_graphs: Iterable[str] = ()) -> str:
    kgo = base + ns.KGO[len(ns.DEFAULT_BASE):]
    kinds = " ".join(f"<{kgo}{k}>" for k in NAMED_KINDS)
    not_in = "".join(f" FILTER (?g != <{g}>)" for g in exclude_graphs)
    return f"""SELECT DISTINCT ?entity ?type ?p ?name ?g WHERE {{
  VALUES ?type {{ {kinds} }}
  ?entity a ?type .
  GRAPH ?g {{ ?entity ?p ?name }}
  VALUES ?p {{ <http://www.w3.org/2000/01/rdf-schema#label> <http://www.w3.org/2004/02/skos/core#prefLabel>
              <http://www.w3.org/2004/02/skos/core#altLabel> }}
  FILTER (?g != <{base}graph/inferred>){not_in}
}}"""


def from_rows(rows: Iterable[Mapping[str, str]]) -> Gazetteer:
    """A gazetteer from rows of `names_query` (entity, type, p, name, g); each entity with its most specific kind."""
    rows = list(rows)
    kind_of: dict[str, str] = {}
    for row in rows:
        kind = row["type"].rsplit("#", 1)[-1]
        if NAMED_KINDS.index(kind) < NAMED_KINDS.index(kind_of.get(row["entity"], "Post")):
            kind_of[row["entity"]] = kind
        kind_of.setdefault(row["entity"], kind)
    names: set[Name] = set()
    for row in rows:
        written, kind = row["name"], kind_of[row["entity"]]
        if not _is_name(written):
            continue
        names.add(Name(row["entity"], written, LABEL_KINDS[row["p"]], kind, row.get("g", "")))
        parts = written.split()
        if kind == "Person" and len(parts) > 1:
            names.add(Name(row["entity"], parts[-1], "surname", kind, row.get("g", "")))
    return Gazetteer(sorted(names, key=lambda n: (n.entity, n.kind, n.written, n.graph)))


def from_select(select: Callable[[str], list[dict[str, str]]], base: str,
                exclude_graphs: Iterable[str] = ()) -> Gazetteer:
    return from_rows(select(names_query(base, exclude_graphs)))


def _is_name(written: str) -> bool:
    """A proper name starts with a capital or a digit; a description ("the ministry") does not."""
    first = written.strip()[:1]
    return bool(first) and (first.isupper() or first.isdigit())
