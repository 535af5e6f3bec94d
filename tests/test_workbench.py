"""The workbench's endpoints, and its whole flow through the service's own write endpoints:
store a report unchanged, accept a suggestion as evidence, add a fact quoted from the text,
validate the pending change, apply it, read it back, undo it."""
from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import namespaces as ns
from server.build.pipeline import BuildResult
from server.curation.evidence import check_evidence
from tests.conftest import copy_store

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "workbench-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REPORT = (ROOT / "tests" / "fixtures" / "second-report.txt").read_text(encoding="utf-8")
SLUG = "caucasus-rail-monitor-wb"
TALKS = ns.ID + "second-round-technical-talks"


@pytest.fixture(scope="module")
def wapp(make_app: Callable[..., Flask], built: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return make_app(store=str(copy_store(built, tmp_path_factory.mktemp("workbench"))), write_token=TOKEN)


def ask(app: Flask, query: str) -> list[dict[str, str]]:
    r = app.test_client().post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    return [{k: v["value"] for k, v in b.items()} for b in r.get_json()["results"]["bindings"]]


@pytest.mark.parametrize(("path", "body", "status", "words"), [
    ("/workbench/suggestions", {"text": "Talks on Thursday.", "published": "2025-11-30T10:00"}, 400, "has no zone"),
    ("/workbench/suggestions", {"text": "", "published": "2025-11-30"}, 400, "'text'"),
    ("/workbench/suggestions", {"text": ["x"], "published": "2025-11-30"}, 400, "must be a string"),
    ("/workbench/draft-source", {"slug": "Bad Slug", "headline": "h", "publisher": "p", "published": "2025-11-30"}, 400, "slug"),
    ("/workbench/draft-source", {"slug": "ok", "headline": "h", "publisher": "p", "published": "2025-11-30",
                                 "url": "not a url"}, 400, "not an absolute"),
    ("/workbench/draft-fact", {"slug": "never-stored", "subject": TALKS, "quote": {"start": 0, "end": 3}}, 400, "no stored source"),
])
def test_bad_input_is_a_precise_400(wapp: Flask, path: str, body: dict, status: int, words: str) -> None:
    r = wapp.test_client().post(path, json=body)
    assert r.status_code == status and words in r.get_data(as_text=True)


def test_a_body_that_is_not_json_is_415(wapp: Flask) -> None:
    assert wapp.test_client().post("/workbench/suggestions", data="text=x").status_code == 415


def test_properties_are_those_whose_domain_fits(wapp: Flask) -> None:
    """The talks (an event) may have a date and a location; not a railway line's linked places."""
    r = wapp.test_client().get("/workbench/properties", query_string={"subject": TALKS})
    props = {p["iri"] for p in r.get_json()}
    assert {ns.KGO + "date", ns.KGO + "location"} <= props and ns.KGO + "linksPlace" not in props


def test_lookup_finds_nodes_by_any_spelling_of_their_label(wapp: Flask) -> None:
    r = wapp.test_client().get("/workbench/lookup", query_string={"q": "turkiye", "type": "Country"})
    assert [n["iri"] for n in r.get_json()] == [ns.ID + "turkiye"]


def test_the_whole_flow_through_the_write_path(wapp: Flask) -> None:
    c = wapp.test_client()
    # 1. Suggestions: Gümrü is Gyumri; "Thursday" is 27 November, derived.
    s = c.post("/workbench/suggestions", json={"text": REPORT, "published": "2025-11-30"}).get_json()
    gumru = next(m for m in s["mentions"] if m["exact"] == "Gümrü")
    assert gumru["entity"] == ns.ID + "gyumri" and REPORT[gumru["start"]:gumru["end"]] == "Gümrü"
    thursday = next(d for d in s["dates"] if d["exact"] == "Thursday")
    assert (thursday["value"], thursday["derived"]) == ("2025-11-27", True)
    # 2. The article, stored unchanged by POST /sources.
    draft = c.post("/workbench/draft-source", json={"slug": SLUG, "headline": "Armenia, Turkey hold talks",
                                                    "publisher": "Caucasus Rail Monitor", "published": "2025-11-30"}).get_json()
    r = c.post("/sources", headers=AUTH, data={"slug": SLUG, "text": (io.BytesIO(REPORT.encode()), "r.txt"),
                                               "facts": (io.BytesIO(draft["facts"].encode()), "f.ttl")})
    assert r.status_code == 201, r.get_data(as_text=True)
    graph = draft["graph"]
    (row,) = ask(wapp, f"SELECT ?t WHERE {{ GRAPH <{graph}> {{ ?a <{ns.KGO}fullText> ?t }} }}")
    assert row["t"] == REPORT
    # 3. A suggestion accepted (the words name Gyumri) and a fact from selected words.
    start = REPORT.index("on Thursday") + 3
    pending = [
        c.post("/workbench/draft-fact", json={"slug": SLUG, "subject": gumru["entity"],
                                              "quote": {"start": gumru["start"], "end": gumru["end"], "exact": "Gümrü"}}),
        c.post("/workbench/draft-fact", json={"slug": SLUG, "subject": TALKS, "property": ns.KGO + "dateAsWritten",
                                              "object": {"value": "Thursday"},
                                              "quote": {"start": start, "end": start + 8, "exact": "Thursday"}}),
    ]
    assert all(p.status_code == 200 for p in pending), [p.get_data(as_text=True) for p in pending]
    wrong = c.post("/workbench/draft-fact", json={"slug": SLUG, "subject": TALKS, "quote": {"start": start, "end": start + 8,
                                                                                            "exact": "Friday"}})
    assert wrong.status_code == 400 and "select the words again" in wrong.get_data(as_text=True)
    # 4. The pending change, validated with the graph (nothing stored), then applied.
    trig = "\n".join(p.get_json()["trig"] for p in pending)
    v = c.post("/validate", data=trig, headers={"Content-Type": "application/trig", "Accept": "text/plain"})
    assert v.status_code == 200 and " 0 Violations" in v.get_data(as_text=True), v.get_data(as_text=True)
    r = c.post("/sparql", data=" ;\n".join(p.get_json()["update"] for p in pending),
               headers={**AUTH, "Content-Type": "application/sparql-update", "Accept": "text/plain"})
    assert r.status_code == 200, r.get_data(as_text=True)
    change = r.headers["KG-Change"]
    rows = ask(wapp, f"""SELECT ?exact ?source WHERE {{ GRAPH <{graph}> {{
      ?st <{ns.PREFIXES['rdf']}subject> <{TALKS}> ; <{ns.PREFIXES['rdf']}predicate> <{ns.KGO}dateAsWritten> ;
          <{ns.KGO}statedIn> ?source ; <{ns.KGO}evidence> ?q .
      ?q <http://www.w3.org/ns/oa#hasSelector> ?sel . ?sel <http://www.w3.org/ns/oa#exact> ?exact }} }}""")
    assert rows == [{"exact": "Thursday", "source": ns.ID + "article-" + SLUG}]
    # 5. Undo from the history: the fact is gone, the article stays.
    u = c.post(f"/history/{change.rsplit('/', 1)[-1]}/undo", headers={**AUTH, "Accept": "text/plain"})
    assert u.status_code == 200, u.get_data(as_text=True)
    assert not ask(wapp, f"SELECT * WHERE {{ GRAPH <{graph}> {{ <{TALKS}> <{ns.KGO}dateAsWritten> ?w }} }}")
    assert ask(wapp, f"SELECT ?t WHERE {{ GRAPH <{graph}> {{ ?a <{ns.KGO}fullText> ?t }} }}")


def test_the_page_is_in_the_site_layout(wapp: Flask) -> None:
    r = wapp.test_client().get("/workbench")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert 'aria-current="page"' in html and "workbench.js" in html and 'id="wb-text"' in html


# -- finding what the graph already has: by type, words, date and place ------------------------------

def found(client: FlaskClient, **args: str) -> list[tuple[str, list[str], list[str], list[str]]]:
    """(node, classes, date values, place labels) of each node /workbench/find gives."""
    r = client.get("/workbench/find", query_string=args)
    assert (r.status_code, r.mimetype) == (200, "application/json"), r.get_data(as_text=True)
    return [(n["iri"].removeprefix(ns.ID), n["types"], [d["value"] for d in n["dates"]],
             [p["label"] for p in n["places"]]) for n in r.get_json()]


def test_the_talks_are_found_by_their_day(client: FlaskClient) -> None:
    assert found(client, date="2025-11-28") == [
        ("second-round-meeting-akyaka-akhurik", ["Meeting"], ["2025-11-28"], ["Akyaka–Akhurik border crossing"]),
        ("second-round-technical-talks", ["TechnicalTalks"], ["2025-11-28"],
         ["Akyaka–Akhurik border crossing", "Gyumri"])]


def test_a_day_finds_what_is_dated_by_its_month_or_year(client: FlaskClient) -> None:
    """The aid trucks are dated February 2023 (xsd:gYearMonth): a day of that month finds them."""
    assert [n for n, *_ in found(client, date="2023-02-06")] == ["humanitarian-transit-2023-02"]
    assert [n for n, *_ in found(client, date="1993")] == ["border-closure", "status-turkiye-armenia-border-closed"]


def test_a_range_finds_what_happened_within_it(client: FlaskClient) -> None:
    assert [n for n, *_ in found(client, type="Event", **{"from": "2025-06", "to": "2025-09"})] == [
        "meeting-tianjin-2025-09-01", "meeting-istanbul-2025-06-20"]
    assert [n for n, *_ in found(client, type="LeadersMeeting", **{"from": "2025-07-01"})] == [
        "meeting-tianjin-2025-09-01"]


def test_a_place_finds_what_is_there(client: FlaskClient) -> None:
    """Gyumri: the talks and the meeting held there, and the railway that links it; Kars: the railway."""
    assert [n for n, *_ in found(client, place="Gyumri")] == [
        "kars-gyumri-railway", "second-round-meeting-gyumri", "second-round-technical-talks"]
    assert found(client, place=ns.ID + "kars") == [("kars-gyumri-railway", ["RailwayLine"], [], ["Gyumri", "Kars"])]


def test_a_region_finds_what_is_in_the_places_within_it(client: FlaskClient) -> None:
    """Türkiye, by the outside graph's other name: the Istanbul meeting (at an office in Istanbul) and the
    earthquake in the country's southeast; neither names Türkiye as its location."""
    assert found(client, type="Event", place="Turkey") == [
        ("earthquake-southeastern-turkiye", ["Earthquake"], [], ["southeastern Türkiye"]),
        ("meeting-istanbul-2025-06-20", ["LeadersMeeting"], ["2025-06-20"], ["Dolmabahce Presidential Office"])]


def test_type_place_words_and_date_narrow_together(client: FlaskClient) -> None:
    assert [n for n, *_ in found(client, type="Meeting", place="Armenia")] == ["second-round-meeting-gyumri"]
    assert [n for n, *_ in found(client, type="Talks", q="technical", date="2025-11")] == [
        "second-round-technical-talks"]
    assert found(client, type="Talks", place="Tianjin") == []


@pytest.mark.parametrize(("args", "words"), [
    ({"date": "2025-11-31"}, "date '2025-11-31' is not a day"),
    ({"date": "Nov. 28"}, "date 'Nov. 28' is not a day"),
    ({"from": "2025-13"}, "from '2025-13'"),
    ({"from": "2025-12", "to": "2025-01"}, "'from' 2025-12 comes after 'to' 2025-01"),
    ({"date": "2025", "to": "2026"}, "either 'date' or 'from'/'to'"),
    ({"type": "meeting", "q": "talks"}, "type 'meeting' is not a class"),
    ({"place": "G"}, "place 'G'"),
    ({"type": "Meeting"}, "give words of the label (q), a date"),
    ({"q": "talks " * 50}, "q has 300 characters; give at most 200"),
])
def test_a_bad_search_is_a_400_naming_the_field(client: FlaskClient, args: dict, words: str) -> None:
    r = client.get("/workbench/find", query_string=args)
    assert r.status_code == 400 and words in r.get_data(as_text=True)


def test_an_event_suggestion_shows_the_existing_events_with_their_dates_and_places(client: FlaskClient) -> None:
    s = client.post("/workbench/suggestions", json={"text": REPORT, "published": "2025-11-30"}).get_json()
    talks = s["existing"][TALKS]
    assert (talks["types"], talks["dates"], [p["label"] for p in talks["places"]]) == (
        ["TechnicalTalks"], [{"property": "date", "value": "2025-11-28"}],
        ["Akyaka–Akhurik border crossing", "Gyumri"])
    assert all(set(c["existing"]) <= set(s["existing"]) for c in s["candidates"])


# -- what a fact's object may be, a derived date's record, the report of a pending change ------------

SOURCE = "caucasus-rail-monitor-facts"
XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.fixture(scope="module")
def stored(wapp: Flask) -> str:
    """The second report stored as a source of its own (its slug)."""
    c = wapp.test_client()
    draft = c.post("/workbench/draft-source", json={"slug": SOURCE, "headline": "Armenia, Turkey hold talks",
                                                    "publisher": "Caucasus Rail Monitor", "published": "2025-11-30"}).get_json()
    r = c.post("/sources", headers=AUTH, data={"slug": SOURCE, "text": (io.BytesIO(REPORT.encode()), "r.txt"),
                                               "facts": (io.BytesIO(draft["facts"].encode()), "f.ttl")})
    assert r.status_code == 201, r.get_data(as_text=True)
    return SOURCE


def words(text: str) -> dict[str, object]:
    start = REPORT.index(text)
    return {"start": start, "end": start + len(text), "exact": text}


@pytest.mark.parametrize(("prop", "obj", "said"), [
    # "Gumri" typed as the talks' location: a node is meant, a plain literal must not be made
    ("location", {"value": "Gumri", "language": "en"}, "object 'Gumri' is a value, but <%slocation> links to a node"),
    ("location", {"iri": "Gumri"}, "object 'Gumri' is not an absolute http(s) IRI"),
    ("dateAsWritten", {"iri": ns.ID + "gyumri"}, "takes a value (owl:DatatypeProperty)"),
    ("noSuchProperty", {"value": "x"}, "is not a property of the ontology"),
])
def test_the_object_is_a_node_or_a_value_as_the_ontology_says(wapp: Flask, stored: str, prop: str, obj: dict,
                                                                said: str) -> None:
    r = wapp.test_client().post("/workbench/draft-fact", json={
        "slug": stored, "subject": TALKS, "property": ns.KGO + prop, "object": obj, "quote": words("Gümrü")})
    assert r.status_code == 400 and (said.replace("%s", ns.KGO)) in r.get_data(as_text=True), r.get_data(as_text=True)


def test_a_node_object_is_accepted_for_an_object_property(wapp: Flask, stored: str) -> None:
    r = wapp.test_client().post("/workbench/draft-fact", json={
        "slug": stored, "subject": TALKS, "property": ns.KGO + "location", "object": {"iri": ns.ID + "gyumri"},
        "quote": words("Gümrü")})
    assert r.status_code == 200, r.get_data(as_text=True)


@pytest.mark.parametrize(("q", "node", "name"), [
    ("Gumri", "gyumri", "Gumri"),                 # another name the graph knows (skos:altLabel)
    ("gyumri", "gyumri", "Gyumri"),
    ("second round", "second-round-technical-talks", "second round of technical talks on the Kars–Gyumri railway"),
])
def test_lookup_finds_a_node_by_any_of_its_names(wapp: Flask, q: str, node: str, name: str) -> None:
    found = wapp.test_client().get("/workbench/lookup", query_string={"q": q}).get_json()
    assert {"iri": ns.ID + node, "name": name} in [{"iri": n["iri"], "name": n["name"]} for n in found]
    assert found[0]["iri"] == ns.ID + node if q.casefold() in ("gumri", "gyumri") else True


def test_a_derived_date_keeps_its_words_and_its_derivation(wapp: Flask, stored: str) -> None:
    """'Thursday' in a report of 30 November: 27 November, recorded as the seed article records 'Nov. 28':
    the words beside the value, and the value's record derived (kgo:WeekdayResolved) from the records
    of the words and of the publication date."""
    r = wapp.test_client().post("/workbench/draft-fact", json={
        "slug": stored, "subject": TALKS, "property": ns.KGO + "date", "derivation": "WeekdayResolved",
        "object": {"value": "2025-11-27", "datatype": XSD + "date"}, "quote": words("Thursday")})
    assert r.status_code == 200, r.get_data(as_text=True)
    store = ox.Store()
    store.load(r.get_json()["trig"].encode(), format=ox.RdfFormat.TRIG)
    rows = list(store.query(f"""PREFIX rdf: <{ns.PREFIXES['rdf']}> PREFIX kgo: <{ns.KGO}>
      PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX schema: <https://schema.org/>
      SELECT ?words ?method ?published WHERE {{ GRAPH ?g {{
        <{TALKS}> kgo:date "2025-11-27"^^<{XSD}date> ; kgo:dateAsWritten ?words .
        ?r rdf:subject <{TALKS}> ; rdf:predicate kgo:date ; kgo:derivation ?method ;
           prov:wasDerivedFrom ?w , ?p .
        ?w rdf:predicate kgo:dateAsWritten ; rdf:object ?words ; kgo:evidence ?q .
        ?p rdf:predicate schema:datePublished ; rdf:object ?published ; kgo:evidence ?printed }} }}"""))
    assert [(x["words"].value, x["method"].value, x["published"].value) for x in rows] == [
        ("Thursday", ns.KGO + "WeekdayResolved", "2025-11-30")]
    # The change passes the evidence check against the report's text, which redoes the derivation.
    check = check_evidence(store, {ns.ID + "article-" + stored: REPORT})
    assert check.statements == 3 and check.errors == [], check.errors


@pytest.mark.parametrize(("derivation", "value", "said"), [
    ("WeekdayResolved", "2025-11-28", "WeekdayResolved gives 2025-11-27 from 'Thursday'"),
    ("Guessed", "2025-11-27", "derivation 'Guessed' is not a method"),
])
def test_a_derivation_is_redone_before_it_is_recorded(wapp: Flask, stored: str, derivation: str, value: str,
                                                      said: str) -> None:
    r = wapp.test_client().post("/workbench/draft-fact", json={
        "slug": stored, "subject": TALKS, "property": ns.KGO + "date", "derivation": derivation,
        "object": {"value": value, "datatype": XSD + "date"}, "quote": words("Thursday")})
    assert r.status_code == 400 and said in r.get_data(as_text=True), r.get_data(as_text=True)


def test_the_turtle_preview_writes_quotes_without_escaped_slashes(wapp: Flask, stored: str) -> None:
    r = wapp.test_client().post("/workbench/draft-fact", json={"slug": stored, "subject": ns.ID + "gyumri",
                                                               "quote": words("Gümrü")})
    turtle = r.get_json()["turtle"]
    start = REPORT.index("Gümrü")
    assert "\\/" not in turtle and f"q:{start}-{start + 5} a kgo:EvidenceQuote" in turtle, turtle


def test_the_check_names_each_result_and_tells_new_from_existing(wapp: Flask, stored: str) -> None:
    """A second date for the talks (27 November, from 'Thursday'): the sources disagree, a new Info on the
    talks, named by its label; the graph's own Warning (a claim dated before its event) was there before."""
    c = wapp.test_client()
    fact = c.post("/workbench/draft-fact", json={
        "slug": stored, "subject": TALKS, "property": ns.KGO + "date", "derivation": "WeekdayResolved",
        "object": {"value": "2025-11-27", "datatype": XSD + "date"}, "quote": words("Thursday")}).get_json()
    r = c.post("/workbench/check", data=fact["trig"], headers={"Content-Type": "application/trig"})
    assert (r.status_code, r.mimetype) == (200, "application/json"), r.get_data(as_text=True)
    body = r.get_json()
    seen = [(x["severity"], x["focus"].removeprefix(ns.ID), x["focus_label"], x["path"], x["new"]) for x in body["results"]]
    assert seen == [
        ("Info", "second-round-technical-talks", "second round of technical talks on the Kars–Gyumri railway",
         ns.KGO + "date", True),
        ("Warning", "claim-turkiye-second-round-held",
         "Türkiye's statement that officials from Ankara and Yerevan held a second round of technical talks", None, False)]
    assert body["new"] == {"Violation": 0, "Warning": 0, "Info": 1} and body["passed"] is True
    assert all(x["message"] for x in body["results"])


def test_the_check_leaves_out_a_note_that_does_not_concern_the_change(wapp: Flask, stored: str) -> None:
    """Naming Gyumri: no new result, so nothing about how SPARQL constraints read literals."""
    c = wapp.test_client()
    fact = c.post("/workbench/draft-fact", json={"slug": stored, "subject": ns.ID + "gyumri",
                                                 "quote": words("Gümrü")}).get_json()
    plain = c.post("/validate", data=fact["trig"], headers={"Content-Type": "application/trig",
                                                            "Accept": "application/json"}).get_json()
    assert any("canonical form" in n for n in plain["notes"])   # what /validate says, for every reader
    body = c.post("/workbench/check", data=fact["trig"], headers={"Content-Type": "application/trig"}).get_json()
    assert body["notes"] == [] and not [x for x in body["results"] if x["new"]]
