"""Judge a query safe before any parser sees it.

pyoxigraph's parser overflows the native stack (and kills the process) at about 2,500 nested
groups; rdflib's raises RecursionError at about 100. A lexical scan -- strings, IRIs and
comments skipped per SPARQL 1.1 Query §19.8 -- measures nesting and finds SERVICE and LOAD
without building a parse tree, so it cannot itself be driven into deep recursion.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import PayloadTooLarge, QueryRefused

_STRING = re.compile(r"'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^\"\\]|\\.|\"(?!\"\"))*\"\"\"|'(?:[^'\\\n\r]|\\.)*'|\"(?:[^\"\\\n\r]|\\.)*\"", re.S)
_IRI = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*(?::[^\s{}()\[\];,]*)?")
_VAR = re.compile(r"[?$][A-Za-z0-9_\u00B7-\uFFFF]+")
_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
# One token at a time, found by the regex engine: the scan's Python loop runs once per token that
# matters, never per character (a 400-character query: about 80 tokens). Every kind of token
# starts with characters no other kind starts with, so the first that matches is the token; a
# character where none matches (a space, an operator, a lone quote) is stepped over.
_TOKEN = re.compile("|".join([
    r"(?P<comment>#[^\n]*)",
    f"(?P<string>{_STRING.pattern})",
    f"(?P<iri>{_IRI.pattern})",
    f"(?P<var>{_VAR.pattern})",
    f"(?P<word>{_WORD.pattern})",
    r"(?P<open>[{(\[])",
    r"(?P<close>[})\]])",
]), re.S)

_KEYWORDS = ("SELECT", "SERVICE", "LOAD", "ASK", "CONSTRUCT", "DESCRIBE", "FROM")
# A keyword is a whole word (what `_WORD` would match, upper-cased, is the keyword); spelt with
# ASCII classes, as `str.upper` on an ASCII word compares.
_KEYWORD = "(?:" + "|".join("".join(f"[{c}{c.lower()}]" for c in k) for k in _KEYWORDS) + r")(?![A-Za-z0-9_\-:])"
# Whatever the guard does not count, in one atomic run: characters that start no token, comments,
# strings, IRIs, variables, words that are not keywords, and a character whose token does not
# complete (a lone quote). The same alternatives in the same order as `_TOKEN`, so the text is cut
# into the same tokens.
_SKIP = "|".join([r"[^{}()\[\]A-Za-z_'\"<#?$]+", r"#[^\n]*", _STRING.pattern, _IRI.pattern, _VAR.pattern, f"(?!{_KEYWORD}){_WORD.pattern}",
                  r"[^{}()\[\]A-Za-z_]"])
_FAST = re.compile(f"(?:{_SKIP})*+(?:" + "|".join([r"(?P<open>[{(\[])", r"(?P<close>[})\]])",
                                                    f"(?P<keyword>{_KEYWORD})", r"\Z"]) + ")", re.S)


@dataclass
class QueryShape:
    depth: int = 0
    services: list[str | None] = field(default_factory=list)   # None: SERVICE ?var
    loads: int = 0
    has_dataset_clause: bool = False   # FROM or FROM NAMED: the query names its own dataset
    form: str | None = None            # SELECT, ASK, CONSTRUCT or DESCRIBE: the first one met (Query §16)
    first_brace: int | None = None     # offset of the first `{`: the outer WHERE group
    selects: int = 0                   # SELECT keywords: more than one means subqueries


def scan(text: str) -> QueryShape:
    """One pass over the text; never recursive.

    Most tokens of a query (variables, names, strings, IRIs) change nothing the guard measures, so
    the regex engine steps over them itself (`_FAST`) and the Python loop runs only on brackets
    and keywords: about a quarter of the tokens. The endpoints of a query that names a SERVICE
    are read by a second pass over every token (`_services`)."""
    shape = QueryShape()
    depth = 0
    service = False
    for m in _FAST.finditer(text):
        kind = m.lastgroup
        if kind == "open":
            if shape.first_brace is None and m.group(kind) == "{":
                shape.first_brace = m.start(kind)
            depth += 1
            if depth > shape.depth:
                shape.depth = depth
        elif kind == "close":
            depth -= 1
        elif kind == "keyword":
            upper = m.group(kind).upper()
            if upper == "SELECT":
                shape.selects += 1
            if upper == "SERVICE":
                service = True
            elif upper == "LOAD":
                shape.loads += 1
            elif upper in _FORMS and shape.form is None:
                shape.form = upper   # the prologue holds only BASE/PREFIX, so the first form word is the query's
            elif upper == "FROM":  # only dataset clauses use this keyword (Query §13.2)
                shape.has_dataset_clause = True
    if service:
        shape.services = _services(text)
    return shape


def _services(text: str) -> list[str | None]:
    """The endpoint after each SERVICE: the next IRI, variable (None) or prefixed name."""
    services: list[str | None] = []
    expect_service = False
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "word":
            word = m.group()
            if word.upper() == "SERVICE":
                expect_service = True
            elif expect_service and ":" in word:
                services.append(word)  # a prefixed name: refused unless its expansion is listed
                expect_service = False
        elif expect_service and kind in ("iri", "var"):
            services.append(m.group()[1:-1] if kind == "iri" else None)
            expect_service = False
    return services


def words(text: str) -> list[tuple[str, int]]:
    """Every word of the text with its offset (keywords, prefixed names), never one inside a
    string, an IRI or a comment: what an update's operations are made of."""
    return [(m.group(), m.start()) for m in _TOKEN.finditer(text) if m.lastgroup == "word"]


