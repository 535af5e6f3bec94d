"""The SPARQL endpoint through Flask's test client: protocol, formats, errors, limits."""
from __future__ import annotations

import csv
import io
import json
import threading
import xml.etree.ElementTree as ET
from typing import Callable

import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient

from server import namespaces as ns

LABELS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
ASK = "ASK { ?s ?p ?o }"
CONSTRUCT = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ns.G_ONTOLOGY}> {{ ?s ?p ?o }} }} LIMIT 20"


def bindings(resp) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    data = json.loads(resp.get_data(as_text=True))
    return [{k: v["value"] for k, v in b.items()} for b in data["results"]["bindings"]]


def test_get_query_answers_sparql_json(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": LABELS})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/sparql-results+json"
    graphs = {r["g"] for r in bindings(resp)}
    assert {ns.G_ONTOLOGY, ns.G_ARTICLE, ns.G_OUTSIDE, ns.G_INFERRED, ns.G_SHAPES} <= graphs
    assert resp.headers["Vary"] == "Accept"
    assert "engine;dur=" in resp.headers["Server-Timing"]


def test_post_form_and_post_direct_agree(client: FlaskClient) -> None:
    form = client.post("/sparql", data={"query": LABELS})
    direct = client.post("/sparql", data=LABELS.encode(), content_type="application/sparql-query")
    assert form.status_code == direct.status_code == 200
    assert bindings(form) == bindings(direct)


def test_union_default_graph_sees_every_graph(client: FlaskClient) -> None:
    q = f"ASK {{ <{ns.ONTOLOGY}> a <http://www.w3.org/2002/07/owl#Ontology> }}"
    resp = client.get("/sparql", query_string={"query": q})
    assert json.loads(resp.data)["boolean"] is True


def test_default_graph_uri_restricts_the_dataset(client: FlaskClient) -> None:
    q = f"ASK {{ <{ns.ONTOLOGY}> a <http://www.w3.org/2002/07/owl#Ontology> }}"
    only_outside = client.get("/sparql", query_string={"query": q, "default-graph-uri": ns.G_OUTSIDE})
    only_ontology = client.get("/sparql", query_string={"query": q, "default-graph-uri": ns.G_ONTOLOGY})
    assert json.loads(only_outside.data)["boolean"] is False
    assert json.loads(only_ontology.data)["boolean"] is True


@pytest.mark.parametrize("accept,mimetype", [
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/json", "application/sparql-results+json"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
])
def test_select_formats_by_accept(client: FlaskClient, accept: str, mimetype: str) -> None:
    resp = client.get("/sparql", query_string={"query": LABELS}, headers={"Accept": accept})
    assert resp.status_code == 200
    assert resp.mimetype == mimetype
    text = resp.get_data(as_text=True)
    if mimetype.endswith("xml"):
        root = ET.fromstring(text)
        results = root.findall(".//{http://www.w3.org/2005/sparql-results#}result")
        assert len(results) >= 5
    elif mimetype == "text/csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == ["g", "n"] and len(rows) >= 6
    elif mimetype == "text/tab-separated-values":
        lines = text.strip().split("\n")
        assert lines[0] == "?g\t?n" and lines[1].startswith("<")
    else:
        assert len(bindings(resp)) >= 5


def test_format_parameter_wins_over_accept(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": LABELS, "format": "csv"},
                      headers={"Accept": "application/sparql-results+json"})
    assert resp.mimetype == "text/csv"


@pytest.mark.parametrize("accept,fmt", [("text/turtle", "turtle"), ("application/n-triples", "nt"),
                                        ("application/rdf+xml", "xml"), ("application/ld+json", "json-ld"),
                                        ("application/trig", "trig"), ("application/n-quads", "nquads")])
def test_construct_in_every_rdf_format(client: FlaskClient, accept: str, fmt: str) -> None:
    resp = client.get("/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": accept})
    assert resp.status_code == 200
    assert resp.mimetype == accept
    if fmt in ("trig", "nquads"):
        graph = rdflib.Dataset()
        graph.parse(data=resp.data, format=fmt)
        assert len(graph) == 20
    else:
        graph = rdflib.Graph().parse(data=resp.data, format=fmt)
        assert len(graph) == 20


def test_ask_formats(client: FlaskClient) -> None:
    as_json = client.get("/sparql", query_string={"query": ASK})
    as_xml = client.get("/sparql", query_string={"query": ASK}, headers={"Accept": "application/sparql-results+xml"})
    assert json.loads(as_json.data) == {"head": {}, "boolean": True}
    assert ET.fromstring(as_xml.data).find("{http://www.w3.org/2005/sparql-results#}boolean").text == "true"


