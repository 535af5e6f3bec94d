"""Every kind of page in Debian's chromium, at a phone's width (360 px) and a laptop's (1366 px),
and in the dark colour scheme: no console error, nothing wider than the window, no accessibility violation
that axe-core finds, no request to another host. Each page is saved under
test-output/pages/ for a person to look at.

axe-core comes from npm (a devDependency) and is evaluated in the page through the DevTools
protocol, which the pages' Content-Security-Policy does not apply to; the policy itself stays
in force for everything the page loads.
"""
from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from server import namespaces as ns

from .conftest import ROOT, LiveServer, TwoSources, copy_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-output" / "pages"
TOKEN = "site-browser-token"
WIDTHS = (360, 1366)

MAP_QUERY = """#defaultView:Map
PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?place ?label ?wkt WHERE { ?place geo:hasGeometry/geo:asWKT ?wkt ; rdfs:label ?label }"""
TIMELINE_QUERY = f"""#defaultView:Timeline
PREFIX kgo: <{ns.KGO}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?event ?date ?label WHERE {{ ?event kgo:date ?date ; rdfs:label ?label }}"""

# name -> path: one page of each kind
PAGES = {
    "home": "/",
    "place": "/doc/gyumri",
    "event": "/doc/second-round-technical-talks",
    "person": "/doc/recep-tayyip-erdogan",
    "graph": "/graph/outside",
    "dataset": "/dataset",
    "ontology": "/ontology",
    "search": "/search?q=erdogan",
    "search-empty": "/search?q=gumru",
    "not-found": "/doc/nothing-here",
    "query": "/sparql",
    "validate": "/validate",
    "coverage": "/validate/coverage",
    "history": "/history",
    "workbench": "/workbench",
}


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: run `scripts/setup.sh test` (npm devDependencies)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def server(built: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that accepts writes, over a private copy of the store: /history then has a change."""
    srv = LiveServer(copy_store(built, tmp_path_factory.mktemp("site-browser")), env={"KG_WRITE_TOKEN": TOKEN})
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def two_source_server(two_sources: TwoSources, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server over a copy of the store with the second report added: the talks page compares two sources."""
    folder = tmp_path_factory.mktemp("site-browser-two-sources")
    target = folder / "store.builds" / two_sources.store.resolve().name
    shutil.copytree(two_sources.store.resolve(), target)
    (folder / "store").symlink_to(target.relative_to(folder))
    srv = LiveServer(folder / "store")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def empty_history_server(built: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = LiveServer(copy_store(built, tmp_path_factory.mktemp("site-browser-empty")))
    yield srv
    srv.stop()


def write_one_change(server: LiveServer) -> None:
    import urllib.parse
    import urllib.request

    update = (f'PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> INSERT DATA {{ GRAPH <{ns.GRAPH}curated> '
              f'{{ <{ns.ID}gyumri> rdfs:comment "The second largest city of Armenia."@en }} }}')
    req = urllib.request.Request(server.url + "/sparql", data=urllib.parse.urlencode({"update": update}).encode(),
                                 headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.status == 200


class Watched:
    """A page with what it logged and asked for recorded."""

    def __init__(self, browser: Any, origin: str, width: int, scheme: str) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.width, self.scheme, self.origin = width, scheme, origin
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: None if r.url.startswith((origin + "/", "data:")) else self.foreign.append(r.url))

    def close(self) -> None:
        self.context.close()


@contextmanager
def using(browser: Any, server: LiveServer, width: int = 1366) -> Iterator[Any]:
    """A page to use the site with; afterwards nothing may have been logged as an error or asked
    of another host."""
    w = Watched(browser, server.url, width, "light")
    try:
        yield w.page
        assert w.errors == [] and w.foreign == [], (w.errors, w.foreign)
    finally:
        w.close()


def settle(page: Any, name: str) -> None:
    """Wait for what a page draws after loading: the query UI and a view of its results."""
    page.wait_for_load_state("networkidle")
    if name.startswith("query"):
        page.wait_for_selector(".yasqe .CodeMirror")
    if name in ("query-map", "query-timeline"):
        query = MAP_QUERY if name == "query-map" else TIMELINE_QUERY
        page.evaluate("q => { const t = window.kgYasgui.getTab(); t.setQuery(q); t.getYasqe().query(); }", query)
        page.wait_for_selector(".kg-map svg circle" if name == "query-map" else ".kg-timeline li")
    if name == "query-table":
        page.evaluate("q => { const t = window.kgYasgui.getTab(); t.setQuery(q); t.getYasqe().query(); }",
                      TIMELINE_QUERY.replace("#defaultView:Timeline", "#defaultView:Table"))
        wait_for_rows(page)
    time.sleep(0.3)


def wait_for_rows(page: Any) -> None:
    """Until the results table has cells (at 360 px some columns are hidden, so not "visible")."""
    page.wait_for_function("() => document.querySelectorAll('.yasr table.dataTable tbody td').length > 0")


def check(w: Watched, name: str, axe_source: str) -> list[str]:
    """Everything wrong with the page as it is now (an empty list when nothing is)."""
    page = w.page
    problems = []
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className)""")
        problems.append(f"{overflow}px wider than the window: {wide}")
    page.evaluate(axe_source + "\n;0")
    result = page.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    for v in result["violations"]:
        targets = [n["target"] for n in v["nodes"][:3]]
        problems.append(f"axe {v['id']} ({v['impact']}): {v['help']} at {targets}")
    if w.errors:
        problems.append(f"console errors: {w.errors}")
    if w.foreign:
        problems.append(f"requests to other hosts: {w.foreign}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{w.width}-{w.scheme}.png"), full_page=True)
    return problems


def visit(browser: Any, server: LiveServer, axe_source: str, name: str, path: str, width: int, scheme: str) -> None:
    w = Watched(browser, server.url, width, scheme)
    try:
        status = w.page.goto(server.url + path).status
        assert status == (404 if name == "not-found" else 200), f"{path}: {status}"
        if status == 404:   # chromium logs the page's own status as an error; any other 404 still counts
            w.errors.remove("Failed to load resource: the server responded with a status of 404 (NOT FOUND)")
        settle(w.page, name)
        problems = check(w, name, axe_source)
    finally:
        w.close()
    assert not problems, f"{name} at {width}px ({scheme}):\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def with_a_change(server: LiveServer) -> LiveServer:
    write_one_change(server)
    return server


@pytest.mark.parametrize("width, scheme", [(360, "light"), (1366, "light"), (1366, "dark")])
@pytest.mark.parametrize("name", list(PAGES) + ["query-table", "query-map", "query-timeline"])
def test_page_is_clean(browser: Any, with_a_change: LiveServer, axe_source: str, name: str, width: int,
                       scheme: str) -> None:
    visit(browser, with_a_change, axe_source, name, PAGES.get(name, "/sparql"), width, scheme)


@pytest.mark.parametrize("width", WIDTHS)
def test_history_without_changes_is_clean(browser: Any, empty_history_server: LiveServer, axe_source: str,
                                          width: int) -> None:
    visit(browser, empty_history_server, axe_source, "history-empty", "/history", width, "light")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_comparison_of_two_sources_is_clean(browser: Any, two_source_server: LiveServer, axe_source: str,
                                                width: int) -> None:
    visit(browser, two_source_server, axe_source, "event-two-sources", PAGES["event"], width, "light")


def test_the_comparison_shows_its_last_column_on_a_laptop(browser: Any, two_source_server: LiveServer) -> None:
    """At 1366 px the table of what each source says uses the page's width: the "Sources" column (agree,
    disagree) is in view without scrolling the table's frame."""
    with using(browser, two_source_server, 1366) as page:
        page.goto(two_source_server.url + PAGES["event"])
        fit = page.evaluate("""() => {
            const table = document.querySelector('table.compare'), frame = table.parentElement;
            const last = table.querySelector('thead th:last-child').getBoundingClientRect();
            const box = frame.getBoundingClientRect();
            return {scrolls: frame.scrollWidth - frame.clientWidth, lastRight: last.right, frameRight: box.right,
                    label: table.querySelector('thead th:last-child').textContent,
                    status: table.querySelector('tbody tr.disagree td.status').getBoundingClientRect().right};
        }""")
        assert fit["label"] == "Sources"
        assert fit["scrolls"] <= 0 and fit["lastRight"] <= fit["frameRight"] + 1 and fit["status"] <= 1366, fit


