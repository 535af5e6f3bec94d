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
from server.curation import dates
from server.curation.evidence import printings, quote_iri
from server.workbench import date_expressions, events, gazetteer, scoring, suggestions

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


KEYS = ["article.key.json", "second-report.key.json", "third-report.key.json"]


@pytest.mark.parametrize("key_file", KEYS)
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
    for name in KEYS:
        k = key(name)
        text = (ROOT / k["text"]).read_text(encoding="utf-8")
        for item in k["mentions"] + k["dates"]:
            assert text[item["start"]:item["end"]] == item["exact"], (name, item)


def names(*rows: tuple[str, str, str], holds: tuple[tuple[str, str], ...] = ()) -> gazetteer.Gazetteer:
    return gazetteer.from_rows(({"entity": ns.ID + e, "type": ns.KGO + t, "name": n,
                                 "p": "http://www.w3.org/2000/01/rdf-schema#label"} for e, t, n in rows),
                               ({"person": ns.ID + person, "post": ns.ID + post} for person, post in holds))


@pytest.mark.parametrize(("words", "entity"), [
    ("Recep Tayyip Erdoğan met him", "recep-tayyip-erdogan"),      # diacritics
    ("then Erdogan said", "recep-tayyip-erdogan"),                  # the surname alone
    ("the ARMENIA delegation", "armenia"),                          # case
    ("an Armanian Prime Minister", "prime-minister-of-armenia"),    # a misspelling
    ("Turks call it Gümrü.", "gyumri"),                             # another spelling, through 'Gumri'
    ("then Nikol Pashinian said", "nikol-pashinyan"),               # one letter of the ending: a spelling
    ("at the UN General Assembly", "un-general-assembly"),          # initials without their dots
    ("the Margara crossing", "margara-border-crossing"),            # the label without its modifier
])
def test_names_are_found_across_spellings(words: str, entity: str) -> None:
    g = names(("recep-tayyip-erdogan", "Person", "Recep Tayyip Erdogan"), ("armenia", "Country", "Armenia"),
              ("prime-minister-of-armenia", "Post", "Armenian Prime Minister"), ("gyumri", "City", "Gumri"),
              ("nikol-pashinyan", "Person", "Nikol Pashinyan"),
              ("un-general-assembly", "InternationalBody", "U.N. General Assembly"),
              ("margara-border-crossing", "BorderCrossing", "Margara border crossing"))
    assert [m.entity for m in g.find(words)] == [ns.ID + entity]


def spans(g: gazetteer.Gazetteer, words: str) -> list[tuple[str, str]]:
    return [(m.exact, m.entity.removeprefix(ns.ID)) for m in g.find(words)]


@pytest.mark.parametrize(("words", "found"), [
    ("the Turkish Foreign Ministry said", [("Turkish Foreign Ministry", "ministry")]),  # its own country's adjective
    ("Turkey's Foreign Ministry said", [("Turkey's Foreign Ministry", "ministry")]),  # '… of Türkiye' reordered
    ("Armenia's Foreign Ministry said", [("Armenia", "armenia")]),                      # another country's
    ("the Armenian Foreign Ministry said", []),
])
def test_an_organisation_is_its_own_country_s(words: str, found: list[tuple[str, str]]) -> None:
    """A qualifier naming the country the organisation's label gives is part of its name; another country's is not."""
    g = names(("turkiye", "Country", "Türkiye"), ("turkiye", "Country", "Turkey"), ("armenia", "Country", "Armenia"),
              ("ministry", "GovernmentBody", "Foreign Ministry"),
              ("ministry", "GovernmentBody", "Foreign Ministry of Türkiye"))
    assert spans(g, words) == found


