"""The change log as people and programs read it: pages of changes with their diffs, filters, one
change and its patch, a resource's facts with the change that added them; and what a page or a
write reads of a log of 10,000 changes."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib

from server import namespaces as ns
from server.curation.changelog import activity_quads, activity_iri, head_quads, new_activity_id
from server.curation.patches import Patch, PatchLog, parse_patch
from server.curation.store_access import Lease
from server.curation.writes import Change, Target

from .conftest import copy_store

TOKEN = "history-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PFX = f"PREFIX kgo: <{ns.KGO}> PREFIX kg: <{ns.ID}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
G1, G2 = ns.GRAPH + "history-one", ns.GRAPH + "history-two"


class Rows(HTMLParser):
    """The history table: change ids in order, the diff lines of each, the next page's link."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.diff: dict[str, list[str]] = {}
        self.next: str | None = None
        self._in: str | None = None
        self._li: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and a.get("class") == "change":
            self.ids.append(a["data-id"] or "")
        if tag == "tr" and a.get("class") == "rows":
            self._in = a["data-for"]
            self.diff[self._in or ""] = []
        if tag == "li" and self._in and a.get("class") in ("added", "removed"):
            self._li = [a["class"] or ""]
        if tag == "a" and a.get("rel") == "next":
            self.next = a["href"]

    def handle_data(self, data: str) -> None:
        if self._li is not None:
            self._li.append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._li is not None and self._in:
            self.diff[self._in].append(" ".join(p for p in self._li if p))
            self._li = None
        if tag == "tr":
            self._in = None if self._li is None else self._in