# -- using the site with the keyboard ---------------------------------------------------------------

def test_the_search_box_suggests_and_the_keyboard_chooses(browser: Any, server: LiveServer) -> None:
    with using(browser, server, 360) as page:
        page.goto(server.url + "/validate")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        page.keyboard.press("Tab")   # the brand link, then the search box
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "site-search"
        page.keyboard.type("erdoğ")
        page.wait_for_selector("#site-search-list [role=option]")
        assert page.get_attribute("#site-search", "aria-expanded") == "true"
        first = page.locator("#site-search-list [role=option]").first.inner_text()
        assert first.startswith("Recep Tayyip Erdogan")
        page.keyboard.press("ArrowDown")
        assert page.get_attribute("#site-search", "aria-activedescendant") == "site-search-option-0"
        page.keyboard.press("Enter")
        page.wait_for_url(server.url + "/doc/recep-tayyip-erdogan")
        assert page.locator("h1").inner_text() == "Recep Tayyip Erdogan"


def test_enter_without_a_suggestion_opens_the_results(browser: Any, server: LiveServer) -> None:
    with using(browser, server) as page:
        page.goto(server.url + "/")
        page.fill("#site-search", "margara")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/search\?q=margara$"))
        assert page.locator("ol.hits > li").count() > 1
        assert page.locator("ol.hits mark").first.inner_text().lower() == "margara"


