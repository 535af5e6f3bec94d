"""Judge an RDF document safe before any parser sees it: one guard for every syntax we read.

Measured with pyoxigraph 0.5 (see the Security docs):
- JSON-LD nested about 4,000 objects or lists deep (124 KB) ends the process with a segmentation
  fault; RDF 1.2 triple terms nested about 20,000 deep in Turtle or N-Triples do the same;
- RDF/XML: internal XML entities expand without limit ("billion laughs": a 3 GB literal from under
  1 KB) and time grows with the square of element nesting; external entities are never fetched
  (refused here too, with a clearer message);
- nested Turtle and TriG blank nodes and lists parse fine at any depth, but the same depth bound
  holds for them so that one rule covers every syntax.

RDF 1.2 triple terms (`<<( … )>>`, reifiers `<< … >>`, `~`, annotations `{| … |}`, and RDF/XML's
`rdf:parseType="Triple"` / `rdf:annotation`) are refused: the validator (pySHACL on rdflib), the
pages and the change log cannot carry them.

Each scan is lexical and linear: strings, IRIs and comments are stepped over as the parser's own
lexer reads them, brackets are counted, nothing is built and nothing recurses. Documents arrive
whole (request bodies) or in chunks (`kg load` streams files of any size); a token cut by a chunk
border is scanned again once more text has come, and the text kept back at least doubles before
each new attempt, so the work stays linear.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import IO, Protocol

from ..errors import InputSyntaxError, InputTooDeep, PayloadTooLarge, TripleTermsRefused

# Deepest nesting accepted in any syntax: JSON objects and arrays, Turtle/TriG brackets,
# parentheses and graph blocks, XML elements. Real data nests a few levels (an RDF/XML node, a
# property, a node, … rarely beyond 20); the crash is past 3,000. Not a setting: no value
# between those needs choosing, and none above them is safe.
MAX_RDF_DEPTH = 256
# Text that entity references may add on top of the document itself. A typical OWL file in
# RDF/XML declares `&xsd;`, `&owl;`… and uses them a few thousand times: tens of KB.
MAX_ENTITY_EXPANSION = 1024 * 1024
MAX_ENTITIES = 1000
CHUNK = 1 << 20

TRIPLE_TERMS = ("RDF 1.2 triple terms and reifiers ({what}) are not accepted: the validator, the pages and "
                "the change log work on RDF 1.1 triples. Describe a statement with a node of its own (an "
                "rdf:Statement with rdf:subject, rdf:predicate and rdf:object, or a kgo:Claim)")


class Scan(Protocol):
    def feed(self, chunk: bytes) -> None: ...

    def close(self) -> None: ...


def scanner(syntax: str, *, source: str) -> Scan:
    """The scan for a format name of `server.http.formats` (turtle, trig, ntriples, nquads, jsonld, rdfxml)."""
    if syntax == "jsonld":
        return _Lexical(_JSON, source, _JSON_NESTING, cut_at_newline=False)
    if syntax == "rdfxml":
        return _Xml(source)
    return _Lexical(_TURTLE, source, _TURTLE_NESTING, cut_at_newline=True, line_based=syntax in ("ntriples", "nquads"))


def check_rdf(data: bytes, syntax: str, *, source: str) -> None:
    """Raise InputSyntaxError, PayloadTooLarge or TripleTermsRefused for what must not reach the parser."""
    scan = scanner(syntax, source=source)
    scan.feed(data)
    scan.close()


def check_stream(stream: IO[bytes], syntax: str, *, source: str) -> None:
    """The same for a file read in chunks (any size; memory stays about one chunk)."""
    scan = scanner(syntax, source=source)
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        scan.feed(chunk)
    scan.close()


def triple_terms_refused(source: str, what: str) -> TripleTermsRefused:
    return TripleTermsRefused(f"{source}: " + TRIPLE_TERMS.format(what=what), source=source)


def too_deep(source: str, depth: int, nesting: tuple[str, str]) -> InputTooDeep:
    what, advice = nesting
    return InputTooDeep(f"{source}: the document nests {what} {depth} levels deep; at most {MAX_RDF_DEPTH} "
                            f"are accepted: {advice}", source=source, limit=MAX_RDF_DEPTH)


# -- Turtle, TriG, N-Triples, N-Quads; JSON ---------------------------------------------------------

# Turtle 1.2 §6.5 terminals, as oxttl's lexer reads them: a long string ends at the first unescaped
# triple quote; a short string, an IRI and a comment end on their line; `\` outside strings escapes
# one character of a local name (PN_LOCAL_ESC). A character that starts no complete token (a lone
# quote, a `<` that opens no IRI) is stepped over alone: the parser stops there with an error.
_TURTLE_SKIP = [   # strings and IRIs as unrolled loops: a run of plain characters, then one escape at a time
    rb'[^\[\](){}<>"\'#\\~|]++',
    rb"#[^\r\n]*+",
    rb'"""[^"\\]*+(?:(?:\\[\s\S]|"(?!""))[^"\\]*+)*+"""',
    rb"'''[^'\\]*+(?:(?:\\[\s\S]|'(?!''))[^'\\]*+)*+'''",
    rb'(?!""")"[^"\\\r\n]*+(?:\\[^\r\n][^"\\\r\n]*+)*+"',
    rb"(?!''')'[^'\\\r\n]*+(?:\\[^\r\n][^'\\\r\n]*+)*+'",
    rb'<[^\x00-\x20<>"{}|^`\\]*+(?:(?:\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})[^\x00-\x20<>"{}|^`\\]*+)*+>',
    rb"\\[^\r\n]",
    rb'(?!<<)<|>|\||\\|(?!""")"|(?!\'\'\')\'',
]
_TURTLE = re.compile(b"(?:" + b"|".join(_TURTLE_SKIP) + rb")*+(?:(?P<triple><<|\{\||~)|(?P<open>[\[({])|"
                     rb"(?P<close>[\])}])|(?P<open_token>\"\"\"|''')|\Z)")
