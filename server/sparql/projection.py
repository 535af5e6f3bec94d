"""`SELECT *` answers its columns in the order the variables first appear in the query.

Oxigraph lists the variables of `SELECT *` sorted by name (`?o ?p ?s` for `?s ?p ?o`). SPARQL
1.1 (§18.2.1, §18.2.4.1) defines *which* variables `*` projects -- those in scope -- but not
their order; people read tables left to right as they wrote the pattern, and Jena, Virtuoso and
Blazegraph answer in that order. So a `SELECT *` whose answer would come sorted otherwise is run
again with its variables spelt out: the same set (as Oxigraph reports it), in textual order
(the engine does that, with what `star_order` found here).
The star is found with the guard's lexer (strings, IRIs and comments skipped), never by a
search through the text.
"""
from __future__ import annotations

from .guard import TOKEN  # the one SPARQL tokenizer of the package (Query §19.8 terminals)


def _star_offset(text: str, after_select: int | None = None) -> int | None:
    """Where the `*` of the query's own `SELECT [DISTINCT|REDUCED] *` is, if it has one (the
    prologue holds only BASE and PREFIX, so the first form word is the query's). `after_select`:
    where that SELECT ends, when the guard has found it already: the prologue is not read again."""
    selecting = after_select is not None
    for m in TOKEN.finditer(text, after_select or 0):
        kind, token = m.lastgroup, m.group()
        if kind in ("space", "comment"):
            continue
        word = token.upper() if kind == "word" else ""
        if not selecting:
            if word in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
                if word != "SELECT":
                    return None
                selecting = True
            continue
        if word in ("DISTINCT", "REDUCED"):
            continue
        return m.start() if token == "*" else None
    return None


def first_appearance(text: str) -> list[str]:
    """The query's variable names, each where it first appears."""
    seen: dict[str, None] = {}
    for m in TOKEN.finditer(text):
        if m.lastgroup == "var":
            seen.setdefault(m.group()[1:], None)
    return list(seen)


def star_order(text: str, after_select: int | None = None) -> tuple[int, tuple[str, ...]] | None:
    """For a `SELECT *`: where its `*` is, and the query's variables in the order they first appear
    (what the engine needs to spell the star out, `store.embedded_engine.star_spelt_out`); None
    for any other query."""
    star = _star_offset(text, after_select)
    if star is None:
        return None
    return star, tuple(first_appearance(text))
