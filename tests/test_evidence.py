"""Evidence for any text: every printing of a quote, selectors in code points, `kg evidence` and its check."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner

from server import namespaces as ns
from server.cli import main as kg_main
from server.curation import dates
from server.curation.evidence import check_evidence, load_files, printings
from server.errors import QuoteNotFound

from .conftest import ROOT

ARTICLE_TXT = ROOT / "data" / "article.txt"
ARTICLE_TTL = ROOT / "data" / "article.ttl"
TEXT = ARTICLE_TXT.read_text(encoding="utf-8")
SEED = ns.ID + "article-kars-gyumri-second-round"


def test_every_printing_is_found_with_its_context() -> None:
    found = printings(TEXT, "November 29, 2025 11:18 AM GMT+03:00")
    assert [(p.start, p.end) for p in found] == [(458, 494), (3245, 3281)]   # the dateline, printed twice
    assert found[0].prefix == TEXT[458 - 32:458] and found[1].suffix == "\nMore From Türkiye Today"
    first = printings(TEXT, "Close")[0]
    assert (first.start, first.prefix) == (0, "")


def test_offsets_count_code_points_not_bytes_or_utf16_units() -> None:
    text = "𝔸 Türkiye – Gümrü said"   # a character outside the BMP, two non-ASCII letters, an en dash
    (p,) = printings(text, "Gümrü")
    assert (p.start, p.end) == (12, 17) and text[p.start:p.end] == "Gümrü"
    assert len(text.encode("utf-16-le")) // 2 > len(text)   # UTF-16 would have counted differently


def test_a_quote_not_in_the_text_is_refused_with_a_hint() -> None:
    with pytest.raises(QuoteNotFound) as err:
        printings(TEXT, "Kars-Gyumri railway")   # a hyphen where the text has an en dash
    assert "dashes" in err.value.message and err.value.status == 400
    with pytest.raises(QuoteNotFound) as err:
        printings(TEXT, "not in the article")
    assert "dashes" not in err.value.message
    with pytest.raises(QuoteNotFound):
        printings(TEXT, "")


@pytest.mark.parametrize("words, published, expected", [
    ("Thursday", "2025-11-29", "2025-11-27"),               # the seed article: Saturday -> Thursday before
    ("on Thursday", "2025-11-30", "2025-11-27"),            # the second report: Sunday -> Thursday before
    ("Thursday", "2025-11-27", "2025-11-27"),               # said on the day itself
])
def test_a_weekday_resolves_to_the_latest_such_day(words: str, published: str, expected: str) -> None:
    assert dates.derive("WeekdayResolved", words, dt.date.fromisoformat(published)).isoformat() == expected


@pytest.mark.parametrize("words, published, expected", [
    ("met on Nov. 28", "2025-11-29", "2025-11-28"),
    ("28 November", "2025-11-29", "2025-11-28"),
    ("Dec. 30", "2026-01-02", "2025-12-30"),                # a December day in a January report: the year before
])
def test_a_day_and_month_take_the_publication_year(words: str, published: str, expected: str) -> None:
    assert dates.derive(dates.YEAR_FROM_PUBLICATION, words, dt.date.fromisoformat(published)).isoformat() == expected


@pytest.mark.parametrize("words, published, value, datatype", [
    ("two years ago", "2025-11-30", "2023", "gYear"),            # years back: the year
    ("a decade ago", "2025-11-30", "2015", "gYear"),
    ("in two years", "2025-11-30", "2027", "gYear"),
    ("three months ago", "2025-11-30", "2025-08", "gYearMonth"),  # months back: the month
    ("eleven months ago", "2025-11-30", "2024-12", "gYearMonth"),  # across a year's end
    ("in a month", "2025-12-15", "2026-01", "gYearMonth"),
    ("ten days ago", "2025-11-30", "2025-11-20", "date"),         # days back: the day
    ("in two weeks", "2025-11-30", "2025-12-14", "date"),
    ("last month", "2025-12-01", "2025-11", "gYearMonth"),        # one unit, said in words
    ("this year", "2025-12-01", "2025", "gYear"),
    ("yesterday", "2026-01-01", "2025-12-31", "date"),
])
def test_a_count_from_publication_keeps_the_precision_of_its_unit(words: str, published: str, value: str,
                                                                   datatype: str) -> None:
    counted = dates.count_from_publication(words, dt.date.fromisoformat(published))
    assert (counted.value, counted.datatype) == (value, "http://www.w3.org/2001/XMLSchema#" + datatype)
    assert dates.derived_value(ns.KGO + "CountedFromPublicationDate", words, dt.date.fromisoformat(published)) == value


@pytest.mark.parametrize("words, reason", [
    ("last week", "no XSD date type holds a week"),
    ("a few years ago", "not an exact count"),
    ("about two years ago", "not an exact count"),
    ("a year earlier", "does not count"),
])
def test_a_count_that_gives_no_value_is_refused(words: str, reason: str) -> None:
    with pytest.raises(dates.UnresolvableDate, match=reason):
        dates.count_from_publication(words, dt.date(2025, 11, 30))


def test_the_check_recomputes_a_count_from_publication() -> None:
    """A value derived from "two years ago" is checked against the method: the year is right, a day is not."""
    def findings(value: str) -> list[str]:
        store = ox.Store()
        store.load(_derived_report("two years ago", value).encode(), ox.RdfFormat.TURTLE,
                   to_graph=ox.NamedNode("urn:x:g"))
        return [f.message for f in check_evidence(store).findings if f.kind == "error"]
    assert findings('"2023"^^xsd:gYear') == []
    (error,) = findings('"2023-11-30"^^xsd:date')
    assert "CountedFromPublicationDate gives 2023 from 'two years ago'" in error


def _derived_report(words: str, value: str) -> str:
    """A report published 2025-11-30 that says `words`, with the value derived from them and its records."""
    text = f"The line closed {words}."
    start, end = text.index(words), text.index(words) + len(words)
    return f"""@prefix kgo: <{ns.KGO}> . @prefix oa: <http://www.w3.org/ns/oa#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix prov: <http://www.w3.org/ns/prov#> . @prefix schema: <https://schema.org/> .
