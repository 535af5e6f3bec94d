"""Guarded writes: the token, validation before commit, the change log, undo, new sources."""
from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner

from server import namespaces as ns
from server.cli import main as kg_main
from server.curation.store_access import Lease
from server.curation.writes import Change, Target, as_stored, stored_form

from .conftest import ROOT, copy_store, dump_lines

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
G = ns.GRAPH + "curated"
KG = ns.ID
PFX = f"PREFIX kgo: <{ns.KGO}> PREFIX kg: <{ns.ID}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="module")
def wapp(make_app, private_store):  # type: ignore[no-untyped-def]
    return make_app(store=str(private_store), write_token=TOKEN)


@pytest.fixture()
def wclient(wapp):  # type: ignore[no-untyped-def]
    return wapp.test_client()


def ask(client, query: str) -> bool:  # type: ignore[no-untyped-def]
    r = client.get("/sparql", query_string={"query": PFX + query}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return bool(r.json["boolean"])


def update(client, text: str, headers=AUTH, **kw):  # type: ignore[no-untyped-def]
    return client.post("/sparql", data={"update": PFX + text}, headers=headers, **kw)


CITY = f'INSERT DATA {{ GRAPH <{G}> {{ kg:test-town a kgo:City ; rdfs:label "Test Town"@en }} }}'


@pytest.mark.parametrize("headers, status", [
    ({}, 401), ({"Authorization": "Bearer wrong"}, 403), ({"Authorization": f"Basic {TOKEN}"}, 401)])
def test_a_write_without_the_token_changes_nothing(wclient, private_store, headers, status) -> None:  # type: ignore[no-untyped-def]
    before = dump_lines(private_store)
    r = update(wclient, CITY, headers=headers)
    assert r.status_code == status
    if status == 401:
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert dump_lines(private_store) == before


def test_a_token_in_the_url_is_refused_and_not_echoed(wclient, private_store) -> None:  # type: ignore[no-untyped-def]
    before = dump_lines(private_store)
    r = wclient.post(f"/sparql?access_token={TOKEN}", data={"update": PFX + CITY}, headers=AUTH)
    assert r.status_code == 400 and TOKEN not in r.text
    r = wclient.put(f"/rdf-graph-store?graph={G}&token={TOKEN}", data="<a:b> <a:c> <a:d> .",
                    content_type="text/turtle", headers=AUTH)
    assert r.status_code == 400 and TOKEN not in r.text
    assert dump_lines(private_store) == before


def test_updates_are_refused_when_writes_are_off(client) -> None:  # type: ignore[no-untyped-def]
    assert update(client, CITY).status_code == 403


def test_an_accepted_update_is_stored_and_logged(wclient) -> None:  # type: ignore[no-untyped-def]
    r = update(wclient, CITY, headers={**AUTH, "Accept": "application/json"})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json["conforms"] is True
    change = r.headers["KG-Change"]
    assert ask(wclient, f'ASK {{ GRAPH <{G}> {{ kg:test-town a kgo:City }} }}')
    # the change log is queryable in SPARQL
    assert ask(wclient, f'ASK {{ GRAPH <{ns.G_CHANGELOG}> {{ <{change}> a <http://www.w3.org/ns/prov#Activity> ; '
                        f'<http://www.w3.org/ns/prov#wasAssociatedWith> ?a ; <http://www.w3.org/ns/prov#generated> <{G}> ; '
                        f'<{ns.DEFAULT_BASE}changelog#triplesAdded> 2 . ?a rdfs:label "curator" }} }}')
    # and shown on /history, as HTML and as RDF
    page = wclient.get("/history", headers={"Accept": "text/html"})
    ids = RowIds()
    ids.feed(page.text)
    assert change.rsplit("/", 1)[-1] in ids.ids
    turtle = wclient.get("/history", headers={"Accept": "text/turtle"})
    assert turtle.headers["Content-Type"] == "text/turtle; charset=utf-8"
    g = rdflib.Graph().parse(data=turtle.text, format="turtle")
    assert (rdflib.URIRef(change), rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/prov#Activity")) in g


class RowIds(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if tag == "tr" and a.get("class") == "change":
            self.ids.append(a["data-id"] or "")


def test_a_violating_update_is_rejected_with_the_report_and_the_store_is_byte_for_byte_the_same(
        wclient, private_store) -> None:  # type: ignore[no-untyped-def]
    before = dump_lines(private_store)
    r = update(wclient, f'INSERT DATA {{ GRAPH <{G}> {{ kg:unnamed-town a kgo:City }} }}',
               headers={**AUTH, "Accept": "application/json"})
    assert r.status_code == 422
    body = r.json
    assert body["conforms"] is False
    assert any(res["focus"] == KG + "unnamed-town" and res["path"].endswith("#label") for res in body["results"])
    r = update(wclient, f'INSERT DATA {{ GRAPH <{G}> {{ kg:unnamed-town a kgo:City }} }}',
               headers={**AUTH, "Accept": "text/turtle"})
    assert r.status_code == 422 and r.headers["Content-Type"] == "text/turtle; charset=utf-8"
    report = rdflib.Graph().parse(data=r.text, format="turtle")
    assert (None, rdflib.SH.focusNode, rdflib.URIRef(KG + "unnamed-town")) in report
    assert dump_lines(private_store) == before


def test_a_write_with_only_warnings_is_applied_and_the_warnings_returned(wclient) -> None:  # type: ignore[no-untyped-def]
    claim = KG + "claim-turkiye-second-round-held"
    day = '"2025-11-26"^^<http://www.w3.org/2001/XMLSchema#date>'
    # the value and its statement record change together (a record about a triple its graph no
    # longer states would be a Violation)
    r = update(wclient, f'PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> '
                        f'DELETE {{ GRAPH ?g {{ <{claim}> kgo:statementDate ?d . ?r rdf:object ?d }} }} '
                        f'INSERT {{ GRAPH ?g {{ <{claim}> kgo:statementDate {day} . ?r rdf:object {day} }} }} '
                        f'WHERE {{ GRAPH ?g {{ <{claim}> kgo:statementDate ?d . '
                        f'?r rdf:subject <{claim}> ; rdf:predicate kgo:statementDate ; rdf:object ?d }} }}',
               headers={**AUTH, "Accept": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json["counts"]["Warning"] >= 1
    assert any(res["focus"] == claim and res["severity"] == "Warning" for res in r.json["results"])
    assert ask(wclient, f'ASK {{ <{claim}> kgo:statementDate "2025-11-26"^^<http://www.w3.org/2001/XMLSchema#date> }}')


@pytest.mark.parametrize("text, status", [
    (f'INSERT DATA {{ GRAPH <{ns.G_SHAPES}> {{ kg:a rdfs:label "x" }} }}', 403),
    (f'INSERT DATA {{ GRAPH <{ns.G_CHANGELOG}> {{ kg:a rdfs:label "x" }} }}', 403),
    (f'DELETE WHERE {{ GRAPH <{ns.G_ONTOLOGY}> {{ ?s ?p ?o }} }}', 403),
    ('INSERT DATA { GRAPH <http://elsewhere.example/g> { kg:a rdfs:label "x" } }', 400),
    ('INSERT DATA { kg:a rdfs:label "x" }', 400),
    ('INSERT DATA { GRAPH <x:y> { kg:a rdfs:label "x" ', 400),
], ids=["shapes", "changelog", "ontology", "outside-base", "default-graph", "syntax"])
def test_bad_updates_get_a_precise_4xx_and_change_nothing(wclient, private_store, text, status) -> None:  # type: ignore[no-untyped-def]
    before = dump_lines(private_store)
    r = update(wclient, text, headers={**AUTH, "Accept": "application/json"})
    assert r.status_code == status, r.text
    assert r.json["message"]
    if text.endswith("' "):
        assert r.json["line"] == 1 and r.json["column"] > 1
    assert dump_lines(private_store) == before


def test_syntax_errors_give_line_and_column(wclient) -> None:  # type: ignore[no-untyped-def]
    r = wclient.post("/sparql", data="INSERT DATA {\n  <a:b> <a:c> \n}", content_type="application/sparql-update",
                     headers={**AUTH, "Accept": "application/json"})
    assert r.status_code == 400
    assert r.json["line"] == 3 and r.json["column"] >= 1


def test_blank_nodes_are_skolemised(wclient) -> None:  # type: ignore[no-untyped-def]
    r = wclient.post("/sparql", data=PFX + f'INSERT DATA {{ GRAPH <{G}> {{ kg:test-town rdfs:seeAlso [ rdfs:label "note" ] }} }}',
                     content_type="application/sparql-update", headers=AUTH)
    assert r.status_code == 200, r.text
    assert ask(wclient, f'ASK {{ GRAPH <{G}> {{ kg:test-town rdfs:seeAlso ?n . ?n rdfs:label "note" '
                        f'FILTER STRSTARTS(STR(?n), "{ns.DEFAULT_BASE}.well-known/genid/") }} }}')


def test_undo_reverts_a_change_once(wclient, private_store) -> None:  # type: ignore[no-untyped-def]
    assert update(wclient, f'INSERT DATA {{ GRAPH <{G}> {{ kg:undo-town a kgo:City ; rdfs:label "Gyumri"@en }} }}'
                  ).status_code == 200
    before = dump_lines(private_store)
    r = update(wclient, f'DELETE DATA {{ GRAPH <{G}> {{ kg:undo-town rdfs:label "Gyumri"@en }} }} ; '
                        f'INSERT DATA {{ GRAPH <{G}> {{ kg:undo-town rdfs:label "Gümrü"@en }} }}')
    assert r.status_code == 200, r.text
    assert int(r.headers["KG-Triples-Removed"]) == 1 and int(r.headers["KG-Triples-Added"]) == 1
    change_id = r.headers["KG-Change"].rsplit("/", 1)[-1]
    assert ask(wclient, 'ASK { kg:undo-town rdfs:label "Gümrü"@en }')
    assert wclient.post(f"/history/{change_id}/undo").status_code == 401
    r = wclient.post(f"/history/{change_id}/undo", headers=AUTH)
    assert r.status_code == 200, r.text
    assert ask(wclient, 'ASK { kg:undo-town rdfs:label "Gyumri"@en }')
    assert not ask(wclient, 'ASK { kg:undo-town rdfs:label "Gümrü"@en }')
    # every data graph is as before; only the change log grew
    after = dump_lines(private_store)
    assert [ln for ln in after if f"<{ns.G_CHANGELOG}>" not in ln] == \
        [ln for ln in before if f"<{ns.G_CHANGELOG}>" not in ln]
    assert wclient.post(f"/history/{change_id}/undo", headers=AUTH).status_code == 409
    assert wclient.post("/history/20990101T000000000000Z-abcdef/undo", headers=AUTH).status_code == 404


def _source_form(facts: bytes, slug: str) -> dict:  # type: ignore[type-arg]
    import io
    return {"text": (io.BytesIO((FIXTURES / "second-article.txt").read_bytes()), "second-article.txt", "text/plain"),
            "facts": (io.BytesIO(facts), "second-article.ttl", "text/turtle"), "slug": slug}


def test_a_second_article_is_added_and_its_facts_are_queryable(wclient) -> None:  # type: ignore[no-untyped-def]
    facts = (FIXTURES / "second-article.ttl").read_bytes()
    r = wclient.post("/sources", data=_source_form(facts, "test-wire-gyumri-inspection"), headers=AUTH)
    assert r.status_code == 201, r.text
    graph = ns.GRAPH + "article/test-wire-gyumri-inspection"
    assert r.headers["Location"] == "/graph/article/test-wire-gyumri-inspection"   # served here, not on the canonical host
    assert wclient.get(r.headers["Location"], headers={"Accept": "text/turtle"}).status_code == 200
    assert ask(wclient, f'ASK {{ GRAPH <{graph}> {{ kg:gyumri-station-inspection kgo:location kg:gyumri ; '
                        f'kgo:date "2025-12-01"^^<http://www.w3.org/2001/XMLSchema#date> }} }}')
    text = (FIXTURES / "second-article.txt").read_text(encoding="utf-8")
    rows = wclient.get("/sparql", query_string={"query": PFX + f"SELECT ?t WHERE {{ GRAPH <{graph}> {{ ?a kgo:fullText ?t }} }}"},
                       headers={"Accept": "application/sparql-results+json"}).json["results"]["bindings"]
    assert [b["t"]["value"] for b in rows] == [text]
    again = wclient.post("/sources", data=_source_form(facts, "test-wire-gyumri-inspection"), headers=AUTH)
    assert again.status_code == 409


def test_evidence_that_does_not_match_the_new_text_is_rejected(wclient, private_store) -> None:  # type: ignore[no-untyped-def]
    before = dump_lines(private_store)
    facts = (FIXTURES / "second-article.ttl").read_bytes().replace(b'oa:start "54"', b'oa:start "55"')
    r = wclient.post("/sources", data=_source_form(facts, "wrong-offsets"), headers={**AUTH, "Accept": "application/json"})
    assert r.status_code == 422
    assert any(res["shape"] and "Evidence" in json.dumps(res) for res in r.json["results"])
    assert dump_lines(private_store) == before


def test_kg_add_source_on_the_command_line(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = copy_store(built, tmp_path)
    runner = CliRunner()
    args = ["add-source", str(FIXTURES / "second-article.txt"), str(FIXTURES / "second-article.ttl"),
            "--slug", "cli-source", "--store", str(store)]
    result = runner.invoke(kg_main, args)
    assert result.exit_code == 0, result.output
    assert any(ns.GRAPH + "article/cli-source" in ln for ln in dump_lines(store))
    bad = tmp_path / "bad.ttl"
    bad.write_bytes((FIXTURES / "second-article.ttl").read_bytes().replace(b'oa:end "251"', b'oa:end "250"'))
    result = runner.invoke(kg_main, ["add-source", str(FIXTURES / "second-article.txt"), str(bad), "--slug", "cli-bad",
                                     "--store", str(store)])
    assert result.exit_code == 1
    assert not any(ns.GRAPH + "article/cli-bad" in ln for ln in dump_lines(store))


NON_CANONICAL = [  # as a store that keeps literals as written holds them (Virtuoso does)
    ('"5"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger>', '"5"^^<http://www.w3.org/2001/XMLSchema#integer>'),
    ('"1"^^<http://www.w3.org/2001/XMLSchema#boolean>', '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'),
    ('"2025-11-28T10:00:00.500Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>',
     '"2025-11-28T10:00:00.5Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>'),
]


def _quad(obj: str) -> ox.Quad:
    return next(iter(ox.parse(f"<{KG}forms-town> <{ns.KGO}x> {obj} <{G}> .", format=ox.RdfFormat.N_QUADS)))


@pytest.mark.parametrize("written, canonical", NON_CANONICAL)
def test_deletions_name_a_literal_as_the_store_holds_it(written: str, canonical: str) -> None:
    """Changes are planned on an Oxigraph copy, which holds literals in canonical form; a DELETE
    sent to a store that keeps them as written must name the written form, or nothing is deleted."""
    held, planned = _quad(written), _quad(canonical)
    assert stored_form(held) == planned != held
    other = _quad('"kept"')
    assert as_stored([planned], [held, other]) == [held]
    assert as_stored([other], [held, other]) == [other]


def test_a_store_keeping_literals_as_written_sees_only_the_real_change(wapp) -> None:  # type: ignore[no-untyped-def]
    """The store's literals in non-canonical forms (as Virtuoso returns them): an unrelated insert plans
    no deletion, and deleting such a triple plans the deletion of its written form."""
    curation = wapp.extensions["curation"]
    key, mem = curation.snapshot_store()
    written = [_quad(w) for w, _c in NON_CANONICAL]
    held = list(mem) + written           # what the remote answers
    mem.extend(written)                  # the in-memory copy a write reads (canonical forms)
    target = Target(Lease(mem), key, mem.update, snapshot=held)
    town = f'INSERT DATA {{ GRAPH <{G}> {{ kg:other-town a kgo:City ; rdfs:label "Other Town"@en }} }}'
    plan = curation.plan(Change("update", update=PFX + town), target)
    assert plan.removed == [] and {q.subject.value for q in plan.added} == {f"{KG}other-town"}
    plan = curation.plan(Change("update", update=PFX + f"DELETE WHERE {{ GRAPH <{G}> {{ kg:forms-town kgo:x ?v }} }}"),
                         target)
    assert sorted(map(str, plan.removed)) == sorted(map(str, written))


def test_a_graph_write_is_judged_as_written(wclient, private_store) -> None:  # type: ignore[no-untyped-def]
    """The store would hold kgo:roundNumber "-01" as "-1"; the 422 shows what the curator sent."""
    before = dump_lines(private_store)
    body = (f'<{KG}odd-talks> a <{ns.KGO}TechnicalTalks> ; <http://www.w3.org/2000/01/rdf-schema#label> "talks"@en ;\n'
            f'  <{ns.KGO}roundNumber> "-01"^^<http://www.w3.org/2001/XMLSchema#integer> .\n')
    r = wclient.post(f"/rdf-graph-store?graph={G}", data=body,
                     headers={**AUTH, "Content-Type": "text/turtle", "Accept": "application/json"})
    assert r.status_code == 422, r.text
    (row,) = [res for res in r.json["results"] if res["path"] == ns.KGO + "roundNumber"]
    assert row["value"] == "-01"
    assert dump_lines(private_store) == before


@pytest.mark.parametrize("where, backwards", [
    ("GRAPH ?g { $this ex:p ?v , ?w }", False),            # a named graph per source is read forwards
    ('$this ex:p "a"^^ex:t', False),                       # the ^^ of a datatype is no inverse path
    ("?x ex:p $this", True),
    ("$this ^ex:p ?x", True),
    ("$this ex:a/^ex:b ?x", True),
    ("$this ex:p ?v FILTER NOT EXISTS { ?z ex:q $this }", True),
    ("{ SELECT ?x WHERE { ?x ex:p $this } }", True),
])
def test_which_sparql_constraints_read_backwards(where: str, backwards: bool) -> None:
    """Decided on rdflib's parse of the constraint, not on its text (a write validates the whole
    graph when one reads backwards)."""
    from server.curation.locality import sparql_reads

    assert sparql_reads(f"PREFIX ex: <http://e/> SELECT $this WHERE {{ {where} }}").local is not backwards


def test_the_project_shapes_allow_local_validation(shapes: rdflib.Graph) -> None:
    """Regression: the per-source shapes' `GRAPH ?g { $this …` was read as `$this` in object position,
    and every write validated the whole graph."""
    from server.curation.locality import shape_reads

    assert shape_reads(shapes).local