_TURTLE_NESTING = ("blank nodes [ ], lists ( ) and graph blocks { }",
                   "name the inner nodes (ex:n1) and refer to them instead of nesting them")
# JSON (RFC 8259): strings are the only tokens that can hold brackets.
_JSON = re.compile(rb'(?:[^"\[\]{}]++|"[^"\\]*+(?:\\[\s\S][^"\\]*+)*+")*+(?:(?P<open>[\[{])|(?P<close>[\]}])|'
                   rb'(?P<open_token>")|\Z)')
_JSON_NESTING = ("objects and arrays", "give the inner nodes an @id and list them side by side in @graph")


class _Chunked:
    """Chunks in, scans out: text the last scan could not judge (a token cut by the border) is kept
    and scanned again once the text held has doubled, so no byte is scanned more than a few times."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.kept = 0

    def feed(self, chunk: bytes) -> None:
        self.parts.append(chunk)
        self.size += len(chunk)
        if self.size >= 2 * self.kept:
            self._run(final=False)

    def close(self) -> None:
        self._run(final=True)

    def _run(self, final: bool) -> None:
        data = b"".join(self.parts)
        rest = data[self.scan(data, final):]
        self.parts, self.size, self.kept = [rest], len(rest), len(rest)

    def scan(self, data: bytes, final: bool) -> int:
        """Judge `data` from its start; return how far it is judged (the rest is kept for later)."""
        raise NotImplementedError


class _Lexical(_Chunked):
    """Brackets counted outside strings, IRIs and comments; RDF 1.2 syntax refused."""

    def __init__(self, pattern: re.Pattern[bytes], source: str, nesting: tuple[str, str], *, cut_at_newline: bool,
                 line_based: bool = False) -> None:
        super().__init__()
        self.pattern = pattern
        self.source = source
        self.nesting = nesting
        self.cut_at_newline = cut_at_newline   # Turtle: only long strings cross a line end
        # N-Triples and N-Quads have no brackets: only a triple term (`<<(`) can nest, and text
        # without `<<` anywhere holds none (the common case, read at memory speed).
        self.line_based = line_based
        self.depth = 0
        self.done = False    # an unterminated string at the end: the parser reports it

    def scan(self, data: bytes, final: bool) -> int:
        end = len(data) if final or not self.cut_at_newline else data.rfind(b"\n") + 1
        if self.done or (self.line_based and data.find(b"<<", 0, end) < 0):
            return end
        for m in self.pattern.finditer(data, 0, end):
            kind = m.lastgroup
            if kind == "open":
                self.depth += 1
                if self.depth > MAX_RDF_DEPTH:
                    raise too_deep(self.source, self.depth, self.nesting)
            elif kind == "close":
                self.depth = max(0, self.depth - 1)
            elif kind == "triple":
                raise triple_terms_refused(self.source, m.group(kind).decode())
            elif kind == "open_token":  # a string whose end is not here (yet)
                if not final:
                    return m.start(kind)
                self.done = True
        return end


# -- RDF/XML ------------------------------------------------------------------------------------

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_ENTITY_DECL = re.compile(r"<!ENTITY\s+(%\s+)?([^\s\"'%>]+)\s+(?:\"([^\"]*)\"|'([^']*)'|(\S+))")
_ENTITY_REF = re.compile(r"&([A-Za-z_:][A-Za-z0-9_:.\-]*);")
_PREDEFINED = frozenset({"amp", "lt", "gt", "quot", "apos"})
# One tag from its '<': no '<' inside, quoted attribute values skipped (they may hold '>').
_TAG = re.compile(r"<(/?)[^\s<>/!?]+(?:[^<>\"']|\"[^\"]*\"|'[^']*')*?(/?)>")
_ATTRIBUTE = re.compile(r"([^\s=<>/\"']+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
# RDF 1.2 Concepts §3.6 in RDF/XML: these make triple terms.
_TRIPLE_ATTRIBUTES = frozenset({"annotation", "annotationNodeID"})
_ENDS = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"))
_XML_NESTING = ("elements", "flatten nested descriptions with rdf:nodeID or rdf:about")


class _Xml(_Chunked):
    """Entities bounded in number and expansion, elements in depth, RDF 1.2 refused.

    It over-approximates where the XML would take a full parser to read (an `rdf:annotation` on an
    element that ignores it, a namespace written with a character reference), which can only refuse
    a document, never let one through."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source
        self.started = False
        self.depth = 0
        self.expansion = 0
        self.sizes: dict[str, int] = {}
        self.rdf_prefixes: set[str] = set()

    def feed(self, chunk: bytes) -> None:
        if not self.started:
            self.started = True
            if chunk[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in chunk[:200]:
                raise InputSyntaxError("RDF/XML must be UTF-8 (this one looks like UTF-16)", source=self.source)
        super().feed(chunk)

    def scan(self, data: bytes, final: bool) -> int:
        text = data.decode("latin-1")  # every byte kept, every ASCII markup character where it was
        done = 0    # text before this is judged
        i = text.find("<")
        while i >= 0:
            end = self._construct_end(text, i)
            if end is None and not final:   # cut by the chunk border: judged with more text
                return done
            self._count_references(text[done:i])
            if end is None:   # unterminated: the parser will say where
                return len(text)
            done = end
            i = text.find("<", end)
        if final:
            self._count_references(text[done:])
            return len(text)
        return done

    def _construct_end(self, text: str, i: int) -> int | None:
        """Where the markup at `i` ends (after it), counting elements; None when its end is not here."""
        for start, stop in _ENDS:
            if text.startswith(start, i):
                end = text.find(stop, i + len(start))
                return None if end < 0 else end + len(stop)
        if text.startswith("<!", i):   # DOCTYPE: its internal subset ends with "]>"
            close = text.find(">", i)
            if close < 0:
                return None
            if "[" in text[i:close + 1]:
                close = text.find("]>", i)
                if close < 0:
                    return None
                close += 1
            self._declare_entities(text[i:close + 1])
            return close + 1
        m = _TAG.match(text, i)
        if m is None:
            return None if text.find("<", i + 1) < 0 else i + 1   # no later '<': perhaps cut
        if m.group(1):
            self.depth = max(0, self.depth - 1)
        else:
            self._check_attributes(m.group())
            if not m.group(2):
                self.depth += 1
                if self.depth > MAX_RDF_DEPTH:
                    raise too_deep(self.source, self.depth, _XML_NESTING)
        self._count_references(m.group())
        return m.end()

    def _check_attributes(self, tag: str) -> None:
        attributes = [(m.group(1), m.group(2) if m.group(2) is not None else m.group(3))
                      for m in _ATTRIBUTE.finditer(tag)]
        for name, value in attributes:
            if name.startswith("xmlns:") and (value == RDF_NS or "&" in value):
                self.rdf_prefixes.add(name[len("xmlns:"):])
        for name, value in attributes:
            prefix, _, local = name.rpartition(":")
            if prefix in self.rdf_prefixes and (local in _TRIPLE_ATTRIBUTES or
                                                (local == "parseType" and value == "Triple")):
                raise triple_terms_refused(self.source, f'{name}="{value}"')

    def _declare_entities(self, doctype: str) -> None:
        values: dict[str, str] = {}
        for m in _ENTITY_DECL.finditer(doctype):
            parameter, name = m.group(1), m.group(2)
            value = m.group(3) if m.group(3) is not None else m.group(4)
            if parameter:
                raise InputSyntaxError(f"{self.source}: XML parameter entities (<!ENTITY % {name} …>) are not "
                                       "accepted", source=self.source)
            if value is None:
                raise InputSyntaxError(f"{self.source}: the external XML entity '{name}' is refused: this service "
                                       "never fetches or reads what a document points at; put the text in the "
                                       "document", source=self.source)
            values.setdefault(name, value)
            if len(values) > MAX_ENTITIES:
                raise InputSyntaxError(f"{self.source}: more than {MAX_ENTITIES} XML entities are declared",
                                       source=self.source)
        self.sizes.update(_expanded_sizes(values, MAX_ENTITY_EXPANSION, self.source))

    def _count_references(self, text: str) -> None:
        if not self.sizes or "&" not in text:
            return
        for m in _ENTITY_REF.finditer(text):
            self.expansion += self.sizes.get(m.group(1), 0)
            if self.expansion > MAX_ENTITY_EXPANSION:
                raise PayloadTooLarge(f"{self.source}: its XML entities would expand the document by more than "
                                      f"{MAX_ENTITY_EXPANSION:,} characters; write the text out instead of "
                                      "nesting entities", source=self.source, limit=MAX_ENTITY_EXPANSION)


def _expanded_sizes(values: dict[str, str], cap: int, source: str) -> dict[str, int]:
    """Each entity's size once every reference in it is expanded (capped at cap + 1), without recursion."""
    refs = {name: Counter(r for r in _ENTITY_REF.findall(v) if r not in _PREDEFINED) for name, v in values.items()}
    sizes: dict[str, int] = {}
    for start in values:
        stack, on_path = [start], {start}
        while stack:
            name = stack[-1]
            pending = [r for r in refs[name] if r in values and r not in sizes]
            if pending:
                for r in pending:
                    if r in on_path:
                        raise InputSyntaxError(f"{source}: the XML entity '{r}' refers to itself", source=source)
                stack.append(pending[0])
                on_path.add(pending[0])
                continue
            sizes[name] = min(cap + 1, len(values[name]) + sum(n * sizes.get(r, 0) for r, n in refs[name].items()))
            stack.pop()
            on_path.discard(name)
    return sizes
