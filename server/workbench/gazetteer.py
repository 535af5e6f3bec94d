"""Which entities the graph already knows, by every name it gives them, and where a text names them.

Names come from the graph: `rdfs:label`, `skos:prefLabel`, `skos:altLabel` of nodes of the
kinds a text names (people, countries, places, organisations, infrastructure, wars, posts).
Matching folds case, diacritics and the dots of initials ("Erdogan" / "Erdoğan", "Turkiye" /
"Türkiye", "UN" / "U.N."), then tolerates small misspellings and other spellings with rapidfuzz
("Armanian", "Pashinian", "Gümrü" for the "Gumri" spelling of Gyumri). A spelling the text uses
for a name once is the same name in any case elsewhere in it (a lower-case tag). A label with a
lower-case modifier is also found without it ("Margara crossing"), and a post by its title alone
right before the name of someone the graph says holds it ("Prime Minister Nikol Pashinian").
Descriptive labels ("officials from Ankara", "the ministry") are not names and are left out: they
would match words that name something else in another report.
"""
from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz

from .. import namespaces as ns
from .text import Word, fold, joined_initials, words

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
# Words a shortened name may not drop: they hold a phrase together ("Foreign Ministry of Türkiye").
FUNCTION_WORDS = frozenset({"of", "the", "and", "for", "on", "in", "at", "to", "a", "an"})
# A nationality adjective ("Armenian", "Turkish") or a capitalised possessive ("Armenia's") that
# ends right before a name, in the same phrase.
NATIONALITY = r"[A-Z][a-z]+(?:an|ish|ese|i)"
NATIONALITY_BEFORE = re.compile(rf"(?:^|[^\w’'])(?P<word>{NATIONALITY}) $")
POSSESSIVE_BEFORE = re.compile(r"(?:^|[^\w’'])(?P<word>[A-Z]\w+)['’]s $")