def page(client: Any, url: str) -> Rows:
    r = client.get(url, headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    rows = Rows()
    rows.feed(r.text)
    return rows


@pytest.fixture(scope="module")
def written(make_app: Any, built: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Six changes: three towns in one graph, two in another, one label change of Gyumri."""
    store = copy_store(built, tmp_path_factory.mktemp("history"))
    app = make_app(store=str(store), write_token=TOKEN)
    client = app.test_client()
    ids = []
    for i, graph in enumerate([G1, G1, G2, G1, G2]):
        r = client.post("/sparql", data={"update": PFX + f'INSERT DATA {{ GRAPH <{graph}> {{ kg:history-town-{i} a kgo:City ; '
                                                          f'rdfs:label "History town {i}"@en }} }}'}, headers=AUTH)
        assert r.status_code == 200, r.text
        ids.append(r.headers["KG-Change"].rsplit("/", 1)[-1])
    r = client.post("/sparql", data={"update": PFX + f'DELETE DATA {{ GRAPH <{ns.G_ARTICLE}> {{ kg:gyumri rdfs:label "Gyumri"@en }} }} ; '
                                                      f'INSERT DATA {{ GRAPH <{ns.G_ARTICLE}> {{ kg:gyumri rdfs:label "Gyumri (renamed)"@en ; '
                                                      f'kgo:dateAsWritten "since 1924" }} }}'}, headers=AUTH)
    assert r.status_code == 200, r.text
    ids.append(r.headers["KG-Change"].rsplit("/", 1)[-1])
    return {"app": app, "client": client, "ids": ids, "store": store}


def test_pages_are_newest_first_and_follow_on_without_gaps(written: dict[str, Any]) -> None:
    client, ids = written["client"], written["ids"]
    seen: list[str] = []
    url: str | None = "/history?limit=4"
    while url:
        rows = page(client, url)
        assert len(rows.ids) <= 4
        seen += rows.ids
        url = rows.next
    assert seen == sorted(seen, reverse=True)
    assert seen[:len(ids)] == list(reversed(ids))   # the module's changes are the newest


@pytest.mark.parametrize("query, expected", [
    (f"graph={G1}", [0, 1, 3]), (f"graph={G2}", [2, 4]), (f"resource={ns.ID}history-town-2", [2]),
    (f"resource={ns.ID}gyumri", [5]), ("curator=curator", [0, 1, 2, 3, 4, 5]), ("curator=nobody", [])])
def test_filters(written: dict[str, Any], query: str, expected: list[int]) -> None:
    rows = page(written["client"], "/history?" + query)
    assert rows.ids == [written["ids"][i] for i in reversed(expected)]


def test_each_change_shows_its_diff_with_labels(written: dict[str, Any]) -> None:
    rows = page(written["client"], "/history")
    diff = rows.diff[written["ids"][5]]
    assert any(line.startswith("removed") and "Gyumri (renamed) rdfs:label" in line and '"Gyumri"@en' in line for line in diff), diff
    assert any(line.startswith("added") and '"Gyumri (renamed)"@en' in line for line in diff), diff
    assert any("History town 4 rdf:type city" in line for line in rows.diff[written["ids"][4]]), rows.diff[written["ids"][4]]


def test_a_change_as_rdf_patch_and_the_page_as_prov(written: dict[str, Any]) -> None:
    client, change = written["client"], written["ids"][5]
    r = client.get(f"/history/{change}", headers={"Accept": "application/rdf-patch"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/rdf-patch"
    patch = parse_patch(r.text, "answer").patch
    assert patch.iri == activity_iri(ns.DEFAULT_BASE, change)
    assert {str(q.object) for q in patch.removed} == {'"Gyumri"@en'}
    assert {str(q.object) for q in patch.added} == {'"Gyumri (renamed)"@en', '"since 1924"'}
    r = client.get("/history?limit=2", headers={"Accept": "text/turtle"})
    assert r.headers["Content-Type"] == "text/turtle; charset=utf-8" and 'rel="next"' in r.headers["Link"]
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    assert set(g.subjects(rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/prov#Activity"))) == \
        {rdflib.URIRef(activity_iri(ns.DEFAULT_BASE, c)) for c in written["ids"][-2:]}
    assert client.get("/history/20990101T000000000000Z-abcdef").status_code == 404
    assert client.get("/history?graph=not an iri").status_code == 400
    assert client.get("/history?before=drop-table").status_code == 400


def test_a_resource_page_says_which_change_added_each_fact(written: dict[str, Any]) -> None:
    client, change = written["client"], written["ids"][5]
    html = client.get("/doc/gyumri", headers={"Accept": "text/html"}).text
    since = re.search(r'since 1924.*?<a class="since" href="/history/([^"]+)"[^>]*>added ([^<]+)</a>', html, re.S)
    assert since and since.group(1) == change and since.group(2).endswith("by curator"), html[html.find("since 1924") - 200:][:600]
    assert f'href="/history/{change}"' in html[html.find('id="changes"'):]
    assert '"Gyumri"@en' in unescape(html[html.find('id="changes"'):])   # the removed label, and by which change


# -- a long log -----------------------------------------------------------------------------------

N_CHANGES = 10_000


@pytest.fixture(scope="module")
def long_log(make_app: Any, built: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A store whose log holds 10,000 one-triple changes of Gyumri (written straight into the store the
    app holds: making them through the write path would take minutes), and a plan of one write made
    before."""
    store = copy_store(built, tmp_path_factory.mktemp("long-log"))
    app = make_app(store=str(store), write_token=TOKEN)
    cur = app.extensions["curation"]
    probe = Change("sparql-update", update=PFX + f'INSERT DATA {{ GRAPH <{G1}> {{ kg:probe-town a kgo:City ; rdfs:label "Probe"@en }} }}')
    key, mem = cur.snapshot_store()
    before = cur.plan(probe, Target(Lease(mem), key, mem.update))
    log = PatchLog.beside(store)
    log.folder.mkdir(parents=True, exist_ok=True)
    quads: list[ox.Quad] = []
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    previous = None
    for i in range(N_CHANGES):
        at = start + timedelta(seconds=i)
        change_id = new_activity_id(at)
        q = ox.Quad(ox.NamedNode(ns.ID + "gyumri"), ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment"),
                    ox.Literal(f"note {i}"), ox.NamedNode(G2))
        patch = Patch(change_id, activity_iri(ns.DEFAULT_BASE, change_id), "sparql-update", ["alice", "bob"][i % 2],
                      at, at, [G2], [], [q], previous=previous)
        log.path(change_id).write_text(patch.text(), encoding="utf-8")
        quads += [q, *activity_quads(patch, ns.DEFAULT_BASE)]
        previous = patch.iri
    quads += head_quads(patch, ns.DEFAULT_BASE)
    quads.append(ox.Quad(ox.NamedNode(ns.G_CHANGELOG), ox.NamedNode(ns.DEFAULT_BASE + "changelog#lastChange"),
                         ox.NamedNode(patch.iri), ox.NamedNode(ns.G_CHANGELOG)))
    with app.extensions["kg"].engine.writable_store(store.resolve()) as st:   # the app holds it read-write
        st.bulk_extend(quads)
    return {"app": app, "client": app.test_client(), "before": before, "probe": probe, "last": patch.id}


@pytest.fixture()
def patch_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every patch file the history reads (counted, not changed)."""
    reads: list[str] = []
    original = Path.read_text

    def counting(self: Path, *args: Any, **kwargs: Any) -> str:
        if self.suffix == ".rdfp":
            reads.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counting)
    return reads


def test_a_page_of_a_long_log_reads_one_page_of_it(long_log: dict[str, Any], patch_reads: list[str]) -> None:
    rows = page(long_log["client"], "/history")
    assert len(rows.ids) == 20 and rows.ids[0] == long_log["last"] and rows.next
    assert len(patch_reads) == 20
    patch_reads.clear()
    older = page(long_log["client"], rows.next)
    assert len(older.ids) == 20 and older.ids[0] < rows.ids[-1] and len(patch_reads) == 20
    patch_reads.clear()
    html = long_log["client"].get("/history?curator=alice&limit=5", headers={"Accept": "text/html"}).text
    assert html.count(">alice</a>") == 5 and ">bob</a>" not in html and len(patch_reads) == 5


def test_regression_a_page_of_the_largest_size_reads_the_chain_within_the_query_guard(
        long_log: dict[str, Any]) -> None:
    """A page of 100 changes followed the log's chain with one query nesting an OPTIONAL per
    change: 103 levels of brackets, which the query guard (64) refuses for the service's own
    queries as for a client's. The chain is now read in pieces."""
    first = page(long_log["client"], "/history?limit=100")
    assert len(first.ids) == 100 and first.ids[0] == long_log["last"] and first.next
    second = page(long_log["client"], first.next)
    assert len(second.ids) == 100 and second.ids[0] < first.ids[-1]
    assert len(set(first.ids + second.ids)) == 200


def test_a_resource_page_reads_only_its_newest_changes(long_log: dict[str, Any], patch_reads: list[str]) -> None:
    r = long_log["client"].get("/doc/gyumri", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert len(patch_reads) <= 20
    changes = r.text[r.text.find('id="changes"'):]
    assert changes.count('href="/history/2026') == 20
    assert "/doc/change/" not in r.text   # the log's links to the resource are not part of its description


def test_a_write_reads_what_it_changes_not_the_log(long_log: dict[str, Any]) -> None:
    cur = long_log["app"].extensions["curation"]
    key, mem = cur.snapshot_store()
    after = cur.plan(long_log["probe"], Target(Lease(mem), key, mem.update))
    before = long_log["before"]
    assert (after.focus_nodes, after.read_quads) == (before.focus_nodes, before.read_quads)
    r = long_log["client"].post("/sparql", data={"update": long_log["probe"].update}, headers=AUTH)
    assert r.status_code == 200
    activity = r.headers["KG-Change"]
    head = long_log["client"].get("/sparql", query_string={"query": f"ASK {{ <{activity}> <http://www.w3.org/ns/prov#wasInformedBy> "
                                                                    f"<{activity_iri(ns.DEFAULT_BASE, long_log['last'])}> }}"},
                                  headers={"Accept": "application/sparql-results+json"})
    assert head.json["boolean"]    # the log's head was found in one lookup
