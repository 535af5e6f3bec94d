"""Words, sentences and folded forms of a source text, with code-point offsets into it."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# A word: a run of letters or digits. Dashes, dots and apostrophes separate words, so that
# "Kars–Gyumri" and "Kars-Gyumri" fold alike; the span of a name still covers them.
WORD = re.compile(r"[^\W_]+")
# A sentence ends at . ! ? followed by a space and a capital, or at a blank line. Abbreviations
# such as "Nov. 28", "U.N. General" and "Sept. 1" are not ends: the next word is not capitalised,
# or the dot follows a short abbreviation listed here.
ABBREVIATIONS = frozenset({"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
                           "mr", "mrs", "ms", "dr", "st", "gen", "gov", "pres", "u", "n", "s"})


@dataclass(frozen=True)
class Word:
    text: str
    start: int
    end: int

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper() or self.text[:1].isdigit()


# Initials with dots ("U.N.", "U.S."): one word, as "UN" and "US" write them.
INITIALS = re.compile(r"\b[^\W\d_](?:\.[^\W\d_]\b)+\.?")


def fold(s: str) -> str:
    """Case and diacritics folded, words joined by one space: 'Türkiye' and 'turkiye' meet, and so
    do 'U.N.' and 'UN'."""
    s = joined_initials(s).replace("ı", "i").replace("İ", "I")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).casefold()
    return " ".join(WORD.findall(s))


def joined_initials(s: str) -> str:
    """'U.N. General Assembly' as 'UN General Assembly' (case kept)."""
    return INITIALS.sub(lambda m: m.group().replace(".", "") + " ", s)


def words(text: str) -> list[Word]:
    return [Word(m.group(), m.start(), m.end()) for m in WORD.finditer(text)]


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int
    end: int


def sentences(text: str) -> list[Sentence]:
    """Sentences and lines of `text` with their offsets (a caption or a heading is one too)."""
    found: list[Sentence] = []
    for block in re.finditer(r"[^\n]+", text):
        start = block.start()
        line = block.group()
        for m in re.finditer(r"[.!?](?=\s+[A-Z“\"(])", line):
            before = re.search(r"(\w+)$", line[:m.start()])
            if before and before.group(1).casefold() in ABBREVIATIONS:
                continue
            _add(found, text, start, block.start() + m.end())
            start = block.start() + m.end()
        _add(found, text, start, block.end())
    return found


def _add(found: list[Sentence], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        found.append(Sentence(text[start:end], start, end))
