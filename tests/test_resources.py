"""Linked Data: every IRI the graph mints dereferences, in every format, with the HTTP a client relies on."""
from __future__ import annotations

import gzip
import json
import re
from html import unescape
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import rdflib
from flask import Flask
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS

from server import namespaces as ns
from server.linked_data.describe import resource_formats

OTHER_BASE = "https://other.example/"  # the base of the `other_base_store` fixture


@pytest.fixture(scope="session")
def app(any_store_app: Flask) -> Flask:
    """Every test here runs on the embedded store and on a remote `oxigraph serve`."""
    return any_store_app


KGO = rdflib.Namespace(ns.KGO)
OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
RDFLIB_FORMAT = {"turtle": "turtle", "trig": "trig", "jsonld": "json-ld", "rdfxml": "xml", "ntriples": "nt",
                 "nquads": "nquads", "n3": "n3"}
RDF_FORMATS = [f for f in resource_formats() if f.is_rdf]


def parse(body: bytes, fmt_name: str) -> rdflib.Dataset:
    ds = rdflib.Dataset(default_union=True)
    ds.parse(data=body, format=RDFLIB_FORMAT[fmt_name])
    return ds


def sample_per_class(app: Flask) -> dict[str, str]:
    """One instance IRI per class asserted in the article and outside graphs."""
    rows = app.extensions["kg"].rows(f"""SELECT ?c (MIN(STR(?s)) AS ?x) WHERE {{
        GRAPH ?g {{ ?s a ?c }} FILTER(?g IN (<{ns.G_ARTICLE}>, <{ns.G_OUTSIDE}>)) FILTER(isIRI(?s)) }} GROUP BY ?c""")
    return {r["c"]: r["x"] for r in rows}


def path_of(iri: str) -> str:
    assert iri.startswith(ns.DEFAULT_BASE)
    return "/" + iri[len(ns.DEFAULT_BASE):]


def test_every_class_has_a_sample(app: Flask) -> None:
    samples = sample_per_class(app)
    assert ns.KGO + "Person" in samples and ns.KGO + "TechnicalTalks" in samples and ns.KGO + "City" in samples


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.name)
def test_every_class_sample_parses_and_describes_itself(app: Flask, fmt: Any) -> None:
    client = app.test_client()
    for cls, iri in sorted(sample_per_class(app).items()):
        doc = "/doc/" + iri[len(ns.ID):] if iri.startswith(ns.ID) else None
        if doc is None:
            continue
        resp = client.get(doc, headers={"Accept": fmt.media_type})
        assert resp.status_code == 200, (cls, iri)
        assert resp.headers["Content-Type"] == fmt.content_type
        ds = parse(resp.data, fmt.name)
        node = rdflib.URIRef(iri)
        assert (node, RDF.type, rdflib.URIRef(cls)) in ds, (cls, iri, fmt.name)
        assert len(list(ds.triples((node, None, None)))) >= 2, iri


def test_extension_and_format_parameter_choose_the_format(client: Any) -> None:
    for ext, media in [("ttl", "text/turtle; charset=utf-8"), ("jsonld", "application/ld+json"),
                       ("rdf", "application/rdf+xml"), ("nt", "application/n-triples"), ("trig", "application/trig"),
                       ("nq", "application/n-quads"), ("html", "text/html; charset=utf-8")]:
        resp = client.get(f"/doc/gyumri.{ext}", headers={"Accept": "text/html"})
        assert resp.status_code == 200 and resp.headers["Content-Type"] == media, ext
        assert resp.headers["Vary"] == "Accept"
    resp = client.get("/doc/gyumri?format=ntriples", headers={"Accept": "text/html"})
    assert resp.headers["Content-Type"] == "application/n-triples"


