"""`SELECT *` answers its columns in the order the variables first appear in the query.

Oxigraph lists the variables of `SELECT *` sorted by name (`?o ?p ?s` for `?s ?p ?o`). SPARQL
1.1 (§18.2.1, §18.2.4.1) defines *which* variables `*` projects -- those in scope -- but not
their order; people read tables left to right as they wrote the pattern, and Jena, Virtuoso and
Blazegraph answer in that order. So a `SELECT *` whose answer would come sorted otherwise is run
again with its variables spelt out: the same set (as Oxigraph reports it), in textual order.
The star is found with the guard's lexer (strings, IRIs and comments skipped), never by a
search through the text.
"""
from __future__ import annotations

from .guard import TOKEN  # the one SPARQL tokenizer of the package (Query §19.8 terminals)


def _star_offset(text: str) -> int | None:
    """Where the `*` of the query's own `SELECT [DISTINCT|REDUCED] *` is, if it has one (the
    prologue holds only BASE and PREFIX, so the first form word is the query's)."""
    selecting = False
    for m in TOKEN.finditer(text):
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


def ordered_star(text: str, variables: list[str]) -> str | None:
    """The query with its `*` spelt out in textual order, or None when nothing needs to change
    (no `SELECT *`, or Oxigraph's order already is the textual one)."""
    star = _star_offset(text)
    if star is None:
        return None
    order = {name: i for i, name in enumerate(first_appearance(text))}
    wanted = sorted(variables, key=lambda v: order.get(v, len(order)))
    if wanted == variables:
        return None
    return text[:star] + " ".join("?" + v for v in wanted) + text[star + 1:]
