"""Generated RDF documents of a known nesting depth, for the guard's tests and the input fuzzing.

Brackets, quotes and escapes are hidden in strings, IRIs and comments, where a parser reads none
of them as such: a scan that counted them would refuse what it must accept.
"""
from __future__ import annotations

import json

from hypothesis import strategies as st

EX = "http://ex.example/"

# Text that holds brackets, quotes and escapes where the parser reads none of them as such.
TURTLE_DECOYS = ['"[ ( { << ~ {|"', "'] ) } >>'", '"""a ] [ \\"""\n(( {{ "" " """', "'''[['' ' ]]'''",
                 '"\\"[("', "<http://[::1]/a(b)~d>", '""', "''", '"""a""b"""', "''''''"]
TURTLE_COMMENTS = ["# [ ( { << ~ {| \n", "#\n", "# \"unclosed ''' \n"]
JSON_DECOYS = ['"[ { \\" ] }"', '"\\\\"', '"\\u005b"', '"]]]}}}"', '"\\\\\\"["']


@st.composite
def turtle_doc(draw: st.DrawFn, depth: int, trig: bool = False) -> str:
    """Valid Turtle (or TriG) whose deepest nesting is exactly `depth` brackets."""
    inner = '"leaf"'
    levels = depth - (1 if trig else 0)
    for _ in range(levels):
        comment = draw(st.sampled_from(["", *TURTLE_COMMENTS]))
        literal = draw(st.sampled_from(TURTLE_DECOYS))
        if draw(st.booleans()):
            inner = f"[ ex:p {literal} ;{comment} ex:q {inner} ]"
        else:
            inner = f"( {literal}{' ' + comment if comment else ' '}{inner} <http://[::1]/a(b)~d> )"
    triple = f"ex:s ex:p {inner} ."
    body = f"ex:g {{ {triple} }}" if trig else triple
    return f"@prefix ex: <{EX}> .\n# {{ [ ( << \nex:a\\~b ex:p 'x' .\n{body}\n"


@st.composite
def jsonld_doc(draw: st.DrawFn, depth: int) -> str:
    """Valid JSON-LD whose deepest nesting of objects and arrays is exactly `depth`."""
    inner: str = json.dumps("leaf")
    level = 1
    while level < depth:
        decoy = draw(st.sampled_from(JSON_DECOYS))
        kind = draw(st.sampled_from(["object", "array", "list"]))
        if kind == "list" and level + 2 <= depth:
            inner = f'{{"@list": [{inner}]}}'
            level += 2
        elif kind == "array":
            inner = f"[{inner}, {decoy}]"
            level += 1
        else:
            inner = f'{{"{EX}q": {decoy}, "{EX}p": {inner}}}'
            level += 1
    return f'{{"@id": "{EX}s", "{EX}p": {inner}}}'


@st.composite
def rdfxml_doc(draw: st.DrawFn, depth: int) -> str:
    """RDF/XML whose elements nest `depth` or `depth` + 1 deep (node and property elements alternate)."""
    pairs = max(0, (depth - 2) // 2)
    text = draw(st.sampled_from(["x", "a &lt; b", "<![CDATA[ <ex:p><ex:p> ]]>", "&amp;"]))
    comment = draw(st.sampled_from(["", "<!-- <ex:p> <rdf:Description> -->"]))
    return ('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://ex.example/">'
            f'{comment}<rdf:Description rdf:about="{EX}s">' + "<ex:p><rdf:Description>" * pairs
            + f'<ex:q rdf:datatype="http://www.w3.org/2001/XMLSchema#string">{text}</ex:q>'
            + "</rdf:Description></ex:p>" * pairs + "</rdf:Description></rdf:RDF>")


@st.composite
def ntriples_doc(draw: st.DrawFn, quads: bool = False) -> str:
    """A few N-Triples (N-Quads) lines, literals holding the characters that open triple terms."""
    lines = []
    for i in range(draw(st.integers(1, 5))):
        literal = json.dumps(draw(st.sampled_from(["<<( x )>>", "[ ( {", "a \\ b", "~ {|", "plain"])))
        graph = f" <{EX}g>" if quads else ""
        lines.append(f"<{EX}s{i}> <{EX}p> {literal}{graph} .\n")
    return "".join(lines)
