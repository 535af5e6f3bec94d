"""Many reports, one story: a second report of the talks, added as a curator adds one, next to the seed.

The second report (tests/fixtures/second-report.*) dates the talks "on Thursday" (27 November,
resolved against its publication day) where the seed article has the Foreign Ministry's
"Nov. 28"; it spells "Turkey" and "Akhurik–Akyaka", names Gyumri in Turkish too, and relays the
Armenian Foreign Ministry through Armenian state media.
"""
from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable

import pytest
import rdflib
from click.testing import CliRunner
from flask import Flask

from server import namespaces as ns
from server.build.pipeline import BuildResult
from server.cli import main as kg_main

from .conftest import (ROOT, SECOND_REPORT_SLUG, WRITE_TOKEN, TwoSources, copy_store, dump_lines,
                       second_report_form)

TALKS = ns.ID + "second-round-technical-talks"
SEED = ns.G_ARTICLE
SECOND = ns.G_SOURCES + SECOND_REPORT_SLUG
AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
PFX = (f"PREFIX kgo: <{ns.KGO}> PREFIX kg: <{ns.ID}> PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> "
       f"PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "
       f"PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX schema: <https://schema.org/> ")


@pytest.fixture(scope="module")
def sapp(make_app: Callable[..., Flask], two_sources: TwoSources) -> Flask:
    return make_app(store=str(two_sources.store))