@dataclass(frozen=True)
class Name:
    """One name of one entity, as the graph writes it."""

    entity: str
    written: str
    kind: str          # label, prefLabel, altLabel, surname (the last word of a person's label),
                       # or shortened (a label without its lower-case modifier)
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
    # the folded names of the countries an organisation's own labels name ("Foreign Ministry of Türkiye")
    countries: dict[str, frozenset[str]] = field(default_factory=dict)
    # the posts each person holds (org:holds), whose titles may stand before the person's name
    holds: dict[str, frozenset[str]] = field(default_factory=dict)
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
        found, learned = self._scan(text, ws, self.by_folded, fuzzy=True)
        if learned:  # "pashinian" in a lower-case tag: the spelling the text used for "Pashinian"
            again, _ = self._scan(text, ws, {s: names for s, (names, _) in learned.items()}, fuzzy=False)
            for m in again:
                first = learned[fold(m.exact)][1]
                if not any(_overlap(m, f) for f in found):
                    found.append(replace(m, confidence=first.confidence, explanation=f"spelled as {first.exact!r} "
                                         f"elsewhere in the text: {first.explanation}"))
        found += [m for m in self._titles(text, ws, found) if not any(_overlap(m, f) for f in found)]
        return sorted(found, key=lambda m: m.start)

    def _scan(self, text: str, ws: list[Word], lookup: Mapping[str, list[Name]], *,
              fuzzy: bool) -> tuple[list[Mention], dict[str, tuple[list[Name], Mention]]]:
        """Mentions from left to right, and the spellings found close to a name (folded: its names
        and the first mention so spelled)."""
        found: list[Mention] = []
        learned: dict[str, tuple[list[Name], Mention]] = {}
        i = 0
        while i < len(ws):
            hit = self._match_at(text, ws, i, lookup, fuzzy=fuzzy)
            if hit is None:
                i += 1
                continue
            mention, used, close_to = hit
            found.append(mention)
            if close_to is not None:
                learned.setdefault(fold(mention.exact), (close_to, mention))
            i += used
        return found, learned

    def _match_at(self, text: str, ws: list[Word], i: int, lookup: Mapping[str, list[Name]], *,
                  fuzzy: bool) -> tuple[Mention, int, list[Name] | None] | None:
        """The longest name starting at word i: a name as the graph writes it, else one spelled close to it."""
        for n in range(min(MAX_WORDS, len(ws) - i), 0, -1):
            if not _contiguous(text, ws[i:i + n]):
                continue
            candidate = fold(text[ws[i].start:ws[i + n - 1].end])
            close_to = None
            if candidate in lookup:
                mention = self._mention(text, ws[i], ws[i + n - 1], lookup[candidate], score=100.0, fuzzy=False)
            elif fuzzy and ws[i].capitalised and (best := self._fuzzy(candidate, n)) is not None:
                close_to = self.by_folded[best[0]]
                mention = self._mention(text, ws[i], ws[i + n - 1], close_to, score=best[1], fuzzy=True)
            else:
                continue
            if mention is not None:
                return mention, n, close_to
        return None

    def _titles(self, text: str, ws: list[Word], found: list[Mention]) -> list[Mention]:
        """A post named by its title alone ("Prime Minister", "President") right before the name of a
        person the graph says holds it: the title of a label without its nationality ("Armenian")."""
        first_word = {w.start: k for k, w in enumerate(ws)}
        out = []
        for m in found:
            index = first_word[m.start]
            titles = [(post, n) for post in sorted(self.holds.get(m.entity, ()))
                      for n in self.names if n.entity == post]
            for post, name in titles:
                title = fold(re.sub(rf"^{NATIONALITY}\s+", "", name.written))
                first = index - len(title.split())
                if first < 0 or not _contiguous(text, ws[first:index + 1]) \
                        or fold(text[ws[first].start:ws[index - 1].end]) != title:
                    continue
                start, end = ws[first].start, ws[index - 1].end
                out.append(Mention(start, end, text[start:end], post, name.entity_type, name.written, 0.85,
                                   f"the title of the post {name.written!r} before the name of its holder {m.exact!r}"))
                break
        return out

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
        name = min(names, key=lambda n: (n.kind != "label", n.kind != "prefLabel", n.kind == "shortened",
                                         n.kind == "surname", n.entity))
        if not _initials_in_capitals(name.written, text[start:end]):
            return None  # "us" is not the "U.S."
        qualifier = ""
        if name.entity_type in ORGANISATION_KINDS:
            whose = self._qualified(text, start, name.entity)
            if whose is None:
                return None  # "Armenian Foreign Ministry" is not the graph's bare "Foreign Ministry" (Türkiye's)
            if whose < start:
                qualifier, start = text[whose:start].strip(), whose
        exact = text[start:end]
        confidence, why = _confidence(exact, name, score, fuzzy)
        if qualifier:
            why += f", with {qualifier!r}, the adjective of the country its label names"
        if len(entities) > 1:
            confidence = round(confidence / len(entities), 2)
            why += f"; the name is shared by {len(entities)} entities: pick one"
        return Mention(start, end, exact, name.entity, name.entity_type, name.written, confidence, why,
                       tuple(e for e in entities if e != name.entity))


    def _qualified(self, text: str, start: int, entity: str) -> int | None:
        """Where the organisation's name starts, given the word before it: a nationality or a country's
        possessive says whose organisation it is; it must be the country the graph's labels give it.
        The adjective then belongs to the name ("Turkish Foreign Ministry"); a possessive is the
        country's own mention ("Turkey's Foreign Ministry"). None: another country's organisation."""
        before = text[max(0, start - 40):start]
        countries = self.countries.get(entity, frozenset())
        if (adjective := NATIONALITY_BEFORE.search(before)) is not None:
            word = fold(adjective.group("word"))
            agrees = any(len(os.path.commonprefix([word, c])) >= max(4, len(c) - 2) for c in countries)
            return start - len(before) + adjective.start("word") if agrees else None
        if (possessive := POSSESSIVE_BEFORE.search(before)) is not None:
            word = fold(possessive.group("word"))
            if word in self.country_names and word not in countries:
                return None
        return start

    @property
    def country_names(self) -> frozenset[str]:
        return frozenset(n.folded for n in self.names if n.entity_type == "Country")


def _overlap(a: Mention, b: Mention) -> bool:
    return a.start < b.end and b.start < a.end


def _initials_in_capitals(written: str, exact: str) -> bool:
    """A name written in initials ("U.S.", "PM") matches only words written in capitals."""
    name, said = WORDS_CASED.findall(joined_initials(written)), WORDS_CASED.findall(joined_initials(exact))
    return len(name) != len(said) or all(s.isupper() for n, s in zip(name, said) if len(n) > 1 and n.isupper())


WORDS_CASED = re.compile(r"[^\W_]+")


