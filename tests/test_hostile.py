"""Hostile input through the app and the parsers: no outside request (SSRF), no XML expansion,
bounded sizes, a crashed query process costs one query, and every HTML answer carries the
security headers. A loopback listener stands in for any other host: it must receive nothing."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rdflib
from flask import Flask

from server.errors import InputSyntaxError, PayloadTooLarge
from server.http.formats import BY_NAME
from server.http.security import safe_href
from server.store.embedded import parse_rdf
from server.store.rdf_guard import MAX_RDF_DEPTH
from server.validation.validate import validate

from .hostile_support import assert_clean, connection_arrived, silent_listener, unchanged_store

RDF_NS = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://ex.example/"'


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with unchanged_store(tmp_path_factory.mktemp("hostile-store")) as link:
        yield link


@pytest.fixture(scope="module")
def happ(make_app: Any, store: Path) -> Flask:
    return make_app(store=str(store), query_timeout_s=5.0)


def billion_laughs(levels: int = 9) -> bytes:
    decls = "".join(f'<!ENTITY l{i} "' + f"&l{i - 1};" * 10 + '">\n' for i in range(1, levels + 1))
    return (f'<?xml version="1.0"?>\n<!DOCTYPE r [\n<!ENTITY l0 "lol">\n{decls}]>\n'
            f'<rdf:RDF {RDF_NS}><rdf:Description rdf:about="http://ex.example/a">'
            f'<ex:p>&l{levels};</ex:p></rdf:Description></rdf:RDF>').encode()


# -- SSRF ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("template,refusal", [
    ("SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}", "Query refused"),
    ("SELECT * WHERE {{ SERVICE SILENT <{url}/sparql> {{ ?s ?p ?o }} }}", "Query refused"),
    ("SELECT * WHERE {{ sErViCe <{url}/sparql> {{ ?s ?p ?o }} }}", "Query refused"),
    ("SELECT * WHERE {{ SERVICE#c\n<{url}/sparql> {{ ?s ?p ?o }} }}", "Query refused"),
    # Oxigraph reads no \u escape outside strings and IRIs: a syntax error, as the guard expects.
    ("SELECT * WHERE {{ \\u0053ERVICE <{url}/sparql> {{ ?s ?p ?o }} }}", "Malformed query"),
    ("PREFIX e: <{url}/> SELECT * WHERE {{ SERVICE e:sparql {{ ?s ?p ?o }} }}", "Query refused"),
    ("BASE <{url}/> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?o }} }}", "Query refused"),
    ("SELECT * WHERE {{ BIND(<{url}/sparql> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}", "Query refused"),
    # Oxigraph's parser reads these as SERVICE calls (SERVICE then :sparql; the literal false, then SERVICE).
    ("PREFIX : <{url}/> SELECT * WHERE {{ SERVICE:sparql {{ ?s ?p ?o }} }}", "Query refused"),
    ("SELECT * WHERE {{ ?s ?p falseSERVICE <{url}/sparql> {{ }} }}", "Query refused"),
    ("LOAD <{url}/data.ttl>", "Query refused"),
    ("SELECT * WHERE {{ ?s ?p ?o }} LIMIT 1 LOAD <{url}/data.ttl>", "Query refused"),
])
@pytest.mark.parametrize("how", ["query", "update"])
def test_no_request_leaves_through_sparql(happ: Flask, template: str, refusal: str, how: str) -> None:
    """As a query: refused by the guard (400 "Query refused": SERVICE off the allow-list, LOAD, or
    a word the engine may read as SERVICE) or by the parser. As an update: this service is
    read-only (403)."""
    with silent_listener() as (url, sock):
        text = template.format(url=url)
        client = happ.test_client()
        resp = client.post("/sparql", data={how: text}, headers={"Accept": "application/json"})
        expected = (400, refusal) if how == "query" else (403, "Forbidden")
        assert (resp.status_code, resp.get_json()["error"]) == expected, resp.data
        assert_clean(resp.status_code, resp.data, text)
        assert not connection_arrived(sock)


@pytest.mark.parametrize("context", [
    '"{url}/context.jsonld"',
    '["{url}/context.jsonld", {{"ex": "http://ex.example/"}}]',
    '{{"@import": "{url}/context.jsonld"}}',
    '{{"@vocab": "http://ex.example/", "ex": {{"@id": "http://ex.example/p", "@context": "{url}/scoped"}}}}',
])
def test_jsonld_remote_context_is_never_fetched(context: str) -> None:
    with silent_listener() as (url, sock):
        body = '{"@context": ' + context.format(url=url) + ', "@id": "http://ex.example/a", "ex": {"name": "x"}}'
        with pytest.raises(InputSyntaxError) as err:
            parse_rdf(body.encode(), BY_NAME["jsonld"], source="request body")
        assert err.value.status == 400
        assert not connection_arrived(sock)


@pytest.mark.parametrize("doc", [
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "{url}/e">]><rdf:RDF {ns}>'
    '<rdf:Description rdf:about="http://ex.example/a"><ex:p>&e;</ex:p></rdf:Description></rdf:RDF>',
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e PUBLIC "-//x//EN" "{url}/e">]><rdf:RDF {ns}/>',
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "{url}/p"> %p;]><rdf:RDF {ns}/>',
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><rdf:RDF {ns}>'
    '<rdf:Description rdf:about="http://ex.example/a"><ex:p>&e;</ex:p></rdf:Description></rdf:RDF>',
])
def test_rdfxml_external_entities_are_refused(doc: str) -> None:
    with silent_listener() as (url, sock):
        with pytest.raises(InputSyntaxError) as err:
            parse_rdf(doc.format(url=url, ns=RDF_NS).encode(), BY_NAME["rdfxml"], source="request body")
        assert "refused" in err.value.message or "not accepted" in err.value.message
        assert "root:" not in err.value.message
        assert not connection_arrived(sock)


def test_rdfxml_external_dtd_is_not_fetched() -> None:
    with silent_listener() as (url, sock):
        doc = f'<?xml version="1.0"?><!DOCTYPE rdf:RDF SYSTEM "{url}/x.dtd"><rdf:RDF {RDF_NS}/>'
        assert parse_rdf(doc.encode(), BY_NAME["rdfxml"], source="body") == []
        assert not connection_arrived(sock)


def test_validation_never_follows_owl_imports() -> None:
    with silent_listener() as (url, sock):
        data = rdflib.Graph().parse(data=f"""@prefix owl: <http://www.w3.org/2002/07/owl#> .
            <http://ex.example/o> a owl:Ontology ; owl:imports <{url}/ontology.ttl> .
            <http://ex.example/a> a <http://ex.example/C> .""", format="turtle")
        shapes = rdflib.Graph().parse(data=f"""@prefix sh: <http://www.w3.org/ns/shacl#> .
            @prefix owl: <http://www.w3.org/2002/07/owl#> .
            <http://ex.example/shapes> a owl:Ontology ; owl:imports <{url}/shapes.ttl> .
            <http://ex.example/S> a sh:NodeShape ; sh:targetClass <http://ex.example/C> ;
                sh:property [ sh:path <http://ex.example/p> ; sh:minCount 1 ] .""", format="turtle")
        ontology = rdflib.Graph().parse(data=f"""@prefix owl: <http://www.w3.org/2002/07/owl#> .
            <http://ex.example/ont> a owl:Ontology ; owl:imports <{url}/more.ttl> .""", format="turtle")
        report = validate(data, shapes=shapes, ontology=ontology)
        assert report.counts["Violation"] == 1  # it ran, on what it was given
        assert not connection_arrived(sock)