@pytest.mark.parametrize("accept, expected", [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", "text/html"),
    ("application/rdf+xml, text/rdf+n3;q=0.6, application/turtle;q=0.6, text/turtle;q=0.5, */*;q=0.1",
     "application/rdf+xml"),  # rapper
    ("application/n-triples;q=0.9, text/turtle;q=0.3", "application/n-triples"),
    ("application/ld+json", "application/ld+json"),
    ("*/*", "text/turtle"),
    (None, "text/turtle"),
])
def test_accept_with_q_values(client: Any, accept: str | None, expected: str) -> None:
    resp = client.get("/doc/gyumri", headers={"Accept": accept} if accept else {})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].split(";")[0] == expected
    assert resp.headers["Vary"] == "Accept"


def test_thing_iri_answers_303_to_its_document(client: Any) -> None:
    resp = client.get("/id/gyumri?format=ttl", headers={"Accept": "text/turtle"})
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/doc/gyumri?format=ttl"
    assert resp.headers["Vary"] == "Accept"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    followed = client.get("/id/gyumri", headers={"Accept": "text/turtle"}, follow_redirects=True)
    assert followed.status_code == 200 and followed.headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert (rdflib.URIRef(ns.ID + "gyumri"), RDF.type, KGO.City) in parse(followed.data, "turtle")


def test_description_holds_incoming_links_evidence_labels_and_graphs(client: Any) -> None:
    ds = parse(client.get("/doc/second-round-technical-talks.trig").data, "trig")
    talks = rdflib.URIRef(ns.ID + "second-round-technical-talks")
    graphs = {str(c.identifier) for c in ds.contexts()}
    assert {ns.G_ARTICLE, ns.G_INFERRED} <= graphs
    article = ds.graph(rdflib.URIRef(ns.G_ARTICLE))
    # outgoing, incoming, evidence and its selectors, labels of what it mentions
    assert (talks, KGO.location, rdflib.URIRef(ns.ID + "gyumri")) in article
    assert (rdflib.URIRef(ns.ID + "claim-turkiye-second-round-held"), KGO.claimsAbout, talks) in article
    evidence = list(article.objects(talks, KGO.evidence))
    assert evidence
    selectors = [s for ev in evidence for s in article.objects(ev, OA.hasSelector)]
    assert any(article.value(s, OA.exact) for s in selectors)
    assert article.value(rdflib.URIRef(ns.ID + "gyumri"), RDFS.label) == rdflib.Literal("Gyumri", lang="en")
    # Turtle gives the union: the same triples without graph names
    union = parse(client.get("/doc/second-round-technical-talks.ttl").data, "turtle")
    assert (talks, KGO.location, rdflib.URIRef(ns.ID + "gyumri")) in union
    assert len(list(union.contexts())) == 1


def test_every_format_is_the_same_graph(client: Any) -> None:
    reference = rdflib.Graph().parse(data=client.get("/doc/gyumri.nt").data, format="nt")
    for name in ("turtle", "jsonld", "rdfxml"):
        ext = {"turtle": "ttl", "jsonld": "jsonld", "rdfxml": "rdf"}[name]
        g = rdflib.Graph().parse(data=client.get(f"/doc/gyumri.{ext}").data, format=RDFLIB_FORMAT[name])
        assert isomorphic(g, reference), name


def test_jsonld_has_a_readable_context(client: Any) -> None:
    doc = json.loads(client.get("/doc/gyumri.jsonld").data)
    assert doc["@context"]["kg"] == ns.ID and doc["@context"]["kgo"] == ns.KGO
    text = json.dumps(doc["@graph"])
    assert '"kg:gyumri"' in text and '"kgo:locatedIn"' in text