def test_not_acceptable_lists_what_is_offered(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": LABELS}, headers={"Accept": "image/png"})
    assert resp.status_code == 406
    assert "application/sparql-results+json" in resp.get_data(as_text=True)


def test_head_answers_like_get_without_body(client: FlaskClient) -> None:
    get = client.get("/sparql", query_string={"query": LABELS})
    head = client.head("/sparql", query_string={"query": LABELS})
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert int(head.headers["Content-Length"]) == len(get.data)


@pytest.mark.parametrize("name,call,status,words", [
    ("syntax error", lambda c: c.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"}), 400, "line 1"),
    ("two queries", lambda c: c.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D"), 400, "exactly one"),
    ("no content type", lambda c: c.post("/sparql", data=b"ASK {}", content_type=""), 415, "Content-Type"),
    ("wrong content type", lambda c: c.post("/sparql", data=b"ASK {}", content_type="text/plain"), 415,
     "application/sparql-query"),
    ("not utf-8", lambda c: c.post("/sparql", data="ASK { ?s ?p 'é' }".encode("latin-1"),
                                   content_type="application/sparql-query"), 400, "UTF-8"),
    ("update to query op", lambda c: c.get("/sparql", query_string={"query": "INSERT DATA { <a:b> <a:b> <a:b> }"}),
     400, "syntax error"),
    ("update by GET", lambda c: c.get("/sparql", query_string={"update": "CLEAR ALL"}), 405, "POST"),
    ("wrong method", lambda c: c.put("/sparql", data=b"x"), 405, "GET"),
    ("update without token", lambda c: c.post("/sparql", data={"update": "CLEAR ALL"}), 403, "read-only"),
    ("form with both", lambda c: c.post("/sparql", data={"query": "ASK {}", "update": "CLEAR ALL"}), 400, "both"),
    ("too deep", lambda c: c.get("/sparql", query_string={"query": "SELECT * WHERE " + "{" * 3000 + "}" * 3000}),
     400, "nests"),
    ("service", lambda c: c.get("/sparql", query_string={
        "query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}), 400, "allow-list"),
])
def test_client_mistakes_get_a_precise_4xx(client: FlaskClient, name: str, call: Callable, status: int,
                                           words: str) -> None:
    resp = call(client)
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_data(as_text=True)
    assert words in body
    assert "Traceback" not in body
    if status == 405:
        assert "Allow" in resp.headers


def test_errors_are_json_when_json_is_preferred(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": "SELECT"}, headers={"Accept": "application/json"})
    assert resp.status_code == 400
    err = json.loads(resp.data)
    assert err["status"] == 400 and err["line"] == 1 and "column" in err


def test_service_description(client: FlaskClient) -> None:
    resp = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert resp.status_code == 200 and resp.mimetype == "text/turtle"
    g = rdflib.Graph().parse(data=resp.data, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    service = g.value(predicate=rdflib.RDF.type, object=sd.Service)
    assert service is not None and str(service).endswith("/sparql")
    assert (service, sd.supportedLanguage, sd.SPARQL11Query) in g
    assert (service, sd.supportedLanguage, sd.SPARQL11Update) not in g   # read-only: no update is offered
    names = {str(n) for n in g.objects(None, sd.name)}
    assert ns.G_ARTICLE in names


def test_service_description_offers_update_only_with_a_write_token(make_app: Callable[..., Flask],
                                                                   private_store) -> None:  # type: ignore[no-untyped-def]
    writable = make_app(store=str(private_store), write_token="t0ken").test_client()
    g = rdflib.Graph().parse(data=writable.get("/sparql", headers={"Accept": "text/turtle"}).data, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (None, sd.supportedLanguage, sd.SPARQL11Update) in g
    # and /settings.json says what runs: one worker process when writes are enabled
    assert writable.get("/settings.json").json["workers"] == 1


@pytest.mark.parametrize("query, columns", [
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", ["s", "p", "o"]),
    ("SELECT DISTINCT * WHERE { ?zeta ?alpha ?m FILTER(?m != 'SELECT * ?q') } LIMIT 1", ["zeta", "alpha", "m"]),
    ("# SELECT * ?b ?a\nSELECT * { { SELECT ?s (COUNT(*) AS ?n) { ?s ?p ?o } GROUP BY ?s } } LIMIT 1", ["s", "n"]),
    ("SELECT ?p ?s WHERE { ?s ?p ?o } LIMIT 1", ["p", "s"]),
])
def test_select_star_columns_come_in_the_order_of_the_query(client: FlaskClient, query: str, columns: list[str]) -> None:
    """Oxigraph sorts them by name (o, p, s); people read them as they wrote them."""
    resp = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert resp.json["head"]["vars"] == columns
    csv_head = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/csv"}).text.splitlines()[0]
    assert csv_head.split(",") == columns


def test_cors_preflight_and_no_credentials(client: FlaskClient) -> None:
    resp = client.options("/sparql", headers={"Origin": "https://example.net",
                                              "Access-Control-Request-Method": "POST"})
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in resp.headers


def test_result_cap_is_announced(make_app: Callable[..., Flask]) -> None:
    capped = make_app(max_result_rows=3).test_client()
    resp = capped.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert resp.status_code == 200
    assert resp.headers["KG-Result-Truncated"].startswith("true")
    data = json.loads(resp.data)
    assert len(data["results"]["bindings"]) == 3 and data["truncated"] is True


NAMES = f"SELECT ?s ?name WHERE {{ GRAPH <{ns.G_ARTICLE}> {{ ?s <http://www.w3.org/2000/01/rdf-schema#label> ?name }} }} ORDER BY ?s ?name"
FULL_TEXT = f"SELECT ?text WHERE {{ ?a <{ns.KGO}fullText> ?text }}"


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_an_answer_that_fits_is_oxigraphs_own_serialization(app: Flask, built, fmt: str) -> None:  # type: ignore[no-untyped-def]
    import pyoxigraph as ox

    resp = app.test_client().get("/sparql", query_string={"query": NAMES, "format": fmt})
    assert resp.status_code == 200
    store = ox.Store.read_only(str(built.store_path))
    expected = store.query(NAMES, use_default_graph_as_union=True).serialize(
        format=getattr(ox.QueryResultsFormat, fmt.upper()))
    assert resp.data == expected
    rows = len(list(store.query(NAMES, use_default_graph_as_union=True)))
    assert rows > 10 and resp.headers["KG-Result-Count"] == str(rows)
    assert "KG-Result-Truncated" not in resp.headers


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_a_row_exactly_at_the_cap_is_not_truncated_and_one_past_it_is(
        make_app: Callable[..., Flask], fmt: str) -> None:
    """The article's full text has line breaks: a CSV record with quoted newlines is still one row."""
    at_cap = make_app(max_result_rows=1).test_client().get("/sparql",
                                                          query_string={"query": FULL_TEXT, "format": fmt})
    assert at_cap.status_code == 200 and at_cap.headers["KG-Result-Count"] == "1"
    assert "KG-Result-Truncated" not in at_cap.headers
    if fmt == "csv":
        records = list(csv.reader(io.StringIO(at_cap.get_data(as_text=True), newline="")))
        assert len(records) == 2 and "\n" in records[1][0]
    past = make_app(max_result_rows=3).test_client().get("/sparql", query_string={"query": NAMES, "format": fmt})
    assert past.status_code == 200 and past.headers["KG-Result-Count"] == "3"
    assert past.headers["KG-Result-Truncated"].startswith("true")


ORDERED = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv", "csv"])
@pytest.mark.parametrize("budget", ["roomy", "cut"])
def test_a_capped_answer_is_the_first_rows_and_costs_one_evaluation(
        make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, fmt: str, budget: str) -> None:
    """Over the cap, the first rows come from what Oxigraph already wrote -- whole, or cut at the
    byte budget (32 KB: well short of the whole answer, more than 40 rows) -- so the query runs
    once; CSV, which cannot be read back, runs it again."""
    from server.store.embedded import KGStore

    evaluations: list[str] = []
    real_query = KGStore.query

    def counting(self: KGStore, sparql: str, **options: object) -> object:
        evaluations.append(sparql)
        return real_query(self, sparql, **options)

    monkeypatch.setattr(KGStore, "query", counting)
    full = make_app().test_client().get("/sparql", query_string={"query": ORDERED, "format": fmt})
    evaluations.clear()
    budget_mb = 32 / 1024 if budget == "cut" else 16.0
    capped = make_app(max_result_rows=40, max_answer_mb=budget_mb).test_client().get(
        "/sparql", query_string={"query": ORDERED, "format": fmt})
    assert capped.status_code == 200
    assert capped.headers["KG-Result-Truncated"] == "true; limit=40" and capped.headers["KG-Result-Count"] == "40"
    assert len(evaluations) == (2 if fmt == "csv" else 1)
    if fmt in ("tsv", "csv"):
        assert capped.get_data(as_text=True).splitlines()[:41] == full.get_data(as_text=True).splitlines()[:41]
    if fmt == "json":
        data, whole = json.loads(capped.data), json.loads(full.data)
        assert data["truncated"] is True
        assert data["results"]["bindings"] == whole["results"]["bindings"][:40]


def test_timeout_stops_the_query_and_others_are_served(make_app: Callable[..., Flask], held_service) -> None:  # type: ignore[no-untyped-def]
    app = make_app(query_timeout_s=2.0, service_allowlist=held_service.url)
    slow_client, fast_client = app.test_client(), app.test_client()
    outcome: dict[str, object] = {}

    def run_slow() -> None:
        outcome["slow"] = slow_client.get("/sparql", query_string={"query": held_service.query()})

    thread = threading.Thread(target=run_slow)
    thread.start()
    held_service.wait_for(1)
    fast = [fast_client.get("/sparql", query_string={"query": ASK}) for _ in range(5)]
    thread.join(30)
    assert all(r.status_code == 200 for r in fast)
    slow = outcome["slow"]
    assert slow.status_code == 503  # type: ignore[attr-defined]
    assert "limit of 2 s" in slow.get_data(as_text=True)  # type: ignore[attr-defined]
    after = fast_client.get("/sparql", query_string={"query": ASK})
    assert after.status_code == 200