# -- XML expansion ---------------------------------------------------------------------------------

def test_billion_laughs_is_refused_before_expansion() -> None:
    with pytest.raises(PayloadTooLarge) as err:
        parse_rdf(billion_laughs(), BY_NAME["rdfxml"], source="request body")
    assert err.value.status == 413 and "entities would expand" in err.value.message


def test_quadratic_blowup_is_refused() -> None:
    """One 100 KB entity referenced 100 times: no nesting, still 10 MB once expanded."""
    doc = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "{"x" * 100_000}">]><rdf:RDF {RDF_NS}>'
           f'<rdf:Description rdf:about="http://ex.example/a"><ex:p>{"&a;" * 100}</ex:p></rdf:Description></rdf:RDF>')
    with pytest.raises(PayloadTooLarge):
        parse_rdf(doc.encode(), BY_NAME["rdfxml"], source="body")


def test_recursive_entity_is_refused() -> None:
    doc = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "&b;"><!ENTITY b "&a;">]><rdf:RDF {RDF_NS}>&a;</rdf:RDF>'
    with pytest.raises(InputSyntaxError, match="refers to itself"):
        parse_rdf(doc.encode(), BY_NAME["rdfxml"], source="body")


def test_ordinary_entities_still_work() -> None:
    """OWL files in RDF/XML often abbreviate namespaces with entities: those parse as before."""
    doc = ('<?xml version="1.0"?><!DOCTYPE rdf:RDF [<!ENTITY ex "http://ex.example/"> '
           '<!ENTITY xsd "http://www.w3.org/2001/XMLSchema#">]>'
           f'<rdf:RDF {RDF_NS}><rdf:Description rdf:about="&ex;a"><ex:n rdf:datatype="&xsd;integer">3</ex:n>'
           '<!-- <ex:q> --><ex:q rdf:resource="&ex;b"/></rdf:Description></rdf:RDF>')
    quads = parse_rdf(doc.encode(), BY_NAME["rdfxml"], source="body")
    assert sorted(str(q.object) for q in quads) == ['"3"^^<http://www.w3.org/2001/XMLSchema#integer>',
                                                    "<http://ex.example/b>"]


