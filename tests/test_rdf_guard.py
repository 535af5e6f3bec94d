"""The guard in front of every RDF parser (server/store/rdf_guard.py), held to pyoxigraph itself.

For each syntax, documents generated at the depth limit (with brackets, quotes and escapes hidden
in strings, IRIs and comments) pass the guard and parse; one level more is refused. The guard's
verdict on RDF 1.2 triple terms is the parser's: a document it lets through never yields a triple
term. Streaming a document in chunks cut anywhere gives the whole document's verdict.
"""
from __future__ import annotations

import io
from datetime import timedelta

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from server.errors import InputSyntaxError, InputTooDeep, KGError, TripleTermsRefused
from server.http.formats import BY_NAME
from server.store.rdf_guard import CHUNK, MAX_RDF_DEPTH, check_rdf, check_stream, scanner

from .rdf_documents import EX, jsonld_doc, turtle_doc

# No shrinking: a failing document is printed as found (shrinking documents this size takes minutes).
PROPERTY = settings(max_examples=40, deadline=timedelta(seconds=20), derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def parses(doc: str, syntax: str) -> list[ox.Quad]:
    return list(ox.parse(doc.encode(), format=BY_NAME[syntax].rdf, without_named_graphs=False))


def verdict(doc: bytes, syntax: str) -> type[KGError] | None:
    try:
        check_rdf(doc, syntax, source="doc")
    except KGError as exc:
        return type(exc)
    return None


def streamed_verdict(doc: bytes, syntax: str, cuts: list[int]) -> type[KGError] | None:
    scan = scanner(syntax, source="doc")
    try:
        previous = 0
        for cut in sorted(set(cuts)) + [len(doc)]:
            scan.feed(doc[previous:cut])
            previous = cut
        scan.close()
    except KGError as exc:
        return type(exc)
    return None


# -- depth at the limit ----------------------------------------------------------------------------

@PROPERTY
@given(data=st.data(), syntax=st.sampled_from(["turtle", "trig"]))
def test_turtle_and_trig_at_the_limit_pass_and_one_more_is_refused(data: st.DataObject, syntax: str) -> None:
    ok = data.draw(turtle_doc(MAX_RDF_DEPTH, trig=syntax == "trig"))
    deep = data.draw(turtle_doc(MAX_RDF_DEPTH + 1, trig=syntax == "trig"))
    assert verdict(ok.encode(), syntax) is None
    assert parses(ok, syntax) and parses(deep, syntax)   # both are valid documents
    with pytest.raises(InputSyntaxError, match=f"at most {MAX_RDF_DEPTH} are accepted") as err:
        check_rdf(deep.encode(), syntax, source="request body")
    assert err.value.status == 400 and err.value.detail["limit"] == MAX_RDF_DEPTH


@PROPERTY
@given(data=st.data())
def test_jsonld_at_the_limit_passes_and_one_more_is_refused(data: st.DataObject) -> None:
    ok, deep = data.draw(jsonld_doc(MAX_RDF_DEPTH)), data.draw(jsonld_doc(MAX_RDF_DEPTH + 1))
    assert verdict(ok.encode(), "jsonld") is None
    assert parses(ok, "jsonld") and parses(deep, "jsonld")
    with pytest.raises(InputSyntaxError, match=f"at most {MAX_RDF_DEPTH} are accepted"):
        check_rdf(deep.encode(), "jsonld", source="request body")


@pytest.mark.parametrize("syntax,make", [
    ("jsonld", lambda n: '{"@id": "http://ex.example/a", "http://ex.example/p": ' * n + '"x"' + "}" * n),
    ("jsonld", lambda n: '{"@id": "http://ex.example/a", "http://ex.example/p": ' + "[" * (n - 1) + '"x"'
     + "]" * (n - 1) + "}"),
    ("turtle", lambda n: "<http://ex.example/a> <http://ex.example/p> " + "[ <http://ex.example/p> " * n + '"x"'
     + " ]" * n + " ."),
    ("turtle", lambda n: "<http://ex.example/a> <http://ex.example/p> " + "( " * n + '"x"' + " )" * n + " ."),
    ("trig", lambda n: "<http://ex.example/g> { <http://ex.example/a> <http://ex.example/p> "
     + "( " * (n - 1) + '"x"' + " )" * (n - 1) + " . }"),
    ("rdfxml", lambda n: '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://ex.example/">'
     + '<rdf:Description rdf:about="http://ex.example/a">' + "<ex:p><rdf:Description>" * ((n - 2) // 2)
     + '<ex:q rdf:resource="http://ex.example/o"/>' + "</rdf:Description></ex:p>" * ((n - 2) // 2)
     + "</rdf:Description></rdf:RDF>"),
])
def test_the_limit_in_every_syntax(syntax: str, make: object) -> None:
    """The table: MAX_RDF_DEPTH levels pass and parse; one more (two: RDF/XML nests node/property pairs) do not."""
    at_limit = make(MAX_RDF_DEPTH)  # type: ignore[operator]
    over = make(MAX_RDF_DEPTH + (2 if syntax == "rdfxml" else 1))  # type: ignore[operator]
    assert verdict(at_limit.encode(), syntax) is None and parses(at_limit, syntax)
    assert verdict(over.encode(), syntax) is InputTooDeep and parses(over, syntax)


@PROPERTY
@given(data=st.data(), syntax=st.sampled_from(["turtle", "trig", "jsonld"]), over=st.booleans())
def test_chunks_cut_anywhere_give_the_same_verdict(data: st.DataObject, syntax: str, over: bool) -> None:
    depth = MAX_RDF_DEPTH + (1 if over else 0)
    doc = data.draw(jsonld_doc(depth) if syntax == "jsonld" else turtle_doc(depth, trig=syntax == "trig")).encode()
    cuts = data.draw(st.lists(st.integers(0, len(doc)), max_size=12))
    assert streamed_verdict(doc, syntax, cuts) == verdict(doc, syntax) == (InputTooDeep if over else None)


def test_a_long_string_across_many_chunks_is_read_once() -> None:
    """A literal larger than the chunks: its brackets are text, whatever the chunk borders."""
    doc = ('<http://ex.example/a> <http://ex.example/p> """' + "[(" * (3 * CHUNK // 2) + '""" .\n'
           + "<http://ex.example/a> <http://ex.example/p> " + "[ <http://ex.example/p> " * 3 + "1 ] ] ] .\n")
    check_stream(io.BytesIO(doc.encode()), "turtle", source="file")
    with pytest.raises(InputSyntaxError):
        check_stream(io.BytesIO(doc.replace('"""', "<http://ex.example/x>", 2).encode()), "turtle", source="file")


# -- RDF 1.2 triple terms: the guard's verdict is the parser's --------------------------------------

TURTLE_TRIPLE_PIECES = [
    "ex:a ex:p ex:o .", "<< ex:a ex:p ex:o >> ex:q ex:z .", "ex:a ex:p <<( ex:a ex:p ex:o )>> .",
    "ex:a ex:p ex:o ~ ex:r .", "ex:a ex:p ex:o {| ex:q ex:z |} .", 'ex:a ex:p "<< ~ {| <<(" .',
    "ex:a ex:p <http://ex.example/~x> .", "ex:a\\~b ex:p ex:o .", "# << ~ {|\n", 'ex:a ex:p """~\n<<""" .',
    "ex:a ex:p ( 1 [ ex:q 2 ] ) .",
]
NT_TRIPLE_PIECES = [
    "<http://ex.example/a> <http://ex.example/p> <http://ex.example/o> .\n",
    "<http://ex.example/a> <http://ex.example/p> <<( <http://ex.example/a> <http://ex.example/p> \"1\" )>> .\n",
    '<http://ex.example/a> <http://ex.example/p> "<<( ~ >>" .\n', "# <<(\n",
]
RDF = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:r="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
XML_TRIPLE_PIECES = [
    '<rdf:Description rdf:about="http://ex.example/a"><ex:p rdf:resource="http://ex.example/o"/></rdf:Description>',
    '<rdf:Description rdf:about="http://ex.example/a"><ex:p rdf:resource="http://ex.example/o" '
    'rdf:annotation="http://ex.example/r"/></rdf:Description>',
    '<rdf:Description rdf:about="http://ex.example/a"><ex:p rdf:resource="http://ex.example/o" '
    'r:annotationNodeID="b1"/></rdf:Description>',
    '<rdf:Description rdf:about="http://ex.example/r"><rdf:reifies r:parseType="Triple"><rdf:Description '
    'rdf:about="http://ex.example/a"><ex:p rdf:resource="http://ex.example/o"/></rdf:Description></rdf:reifies>'
    '</rdf:Description>',
    '<rdf:Description rdf:about="http://ex.example/a" ex:annotation="x" ex:parseType="Triple">'
    '<ex:p rdf:parseType="Resource"><ex:q>rdf:annotation="y"</ex:q></ex:p></rdf:Description>',
    "<!-- rdf:parseType=\"Triple\" -->",
]


def assert_guard_is_the_parser(doc: str, syntax: str) -> None:
    refused = verdict(doc.encode(), syntax) is TripleTermsRefused
    try:
        quads = parses(doc, syntax)
    except SyntaxError:
        return   # the parser refuses it anyway
    has_triple_terms = any(isinstance(q.object, ox.Triple) for q in quads)
    assert refused == has_triple_terms, doc


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(pieces=st.lists(st.sampled_from(TURTLE_TRIPLE_PIECES), min_size=1, max_size=5), trig=st.booleans())
def test_turtle_triple_terms_are_refused_exactly(pieces: list[str], trig: bool) -> None:
    body = "\n".join(pieces)
    doc = f"@prefix ex: <{EX}> .\n" + (f"ex:g {{\n{body}\n}}\n" if trig else body + "\n")
    assert_guard_is_the_parser(doc, "trig" if trig else "turtle")


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(pieces=st.lists(st.sampled_from(NT_TRIPLE_PIECES), min_size=1, max_size=4), quads=st.booleans())
def test_ntriples_triple_terms_are_refused_exactly(pieces: list[str], quads: bool) -> None:
    assert_guard_is_the_parser("".join(pieces), "nquads" if quads else "ntriples")


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(pieces=st.lists(st.sampled_from(XML_TRIPLE_PIECES), min_size=1, max_size=4))
def test_rdfxml_triple_terms_are_refused_exactly(pieces: list[str]) -> None:
    """(`rdf:parseType="Triple"` makes a triple term in RDF/XML 1.2 only; the guard refuses it in any version.)"""
    doc = f'<?xml version="1.0"?>\n<rdf:RDF {RDF} xmlns:ex="{EX}" r:version="1.2">' + "".join(pieces) + "</rdf:RDF>"
    assert_guard_is_the_parser(doc, "rdfxml")


def test_triple_terms_get_415_and_say_why() -> None:
    with pytest.raises(TripleTermsRefused) as err:
        check_rdf(b"<< <http://ex.example/a> <http://ex.example/p> 1 >> <http://ex.example/q> 2 .", "turtle",
                  source="request body")
    assert err.value.status == 415 and err.value.to_dict()["error"] == "RDF 1.2 not supported"
    assert "rdf:Statement" in err.value.message


@pytest.mark.parametrize("syntax", ["turtle", "ntriples", "jsonld", "rdfxml"])
def test_a_file_is_guarded_in_chunks_with_memory_of_about_one_chunk(syntax: str) -> None:
    """`kg load` reads files of any size: a document of many chunks gets the whole document's verdict."""
    n = 3 * CHUNK // 60
    if syntax == "jsonld":
        doc = "[" + ",".join(f'{{"@id": "{EX}s{i}", "{EX}p": [{{"@value": "v[{i}"}}]}}' for i in range(n // 2)) + "]"
    elif syntax == "rdfxml":
        doc = (f'<rdf:RDF {RDF} xmlns:ex="{EX}">' + "".join(f'<rdf:Description rdf:about="{EX}s{i}"><ex:p>v&amp;'
                                                           f"{i}</ex:p></rdf:Description>" for i in range(n // 2))
               + "</rdf:RDF>")
    else:
        doc = "".join(f'<{EX}s{i}> <{EX}p> "v << {i}" .\n' for i in range(n))
    check_stream(io.BytesIO(doc.encode()), syntax, source="file")
    assert len(doc) > 2 * CHUNK
