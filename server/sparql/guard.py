"""Judge a query safe before any parser sees it.

pyoxigraph's parser overflows the native stack (and kills the process) at about 2,500 nested
groups; rdflib's raises RecursionError at about 100. So the guard cannot be a parser: it is a
tokenizer, one pass of a regular expression over the text, never recursive. It knows the
terminals of SPARQL 1.1 Query §19.8 -- IRIs, prefixed names (every character a local name may
hold, `:` and `.` and escapes included), the four string forms, language tags, blank node
labels, variables, comments -- so that a keyword is only ever a keyword: `:from`, `ex:SERVICE`,
`"x"@from`, `?load` and `# FROM <g>` are not. What it reads (nesting depth, SERVICE endpoints,
LOAD, whether the query names its own dataset, the query form) decides what the engine is
asked, so reading a keyword where there is none would change what a query means. Most queries
need less: one with no more opening brackets than the nesting limit and none of SERVICE, LOAD or
FROM anywhere in its text is read only up to its form (`plain_query`).

One thing it must read as Oxigraph's parser does, not as the grammar says: that parser matches a
keyword wherever the grammar allows one, even inside what the grammar calls one word
(`SERVICEx:y` is SERVICE to `x:y`, `FROMNAMED` is FROM NAMED, `falseSERVICE <…>` is the literal
false and a SERVICE). A word or prefix name that holds SERVICE, LOAD or FROM without being that
keyword is therefore refused as ambiguous rather than guessed at. (`1.5e3SERVICE` is the number
1.5e3 and SERVICE to the grammar too: numbers are tokens here, so that `e3SERVICE` is no word.)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from ..errors import PayloadTooLarge, QueryRefused

# -- the terminals (Query §19.8) as regular expressions -------------------------------------------
# Written so that the regex engine never backtracks far: `X*+` (possessive), and where the grammar
# says "dots inside but not at the end", a run of dots only when a name character follows.
_PN_CHARS_BASE = ("A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D"
                  "\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF")
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + "\\-0-9\u00B7\u0300-\u036F\u203F-\u2040"
_DOTTED = "(?:[" + _PN_CHARS + "]++|\\.++(?=[" + _PN_CHARS + "]))*+"   # ((PN_CHARS|'.')* PN_CHARS)?
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_LOCAL = ("(?:[" + _PN_CHARS_U + ":0-9]|" + _PLX + ")"
             "(?:[" + _PN_CHARS + ":]++|\\.++(?=[" + _PN_CHARS + ":]|" + _PLX + ")|" + _PLX + ")*+")
_PN_PREFIX = "[" + _PN_CHARS_BASE + "]" + _DOTTED
PNAME = "(?:" + _PN_PREFIX + ")?:(?:" + _PN_LOCAL + ")?"              # PNAME_NS or PNAME_LN
BLANK_NODE_LABEL = "_:[" + _PN_CHARS_U + "0-9]" + _DOTTED
VAR = "[?$][" + _PN_CHARS_U + "0-9][" + _PN_CHARS_U + "0-9\u00B7\u0300-\u036F\u203F-\u2040]*+"   # VAR1, VAR2
LANGTAG = "@[a-zA-Z]++(?:-[a-zA-Z0-9]++)*+"
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"    # Oxigraph reads these escapes inside IRIs too
_IRI_CHAR = r'[^<>"{}|^`\\\x00-\x20]'
IRIREF = "<" + _IRI_CHAR + "*+(?:(?:" + _UCHAR + ")" + _IRI_CHAR + "*+)*+>"
# An IRIREF without brackets. `<` is also "less than": `FILTER(?a<(?b))` is an IRI to a
# context-free tokenizer but an expression to Oxigraph's parser, which recurses into those
# brackets; so the brackets of an IRI that has some are counted (see `scan`).
_PLAIN_IRI_CHAR = r'[^<>"{}|^`\\\x00-\x20()\[\]]'
_IRIREF_PLAIN = "<" + _PLAIN_IRI_CHAR + "*+(?:(?:" + _UCHAR + ")" + _PLAIN_IRI_CHAR + "*+)*+>"
STRING = "|".join([r"'''(?:[^'\\]|\\.|'(?!''))*+'''", r'"""(?:[^"\\]|\\.|"(?!""))*+"""',
                   r"'(?:[^'\\\n\r]|\\.)*+'", r'"(?:[^"\\\n\r]|\\.)*+"'])
COMMENT = r"#[^\n\r]*+"
NUMBER = r"[0-9]++(?:\.[0-9]*+)?(?:[eE][+-]?[0-9]++)?|\.[0-9]++(?:[eE][+-]?[0-9]++)?"
WORD = "[A-Za-z][A-Za-z0-9_]*+"
# A word, or a prefixed name whose prefix starts like a word.
_LETTER_TOKEN = WORD + "(?:" + _DOTTED + ":(?:" + _PN_LOCAL + ")?)?"
# Keywords are ASCII and case-insensitive (§19.3): `(?ai:…)`, so that `ſelect` (long s) is not SELECT.
_KEYWORDS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "FROM", "SERVICE", "LOAD")
_KEYWORD_START = "(?ai:" + "|".join(_KEYWORDS) + ")"
_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
# The name a PREFIX declaration introduces is only a name (`PREFIX from: <…>`); a name that a
# local part follows is no declaration (`prefix:from`).
_PREFIX_DECL = ("(?ai:PREFIX)(?:[ \\t\\r\\n]++|" + COMMENT + ")*+(?:" + _PN_PREFIX + ")?:"
                "(?![" + _PN_CHARS_U + ":0-9%\\\\])")

# Every token, in the order a longest-match tokenizer needs them: a prefixed name before a word
# (`from:x` is a name), a string before a lone quote, an IRI before `<`. Read by the SERVICE pass
# and by tests; `scan` uses `_FAST`.
TOKEN = re.compile("|".join([
    r"(?P<space>[ \t\r\n]+)", f"(?P<comment>{COMMENT})", f"(?P<string>{STRING})", f"(?P<iri>{IRIREF})",
    f"(?P<var>{VAR})", f"(?P<langtag>{LANGTAG})", f"(?P<bnode>{BLANK_NODE_LABEL})", f"(?P<pname>{PNAME})",
    f"(?P<word>{WORD})", f"(?P<number>{NUMBER})", r"(?P<open><<|[{(\[])", r"(?P<close>>>|[})\]])", r"(?P<other>.)",
]), re.S)

# What the guard does not count, cut into the same tokens as `TOKEN`: runs of characters that
# start no token (spaces, operators), variables, PREFIX declarations, words and prefixed names that
# do not start with a keyword, numbers (`1.5e3` is one: its `e3` is no word), IRIs, strings,
# comments, language tags, blank nodes, and a lone character (a quote that opens no string, a `<`
# that is "less than"). Matched possessively, so the Python loop runs only on brackets and
# keyword-like words.
_NON_ASCII_BASE = _PN_CHARS_BASE[len("A-Za-z"):]
_SKIP = "|".join([
    "[^{}()\\[\\]A-Za-z" + _NON_ASCII_BASE + "_'\"<>#?$@:0-9]++", VAR, _PREFIX_DECL,
    f"(?!{_KEYWORD_START}){_LETTER_TOKEN}", f":(?:{_PN_LOCAL})?", NUMBER, _IRIREF_PLAIN, STRING, COMMENT, LANGTAG,
    BLANK_NODE_LABEL, "[" + _NON_ASCII_BASE + "]" + _DOTTED + ":(?:" + _PN_LOCAL + ")?",
    r"[^{}()\[\]A-Za-z<>]", f"<(?!<|{IRIREF[1:]})", ">(?!>)"])
# `<<` and `>>` (SPARQL 1.2 triple terms and reifiers) nest like brackets and overflow the parser's
# stack as deep groups do. In SPARQL 1.1 `<<` can only be "less than" before an IRI (`?x<<a>`):
# counted as a level all the same, which can only refuse, never admit.
_FAST = re.compile(f"(?:{_SKIP})*+(?:" + "|".join([
    r"(?P<open><<|[{(\[])", r"(?P<close>>>|[})\]])", f"(?P<word>{_LETTER_TOKEN})", f"(?P<iri>{IRIREF})", r"\Z"]) + ")",
    re.S)


@dataclass
class QueryShape:
    depth: int = 0
    services: list[str | None] = field(default_factory=list)   # None: SERVICE ?var
    loads: int = 0
    has_dataset_clause: bool = False   # FROM or FROM NAMED: the query names its own dataset
    form: str | None = None            # SELECT, ASK, CONSTRUCT or DESCRIBE: the first one met (Query §16)
    form_end: int | None = None        # where that keyword ends, when it is a word of its own
    first_brace: int | None = None     # offset of the first `{`: the outer WHERE group
    selects: int = 0                   # SELECT keywords: more than one means subqueries
    ambiguous: str | None = None       # a word that starts with SERVICE, LOAD or FROM without being it


def scan(text: str, base_iri: str | None = None) -> QueryShape:
    """One pass over the text; never recursive.

    Most tokens of a query (variables, names, strings, IRIs) change nothing the guard measures, so
    the regex engine steps over them itself (`_FAST`) and the Python loop runs only on brackets
    and words that start with a keyword. The endpoints of a query that names a SERVICE are read
    by a second pass over every token (`services`), with `base_iri` as the base of relative IRIs
    (a BASE in the query wins)."""
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
        elif kind == "word":
            token = m.group(kind)
            keyword = token.upper()
            if keyword == "SELECT":
                shape.selects += 1
            if keyword in _FORMS:
                # The prologue holds only BASE and PREFIX, so the first form word is the query's (§16).
                if shape.form is None:
                    shape.form, shape.form_end = keyword, m.end(kind)
            elif keyword == "FROM":  # only dataset clauses use this keyword (Query §13.2)
                shape.has_dataset_clause = True
            elif keyword == "SERVICE":
                service = True
            elif keyword == "LOAD":
                shape.loads += 1
            else:
                _joined_keyword(shape, token)
        elif kind == "iri":  # an IRI with brackets in it: maybe an expression after "less than"
            for char in m.group(kind):
                if char in "([":
                    depth += 1
                    shape.depth = max(shape.depth, depth)
                elif char in ")]":
                    depth -= 1
    if shape.ambiguous is None and _inside_a_word(text):
        shape.ambiguous = _glued_keyword(text)
    if service:
        shape.services = services(text, base_iri)
    return shape


def plain_query(text: str, max_depth: int) -> QueryShape | None:
    """The shape of a query the guard can clear without reading all of it, else None (then `scan`
    reads it). Such a query cannot nest deeper than `max_depth`, for it has no more opening brackets
    than that (every level `scan` counts opens at a `{`, `(`, `[` or `<`), and can hold no SERVICE,
    LOAD or FROM, nor a word joined to one, for none of the three appears in it in any case (ASCII
    letters lowered: `_ascii_lowered`). What it still needs is the query's form: the text is
    read up to the first keyword, as `scan` reads it (in such a text that keyword is a form's).
    Its `depth`, `first_brace` and `selects` are left unmeasured (0, None, 0)."""
    if text.count("{") + text.count("(") + text.count("[") + text.count("<") > max_depth:
        return None
    lowered = _ascii_lowered(text)
    if "service" in lowered or "load" in lowered or "from" in lowered:
        return None
    shape = QueryShape()
    for m in _FAST.finditer(text):
        if m.lastgroup == "word":
            token = m.group("word")
            keyword = token.upper()
            if keyword in _FORMS:
                shape.form, shape.form_end = keyword, m.end("word")
            else:
                _joined_keyword(shape, token)
            break
    return shape


def _joined_keyword(shape: QueryShape, token: str) -> None:
    """A word or prefix name that starts with a keyword and goes on (`CONSTRUCTWHERE`, `fromage:x`):
    a form starts the query all the same; SERVICE, LOAD or FROM makes the query ambiguous."""
    upper = token[:9].upper()
    keyword = next(k for k in _KEYWORDS if upper.startswith(k))
    if keyword not in _FORMS:
        shape.ambiguous = shape.ambiguous or token
    elif shape.form is None:
        shape.form = keyword
    if keyword == "SELECT" and ":" not in token:
        shape.selects += 1


_HELD_KEYWORD = re.compile("(?ai:SERVICE|LOAD|FROM)")
# Characters after which SERVICE, LOAD or FROM cannot be inside a word or a prefix name (after `:`
# or `/` it is in a local name or an IRI).
_DELIMITERS = frozenset(" \t\r\n{}()[]<>\"'#?$@,;:/=!|&^*+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _ascii_lowered(text: str) -> str:
    """The text with its ASCII letters lowered, and only those (keywords are ASCII, §19.3)."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def _inside_a_word(text: str) -> bool:
    """Whether SERVICE, LOAD or FROM (in any case) follows a character a word or a prefix name can
    hold: rare, and then every token is read again (`_glued_keyword`). Searched with `str.find` in
    the text with ASCII letters lowered, a small part of what a regular expression's search costs."""
    data = _ascii_lowered(text)
    for keyword in ("service", "load", "from"):
        at = data.find(keyword, 1)
        while at > 0:
            if data[at - 1] not in _DELIMITERS:
                return True
            at = data.find(keyword, at + 1)
    return False


def _glued_keyword(text: str) -> str | None:
    """The first word or prefix name that holds SERVICE, LOAD or FROM without being that keyword
    (a local name is whole to Oxigraph too, once its prefix is read; so is a declared name)."""
    found = _holding_keyword(text, _ANYWHERE)
    return found[0] if found else None


def services(text: str, base_iri: str | None = None) -> list[str | None]:
    """The endpoint of each SERVICE, as the parser will read it: an IRI resolved against the base,
    a prefixed name expanded by its PREFIX, or None for a variable."""
    found: list[str | None] = []
    prefixes: dict[str, str] = {}
    base = base_iri
    expect: str | None = None   # what the next token is: "service", "prefix", "prefix-iri", "base"
    declared = ""
    for m in TOKEN.finditer(text):
        kind = m.lastgroup
        if kind in ("space", "comment"):
            continue
        token = m.group()
        upper = token.upper() if kind == "word" else ""
        if upper in ("SERVICE", "PREFIX", "BASE"):
            expect = upper.lower()
        elif expect == "service" and upper == "SILENT":
            continue
        elif expect == "service":
            # Anything but an IRI, a name or a variable here is a syntax error (or a word Oxigraph
            # reads in two, like `SILENTx:y`): it is kept as written, which no allow-list holds.
            found.append(None if kind == "var" else _resolve(base, _iri_value(token)) if kind == "iri"
                         else _expand(prefixes, token) if kind == "pname" and not token.upper().startswith("SILENT")
                         else token)
            expect = None
        elif expect == "prefix" and kind == "pname" and token.endswith(":"):
            declared, expect = token[:-1], "prefix-iri"
        elif expect == "prefix-iri" and kind == "iri":
            prefixes[declared] = _resolve(base, _iri_value(token))
            expect = None
        elif expect == "base" and kind == "iri":
            base = _resolve(base, _iri_value(token))
            expect = None
        else:
            expect = None
    return found


_UCHAR_RE = re.compile(_UCHAR)
_LOCAL_ESCAPE = re.compile(r"\\(.)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def _iri_value(token: str) -> str:
    return _UCHAR_RE.sub(lambda m: chr(int(m.group()[2:], 16)), token[1:-1])


def _resolve(base: str | None, iri: str) -> str:
    """RFC 3986 §5.2 resolution, as the parser does it (an absolute IRI is taken as written)."""
    if base is None or _SCHEME.match(iri):
        return iri
    return urljoin(base, iri)


def _expand(prefixes: dict[str, str], pname: str) -> str:
    """A prefixed name as the IRI it stands for (§4.1.1: escapes in the local part removed); an
    undeclared prefix stays as written, which no allow-list holds."""
    prefix, _, local = pname.partition(":")
    if prefix not in prefixes:
        return pname
    return prefixes[prefix] + _LOCAL_ESCAPE.sub(r"\1", local)


def words(text: str) -> list[tuple[str, int, bool]]:
    """Every word and prefixed name of the text with its offset and whether it is a prefixed name,
    never one inside a string, an IRI or a comment: what an update's operations are made of."""
    return [(m.group(), m.start(), m.lastgroup == "pname") for m in TOKEN.finditer(text)
            if m.lastgroup in ("word", "pname")]


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


def _check_common(shape: QueryShape, text: str, what: str, max_depth: int) -> None:
    if shape.depth > max_depth:
        raise QueryRefused(f"the {what} nests {shape.depth} levels of brackets; at most {max_depth} are accepted",
                           limit=max_depth)
    if shape.ambiguous:
        found = _holding_keyword(text, _READABLE[what])
        if found is not None:
            word, keyword = found
            raise QueryRefused(f"'{word}' may be read by the engine as the keyword {keyword} joined to other "
                               f"words: put spaces around {keyword}, or give the prefix another name")


# Where the grammar lets each keyword stand, and so where Oxigraph's parser may read one inside a
# word: SERVICE starts a graph pattern (inside any group); FROM only begins a query's dataset
# clause (outside every bracket, Query §13.2); LOAD only begins an update operation (outside every
# bracket). A query has no LOAD and an update no FROM: a word holding one there cannot be read so.
_READABLE = {"query": {"SERVICE": True, "FROM": False}, "update": {"SERVICE": True, "LOAD": False}}
_ANYWHERE = {"SERVICE": True, "LOAD": True, "FROM": True}


def _holding_keyword(text: str, readable: dict[str, bool]) -> tuple[str, str] | None:
    """The first word or prefix name that holds one of the `readable` keywords without being it,
    where the engine may read that keyword (True: inside brackets too; False: only outside every
    bracket), and the keyword. Run only when a keyword follows a name character (rare)."""
    declaring = False
    depth, with_iris = 0, 0   # brackets as the grammar counts them, and with those inside IRIs (see `scan`)
    for m in TOKEN.finditer(text):
        kind = m.lastgroup
        if kind in ("space", "comment"):
            continue
        token = m.group()
        if kind in ("open", "close", "iri"):
            step = sum((c in "{([") - (c in "})]") for c in token) + (token == "<<") - (token == ">>")
            with_iris += step
            depth += step if kind != "iri" else 0
        elif (kind == "word" and token.upper() not in ("SERVICE", "LOAD", "FROM")
                or kind == "pname" and not declaring):
            for held in _HELD_KEYWORD.finditer(token.partition(":")[0]):
                keyword = held.group().upper()
                if keyword in readable and (readable[keyword] or depth <= 0 or with_iris <= 0):
                    return token, keyword
        declaring = kind == "word" and token.upper() == "PREFIX"
    return None


def check_query(text: str, *, max_depth: int, allowed_services: frozenset[str],
                max_kb: int | None = None, base_iri: str | None = None) -> QueryShape:
    """Raise QueryRefused (or PayloadTooLarge) for what must not reach the engine; return the shape
    otherwise. `base_iri` is what the engine resolves relative IRIs against (the request's URL)."""
    check_size(text, max_kb=max_kb)
    shape = plain_query(text, max_depth) or scan(text, base_iri)
    _check_common(shape, text, "query", max_depth)
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
    _check_common(shape, text, "update", max_depth)
    if shape.services:
        raise QueryRefused("SERVICE is not allowed in an update: the writer never waits on another host; "
                           "query that service first and write the data you got")
    if shape.loads:
        raise QueryRefused("LOAD is not allowed: this service never fetches data from a URL; "
                           "send the data itself (Graph Store PUT/POST at /rdf-graph-store)")
    return shape