<urn:x:a> a kgo:NewsArticle ; kgo:fullText {json.dumps(text)} ; schema:datePublished "2025-11-30"^^xsd:date .
<urn:x:q> a kgo:EvidenceQuote ; oa:hasSource <urn:x:a> ; oa:hasSelector <urn:x:s> , <urn:x:p> .
<urn:x:s> a oa:TextQuoteSelector ; oa:exact {json.dumps(words)} .
<urn:x:p> a oa:TextPositionSelector ; oa:start {start} ; oa:end {end} .
<urn:x:line> kgo:dateAsWritten {json.dumps(words)} ; kgo:endDate {value} .
<urn:x:published> a kgo:SourcedStatement ; kgo:statedIn <urn:x:a> ; kgo:evidence <urn:x:q> ;
    rdf:subject <urn:x:a> ; rdf:predicate schema:datePublished ; rdf:object "2025-11-30"^^xsd:date .
<urn:x:written> a kgo:SourcedStatement ; kgo:statedIn <urn:x:a> ; kgo:evidence <urn:x:q> ;
    rdf:subject <urn:x:line> ; rdf:predicate kgo:dateAsWritten ; rdf:object {json.dumps(words)} .
<urn:x:derived> a kgo:SourcedStatement ; kgo:statedIn <urn:x:a> ; kgo:evidence <urn:x:q> ;
    rdf:subject <urn:x:line> ; rdf:predicate kgo:endDate ; rdf:object {value} ;
    kgo:derivation kgo:CountedFromPublicationDate ; prov:wasDerivedFrom <urn:x:written> , <urn:x:published> ."""


def test_words_that_name_no_weekday_are_not_resolved() -> None:
    with pytest.raises(dates.UnresolvableDate):
        dates.resolve_weekday("later", dt.date(2025, 11, 29))


# -- the seed article ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed() -> ox.Store:
    store, _texts = load_files([ARTICLE_TTL])
    return store


def test_the_seed_article_passes_the_check(seed: ox.Store) -> None:
    result = check_evidence(seed)
    assert result.findings == []
    assert (result.quotes, result.statements) == (141, 237)


def test_every_printing_of_a_repeated_passage_is_evidence_of_the_same_node(seed: ox.Store) -> None:
    def starts(node: str) -> list[int]:
        return sorted(int(r["s"].value) for r in seed.query(  # type: ignore[union-attr]
            f"SELECT ?s WHERE {{ <{ns.ID}{node}> <{ns.KGO}evidence>/<http://www.w3.org/ns/oa#hasSelector>/"
            f"<http://www.w3.org/ns/oa#start> ?s }}", use_default_graph_as_union=True))
    assert starts("photo-tianjin-2025-09-01") == [129, 301]                  # caption, printed twice
    assert starts("photo-new-york-2024-09-24") == [917, 1141]
    assert starts("photo-istanbul-2025-06-20") == [2063, 2251]
    assert starts("article-kars-gyumri-second-round") == [51, 458, 3245]     # headline, dateline twice
    assert starts("status-turkiye-armenia-border-closed") == [2440, 2600]    # subheading, then the sentence


def test_the_check_finds_shifted_selectors_missing_quotes_and_wrong_derivations(seed: ox.Store) -> None:
    broken = ox.Store()
    broken.extend(seed)
    g = next(iter(seed.named_graphs()))
    n = ox.NamedNode
    start = n(f"{SEED}/quote/458-494-position")
    broken.remove(ox.Quad(start, n("http://www.w3.org/ns/oa#start"), next(
        q.object for q in seed.quads_for_pattern(start, n("http://www.w3.org/ns/oa#start"), None, None)), g))
    broken.add(ox.Quad(start, n("http://www.w3.org/ns/oa#start"), ox.Literal("457", datatype=n(
        "http://www.w3.org/2001/XMLSchema#integer")), g))
    # a value without its record, and a derived day its method does not give
    broken.add(ox.Quad(n(ns.ID + "gyumri"), n(ns.KGO + "statusAsWritten"), ox.Literal("second city"), g))
    record = next(q.subject for q in seed.quads_for_pattern(None, n(ns.KGO + "derivation"),
                                                             n(ns.KGO + "WeekdayResolved"), None))
    day = next(q for q in seed.quads_for_pattern(record, n("http://www.w3.org/1999/02/22-rdf-syntax-ns#object"),
                                                 None, None))
    broken.remove(day)
    broken.add(ox.Quad(record, day.predicate, ox.Literal("2025-11-26", datatype=n(
        "http://www.w3.org/2001/XMLSchema#date")), g))
    result = check_evidence(broken)
    messages = {(f.kind, f.subject): f.message for f in result.findings}
    assert "is not the text at 457–494" in messages[("error", f"{SEED}/quote/458-494")]
    assert "gives 2025-11-27" in messages[("error", record.value)]
    assert "no quote says its kgo:statusAsWritten" in messages[("note", ns.ID + "gyumri")]


def test_a_node_citing_one_printing_of_two_gets_a_note() -> None:
    text = "Caption A.\nBody.\nCaption A.\n"
    facts = f"""@prefix kgo: <{ns.KGO}> . @prefix oa: <http://www.w3.org/ns/oa#> .