def test_deep_rdfxml_nesting_is_refused() -> None:
    n = MAX_RDF_DEPTH
    doc = (f'<rdf:RDF {RDF_NS}><rdf:Description rdf:about="http://ex.example/a">'
           + "<ex:p><rdf:Description>" * n + "<ex:q>x</ex:q>" + "</rdf:Description></ex:p>" * n
           + "</rdf:Description></rdf:RDF>")
    with pytest.raises(InputSyntaxError, match="nests elements 257 levels deep"):
        parse_rdf(doc.encode(), BY_NAME["rdfxml"], source="body")
    shallow = doc.replace("<ex:p><rdf:Description>" * n, "<ex:p><rdf:Description>" * 50, 1).replace(
        "</rdf:Description></ex:p>" * n, "</rdf:Description></ex:p>" * 50, 1)
    assert len(parse_rdf(shallow.encode(), BY_NAME["rdfxml"], source="body")) == 51


# -- size and shape --------------------------------------------------------------------------------

def test_huge_values_block_is_413(make_app: Any, store: Path) -> None:
    app = make_app(store=str(store), max_query_kb=64)
    query = "SELECT * WHERE { VALUES ?x { " + " ".join(f"<http://ex.example/{i}>" for i in range(5000)) + " } }"
    resp = app.test_client().post("/sparql", data=query, headers={"Content-Type": "application/sparql-query",
                                                                   "Accept": "application/json"})
    assert resp.status_code == 413
    assert "max_query_kb" in resp.get_json()["message"]


def test_body_over_max_body_mb_is_413(make_app: Any, store: Path) -> None:
    app = make_app(store=str(store), max_body_mb=0.01)
    resp = app.test_client().post("/sparql", data="ASK {}" + " " * 20000,
                                  headers={"Content-Type": "application/sparql-query"})
    assert resp.status_code == 413
    assert "max_body_mb" in resp.get_data(as_text=True)


@pytest.mark.parametrize("opening", ["{ ", "( ", "[ ?p "])
def test_deep_nesting_is_400(happ: Flask, opening: str) -> None:
    closing = {"{ ": " }", "( ": " )", "[ ?p ": " ]"}[opening]
    query = "SELECT * WHERE { ?s ?p " + opening * 5000 + "?o" + closing * 5000 + " }"
    resp = happ.test_client().post("/sparql", data={"query": query}, headers={"Accept": "application/json"})
    assert resp.status_code == 400
    assert "levels of brackets" in resp.get_json()["message"]


def test_nesting_that_overflowed_the_parser_is_answered(make_app: Any, store: Path) -> None:
    """pyoxigraph's parser overflows a default 8 MiB native stack at ~2,500 nested groups, which
    ends the process. With the guard lifted, the query threads' stack parses 3,000 and answers."""
    app = make_app(store=str(store), max_query_depth=100000)
    client = app.test_client()
    deep = "SELECT * WHERE " + "{ " * 3000 + "?s ?p ?o" + " }" * 3000
    resp = client.post("/sparql", data={"query": deep}, headers={"Accept": "application/json"})
    assert resp.status_code == 200 and resp.get_json()["results"]["bindings"]
    after = client.get("/sparql?query=" + "ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D", headers={"Accept": "application/json"})
    assert after.status_code == 200 and after.get_json()["boolean"] is True