def _confidence(exact: str, name: Name, score: float, fuzzy: bool) -> tuple[float, str]:
    how = {"label": "label", "prefLabel": "display name", "altLabel": "other name",
           "surname": "surname of", "shortened": "shortened label"}[name.kind]
    if fuzzy and score >= 100:
        return 0.9, f"the {how} {name.written!r}, its words in another order"
    if fuzzy:
        return round(0.9 * score / 100, 2), f"spelled close to the {how} {name.written!r} ({score:.0f}% similar)"
    if exact == name.written:
        return {"surname": 0.8, "shortened": 0.85}.get(name.kind, 1.0), f"the {how} {name.written!r}, as written"
    if exact.casefold() == name.written.casefold():
        return 0.95, f"the {how} {name.written!r}, in other capitals"
    return (0.75 if name.kind == "surname" else 0.9), f"the {how} {name.written!r}, other diacritics or punctuation"


def _contiguous(text: str, ws: list[Word]) -> bool:
    """Words of one name: separated by spaces, dashes or dots only, not by a comma or a line break."""
    return all(set(text[a.end:b.start]) <= set(" -–—.’'") and text[a.end:b.start].count(" ") <= 1
               for a, b in zip(ws, ws[1:]))


def _inflection(candidate: str, key: str) -> bool:
    """Another form of the same word, not a misspelling: "armenian" of "armenia", "presidency" of
    "president" (a shared stem of six letters or the whole shorter word, then other endings).
    Endings of one length that differ in one letter are a spelling ("pashinian", "pashinyan")."""
    for a, b in zip(sorted(candidate.split()), sorted(key.split())):
        if a == b:
            continue
        stem = len(os.path.commonprefix([a, b]))
        if stem == min(len(a), len(b)):
            return True
        if stem >= 6 and not (len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1):
            return True
    return False


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


def from_rows(rows: Iterable[Mapping[str, str]], holds: Iterable[Mapping[str, str]] = ()) -> Gazetteer:
    """A gazetteer from rows of `names_query` (entity, type, p, name, g), each entity with its most
    specific kind, and rows of `holds_query` (person, post)."""
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
        elif (short := _shortened(written)) is not None:
            names.add(Name(row["entity"], short, "shortened", kind, row.get("g", "")))
    held: dict[str, set[str]] = defaultdict(set)
    for row in holds:
        held[row["person"]].add(row["post"])
    return Gazetteer(sorted(names, key=lambda n: (n.entity, n.kind, n.written, n.graph)),
                     _countries_named(names), {p: frozenset(posts) for p, posts in held.items()})


def _shortened(written: str) -> str | None:
    """'Margara border crossing' as 'Margara crossing': a proper name, lower-case modifiers, and a
    lower-case head noun, which stays. None when nothing can go, or a function word holds the phrase."""
    parts = written.split()
    if len(parts) < 3 or not parts[0][:1].isupper() or not parts[-1][:1].islower():
        return None
    middle = parts[1:-1]
    if any(p in FUNCTION_WORDS for p in middle) or not any(p[:1].islower() for p in middle):
        return None
    return " ".join([parts[0], *(p for p in middle if not p[:1].islower()), parts[-1]])


def _countries_named(names: Iterable[Name]) -> dict[str, frozenset[str]]:
    """For each organisation, the folded names of every country one of its labels names."""
    names = list(names)
    by_country: dict[str, set[str]] = defaultdict(set)
    for n in names:
        if n.entity_type == "Country":
            by_country[n.entity].add(n.folded)
    out: dict[str, set[str]] = defaultdict(set)
    for n in names:
        if n.entity_type in ORGANISATION_KINDS:
            for spellings in by_country.values():
                if any(f" {c} " in f" {n.folded} " for c in spellings):
                    out[n.entity] |= spellings
    return {e: frozenset(c) for e, c in out.items()}


def holds_query(base: str, exclude_graphs: Iterable[str] = ()) -> str:
    not_in = "".join(f" FILTER (?g != <{g}>)" for g in exclude_graphs)
    return f"""SELECT DISTINCT ?person ?post WHERE {{
  GRAPH ?g {{ ?person <http://www.w3.org/ns/org#holds> ?post }}
  FILTER (?g != <{base}graph/inferred>){not_in}
}}"""


def from_select(select: Callable[[str], list[dict[str, str]]], base: str,
                exclude_graphs: Iterable[str] = ()) -> Gazetteer:
    exclude = list(exclude_graphs)
    return from_rows(select(names_query(base, exclude)), select(holds_query(base, exclude)))


def _is_name(written: str) -> bool:
    """A proper name starts with a capital or a digit; a description ("the ministry") does not."""
    first = written.strip()[:1]
    return bool(first) and (first.isupper() or first.isdigit())