<urn:x:a> a kgo:NewsArticle ; kgo:fullText {json.dumps(text)} .
<urn:x:photo> kgo:evidence <urn:x:q> .
<urn:x:q> a kgo:EvidenceQuote ; oa:hasSource <urn:x:a> ; oa:hasSelector <urn:x:s> , <urn:x:p> .
<urn:x:s> a oa:TextQuoteSelector ; oa:exact "Caption A." .
<urn:x:p> a oa:TextPositionSelector ; oa:start 0 ; oa:end 10 ."""
    store = ox.Store()
    store.load(facts.encode(), ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("urn:x:g"))
    (note,) = check_evidence(store).notes
    assert note.subject == "urn:x:photo" and "printed 2 times" in note.message and "[17]" in note.message


# -- the command line ----------------------------------------------------------------------------------

def kg(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(kg_main, ["evidence", *args])
    return result.exit_code, result.output


def test_kg_evidence_says_how_often_the_words_are_printed() -> None:
    code, out = kg("Borders have been closed since 1993", "--text", str(ARTICLE_TXT))
    assert code == 0 and "printed 2 times: cite every printing" in out
    assert "2440-2475" in out and "2600-2635" in out
    code, out = kg("met on Nov. 28", "--text", str(ARTICLE_TXT), "--format", "json")
    assert code == 0
    assert json.loads(out)["selectors"] == [{"exact": "met on Nov. 28", "prefix": "es of the relevant institutions ",
                                             "suffix": " at the Akyaka–Akhurik border cr", "start": 821, "end": 835}]


def test_kg_evidence_writes_quote_nodes_and_a_statement_record() -> None:
    code, out = kg("met on Nov. 28", "--text", str(ARTICLE_TXT), "--article", "kg:article-kars-gyumri-second-round",
                   "--format", "turtle", "--statement", 'kg:second-round-technical-talks kgo:date "2025-11-28"^^xsd:date',
                   "--through-claim", "kg:claim-ministry-meeting-places")
    assert code == 0, out
    g = rdflib.Graph().parse(data=out, format="turtle")
    seed = rdflib.Graph().parse(ARTICLE_TTL)
    assert len(g - seed) == 0, "the same quote node and record as data/article.ttl holds"
    assert (None, rdflib.RDF.type, rdflib.URIRef(ns.KGO + "SourcedStatement")) in g


def test_kg_evidence_refuses_words_not_in_the_text() -> None:
    code, out = kg("Nov 28", "--text", str(ARTICLE_TXT))
    assert code == 2 and "not in the source text" in out


def test_kg_evidence_finds_words_in_a_stored_source(store_link: Path) -> None:
    code, out = kg("Türkiye said Thursday", "--source", "kars-gyumri-second-round", "--store", str(store_link))
    assert code == 0 and f"printed once in <{SEED}>" in out and "496-517" in out
    code, out = kg("Türkiye said Thursday", "--source", "no-such-source", "--store", str(store_link))
    assert code == 2 and "no stored source text" in out


def test_kg_evidence_check_of_files_and_of_the_store(store_link: Path, tmp_path: Path) -> None:
    assert kg("--check", str(ARTICLE_TTL))[0] == 0
    fixtures = ROOT / "tests" / "fixtures"
    code, out = kg("--check", str(fixtures / "second-report.ttl"), "--text", str(fixtures / "second-report.txt"))
    assert code == 0 and out.strip().endswith("0 errors, 0 notes")
    code, out = kg("--check", "--store", str(store_link))
    assert code == 0 and "237 statement records" in out
    bad = tmp_path / "article.ttl"
    bad.write_text(ARTICLE_TTL.read_text(encoding="utf-8").replace(
        'oa:exact "met on Nov. 28"', 'oa:exact "met on Nov. 29"'), encoding="utf-8")
    code, out = kg("--check", str(bad))
    assert code == 1 and "'met on Nov. 29' is not the text at 821–835" in out


def test_kg_evidence_reads_a_remote_store(remote_oxigraph: Any) -> None:
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in remote_oxigraph.settings.items()]
    code, out = kg("--check", *flags)
    assert code == 0 and out.strip().endswith("141 quotes, 237 statement records: 0 errors, 0 notes")
    code, out = kg("met on Nov. 28", "--source", "kars-gyumri-second-round", *flags)
    assert code == 0 and "821-835" in out
