"""The home page, the dataset description (VoID + DCAT) and the dumps."""
from __future__ import annotations

import gzip
import hashlib
from html.parser import HTMLParser
from typing import Any

import rdflib
from rdflib.namespace import RDF

from server import namespaces as ns

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" and dict(attrs).get("href"):
            self.hrefs.append(dict(attrs)["href"] or "")


def test_home_page_for_people(client: Any) -> None:
    resp = client.get("/")  # no Accept: the home page is for people
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/html; charset=utf-8"
    html = resp.get_data(as_text=True)
    for graph in (ns.G_ARTICLE, ns.G_OUTSIDE, ns.G_ONTOLOGY):
        assert graph in html
    assert "28 November 2025" in html and "second round of technical talks" in html  # the timeline
    p = Links()
    p.feed(html)
    for target in ("/dataset", "/ontology", "/sparql", "/doc/gyumri", "/doc/recep-tayyip-erdogan",
                   "/dumps/dataset.nq.gz"):
        assert target in p.hrefs, target
    examples = client.application.extensions["kg"].examples
    # every example question opens in the query UI, under its topic
    assert {h for h in p.hrefs if h.startswith("/sparql#example=")} == {f"/sparql#example={e['name']}" for e in examples}
    for topic in {e["topic"] for e in examples}:
        assert f"<h3>{topic}</h3>" in html, topic
    for href in {h for h in p.hrefs if h.startswith("/doc/")}:
        assert client.get(href, headers={"Accept": "text/html"}).status_code == 200, href


def test_dataset_description_void_and_dcat(client: Any) -> None:
    for path in ("/dataset", "/.well-known/void"):
        resp = client.get(path, headers={"Accept": "text/turtle"})
        assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/turtle; charset=utf-8"
        g = rdflib.Graph().parse(data=resp.data, format="turtle")
        ds = rdflib.URIRef(ns.DATASET)
        assert (ds, RDF.type, VOID.Dataset) in g and (ds, RDF.type, DCAT.Dataset) in g
        assert g.value(ds, VOID.sparqlEndpoint) == rdflib.URIRef(ns.DEFAULT_BASE + "sparql")  # public_url unset
        assert g.value(ds, DCTERMS.license) is not None
        assert int(g.value(ds, VOID.triples)) == sum(client.application.extensions["kg"].graph_sizes().values())
        assert rdflib.URIRef(ns.DEFAULT_BASE + "dumps/dataset.nq.gz") in set(g.objects(ds, VOID.dataDump))
    # every distribution's checksum and size match the bytes served
    for dist in g.objects(ds, DCAT.distribution):
        url = str(g.value(dist, DCAT.downloadURL))
        body = client.get(url.replace(ns.DEFAULT_BASE, "/")).data
        assert int(g.value(dist, DCAT.byteSize)) == len(body)
        assert str(g.value(g.value(dist, SPDX.checksum), SPDX.checksumValue)) == hashlib.sha256(body).hexdigest()


def endpoints_and_dumps(client: Any, host: str) -> tuple[set[str], str]:
    """Every absolute URL the Turtle description names for the endpoint and the downloads, and its ETag."""
    resp = client.get("/dataset", headers={"Accept": "text/turtle", "Host": host})
    g = rdflib.Graph().parse(data=resp.data, format="turtle")
    urls = {str(o) for p in (VOID.sparqlEndpoint, VOID.dataDump, DCAT.downloadURL) for o in g.objects(None, p)}
    return urls, resp.headers["ETag"]


def test_dataset_description_never_takes_the_host_header(client: Any, make_app: Any) -> None:
    """The description is cached (Cache-Control: public): a Host header chosen by one client must not
    become the links every other client gets."""
    urls, etag = endpoints_and_dumps(client, "attacker.example")
    assert urls and all(u.startswith(ns.DEFAULT_BASE) for u in urls), urls
    assert endpoints_and_dumps(client, "localhost") == (urls, etag)
    public = make_app(public_url="http://127.0.0.1:8000").test_client()
    moved, _ = endpoints_and_dumps(public, "attacker.example")
    assert moved == {u.replace(ns.DEFAULT_BASE, "http://127.0.0.1:8000/") for u in urls}


def test_the_service_description_names_the_endpoint_under_public_url(make_app: Any) -> None:
    """With `public_url` set, the Service Description's endpoint is there, whatever Host a client
    sends; without it, the endpoint is where the request reached it."""
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")

    def endpoints(app: Any, host: str) -> set[str]:
        resp = app.test_client().get("/sparql", headers={"Accept": "text/turtle", "Host": host})
        assert resp.status_code == 200 and resp.mimetype == "text/turtle"
        return {str(o) for o in rdflib.Graph().parse(data=resp.data, format="turtle").objects(None, sd.endpoint)}

    assert endpoints(make_app(public_url="https://kg.example.net/"), "attacker.example") == {
        "https://kg.example.net/sparql"}
    assert endpoints(make_app(), "localhost:8123") == {"http://localhost:8123/sparql"}


def test_dumps_hold_the_dataset(client: Any) -> None:
    sizes = client.application.extensions["kg"].graph_sizes()
    nq = client.get("/dumps/dataset.nq.gz")
    assert nq.headers["Content-Type"] == "application/gzip"
    ds = rdflib.Dataset()
    ds.parse(data=gzip.decompress(nq.data), format="nquads")
    got = {str(c.identifier): len(c) for c in ds.contexts() if len(c)}
    assert got == sizes
    trig = rdflib.Dataset()
    trig.parse(data=gzip.decompress(client.get("/dumps/dataset.trig.gz").data), format="trig")
    assert sum(len(c) for c in trig.contexts()) == sum(sizes.values())
    union = client.get("/dumps/default.ttl")
    assert union.headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert len(rdflib.Graph().parse(data=union.data, format="turtle")) > 0
    assert client.get("/dumps/nothing.nq.gz").status_code == 404
    etag = nq.headers["ETag"]
    assert client.get("/dumps/dataset.nq.gz", headers={"If-None-Match": etag}).status_code == 304


def test_dataset_page_lists_sizes_and_checksums(client: Any) -> None:
    html = client.get("/dataset", headers={"Accept": "text/html"}).get_data(as_text=True)
    sha = hashlib.sha256(client.get("/dumps/default.ttl").data).hexdigest()
    assert sha in html and "default.ttl" in html
