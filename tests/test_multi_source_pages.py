"""A third report added as a first-time curator adds one: the report stored by POST /sources with
its article node only, then four facts about the talks (and one about the railway) applied as one
SPARQL Update, each with its quote and statement record in the report's graph -- the records
`kg evidence` and the workbench make. The facts the build gave the seed article are the same
values: the pages must say which source's statement a change added, list the report among the
sources, and compare the sources wherever two state facts of a thing.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pyoxigraph as ox
import pytest
from flask import Flask

from server import namespaces as ns
from server.build.pipeline import BuildResult
from server.curation.evidence import Statement, printings, quote_iri, quote_triples, statement_triples

from .conftest import ROOT, copy_store
from .test_sources import Tree, comparison_rows, find_all, text

TOKEN = "multi-source-pages-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SLUG = "shirak-valley-weekly-2025-12-01"
ARTICLE = ns.ID + "article-" + SLUG
GRAPH = ns.G_SOURCES + SLUG
REPORT = (ROOT / "tests" / "fixtures" / "third-report.txt").read_text(encoding="utf-8")
SEED_COLUMN = "Türkiye Today, 29 November 2025"
NEW_COLUMN = "Shirak Valley Weekly, 1 December 2025"
N = ox.NamedNode
XSD = "http://www.w3.org/2001/XMLSchema#"
# (subject, predicate, object, the words of the report that state it): the seed gives each value too
FACTS = [
    ("second-round-technical-talks", "date", ox.Literal("2025-11-28", datatype=N(XSD + "date")), "met on Nov. 28"),
    ("second-round-technical-talks", "location", N(ns.ID + "gyumri"), "later in Gumri"),
    ("second-round-technical-talks", "location", N(ns.ID + "akyaka-akhurik-border-crossing"),
     "Akyaka-Akhurik border crossing"),
    ("second-round-technical-talks", "concerns", N(ns.ID + "kars-gyumri-railway"),
     "technical talks last week on reopening the Kars-Gyumri railway"),
    ("kars-gyumri-railway", "linksPlace", N(ns.ID + "kars"), "Kars, on the Turkish side"),
]

ARTICLE_NODE = f"""@prefix kgo: <{ns.KGO}> . @prefix schema: <https://schema.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <{XSD}> .
<{ARTICLE}> a kgo:NewsArticle ; rdfs:label "Armenia, Turkey take railway talks to the border and to Gumri"@en ;
    schema:headline "Armenia, Turkey take railway talks to the border and to Gumri"@en ;
    schema:publisher <{ns.ID}publisher-{SLUG}> ; schema:datePublished "2025-12-01"^^xsd:date .
<{ns.ID}publisher-{SLUG}> a kgo:Publisher ; rdfs:label "Shirak Valley Weekly"@en .
"""


def facts_update() -> str:
    """The facts, each with its quote and statement record, as one INSERT DATA into the report's graph."""
    triples: list[ox.Triple] = []
    for subject, prop, obj, words in FACTS:
        (printing,) = printings(REPORT, words)
        triple = ox.Triple(N(ns.ID + subject), N(ns.KGO + prop), obj)
        triples += [triple, *quote_triples(ARTICLE, printing)]
        triples += statement_triples(ARTICLE, Statement(triple.subject, triple.predicate, obj,
                                                        [quote_iri(ARTICLE, printing)]))
    body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    return f"INSERT DATA {{ GRAPH <{GRAPH}> {{\n{body}}} }}"