@pytest.mark.parametrize(("words", "found"), [
    ("Prime Minister Nikol Pashinian met", [("Prime Minister", "pm-armenia"), ("Nikol Pashinian", "pashinyan")]),
    ("President Erdogan met", [("President", "president-turkiye"), ("Erdogan", "erdogan")]),
    ("Prime Minister Erdogan met", [("Erdogan", "erdogan")]),     # a title of a post he does not hold
])
def test_a_title_before_its_holder_names_the_post(words: str, found: list[tuple[str, str]]) -> None:
    g = names(("pm-armenia", "Post", "Armenian Prime Minister"), ("president-turkiye", "Post", "Turkish President"),
              ("pashinyan", "Person", "Nikol Pashinyan"), ("erdogan", "Person", "Recep Tayyip Erdogan"),
              holds=(("pashinyan", "pm-armenia"), ("erdogan", "president-turkiye")))
    assert spans(g, words) == found


def test_a_spelling_the_text_uses_is_found_in_lower_case_too() -> None:
    """A lower-case tag is the name only where the text spelled it so as a name; alone it is a word."""
    g = names(("pashinyan", "Person", "Nikol Pashinyan"))
    assert spans(g, "Pashinian spoke.\nTags: pashinian") == [("Pashinian", "pashinyan"), ("pashinian", "pashinyan")]
    assert spans(g, "Tags: pashinian") == []


@pytest.mark.parametrize("words", ["Armenian engineers", "the Turkish Presidency", "the Armenian Foreign Ministry",
                                   "let us go", "the border crossing"])
def test_other_words_are_not_names(words: str) -> None:
    """An adjective of a name, a longer name, a qualified organisation, a pronoun spelled as initials,
    or a name's common words without its proper name are not the graph's entity."""
    g = names(("armenia", "Country", "Armenia"), ("president-of-turkiye", "Post", "Turkish President"),
              ("turkish-foreign-ministry", "GovernmentBody", "Foreign Ministry"), ("united-states", "Country", "U.S."),
              ("margara-border-crossing", "BorderCrossing", "Margara border crossing"))
    assert g.find(words) == []


def test_dates_keep_their_words_and_say_how_they_were_derived() -> None:
    text = "Officials met on Thursday. It rained in February 2023, then for decades."
    found = {d.exact: d for d in date_expressions.find(text, date_expressions.parse_published("2025-11-30"))}
    assert (found["Thursday"].value, found["Thursday"].derived, found["Thursday"].method) == \
        ("2025-11-27", True, "WeekdayResolved")
    assert (found["February 2023"].value, found["February 2023"].derived) == ("2023-02", False)
    assert found["for decades"].value is None and "unresolved" in found["for decades"].explanation


@pytest.mark.parametrize(("words", "exact"), [
    ("The talks were held last week.", "last week"),                   # a week: no XSD type holds one
    ("idle for more than three decades.", "more than three decades"),   # how long, not when
])
def test_a_week_or_a_stretch_of_time_is_left_unresolved(words: str, exact: str) -> None:
    (found,) = date_expressions.find(words, date_expressions.parse_published("2025-12-01"))
    assert (found.exact, found.value, found.datatype) == (exact, None, None)
    assert "unresolved" in found.explanation


@pytest.mark.parametrize(("sentence", "exact", "value", "datatype"), [
    ("The line was upgraded two years ago.", "two years ago", "2023", "gYear"),
    ("A decade ago, nobody spoke of it.", "A decade ago", "2015", "gYear"),
    ("They met three months ago in Tianjin.", "three months ago", "2025-08", "gYearMonth"),
    ("The envoys spoke ten days ago.", "ten days ago", "2025-11-20", "date"),
    ("A third round is due in two weeks.", "in two weeks", "2025-12-14", "date"),
    ("Trains may run in two years.", "in two years", "2027", "gYear"),
    ("They met last month.", "last month", "2025-10", "gYearMonth"),
])
def test_a_count_back_or_ahead_is_resolved_at_its_precision_and_the_check_agrees(
        sentence: str, exact: str, value: str, datatype: str) -> None:
    published = date_expressions.parse_published("2025-11-30")
    (found,) = date_expressions.find(sentence, published)
    assert (found.exact, found.value, found.datatype, found.derived, found.method) == \
        (exact, value, str(XSD) + datatype, True, "CountedFromPublicationDate")
    # what `kg evidence --check` recomputes from the words and the publication day
    assert dates.derived_value(str(KGO) + found.method, found.exact, published) == value


