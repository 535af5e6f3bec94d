"""The query UI: YASGUI served from our host, against a real `kg serve`, in Debian's chromium.

Every test records the browser's requests and console: the page must contact no other host
(it must work offline) and log no error.
"""
from __future__ import annotations

import csv
import html.parser
import io
import json
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from server import namespaces as ns

from .conftest import ROOT, LiveServer

ONTOLOGY_GRAPH_QUERY = (f"SELECT ?g WHERE {{ GRAPH ?g {{ <{ns.ONTOLOGY}> a <http://www.w3.org/2002/07/owl#Ontology> }} }}")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class _Page(html.parser.HTMLParser):
    """Collects what the tests look at in the page's HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.forms: list[dict[str, str]] = []
        self.fields: list[str] = []
        self.examples: list[str] = []
        self._in_config = False
        self.config_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        if tag == "script" and a.get("id") == "kg-config":
            self._in_config = True
        if tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(a["href"])
        if tag == "form":
            self.forms.append(a)
        if tag in ("textarea", "select", "input") and a.get("name"):
            self.fields.append(a["name"])
        if tag == "a" and "example" in a.get("class", "").split():
            self.examples.append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        self._in_config = False if tag == "script" else self._in_config

    def handle_data(self, data: str) -> None:
        if self._in_config:
            self.config_text += data


def parse_page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


# -- the page's HTML, through the test client (no browser) --------------------------------

def test_browser_gets_the_query_page_with_local_assets(client: FlaskClient, app) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/sparql", headers={"Accept": BROWSER_ACCEPT})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    page = parse_page(resp.get_data(as_text=True))
    for src in page.scripts + page.stylesheets:
        assert not urlsplit(src).netloc, f"{src} is not served by this host"
        with client.get(src) as asset:
            assert asset.status_code == 200, src
    assert any("/static/vendor/yasgui/yasgui.min.js" in s for s in page.scripts)
    config = json.loads(page.config_text)
    assert config["endpoint"] == "/sparql"
    kg = app.extensions["kg"]
    assert config["prefixes"] == kg.prefixes
    for prefix, iri in kg.prefixes.items():
        assert f"PREFIX {prefix}: <{iri}>" in config["defaultQuery"]
    assert [e["name"] for e in config["examples"]] == [e["name"] for e in kg.examples]


def test_plain_form_is_the_fallback(client: FlaskClient) -> None:
    page = parse_page(client.get("/sparql", headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True))
    form = next(f for f in page.forms if f.get("id") == "plain-form")
    assert form["method"] == "post" and form["action"] == "/sparql"
    assert {"query", "format"} <= set(page.fields)
    # what the browser sends when the form is submitted
    resp = client.post("/sparql", data={"query": ONTOLOGY_GRAPH_QUERY, "format": "csv"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert list(csv.reader(io.StringIO(resp.get_data(as_text=True)))) == [["g"], [ns.G_ONTOLOGY]]


def test_example_links_run_their_query_without_javascript(client: FlaskClient, app) -> None:  # type: ignore[no-untyped-def]
    examples = app.extensions["kg"].examples
    page = parse_page(client.get("/sparql", headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True))
    assert len(page.examples) == len(examples)
    for href in page.examples:
        resp = client.get(href)
        assert resp.status_code == 200, href


def test_vendor_route_refuses_what_it_does_not_serve(client: FlaskClient) -> None:
    assert client.get("/static/vendor/nothing/x.js").status_code == 404
    assert client.get("/static/vendor/yasgui/../package.json").status_code == 404
    assert client.get("/static/vendor/yasgui/no-such-file.js").status_code == 404
    with client.get("/static/vendor/yasgui/yasgui.min.css") as css:
        assert css.status_code == 200 and css.mimetype == "text/css"


# -- in the browser, against the real server ---------------------------------------------


class Recorder:
    def __init__(self, page, origin: str) -> None:  # type: ignore[no-untyped-def]
        self.origin = origin
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def assert_clean(self) -> None:
        foreign = [u for u in self.requests if not (u.startswith(self.origin + "/") or u.startswith("data:"))]
        assert not foreign, f"requests to other hosts: {foreign}"
        assert not self.errors, f"console errors: {self.errors}"


@pytest.fixture()
def page(browser, live_server: LiveServer):  # type: ignore[no-untyped-def]
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.recorder = Recorder(pg, live_server.url)
    yield pg
    context.close()




@pytest.mark.browser
@pytest.mark.slow
def test_yasgui_runs_a_query_and_shows_the_table(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + "/sparql")
    page.wait_for_selector(".yasqe .CodeMirror")
    assert page.is_hidden("#plain-form")
    assert page.input_value(".yasgui input.autocomplete") == live_server.url + "/sparql"
    editor_text = page.evaluate("() => window.kgYasgui.getTab().getQuery()")
    assert f"PREFIX kgo: <{ns.KGO}>" in editor_text
    page.evaluate("q => window.kgYasgui.getTab().getYasqe().setValue(q)", ONTOLOGY_GRAPH_QUERY)
    page.click(".yasqe_queryButton")
    # the graph's IRI is shown, and links to its page on this server (not to the canonical host)
    cell = page.wait_for_selector(".yasr table.dataTable tbody td a[href='/graph/ontology']")
    assert cell is not None and ns.G_ONTOLOGY in cell.inner_text()
    assert page.locator(".yasr table.dataTable tbody tr").count() == 1
    page.recorder.assert_clean()


@pytest.mark.browser
@pytest.mark.slow
def test_example_opens_in_a_tab_and_runs(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    examples = sorted((ROOT / "tests" / "competency").glob("*.rq"))
    assert examples, "no competency questions in tests/competency: the UI has no examples to offer"
    first = examples[0]
    expected = list(csv.DictReader(io.StringIO(first.with_suffix(".csv").read_text(encoding="utf-8"))))
    page.goto(live_server.url + "/sparql")
    page.wait_for_selector(".yasqe .CodeMirror")
    page.click("a.example >> nth=0")
    page.wait_for_selector(f".yasgui .tabsList .tab.active >> text={first.stem}")
    if expected:
        page.wait_for_selector(".yasr table.dataTable tbody tr td")
        rows = page.locator(".yasr table.dataTable tbody tr").count()
        assert rows == len(expected)
    assert page.evaluate("() => window.kgYasgui.getTab().getQuery()") == first.read_text(encoding="utf-8")
    page.recorder.assert_clean()


@pytest.mark.browser
@pytest.mark.slow
def test_without_javascript_the_form_is_there(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False)
    try:
        pg = context.new_page()
        pg.goto(live_server.url + "/sparql")
        assert pg.is_visible("#plain-form textarea[name=query]")
        assert pg.locator("#yasgui .yasqe").count() == 0
    finally:
        context.close()
