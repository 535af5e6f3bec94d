"""Content negotiation: q-values, wildcards, explicit formats, 406."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.errors import NotAcceptable
from server.http import formats

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
RAPPER = ("application/rdf+xml, text/rdf;q=0.6, application/n-triples;q=0.9, text/turtle;q=0.8, "
          "application/x-turtle;q=0.8, application/trig;q=0.7, */*;q=0.1")


@pytest.mark.parametrize("accept,kinds,expected", [
    (None, [formats.BINDINGS], "json"),
    ("*/*", [formats.GRAPH], "turtle"),
    (BROWSER, [formats.PAGE, formats.GRAPH], "html"),
    (BROWSER, [formats.BINDINGS], "json"),
    (RAPPER, [formats.PAGE, formats.GRAPH], "rdfxml"),
    ("text/turtle;q=0.4, application/ld+json", [formats.GRAPH], "jsonld"),
    ("application/json", [formats.BINDINGS], "json"),
    ("text/*", [formats.BINDINGS], "csv"),
])
def test_negotiate(accept: str | None, kinds: list[str], expected: str) -> None:
    assert formats.negotiate(accept, kinds).name == expected


def test_explicit_format_wins() -> None:
    assert formats.negotiate("text/turtle", [formats.GRAPH], explicit="nt").name == "ntriples"
    assert formats.negotiate(None, [formats.GRAPH], explicit="application/rdf+xml").name == "rdfxml"


def test_explicit_format_of_the_wrong_kind_is_406() -> None:
    with pytest.raises(NotAcceptable) as err:
        formats.negotiate(None, [formats.BINDINGS], explicit="turtle")
    assert "application/sparql-results+json" in err.value.detail["offered"]


def test_q_zero_refuses() -> None:
    with pytest.raises(NotAcceptable):
        formats.negotiate("text/turtle;q=0", [formats.GRAPH])


def test_text_types_declare_utf8() -> None:
    assert formats.BY_NAME["turtle"].content_type == "text/turtle; charset=utf-8"
    assert formats.BY_NAME["json"].content_type == "application/sparql-results+json"


STATEMENT_PIECES = [b"<http://e/s> <http://e/p> <http://e/#o> .", b"_:b <http://e/p> \"x\" .", b"\n", b"\r\n", b" ",
                    b"\t", b"\r", b"\x0b", b"\x0c", b"#", b"# a comment", b"!", b'"', b"$", b"\x00", b"\x1c", b"\xff"]


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(st.lists(st.one_of(st.sampled_from(STATEMENT_PIECES), st.binary(max_size=4)), max_size=30).map(b"".join))
def test_n_triples_statements_are_its_lines_less_blank_lines_and_comments(body: bytes) -> None:
    """How the endpoint counts a remote store's N-Triples answer (KG-Result-Count, the row cap)."""
    from server.store.answers import count_answer

    expected = sum(1 for line in body.split(b"\n") if line.strip() and not line.lstrip().startswith(b"#"))
    assert count_answer(body, "ntriples") == ("graph", expected)
