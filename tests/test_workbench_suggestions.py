"""Suggestions for a new article: scored against hand-made answer keys, and `kg propose`'s TriG read back."""
from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner

from server import namespaces as ns
from server.build.pipeline import BuildResult
from server.cli import main
from server.curation.evidence import printings, quote_iri
from server.workbench import date_expressions, gazetteer, scoring, suggestions

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
KGW = rdflib.Namespace(ns.DEFAULT_BASE + "workbench#")
KGO = rdflib.Namespace(ns.KGO)
KG = rdflib.Namespace(ns.ID)
OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
XSD = rdflib.XSD


@pytest.fixture(scope="module")
def select(built: BuildResult):  # type: ignore[no-untyped-def]
    store = ox.Store.read_only(str(built.store_path))
    return suggestions.store_select(store)


def key(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("key_file", ["article.key.json", "second-report.key.json"])
def test_suggestions_meet_the_answer_keys(select, key_file: str) -> None:
    """Mention precision and recall of at least 0.9; every date of the key resolved as the key says."""
    k = key(key_file)
    text = (ROOT / k["text"]).read_text(encoding="utf-8")
    proposal = suggestions.propose_from_graph(text, date_expressions.parse_published(k["published"]), select,
                                              ns.DEFAULT_BASE)
    scores = scoring.score(proposal, k)
    assert scores.mentions.precision >= 0.9 and scores.mentions.recall >= 0.9, scores.report()
    assert scores.dates.all_right, scores.report()
    for m in proposal.mentions:  # every span is the text's own words at those offsets
        assert text[m.start:m.end] == m.exact


def test_answer_keys_quote_the_texts() -> None:
    """A key that drifted from its text would score nothing honestly."""
    for name in ("article.key.json", "second-report.key.json"):
        k = key(name)
        text = (ROOT / k["text"]).read_text(encoding="utf-8")
        for item in k["mentions"] + k["dates"]:
            assert text[item["start"]:item["end"]] == item["exact"], (name, item)


def names(*rows: tuple[str, str, str]) -> gazetteer.Gazetteer:
    return gazetteer.from_rows({"entity": ns.ID + e, "type": ns.KGO + t, "name": n,
                                "p": "http://www.w3.org/2000/01/rdf-schema#label"} for e, t, n in rows)


@pytest.mark.parametrize(("words", "entity"), [
    ("Recep Tayyip Erdoğan met him", "recep-tayyip-erdogan"),      # diacritics
    ("then Erdogan said", "recep-tayyip-erdogan"),                  # the surname alone
    ("the ARMENIA delegation", "armenia"),                          # case
    ("an Armanian Prime Minister", "prime-minister-of-armenia"),    # a misspelling
    ("Turks call it Gümrü.", "gyumri"),                             # another spelling, through 'Gumri'
])
def test_names_are_found_across_spellings(words: str, entity: str) -> None:
    g = names(("recep-tayyip-erdogan", "Person", "Recep Tayyip Erdogan"), ("armenia", "Country", "Armenia"),
              ("prime-minister-of-armenia", "Post", "Armenian Prime Minister"), ("gyumri", "City", "Gumri"))
    assert [m.entity for m in g.find(words)] == [ns.ID + entity]


@pytest.mark.parametrize("words", ["Armenian engineers", "the Turkish Presidency", "the Armenian Foreign Ministry"])
def test_other_words_are_not_names(words: str) -> None:
    """An adjective of a name, a longer name, or a qualified organisation is not the graph's entity."""
    g = names(("armenia", "Country", "Armenia"), ("president-of-turkiye", "Post", "Turkish President"),
              ("turkish-foreign-ministry", "GovernmentBody", "Foreign Ministry"))
    assert g.find(words) == []


def test_dates_keep_their_words_and_say_how_they_were_derived() -> None:
    text = "Officials met on Thursday. It rained in February 2023, then for decades."
    found = {d.exact: d for d in date_expressions.find(text, date_expressions.parse_published("2025-11-30"))}
    assert (found["Thursday"].value, found["Thursday"].derived, found["Thursday"].method) == \
        ("2025-11-27", True, "WeekdayResolved")
    assert (found["February 2023"].value, found["February 2023"].derived) == ("2023-02", False)
    assert found["for decades"].value is None and "unresolved" in found["for decades"].explanation


def test_kg_propose_prints_trig_with_selectors_and_typed_dates(built: BuildResult) -> None:
    text_path = FIXTURES / "second-report.txt"
    result = CliRunner().invoke(main, ["propose", str(text_path), "--published", "2025-11-30",
                                       "--article-iri", "kg:article-new", "--store", str(built.store_path)])
    assert result.exit_code == 0, result.output
    ds = rdflib.Dataset()
    ds.parse(data=result.output, format="trig")
    g = ds.graph(rdflib.URIRef(ns.GRAPH + "suggestions"))
    text = text_path.read_text(encoding="utf-8")
    # "Gümrü": a mention of Gyumri whose span is the quote node `kg evidence` makes for those words.
    (printing,) = printings(text, "Gümrü")
    span = rdflib.URIRef(quote_iri(ns.ID + "article-new", printing))
    (mention,) = g.subjects(KGW.span, span)
    assert g.value(mention, KGW.entity) == KG.gyumri
    position = next(s for s in g.objects(span, OA.hasSelector) if (s, rdflib.RDF.type, OA.TextPositionSelector) in g)
    assert (int(g.value(position, OA.start)), int(g.value(position, OA.end))) == (printing.start, printing.end)
    # "Thursday": resolved against the publication day, derived, words kept.
    (date,) = g.subjects(KGO.dateAsWritten, rdflib.Literal("Thursday"))
    assert g.value(date, KGW.value) == rdflib.Literal("2025-11-27", datatype=XSD.date)
    assert g.value(date, KGW.derived).toPython() is True
    assert g.value(date, KGO.derivation) == KGO.WeekdayResolved


def test_kg_propose_refuses_a_time_without_zone(built: BuildResult) -> None:
    result = CliRunner().invoke(main, ["propose", str(FIXTURES / "second-report.txt"), "--published",
                                       "2025-11-30T10:00", "--store", str(built.store_path)])
    assert result.exit_code == 2 and "has no zone" in result.output
