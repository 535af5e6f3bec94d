"""Search: `/search?q=` as a page and as JSON, over names, other names and the article's text,
case and accent insensitive, backed by the index `kg build` writes and the write path keeps current."""
from __future__ import annotations

import sqlite3
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from server import namespaces as ns
from server.build.pipeline import BuildResult
from server.search.index import index_file

from .conftest import OTHER_BASE

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RDFS = "http://www.w3.org/2000/01/rdf-schema#"


def hits(client: Any, q: str, **params: Any) -> dict[str, Any]:
    r = client.get("/search", query_string={"q": q, "format": "json", **params})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    return r.json


class Results(HTMLParser):
    """The result list of the search page: each hit's link, kind and marked words."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.kinds: list[str] = []
        self.marks: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "h2" and self._in == "hits":
            self._in = "title"
        elif tag == "a" and self._in == "title":
            self.links.append(a["href"] or "")
        elif tag == "ol" and a.get("class") == "hits":
            self._in = "hits"
        elif tag == "div" and a.get("class") == "kind":
            self.kinds.append("")
            self._in = "kind"
        elif tag == "mark" and self._in == "hits":
            self.marks.append("")
            self._in = "mark"

    def handle_endtag(self, tag: str) -> None:
        if (tag, self._in) in (("h2", "title"), ("div", "kind"), ("mark", "mark")):
            self._in = "hits"
        elif tag == "ol":
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "kind" and self.kinds:
            self.kinds[-1] += data
        elif self._in == "mark":
            self.marks[-1] += data


@pytest.mark.parametrize("q", ["erdogan", "ERDOGAN", "Erdoğan", "erdoğan", "recep tayyip erd"])
def test_a_name_is_found_whatever_its_case_and_accents(client: Any, q: str) -> None:
    found = hits(client, q)
    first = found["hits"][0]
    assert first["iri"] == ns.ID + "recep-tayyip-erdogan"
    assert first["href"] == "/doc/recep-tayyip-erdogan" and first["label"] == "Recep Tayyip Erdogan"
    assert first["type"] == "person"
    marked = [first["quote"][start:end] for start, end in first["highlights"]]
    assert "Erdogan" in marked   # the quote that mentions him, the name marked
    assert client.get(first["href"], headers={"Accept": "text/html"}).status_code == 200


def test_nothing_is_invented(client: Any) -> None:
    assert hits(client, "gumru") == {"query": "gumru", "total": 0, "offset": 0, "limit": 20, "hits": []}
    page = client.get("/search?q=gumru", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Nothing in the graph is named or described with “gumru”" in page.text


def test_diacritics_in_the_data_do_not_matter(client: Any) -> None:
    for q in ("turkiye today", "Türkiye Today", "TURKİYE TODAY"):
        assert hits(client, q)["hits"][0]["iri"] == ns.ID + "turkiye-today", q


def test_words_of_the_article_text_find_the_article_with_the_sentence(client: Any) -> None:
    """"Newsletters" is in the article's text only (page chrome), in no name."""
    (hit,) = hits(client, "newsletters")["hits"]
    assert hit["type"] == "news article" and hit["href"] == "/doc/article-kars-gyumri-second-round"
    start, end = hit["highlights"][0]
    assert hit["quote"][start:end].lower() == "newsletters"


