"""Text as the search index sees it: folded to lower-case ASCII-like letters, cut into words.

SQLite's `unicode61 remove_diacritics 2` tokenizer strips the marks that Unicode decomposes
(ğ, ü, ş, é), but letters without a decomposition keep their own identity: the Turkish
dotless ı, ø, ł, đ, ß. Text is therefore folded here first, both when it is indexed and when
it is asked for, so that "erdogan" finds "Erdoğan" and "agri" finds "Ağrı".
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Letters that do not decompose into a base letter and a mark.
_LETTERS = str.maketrans({"ı": "i", "İ": "i", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d",
                          "ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "þ": "th", "Þ": "th",
                          "ð": "d", "Ð": "d", "ħ": "h", "Ħ": "h"})
_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lower case, marks removed, the few mark-less letters mapped to their plain letter."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def match_expression(query: str) -> str | None:
    """An FTS5 query for what a person typed: every word must occur, the last one as a prefix
    (the box suggests while one types). Words are quoted, so nothing typed is FTS5 syntax.
    None when the text holds no word at all."""
    terms = words(query)
    if not terms:
        return None
    quoted = [f'"{t}"' for t in terms]
    quoted[-1] += "*"
    return " ".join(quoted)


@dataclass(frozen=True)
class Segment:
    text: str
    hit: bool


@lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    return fold(word)


def highlight(text: str, query: str) -> list[Segment] | None:
    """`text` cut where the query's words occur (the last one as a prefix, as searched), or None
    when no word of the query occurs in it."""
    terms = words(query)
    if not terms:
        return None
    folded = fold(text)
    if not any(t in folded for t in terms):   # most sentences of a hit hold none: one pass decides
        return None
    whole, prefix = set(terms[:-1]), terms[-1]
    segments: list[Segment] = []
    at = 0
    for m in _WORD.finditer(text):
        w = _fold_word(m.group())
        if w in whole or w.startswith(prefix):
            if m.start() > at:
                segments.append(Segment(text[at:m.start()], False))
            segments.append(Segment(m.group(), True))
            at = m.end()
    if not segments:
        return None
    if at < len(text):
        segments.append(Segment(text[at:], False))
    return segments
