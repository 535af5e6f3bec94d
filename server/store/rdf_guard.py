"""Judge an RDF/XML document safe before pyoxigraph's parser sees it.

Measured with pyoxigraph 0.5 (see the README, Security):
- it expands internal XML entities without any limit: the classic "billion laughs" (ten levels
  of ten references, under 1 KB) became a 3 GB literal, 9 GB of memory and 34 s of CPU;
- its time grows with the square of element nesting: 20,000 nested elements (1 MB) took 2 s,
  80,000 (4 MB, one request body) about 35 s of one server thread;
- it refuses external entities (`SYSTEM`/`PUBLIC`) and ignores an external DTD, so it never
  fetches anything; they are refused here too, with a clearer message.

The scan is linear, never recursive, and never builds a tree. It over-approximates (it may count
an entity reference inside a comment), which can only refuse a document, never let one through.
"""
from __future__ import annotations

import re
from collections import Counter

from ..errors import InputSyntaxError, PayloadTooLarge

# Text that entity references may add on top of the document itself. A typical OWL file in
# RDF/XML declares `&xsd;`, `&owl;`… and uses them a few thousand times: tens of KB.
MAX_ENTITY_EXPANSION = 1024 * 1024
MAX_ENTITIES = 1000
# Deepest element nesting accepted. Real RDF/XML nests a node, a property, a node, … rarely
# beyond 20 levels.
MAX_XML_DEPTH = 256

_ENTITY_DECL = re.compile(r"<!ENTITY\s+(%\s+)?([^\s\"'%>]+)\s+(?:\"([^\"]*)\"|'([^']*)'|(\S+))")
_ENTITY_REF = re.compile(r"&([A-Za-z_:][A-Za-z0-9_:.\-]*);")
_PREDEFINED = frozenset({"amp", "lt", "gt", "quot", "apos"})
# One tag from its '<': no '<' inside, quoted attribute values skipped (they may hold '>').
_TAG = re.compile(r"<(/?)[^\s<>/!?]+(?:[^<>\"']|\"[^\"]*\"|'[^']*')*?(/?)>")


def check_rdfxml(data: bytes, *, source: str) -> None:
    """Raise InputSyntaxError or PayloadTooLarge for what must not reach the RDF/XML parser."""
    text = _as_text(data)
    if "<!ENTITY" in text:
        _check_entities(text, source)
    depth = _max_depth(text)
    if depth > MAX_XML_DEPTH:
        raise InputSyntaxError(f"{source}: the RDF/XML nests elements {depth} levels deep; at most {MAX_XML_DEPTH} "
                               "are accepted (flatten nested descriptions with rdf:nodeID or rdf:about)",
                               source=source, limit=MAX_XML_DEPTH)


def _as_text(data: bytes) -> str:
    """Latin-1 keeps every byte and every ASCII markup character where it was.

    A UTF-16 document would hide its markup from this scan, so it is refused: pyoxigraph reads
    UTF-8 only anyway.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:200]:
        raise InputSyntaxError("RDF/XML must be UTF-8 (this one looks like UTF-16)")
    return data.decode("latin-1")


def _check_entities(text: str, source: str) -> None:
    values: dict[str, str] = {}
    for m in _ENTITY_DECL.finditer(text):
        parameter, name, value = m.group(1), m.group(2), m.group(3) if m.group(3) is not None else m.group(4)
        if parameter:
            raise InputSyntaxError(f"{source}: XML parameter entities (<!ENTITY % {name} …>) are not accepted",
                                   source=source)
        if value is None:
            raise InputSyntaxError(f"{source}: the external XML entity '{name}' is refused: this service never "
                                   "fetches or reads what a document points at; put the text in the document",
                                   source=source)
        values.setdefault(name, value)
        if len(values) > MAX_ENTITIES:
            raise InputSyntaxError(f"{source}: more than {MAX_ENTITIES} XML entities are declared", source=source)
    budget = len(text) + MAX_ENTITY_EXPANSION
    sizes = _expanded_sizes(values, budget, source)
    total = len(text)
    for m in _ENTITY_REF.finditer(text):
        total += sizes.get(m.group(1), 0)
        if total > budget:
            raise PayloadTooLarge(f"{source}: its XML entities would expand the document past "
                                  f"{budget:,} characters (at most {MAX_ENTITY_EXPANSION:,} more than it has); "
                                  "write the text out instead of nesting entities", source=source)


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


def _max_depth(text: str) -> int:
    """Deepest element nesting; comments, CDATA, processing instructions and the DOCTYPE skipped."""
    depth = deepest = 0
    i = text.find("<")
    while i >= 0:
        if text.startswith("<!--", i):
            end = text.find("-->", i + 4)
        elif text.startswith("<![CDATA[", i):
            end = text.find("]]>", i + 9)
        elif text.startswith("<?", i):
            end = text.find("?>", i + 2)
        elif text.startswith("<!", i):  # DOCTYPE: its internal subset ends with "]>"
            close = text.find("]>", i) if "[" in text[i:text.find(">", i) + 1] else -1
            end = close if close >= 0 else text.find(">", i)
        else:
            m = _TAG.match(text, i)
            if m is None:
                i = text.find("<", i + 1)
                continue
            if m.group(1):
                depth -= 1
            elif not m.group(2):
                depth += 1
                deepest = max(deepest, depth)
            i = text.find("<", m.end())
            continue
        if end < 0:
            break  # unterminated: the parser will say where
        i = text.find("<", end + 1)
    return deepest