@pytest.mark.parametrize(("sentence", "exact", "why"), [
    ("A year earlier, talks had stalled.", "A year earlier", "counted from another time"),
    ("Two days after the quake, trucks crossed.", "Two days after", "counted from another time"),
    ("It closed a few years ago.", "a few years ago", "not an exact count"),
    ("It reopened about two years ago.", "about two years ago", "not an exact count"),
    ("They meet next week.", "next week", "no XSD date type holds a week"),
])
def test_a_count_that_cannot_be_resolved_honestly_says_why(sentence: str, exact: str, why: str) -> None:
    (found,) = date_expressions.find(sentence, date_expressions.parse_published("2025-11-30"))
    assert (found.exact, found.value, found.datatype, found.method) == (exact, None, None, None)
    assert why in found.explanation and "unresolved" in found.explanation


def proposed(built: BuildResult, fixture: str, published: str) -> tuple[rdflib.Graph, str]:
    """`kg propose`'s suggestions graph for a fixture, read back from its TriG, and the fixture's text."""
    text_path = FIXTURES / fixture
    result = CliRunner().invoke(main, ["propose", str(text_path), "--published", published,
                                       "--article-iri", "kg:article-new", "--store", str(built.store_path)])
    assert result.exit_code == 0, result.output
    ds = rdflib.Dataset()
    ds.parse(data=result.output, format="trig")
    return ds.graph(rdflib.URIRef(ns.GRAPH + "suggestions")), text_path.read_text(encoding="utf-8")


def test_kg_propose_prints_trig_with_selectors_and_typed_dates(built: BuildResult) -> None:
    g, text = proposed(built, "second-report.txt", "2025-11-30")
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


@pytest.mark.parametrize(("sentence", "types"), [
    ("Borders have been closed since 1993.", ["BorderClosure"]),
    ("The railway has been closed since 1993.", []),                  # a closure, but not of a border
    ("Relations began to thaw after the war.", ["RelationsThaw"]),
    ("Both have expressed determination to pursue normalization.", ["Declaration"]),
    ("Aid trucks drove through the crossing.", ["HumanitarianTransit"]),
    ("Armenia has upgraded the crossing.", ["InfrastructureUpgrade"]),
    ("The two leaders have met twice.", ["LeadersMeeting"]),
    ("The talks follow several meetings.", ["Talks", "Meeting"]),
])
def test_events_are_typed_by_the_words_that_report_them(sentence: str, types: list[str]) -> None:
    assert [c.type for c in events.find(sentence, [], []) if c.kind == "event"] == types


def test_kg_propose_keeps_every_event_of_a_sentence(built: BuildResult) -> None:
    """'The talks follow several meetings …': talks and a leaders' meeting, two suggestions, not one node."""
    g, text = proposed(built, "third-report.txt", "2025-12-01")
    (sentence,) = printings(text, "The talks follow several meetings between Prime Minister Nikol Pashinian and "
                                  "President Recep Tayyip Erdogan.")
    span = rdflib.URIRef(quote_iri(ns.ID + "article-new", sentence))
    found = [s for s in g.subjects(KGW.span, span) if (s, rdflib.RDF.type, KGW.Event) in g]
    assert sorted(str(g.value(e, KGW.suggestedType)).rsplit("#", 1)[-1] for e in found) == ["LeadersMeeting", "Talks"]


def test_kg_propose_refuses_a_time_without_zone(built: BuildResult) -> None:
    result = CliRunner().invoke(main, ["propose", str(FIXTURES / "second-report.txt"), "--published",
                                       "2025-11-30T10:00", "--store", str(built.store_path)])
    assert result.exit_code == 2 and "has no zone" in result.output