@pytest.mark.parametrize("chain", ["!" * 30000 + "?o", "1" + "+1" * 12000, "?o" + " && ?o" * 12000])
def test_flat_operator_chains_are_answered(make_app: Any, store: Path, chain: str) -> None:
    """No brackets, so under the depth limit, but chains of 8,000-30,000 operators overflowed a
    default native stack too (the process ended); on the query threads' stack they are answered."""
    app = make_app(store=str(store), query_timeout_s=120.0)
    client = app.test_client()
    query = "SELECT * WHERE { ?s ?p ?o FILTER(" + chain + ") } LIMIT 1"
    resp = client.post("/sparql", data={"query": query}, headers={"Accept": "application/json"})
    assert resp.status_code == 200 and "results" in resp.get_json()
    assert client.post("/sparql", data={"query": "ASK {}"}, headers={"Accept": "application/json"}).status_code == 200


# -- HTML security ---------------------------------------------------------------------------------

HTML_PATHS = ["/", "/sparql", "/doc/gyumri", "/doc/hostile-test-place", "/doc/markup-test-place", "/dataset",
              "/graph/outside", "/ontology", "/shapes", "/doc/no-such-thing"]


@pytest.mark.parametrize("path", HTML_PATHS)
def test_every_html_answer_has_the_security_headers(happ: Flask, path: str) -> None:
    resp = happ.test_client().get(path, headers={"Accept": "text/html"})
    assert resp.mimetype == "text/html", (path, resp.status_code)
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("path,accept", [("/sparql?query=ASK%7B%7D", "application/json"),
                                         ("/doc/gyumri", "text/turtle"), ("/healthz", "*/*"),
                                         ("/sparql?query=ASK%7B", "text/plain")])
def test_data_answers_are_never_sniffed(happ: Flask, path: str, accept: str) -> None:
    resp = happ.test_client().get(path, headers={"Accept": accept})
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in resp.headers


def test_script_iris_are_text_not_links(happ: Flask) -> None:
    from html.parser import HTMLParser

    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.hrefs: list[str] = []
            self.text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("a", "area", "form", "iframe", "img", "script"):
                self.hrefs += [v or "" for k, v in attrs if k in ("href", "src", "action", "formaction")]

        def handle_data(self, data: str) -> None:
            self.text.append(data)

    resp = happ.test_client().get("/doc/hostile-test-place", headers={"Accept": "text/html"})
    assert resp.status_code == 200
    parser = Links()
    parser.feed(resp.get_data(as_text=True))
    assert not [h for h in parser.hrefs if h.strip().lower().startswith(("javascript:", "data:", "vbscript:"))]
    text = "".join(parser.text)
    assert "javascript:window.__injected=true" in text  # shown, as text
    assert "<svg onload=" in text and "<i>Hostile</i> village" in text


@pytest.mark.parametrize("iri,expected", [
    ("https://www.wikidata.org/entity/Q1", "https://www.wikidata.org/entity/Q1"), ("/doc/x", "/doc/x"),
    ("javascript:alert(1)", None), ("JAVASCRIPT:alert(1)", None), ("java\tscript:alert(1)", None),
    (" javascript:alert(1)", None), ("data:text/html,x", None), ("//evil.example/", None), ("vbscript:x", None),
    ("urn:isbn:1", None), ("", None)])
def test_safe_href(iri: str, expected: str | None) -> None:
    assert safe_href(iri) == expected


def test_fixture_store_holds_the_hostile_data(happ: Flask) -> None:
    resp = happ.test_client().get("/sparql?query=" + "SELECT%20%3Fo%20WHERE%20%7B%20%3Chttps%3A%2F%2Fkars-gyumri."
                                  "example.org%2Fid%2Fhostile-test-place%3E%20%3Chttp%3A%2F%2Fwww.w3.org%2F2000%2F01"
                                  "%2Frdf-schema%23seeAlso%3E%20%3Fo%20%7D", headers={"Accept": "application/json"})
    values = sorted(b["o"]["value"].split(":")[0].lower() for b in json.loads(resp.data)["results"]["bindings"])
    assert values == ["data", "javascript", "javascript"]


@pytest.mark.parametrize("query", ["À", "SELECT * WHERE { ?s ?p ?o À }", "ÀSK {}", "SELECT ?x WHERE { BIND(1 AS ?x) } İ"])
def test_regression_non_ascii_letter_outside_strings_is_not_a_500(happ: Flask, query: str) -> None:
    """Found by test_fuzz: the guard's scanner asserted that every letter starts an ASCII word."""
    resp = happ.test_client().post("/sparql", data={"query": query}, headers={"Accept": "application/json"})
    assert resp.status_code == 400 and resp.get_json()["error"] == "Malformed query"