def check_size(text: str, *, max_kb: int | None) -> None:
    """A query's text is bounded on its own (a huge VALUES block fits in a request body but costs
    the query process hundreds of MB); 413 before anything else looks at it."""
    if max_kb is None:
        return
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_kb * 1024:
        raise PayloadTooLarge(f"the query is {size / 1024:,.0f} KiB; at most {max_kb:,} KiB are accepted "
                              "(setting max_query_kb): split a large VALUES block over several queries",
                              limit_kb=max_kb)


def check_query(text: str, *, max_depth: int, allowed_services: frozenset[str],
                max_kb: int | None = None) -> QueryShape:
    """Raise QueryRefused (or PayloadTooLarge) for what must not reach the engine; return the shape otherwise."""
    check_size(text, max_kb=max_kb)
    shape = scan(text)
    if shape.depth > max_depth:
        raise QueryRefused(f"the query nests {shape.depth} levels of brackets; at most {max_depth} are accepted",
                           limit=max_depth)
    for endpoint in shape.services:
        if endpoint is None or endpoint not in allowed_services:
            what = "SERVICE with a variable endpoint" if endpoint is None else f"SERVICE <{endpoint}>"
            raise QueryRefused(f"{what} is not allowed: this endpoint calls no other service unless it is "
                               "on the service allow-list (setting service_allowlist)")
    if shape.loads:
        raise QueryRefused("LOAD is not allowed: this service never fetches data from a URL")
    return shape


def check_update(text: str, *, max_depth: int, max_kb: int | None = None) -> QueryShape:
    """The same scan for SPARQL Update, stricter: the writer evaluates an update in the server
    process, without a time limit and holding the write lock, so it must never wait on another
    host. SERVICE (even to an allow-listed endpoint) and LOAD are refused in updates."""
    check_size(text, max_kb=max_kb)
    shape = scan(text)
    if shape.depth > max_depth:
        raise QueryRefused(f"the update nests {shape.depth} levels of brackets; at most {max_depth} are accepted",
                           limit=max_depth)
    if shape.services:
        raise QueryRefused("SERVICE is not allowed in an update: the writer never waits on another host; "
                           "query that service first and write the data you got")
    if shape.loads:
        raise QueryRefused("LOAD is not allowed: this service never fetches data from a URL; "
                           "send the data itself (Graph Store PUT/POST at /rdf-graph-store)")
    return shape