def test_the_page_links_each_hit_and_shows_its_type_and_quote(client: Any) -> None:
    r = client.get("/search?q=gyumri", headers={"Accept": "text/html,*/*;q=0.8"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8"
    page = Results()
    page.feed(r.text)
    assert page.links[0] == "/doc/gyumri" and page.kinds[0].startswith("city")
    assert len(page.links) == len(page.kinds) == min(20, hits(client, "gyumri")["total"])
    assert {m.lower() for m in page.marks} == {"gyumri"}
    assert 'value="gyumri"' in r.text   # the header's box shows what was searched


def test_ontology_terms_and_other_names_are_found(client: Any) -> None:
    assert hits(client, "technical talks")["hits"][0]["href"] in ("/ontology#TechnicalTalks",
                                                                  "/doc/second-round-technical-talks")
    assert any(h["href"] == "/ontology#TechnicalTalks" for h in hits(client, "technical talks", limit=50)["hits"])
    # skos:altLabel "Armenian PM": Pashinyan's post, found by its other name
    assert any(h["iri"].startswith(ns.ID) for h in hits(client, "armenian pm")["hits"])


def test_paging_and_negotiation(client: Any) -> None:
    everything = hits(client, "erdogan", limit=50)["hits"]
    assert [h["iri"] for h in hits(client, "erdogan", limit=5, offset=5)["hits"]] == [h["iri"] for h in everything[5:10]]
    assert client.get("/search?q=erdogan", headers={"Accept": "application/json"}).headers["Content-Type"] == "application/json"
    r = client.get("/search?q=erdogan", headers={"Accept": "text/turtle"})
    assert r.status_code == 406 and "application/json" in r.text


@pytest.mark.parametrize("params, says", [({"limit": "0"}, "limit='0'"), ({"limit": "x"}, "limit='x'"),
                                          ({"offset": "-3"}, "offset='-3'"), ({"q": "x" * 201}, "201 characters")])
def test_bad_parameters_say_what_to_change(client: Any, params: dict[str, str], says: str) -> None:
    r = client.get("/search", query_string={"q": "erdogan", **params})
    assert r.status_code == 400 and says in r.text


@pytest.mark.parametrize("q", ['"', "NEAR(a b)", "a OR b AND", "*", "-", "col:x", "^x", "'", "(", "\\"])
def test_search_syntax_typed_by_a_person_is_text(client: Any, q: str) -> None:
    r = client.get("/search", query_string={"q": q, "format": "json"})
    assert r.status_code == 200


def test_kg_build_writes_the_index_beside_the_store(built: BuildResult) -> None:
    path = index_file(Path(built.store_path))
    assert path.exists()
    con = sqlite3.connect(path)
    try:
        (n,) = con.execute("SELECT count(*) FROM things WHERE iri = ?", (ns.ID + "gyumri",)).fetchone()
        (fts,) = con.execute("SELECT count(*) FROM words WHERE words MATCH 'gyumri'").fetchone()
    finally:
        con.close()
    assert n == 1 and fts > 1


def test_an_index_for_another_base_is_rebuilt_for_the_served_one(make_app: Any, other_base_store: Path) -> None:
    """The other-base store was published without knowing its base: the first search indexes it again."""
    client = make_app(store=str(other_base_store), base_iri=OTHER_BASE).test_client()
    first = hits(client, "erdogan")["hits"][0]
    assert first["iri"] == OTHER_BASE + "id/recep-tayyip-erdogan" and first["href"] == "/doc/recep-tayyip-erdogan"


@pytest.fixture(scope="module")
def wclient(make_app: Any, private_store: Path) -> Any:
    return make_app(store=str(private_store), write_token=TOKEN).test_client()


def write(client: Any, update: str) -> None:
    r = client.post("/sparql", data={"update": f"PREFIX rdfs: <{RDFS}> PREFIX kg: <{ns.ID}> " + update},
                    headers=AUTH)
    assert r.status_code in (200, 201), r.text


def test_a_write_is_searchable_at_once_and_its_removal_too(wclient: Any, private_store: Path) -> None:
    """The write path updates the index: a new name (with a letter that has no decomposition, the
    dotless ı) is found by its plain spelling, a removed one no longer."""
    assert hits(wclient, "agri")["total"] == 0
    index = index_file(private_store.resolve())
    before = index.stat().st_ino
    graph = ns.GRAPH + "curated"
    write(wclient, f'INSERT DATA {{ GRAPH <{graph}> {{ kg:agri a <{ns.KGO}Place> ; rdfs:label "Ağrı"@en }} }}')
    (hit,) = hits(wclient, "agri")["hits"]
    assert hit["iri"] == ns.ID + "agri" and hit["label"] == "Ağrı" and hit["type"] == "place"
    assert index.stat().st_ino == before   # updated in place, not rebuilt
    write(wclient, f'INSERT DATA {{ GRAPH <{graph}> {{ kg:gyumri <http://www.w3.org/2004/02/skos/core#altLabel> "Gümrü"@tr }} }}')
    assert hits(wclient, "gumru")["hits"][0]["iri"] == ns.ID + "gyumri"
    write(wclient, f'DELETE DATA {{ GRAPH <{graph}> {{ kg:agri a <{ns.KGO}Place> ; rdfs:label "Ağrı"@en }} }}')
    assert hits(wclient, "agri")["total"] == 0
    assert index.stat().st_ino == before