def select(app: Flask, query: str) -> list[dict[str, str]]:
    resp = app.test_client().post("/sparql", data={"query": PFX + query},
                                  headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [{k: v["value"] for k, v in b.items()} for b in resp.json["results"]["bindings"]]


# -- loading and validating ----------------------------------------------------------------------------

def test_the_second_report_loads_through_the_write_path_and_validates(two_sources: TwoSources) -> None:
    added = two_sources.added
    # passed: no Violation (SHACL's conforms is false, as with any result: the seed's Warning, this Info)
    assert added["passed"] is True and added["conforms"] is False and added["counts"]["Violation"] == 0
    infos = [r for r in added["results"] if r["severity"] == "Info"]
    assert [(r["focus"], r["path"], r["shape"]) for r in infos] == [
        (TALKS, ns.KGO + "date", ns.SHAPES + "SourcesDisagreeShape")]
    assert "2025-11-27" in infos[0]["message"] and "2025-11-28" in infos[0]["message"]


def test_the_disagreement_is_an_info_of_the_served_graph(sapp: Flask) -> None:
    report = sapp.test_client().get("/validate", headers={"Accept": "application/json"}).json
    assert report["passed"] is True
    disagreements = [r for r in report["results"] if r["shape"] == ns.SHAPES + "SourcesDisagreeShape"]
    assert [(r["severity"], r["focus"], r["value"]) for r in disagreements] == [("Info", TALKS, "2025-11-27")]


def test_kg_evidence_check_passes_on_both_sources(two_sources: TwoSources) -> None:
    result = CliRunner().invoke(kg_main, ["evidence", "--check", "--store", str(two_sources.store)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("0 errors, 0 notes")
    assert "280 statement records" in result.output   # 237 of the seed article, 43 of the second report


def test_kg_add_source_takes_the_second_report_too(built: BuildResult, tmp_path: Path) -> None:
    store = copy_store(built, tmp_path)
    text, facts = (ROOT / "tests" / "fixtures" / n for n in ("second-report.txt", "second-report.ttl"))
    result = CliRunner().invoke(kg_main, ["add-source", str(text), str(facts), "--slug", SECOND_REPORT_SLUG,
                                          "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "1 Info" in result.output
    assert any(f"<{SECOND}>" in line for line in dump_lines(store))


# -- per-source answers ----------------------------------------------------------------------------------

def test_each_source_keeps_its_own_date_and_wording(sapp: Flask) -> None:
    rows = select(sapp, f"SELECT ?g ?date ?written WHERE {{ GRAPH ?g {{ <{TALKS}> kgo:date ?date ; "
                       f"kgo:dateAsWritten ?written }} }}")
    assert sorted((r["g"], r["date"], r["written"]) for r in rows) == [
        (SECOND, "2025-11-27", "Thursday"), (SEED, "2025-11-28", "Nov. 28")]


def test_the_same_value_from_two_sources_is_one_fact_with_two_sources(sapp: Flask) -> None:
    gyumri = ns.ID + "gyumri"
    # DISTINCT: Oxigraph 0.5 answers a triple that two graphs hold twice from the union default graph
    union = select(sapp, f"SELECT DISTINCT ?o WHERE {{ <{TALKS}> kgo:location ?o }}")
    assert sorted(r["o"] for r in union) == [ns.ID + "akyaka-akhurik-border-crossing", gyumri]
    graphs = select(sapp, f"SELECT ?g WHERE {{ GRAPH ?g {{ <{TALKS}> kgo:location <{gyumri}> }} }}")
    assert sorted(r["g"] for r in graphs) == [SECOND, SEED]
    records = select(sapp, f"SELECT ?g ?source WHERE {{ GRAPH ?g {{ ?st rdf:subject <{TALKS}> ; "
                          f"rdf:predicate kgo:location ; rdf:object <{gyumri}> ; kgo:statedIn ?source }} }}")
    assert sorted((r["g"], r["source"]) for r in records) == [
        (SECOND, ns.ID + "article-" + SECOND_REPORT_SLUG), (SEED, ns.ID + "article-kars-gyumri-second-round")]


def test_names_count_per_source_and_language(sapp: Flask) -> None:
    rows = select(sapp, "SELECT ?g ?l WHERE { GRAPH ?g { kg:turkiye rdfs:label ?l } }")
    assert sorted((r["g"], r["l"]) for r in rows) == [(SECOND, "Turkey"), (SEED, "Türkiye")]
    rows = select(sapp, f"SELECT ?l (LANG(?l) AS ?lang) WHERE {{ GRAPH <{SECOND}> {{ kg:gyumri rdfs:label ?l }} }}")
    assert sorted((r["l"], r["lang"]) for r in rows) == [("Gyumri", "en"), ("Gümrü", "tr")]


def test_derived_days_keep_the_words_they_come_from(sapp: Flask) -> None:
    rows = select(sapp, f"""SELECT ?g ?date ?method ?words ?published WHERE {{ GRAPH ?g {{
        ?st rdf:subject <{TALKS}> ; rdf:predicate kgo:date ; rdf:object ?date ; kgo:derivation ?method ;
            prov:wasDerivedFrom ?w , ?p .
        ?w rdf:predicate kgo:dateAsWritten ; rdf:object ?words .
        ?p rdf:predicate schema:datePublished ; rdf:object ?published }} }}""")
    assert sorted((r["g"], r["date"], r["method"], r["words"], r["published"]) for r in rows) == [
        (SECOND, "2025-11-27", ns.KGO + "WeekdayResolved", "Thursday", "2025-11-30"),
        (SEED, "2025-11-28", ns.KGO + "YearFromPublicationDate", "Nov. 28", "2025-11-29T11:18:00+03:00")]


def test_a_relayed_claim_keeps_its_chain(sapp: Flask) -> None:
    rows = select(sapp, """SELECT ?phrase ?via ?citing ?origin WHERE {
        kg:claim-crm-second-round-held kgo:reportingVerbAsWritten ?phrase ; kgo:cites ?r1 .
        ?r1 prov:wasAttributedTo ?a1 ; kgo:reportingVerbAsWritten ?citing ; kgo:cites ?r2 .
        ?r2 prov:wasAttributedTo ?a2 . ?a1 rdfs:label ?via . ?a2 rdfs:label ?origin }""")
    assert rows == [{"phrase": "according to", "via": "Armenian state media", "citing": "citing",
                     "origin": "Armenian Foreign Ministry"}]


def test_the_disagreement_query_of_the_docs_lists_the_date(sapp: Flask) -> None:
    query = (ROOT / "tests" / "competency" / "sources" / "02-disagreements.rq").read_text(encoding="utf-8")
    rows = select(sapp, query)
    assert [(r["subject"], r["property"], r["valueA"], r["valueB"]) for r in rows] == [
        (TALKS, ns.KGO + "date", "2025-11-27", "2025-11-28")]


# -- what the shapes refuse, per source ----------------------------------------------------------------

@pytest.fixture(scope="module")
def writer(make_app: Callable[..., Flask], two_sources: TwoSources,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Path]]:
    """An app that may write, over its own copy of the two-source store."""
    folder = tmp_path_factory.mktemp("two-sources-writes")
    target = folder / "store.builds" / two_sources.store.resolve().name
    shutil.copytree(two_sources.store.resolve(), target)
    link = folder / "store"
    link.symlink_to(target.relative_to(folder))
    yield make_app(store=str(link), write_token=WRITE_TOKEN), link


def update(app: Flask, text: str) -> Any:
    return app.test_client().post("/sparql", data={"update": PFX + text}, headers={**AUTH, "Accept": "application/json"})


@pytest.mark.parametrize("triple, shape", [
    (f'<{TALKS}> kgo:date "2025-11-26"^^xsd:date', "OneValuePerSourceShape"),
    (f'<{TALKS}> kgo:dateAsWritten "on Wednesday"', "OneValuePerSourceShape"),
    ('kg:turkiye rdfs:label "Republic of Türkiye"@en', "OneLabelPerLanguageShape"),
])
def test_two_values_in_one_source_are_a_violation(writer: tuple[Flask, Path], triple: str, shape: str) -> None:
    app, link = writer
    before = dump_lines(link)
    resp = update(app, f"INSERT DATA {{ GRAPH <{SECOND}> {{ {triple} }} }}")
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert any(r["shape"] == ns.SHAPES + shape and r["severity"] == "Violation" for r in resp.json["results"])
    assert dump_lines(link) == before


def test_another_source_may_give_another_value(writer: tuple[Flask, Path]) -> None:
    """The same kind of value, in a third graph: kept, and reported as a disagreement (an Info)."""
    app, _link = writer
    resp = update(app, f'INSERT DATA {{ GRAPH <{ns.GRAPH}curated> {{ <{TALKS}> kgo:roundNumber 3 }} }}')
    assert resp.status_code == 200, resp.get_data(as_text=True)
    infos = [r for r in resp.json["results"] if r["severity"] == "Info" and r["path"] == ns.KGO + "roundNumber"]
    assert len(infos) == 2 and {r["value"] for r in infos} <= {"2", "3"}


def test_a_record_about_a_triple_its_graph_does_not_state_is_a_violation(writer: tuple[Flask, Path]) -> None:
    app, link = writer
    before = dump_lines(link)
    resp = update(app, f"DELETE DATA {{ GRAPH <{SECOND}> {{ <{TALKS}> kgo:concerns kg:kars-gyumri-railway }} }}")
    assert resp.status_code == 422
    assert any(r["shape"] == ns.SHAPES + "StatementAssertedShape" for r in resp.json["results"])
    assert dump_lines(link) == before


def test_a_source_that_prints_only_the_day_is_accepted_and_a_year_is_not(writer: tuple[Flask, Path]) -> None:
    app, _link = writer
    facts = (ROOT / "tests" / "fixtures" / "second-report.ttl").read_bytes().replace(
        b'schema:datePublished "2025-11-30"^^xsd:date', b'schema:datePublished "2025"^^xsd:gYear')
    form = second_report_form("year-only")
    form["facts"] = (io.BytesIO(facts), "second-report.ttl", "text/turtle")
    resp = app.test_client().post("/sources", data=form, headers={**AUTH, "Accept": "application/json"})
    assert resp.status_code == 422
    assert any(r["shape"] == ns.SHAPES + "Article-datePublished" for r in resp.json["results"])


# -- the talks page: who says what --------------------------------------------------------------------------

class Tree(HTMLParser):
    """A small element tree of a page: enough to read a table and the links of a section."""

    VOID = {"br", "img", "link", "meta", "input", "hr", "circle", "line"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.root: dict[str, Any] = {"tag": "root", "attrs": {}, "children": [], "text": ""}
        self.stack = [self.root]
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = {"tag": tag, "attrs": dict(attrs), "children": [], "text": ""}
        self.stack[-1]["children"].append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i]["tag"] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1]["children"].append(data)


def find_all(node: dict[str, Any], tag: str, **attrs: str) -> list[dict[str, Any]]:
    out = []
    for child in node["children"]:
        if isinstance(child, dict):
            if child["tag"] == tag and all(attrs[k] in (child["attrs"].get(k) or "").split() for k in attrs):
                out.append(child)
            out += find_all(child, tag, **attrs)
    return out


def text(node: dict[str, Any] | str) -> str:
    """The text of an element, its runs of white space made one space."""
    def raw(n: dict[str, Any] | str) -> str:
        return n if isinstance(n, str) else "".join(raw(c) for c in n["children"])
    return " ".join(raw(node).split())


@pytest.fixture(scope="module")
def talks_page(sapp: Flask) -> dict[str, Any]:
    resp = sapp.test_client().get("/doc/second-round-technical-talks", headers={"Accept": "text/html"})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    return Tree(resp.get_data(as_text=True)).root


def comparison_rows(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (table,) = find_all(page, "table", **{"class": "compare"})
    header = [text(th) for th in find_all(find_all(table, "thead")[0], "th")]
    rows = {}
    for tr in find_all(find_all(table, "tbody")[0], "tr"):
        label = text(find_all(tr, "th")[0])
        cells = find_all(tr, "td")
        rows[label] = {"class": tr["attrs"].get("class"), "cells": dict(zip(header[1:-1], cells[:-1])),
                       "status": text(cells[-1])}
    return rows


def test_the_talks_page_says_per_property_what_each_source_says(talks_page: dict[str, Any]) -> None:
    (table,) = find_all(talks_page, "table", **{"class": "compare"})
    header = [text(th) for th in find_all(find_all(table, "thead")[0], "th")]
    assert header == ["Property", "Türkiye Today, 29 November 2025", "Caucasus Rail Monitor, 30 November 2025",
                      "Sources"]
    rows = comparison_rows(talks_page)
    date = rows["date"]
    assert date["status"] == "disagree" and date["class"] == "disagree"
    seed, second = date["cells"]["Türkiye Today, 29 November 2025"], date["cells"]["Caucasus Rail Monitor, 30 November 2025"]
    assert text(seed).startswith("28 November 2025") and text(second).startswith("27 November 2025")
    # each value with its words, highlighted in its sentence, and how the day was derived from them
    assert [text(m) for m in find_all(seed, "mark")] == ["met on Nov. 28"]
    assert [text(m) for m in find_all(second, "mark")] == ["held a second round of technical talks on Thursday"]
    assert "derived: year supplied from the publication date" in text(seed)
    assert "derived: weekday resolved to a date" in text(second)
    assert "according to Foreign Ministry of Türkiye" in text(seed)
    assert "according to Armenian state media, citing Armenian Foreign Ministry" in text(second)
    assert rows["location"]["status"] == "agree" and rows["round number"]["status"] == "agree"
    assert rows["date as written"]["status"] == "differ"
    assert rows["within framework"]["status"] == "one source"
    assert text(rows["within framework"]["cells"]["Caucasus Rail Monitor, 30 November 2025"]) == "not stated"
    disagreement = find_all(talks_page, "p", **{"class": "disagreement"})
    assert [text(p) for p in disagreement] == ["The sources disagree on: date."]


def test_the_thursday_of_the_seed_article_is_when_turkiye_spoke(talks_page: dict[str, Any]) -> None:
    """The seed's "Türkiye said Thursday" dates a statement, not the talks: it is in the statements row."""
    rows = comparison_rows(talks_page)
    assert "Thursday" not in text(rows["date"]["cells"]["Türkiye Today, 29 November 2025"]).replace(
        "Türkiye said Thursday", "")
    statements = text(rows["statements reported"]["cells"]["Türkiye Today, 29 November 2025"])
    assert "according to Türkiye; said “Thursday”, that is 27 November 2025" in statements


def test_every_quote_and_value_on_the_page_names_its_source(talks_page: dict[str, Any]) -> None:
    groups = find_all(talks_page, "section", **{"class": "source-quotes"})
    assert [text(find_all(g, "h3")[0]) for g in groups] == ["Türkiye Today, 29 November 2025",
                                                            "Caucasus Rail Monitor, 30 November 2025"]
    (facts,) = [dl for dl in find_all(talks_page, "dl", **{"class": "facts"})][:1]
    values = [li for li in find_all(facts, "li") if find_all(li, "a")]
    assert values
    for li in values:
        by = find_all(li, "span", **{"class": "by"})
        assert by and find_all(by[0], "cite"), text(li)[:80]
    for said in find_all(facts, "div", **{"class": "said"}):
        assert find_all(said, "blockquote") and find_all(find_all(said, "p", **{"class": "attribution"})[0], "cite")


def test_the_foreign_ministry_is_never_a_bare_label(sapp: Flask, talks_page: dict[str, Any]) -> None:
    """Beside the second report's Armenian Foreign Ministry, the seed's "Foreign Ministry" shows its country."""
    said = [text(p) for p in find_all(talks_page, "p", **{"class": "attribution"})]
    assert any("according to Foreign Ministry of Türkiye" in t for t in said)
    assert any("citing Armenian Foreign Ministry" in t for t in said)
    assert not any(t.endswith("according to Foreign Ministry") or "according to Foreign Ministry;" in t for t in said)
    client = sapp.test_client()
    for path in ("/doc/turkish-foreign-ministry", "/doc/claim-ministry-framework"):
        page = Tree(client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)).root
        labels = [text(a) for a in find_all(page, "a") if a["attrs"].get("href") == "/doc/turkish-foreign-ministry"]
        assert "Foreign Ministry" not in labels + [text(h) for h in find_all(page, "h1")], path
        assert "Foreign Ministry of Türkiye" in labels + [text(h) for h in find_all(page, "h1")], path


def test_the_seed_alone_still_shows_its_words_and_source(client: Any) -> None:
    """One source: no table to compare; each value names it and folds its words under it."""
    html = client.get("/doc/second-round-technical-talks", headers={"Accept": "text/html"}).get_data(as_text=True)
    page = Tree(html).root
    assert find_all(page, "table", **{"class": "compare"}) == []
    facts = find_all(page, "dl", **{"class": "facts"})[0]
    terms = find_all(facts, "dt")
    (date,) = [dd for dt, dd in zip(terms, find_all(facts, "dd")) if dt["attrs"]["title"] == ns.KGO + "date"]
    assert text(find_all(date, "span", **{"class": "by"})[0]) == "— Türkiye Today, 29 November 2025"
    assert [text(m) for m in find_all(date, "mark")] == ["met on Nov. 28"]


def test_the_ontology_lists_the_properties_the_shapes_compare() -> None:
    """kgs:SourcesDisagreeShape names the kgo:SingleValuedProperty list of the ontology, property for property."""
    ontology = rdflib.Graph().parse(ROOT / "ontology" / "kg.ttl")
    declared = {str(p) for p in ontology.subjects(rdflib.RDF.type, rdflib.URIRef(ns.KGO + "SingleValuedProperty"))}
    shapes = rdflib.Graph().parse(ROOT / "shapes" / "shapes.ttl")
    shape = rdflib.URIRef(ns.SHAPES + "SourcesDisagreeShape")
    targets = {str(p) for p in shapes.objects(shape, rdflib.SH.targetSubjectsOf)}
    select_text = str(next(shapes.objects(next(shapes.objects(shape, rdflib.SH.sparql)), rdflib.SH.select)))
    listed = set(re.findall(r"kgo:([a-z]\w*)", select_text))
    listed = {ns.KGO + w for w in listed}
    assert declared == targets == listed
    one_per_source = {str(p) for p in shapes.objects(rdflib.URIRef(ns.SHAPES + "OneValuePerSourceShape"),
                                                      rdflib.SH.targetSubjectsOf)}
    assert declared <= one_per_source


def test_the_home_index_lists_both_sources_things_not_their_records(sapp: Flask) -> None:
    page = Tree(sapp.test_client().get("/", headers={"Accept": "text/html"}).get_data(as_text=True)).root
    hrefs = {a["attrs"].get("href") for a in find_all(page, "a")}
    assert {"/doc/armenian-foreign-ministry", "/doc/article-" + SECOND_REPORT_SLUG, "/doc/gyumri"} <= hrefs
    assert not any("/statement/" in (h or "") or "/quote/" in (h or "") for h in hrefs)


def test_statement_records_and_quotes_are_not_listed_as_links(sapp: Flask, talks_page: dict[str, Any]) -> None:
    """They show as each value's sources and words; the article's page does not list its 237 records."""
    article = Tree(sapp.test_client().get("/doc/article-kars-gyumri-second-round", headers={"Accept": "text/html"})
                   .get_data(as_text=True)).root
    for page in (talks_page, article):
        hrefs = [a["attrs"].get("href") or "" for a in find_all(page, "a")]
        assert not [h for h in hrefs if "/statement/" in h or "/quote/" in h]
    border = Tree(sapp.test_client().get("/doc/border-closure", headers={"Accept": "text/html"})
                  .get_data(as_text=True)).root
    assert "/doc/statement-closure-follows-occupation" in {a["attrs"].get("href") for a in find_all(border, "a")}


def test_per_source_shapes_judge_parsed_input_with_rewritten_literals(client: Any) -> None:
    """Regression: data whose literals the store rewrites (an xsd:nonNegativeInteger offset, "01") sent
    the shapes that read them to pySHACL, whose flat copy of the data has no named graphs: the
    per-source shapes failed there (500). They stay on Oxigraph and still count per source."""
    body = f"""@prefix kgo: <{ns.KGO}> . @prefix kg: <{ns.ID}> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
kg:case-talks a kgo:TechnicalTalks ; <http://www.w3.org/2000/01/rdf-schema#label> "talks"@en ;
    kgo:roundNumber "01"^^xsd:integer , 3 ; kgo:date "2025-11-27"^^xsd:date , "2025-11-28"^^xsd:date ;
    kgo:participant kg:delegation-ankara , kg:delegation-yerevan .
kg:case-quote-position <http://www.w3.org/ns/oa#start> "0"^^xsd:nonNegativeInteger ."""
    resp = client.post("/validate?mode=standalone", data=body.encode(),
                       headers={"Content-Type": "text/turtle", "Accept": "application/json"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    per_source = sorted(r["path"] for r in resp.json["results"] if r["shape"] == ns.SHAPES + "OneValuePerSourceShape")
    assert per_source == [ns.KGO + "date", ns.KGO + "roundNumber"]