def test_link_header_and_html_head_list_the_alternates(client: Any) -> None:
    from html.parser import HTMLParser

    resp = client.get("/doc/gyumri", headers={"Accept": "text/html"})
    link = resp.headers["Link"]
    for f in resource_formats():
        assert f'</doc/gyumri.{f.extension}>; rel="alternate"; type="{f.media_type}"' in link
    assert '</doc/gyumri>; rel="describedby"; anchor="/id/gyumri"' in link
    assert f'<{ns.KGO}City>; rel="type"' in link

    class Heads(HTMLParser):
        links: list[dict[str, str | None]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "link" and dict(attrs).get("rel") == "alternate":
                self.links.append(dict(attrs))

    p = Heads()
    p.links = []
    p.feed(resp.get_data(as_text=True))
    assert {(a["type"], a["href"]) for a in p.links} == {(f.media_type, f"/doc/gyumri.{f.extension}")
                                                         for f in resource_formats()}


def test_conditional_get_answers_304(client: Any) -> None:
    first = client.get("/doc/gyumri.ttl")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"].startswith("public")
    again = client.get("/doc/gyumri.ttl", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert again.headers["Vary"] == "Accept"
    since = client.get("/doc/gyumri.ttl", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    other = client.get("/doc/gyumri.nt", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag


def test_unknown_iri_is_404_html_for_browsers_text_otherwise(client: Any) -> None:
    page = client.get("/doc/no-such-thing", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert ns.ID + "no-such-thing" in page.get_data(as_text=True)
    text = client.get("/doc/no-such-thing", headers={"Accept": "text/turtle"})
    assert text.status_code == 404 and text.headers["Content-Type"].startswith("text/plain")
    assert client.get("/graph/no-such-graph", headers={"Accept": "text/turtle"}).status_code == 404


@pytest.mark.parametrize("path", ["/doc/a%20b", "/doc/a%3Cb%3E", "/id/x%22y", "/doc/a%7Bb"])
def test_malformed_iri_is_400(client: Any, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 400
    assert "IRI" in resp.get_data(as_text=True)


def test_unacceptable_format_is_406_listing_the_offer(client: Any) -> None:
    resp = client.get("/doc/gyumri", headers={"Accept": "image/png"})
    assert resp.status_code == 406
    body = resp.get_data(as_text=True)
    assert "text/turtle" in body and "application/ld+json" in body and "text/html" in body


def test_cors_on_every_get(client: Any) -> None:
    for path in ["/doc/gyumri", "/id/gyumri", "/ontology", "/dataset", "/graph/outside", "/shapes", "/",
                 "/dumps/default.ttl", "/doc/no-such-thing"]:
        resp = client.get(path, headers={"Accept": "text/turtle"})
        assert resp.headers.get("Access-Control-Allow-Origin") == "*", path


def test_named_graph_and_shapes_dereference(client: Any) -> None:
    trig = parse(client.get(f"/{ns.G_OUTSIDE[len(ns.DEFAULT_BASE):]}", headers={"Accept": "application/trig"}).data,
                 "trig")
    outside = trig.graph(rdflib.URIRef(ns.G_OUTSIDE))
    assert (rdflib.URIRef(ns.ID + "gyumri"), rdflib.URIRef("http://www.opengis.net/ont/geosparql#hasGeometry"),
            rdflib.URIRef(ns.ID + "geometry-gyumri")) in outside
    shapes = rdflib.Graph().parse(data=client.get("/shapes", headers={"Accept": "text/turtle"}).data, format="turtle")
    assert any(str(s).startswith(ns.SHAPES) for s in shapes.subjects())


def test_html_page_shows_labels_quotes_and_formats(client: Any) -> None:
    html = client.get("/doc/second-round-technical-talks", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<h1>second round of technical talks on the Kars–Gyumri railway</h1>" in html
    assert "28 November 2025" in html                      # dates for people
    assert "<mark>" in html and "Türkiye said Thursday" in html  # the article's sentence, quoted
    assert 'href="/doc/gyumri"' in html and ">Gyumri</a>" in html  # labels, links to documents
    # "Open in the query UI": the UI page, with a query about this thing in its fragment, which runs
    m = re.search(r'href="(/sparql#[^"]+)">Open in the query UI', html)
    assert m, "no link to the query UI"
    fragment = parse_qs(urlsplit(unescape(m.group(1))).fragment)
    query = fragment["query"][0]
    assert f"<{ns.ID}second-round-technical-talks>" in query
    rows = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"}).json
    assert {b["property"]["value"] for b in rows["results"]["bindings"]} >= {ns.KGO + "roundNumber"}
    place = client.get("/doc/gyumri", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert '<svg class="map"' in place and 'class="current"' in place


def test_iris_map_by_path_under_another_base(other_base_store: Any, make_app: Callable[..., Flask]) -> None:
    """A deployment whose canonical base differs from the address it is served on."""
    app = make_app(store=str(other_base_store), base_iri=OTHER_BASE)
    client = app.test_client()
    resp = client.get("/doc/gyumri.ttl")
    assert resp.status_code == 200
    g = rdflib.Graph().parse(data=resp.data, format="turtle")
    gyumri = rdflib.URIRef(OTHER_BASE + "id/gyumri")
    assert (gyumri, RDF.type, rdflib.URIRef(OTHER_BASE + "ontology#City")) in g
    assert not any(ns.DEFAULT_BASE in str(t) for triple in g for t in triple)
    page = client.get("/doc/gyumri", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'href="/doc/armenia"' in page  # links stay on the serving host
    # the default base's IRIs are not ours here: never fetched, not found
    assert client.get("/doc/gyumri.ttl", base_url="http://kars-gyumri.example.org").status_code == 200


def test_literal_markup_is_escaped(other_base_store: Any, make_app: Callable[..., Flask]) -> None:
    app = make_app(store=str(other_base_store), base_iri=OTHER_BASE)
    html = app.test_client().get("/doc/markup-test-place", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<script>window.__injected" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.__injected = true&lt;/script&gt;&lt;b&gt;Markup&lt;/b&gt; town" in html


@pytest.mark.slow
def test_rdflib_dereferences_over_http(live_server: Any) -> None:
    """`Graph().parse(url)` as a client would, against gunicorn on loopback (through the 303)."""
    g = rdflib.Graph()
    g.parse(live_server.url + "/id/recep-tayyip-erdogan")
    assert (rdflib.URIRef(ns.ID + "recep-tayyip-erdogan"), RDF.type, KGO.Person) in g
    dump = __import__("urllib.request").request.urlopen(live_server.url + "/dumps/dataset.nq.gz").read()
    ds = rdflib.Dataset()
    ds.parse(data=gzip.decompress(dump), format="nquads")
    assert rdflib.URIRef(ns.G_ARTICLE) in {c.identifier for c in ds.contexts()}


def test_quotes_widen_to_the_whole_sentence_past_abbreviations() -> None:
    """Regression: "Nov. 28" and "U.S. on" were taken for sentence ends, cutting the quote short."""
    from server.linked_data.quotes import sentence_around

    text = ("Close\n\nAccording to the Foreign Ministry, representatives met on Nov. 28 at the Akyaka–Akhurik "
            "border crossing and later in the Armenian city of Gyumri.\n\nErdogan receives Pashinyan in New York, "
            "U.S. on Sept. 24, 2024. (AA Photo)")
    i = text.index("the Armenian city")
    assert sentence_around(text, i, i + 17).startswith("According to the Foreign Ministry")
    j = text.index("New York")
    assert sentence_around(text, j, j + 8) == "Erdogan receives Pashinyan in New York, U.S. on Sept. 24, 2024."


def test_inferred_facts_are_folded_away_from_the_stated_ones(client: Any) -> None:
    """The talks page states its participants; sem:hasActor (inferred from them) sits in the folded part."""
    html = client.get("/doc/second-round-technical-talks", headers={"Accept": "text/html"}).get_data(as_text=True)
    stated, _, inferred = html.partition('<details class="inferred">')
    assert inferred, "the page has a folded section of inferred facts"
    assert ">participant" in stated and "hasActor" not in stated
    assert "hasActor" in inferred.split("</details>")[0]