def test_the_skip_link_moves_focus_to_the_content(browser: Any, server: LiveServer) -> None:
    with using(browser, server) as page:
        page.goto(server.url + "/doc/gyumri")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"


# -- the query UI leads into the pages --------------------------------------------------------------

def test_result_iris_open_the_local_pages_and_views_fit_the_data(browser: Any, server: LiveServer) -> None:
    with using(browser, server) as page:
        page.goto(server.url + "/sparql")
        settle(page, "query-map")
        names = page.locator(".kg-map text").all_text_contents()
        assert {"Gyumri", "Kars", "Akyaka"} <= set(names)
        page.evaluate("() => window.kgYasgui.getTab().getYasr().selectPlugin('table')")
        link = page.locator(".yasr table.dataTable tbody a", has_text="gyumri").first
        assert link.get_attribute("href") == "/doc/gyumri"
        link.click()
        page.wait_for_url(server.url + "/doc/gyumri")
        # and back from the page into the UI, with a query about the place
        page.click("text=Open in the query UI")
        wait_for_rows(page)
        assert f"<{ns.ID}gyumri>" in page.evaluate("() => window.kgYasgui.getTab().getQuery()")
        assert page.locator(".yasr table.dataTable tbody tr").count() > 3


def test_an_example_from_the_home_page_opens_in_the_ui_and_runs(browser: Any, server: LiveServer) -> None:
    with using(browser, server) as page:
        page.goto(server.url + "/")
        page.click("a[href='/sparql#example=09-gyumri-country']")
        page.wait_for_selector(".yasgui .tabsList .tab.active >> text=09-gyumri-country")
        wait_for_rows(page)
        assert "Armenia" in page.locator(".yasr table.dataTable tbody").inner_text()