@pytest.fixture(scope="module")
def papp(make_app: Callable[..., Flask], built: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The seed store with the third report added and its facts applied by a curator's change."""
    app = make_app(store=str(copy_store(built, tmp_path_factory.mktemp("multi-source-pages"))), write_token=TOKEN)
    c = app.test_client()
    r = c.post("/sources", headers=AUTH, data={
        "slug": SLUG, "text": (io.BytesIO(REPORT.encode("utf-8")), "third-report.txt", "text/plain"),
        "facts": (io.BytesIO(ARTICLE_NODE.encode("utf-8")), "article.ttl", "text/turtle")})
    assert r.status_code == 201, r.get_data(as_text=True)
    r = c.post("/sparql", data=facts_update(), headers={**AUTH, "Content-Type": "application/sparql-update",
                                                        "Accept": "text/plain"})
    assert r.status_code == 200, r.get_data(as_text=True)
    return app


def page(app: Flask, path: str) -> dict[str, Any]:
    resp = app.test_client().get(path, headers={"Accept": "text/html"})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    return Tree(resp.get_data(as_text=True)).root


@pytest.fixture(scope="module")
def talks(papp: Flask) -> dict[str, Any]:
    return page(papp, "/doc/second-round-technical-talks")


def marked(node: dict[str, Any]) -> list[str]:
    """The "added … by" notes inside an element."""
    return [text(a) for a in find_all(node, "a", **{"class": "since"})]


def test_a_change_is_marked_only_on_the_statements_it_added_in_the_comparison(talks: dict[str, Any]) -> None:
    rows = comparison_rows(talks)
    for prop in ("date", "location", "concerns"):
        new, seed = rows[prop]["cells"][NEW_COLUMN], rows[prop]["cells"][SEED_COLUMN]
        assert marked(seed) == [], (prop, text(seed)[:120])
        expected = 2 if prop == "location" else 1
        assert len(marked(new)) == expected and all(m.endswith("by curator") for m in marked(new)), prop
        assert rows[prop]["status"] == "agree"
    assert not any(marked(cell) for row in rows.values() for cell in row["cells"].values()
                   if row is not rows["date"] and row is not rows["location"] and row is not rows["concerns"])


def test_a_change_is_marked_beside_the_source_it_added_in_the_facts(talks: dict[str, Any]) -> None:
    """In the list of facts, a value stated by both reports: the note follows the new report only."""
    facts = find_all(talks, "dl", **{"class": "facts"})[0]
    by_spans = [find_all(li, "span", **{"class": "by"})[0] for li in find_all(facts, "li")
                if find_all(li, "span", **{"class": "by"})]
    noted = [s for s in by_spans if marked(s)]
    assert len(noted) == 4   # the date, two places, the railway
    for span in noted:
        said = text(span)
        assert said.index(NEW_COLUMN) < said.index("added") and "by curator" in said.split(NEW_COLUMN, 1)[1]
        assert "added" not in said.split(NEW_COLUMN, 1)[0], said


def test_a_report_known_by_its_statements_is_listed_in_the_sources(talks: dict[str, Any]) -> None:
    groups = find_all(talks, "section", **{"class": "source-quotes"})
    assert [text(find_all(g, "h3")[0]) for g in groups] == [SEED_COLUMN, NEW_COLUMN]
    new_marks = [text(m) for m in find_all(groups[1], "mark")]
    # each sentence once (the date and the border crossing share one), in the order of the text
    assert new_marks == ["technical talks last week on reopening the Kars-Gyumri railway", "met on Nov. 28"]
    seed_marks = [text(m) for m in find_all(groups[0], "mark")]
    assert "Talks focus on restoring railway line" in seed_marks and "met on Nov. 28" in seed_marks


def test_two_sources_of_any_kind_of_thing_are_compared_and_one_is_not(papp: Flask, client: Any) -> None:
    """The railway is no event: with facts from two reports it gets the table too, with its caption;
    a thing with facts from one report gets the list, which says so."""
    railway = page(papp, "/doc/kars-gyumri-railway")
    rows = comparison_rows(railway)
    assert rows["links place"]["status"] == "differ"
    assert text(find_all(railway, "caption")[0]).startswith("2 sources state facts about this")
    for one_source in (page(papp, "/doc/gyumri"), Tree(client.get(
            "/doc/second-round-technical-talks", headers={"Accept": "text/html"}).get_data(as_text=True)).root):
        assert find_all(one_source, "table", **{"class": "compare"}) == []
        notes = [text(p) for p in find_all(one_source, "p", **{"class": "note"})]
        assert any("where two or more sources state facts about a thing, a table puts them side by side" in n
                   for n in notes)


def test_foreign_properties_have_names_for_people(client: Any) -> None:
    gyumri = Tree(client.get("/doc/gyumri", headers={"Accept": "text/html"}).get_data(as_text=True)).root
    names = {dt["attrs"]["title"]: text(dt).split(" (")[0] for dt in find_all(gyumri, "dt")}
    assert names["http://www.w3.org/2004/02/skos/core#exactMatch"] == "exact match"
    assert names["http://www.w3.org/2000/01/rdf-schema#seeAlso"] == "see also"
