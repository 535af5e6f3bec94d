"""Markup and script IRIs in Debian's chromium: shown, never run. A dialog (alert, confirm, prompt)
fails the test at once, and so does the marker `window.__injected` that every payload tries to
set. The store is a private one holding tests/fixtures/markup.ttl and hostile.trig."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import LiveServer
from .hostile_support import build_private_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MARKUP_QUERY = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
# </textarea><script>alert('from the query text')</script>
SELECT ?thing ?label ?see ("<img src=x onerror=alert('from a literal')>" AS ?html) WHERE {
  VALUES ?thing { <https://kars-gyumri.example.org/id/hostile-test-place>
                  <https://kars-gyumri.example.org/id/markup-test-place> }
  ?thing rdfs:label ?label .
  OPTIONAL { ?thing rdfs:seeAlso ?see }
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    link: Path = build_private_store(tmp_path_factory.mktemp("browser-hostile-store"), with_markup=True)
    srv = LiveServer(link)
    yield srv
    srv.stop()



@pytest.fixture()
def page(browser: Any, server: LiveServer) -> Iterator[Any]:
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    outside: list[str] = []
    pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith((server.url, "data:")) else None)
    yield pg
    assert dialogs == [], f"a script ran: {dialogs}"
    assert pg.evaluate("() => window.__injected === undefined"), "a payload ran"
    assert outside == []
    context.close()


def test_resource_page_shows_markup_and_script_iris_as_text(page: Any, server: LiveServer) -> None:
    page.goto(server.url + "/doc/hostile-test-place")
    assert page.locator("h1").inner_text() == "\"'><svg onload=\"window.__injected = true\"></svg><i>Hostile</i> village"
    assert page.locator("h1 svg, h1 i").count() == 0
    body = page.locator("main").inner_text()
    assert "javascript:window.__injected=true" in body
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:", "vbscript:"))]
    # The text that looks like a link is not one: clicking it goes nowhere.
    page.get_by_text("javascript:window.__injected=true", exact=True).first.click()
    assert page.url == server.url + "/doc/hostile-test-place"


def test_markup_label_page(page: Any, server: LiveServer) -> None:
    page.goto(server.url + "/doc/markup-test-place")
    assert page.locator("h1 b").count() == 0
    assert "<b>Markup</b> town" in page.locator("h1").inner_text()


def test_not_found_page_escapes_the_path(page: Any, server: LiveServer) -> None:
    page.goto(server.url + "/doc/%3Cimg%20src=x%20onerror=alert(1)%3E")
    assert page.locator("main img").count() == 0


def test_query_ui_shows_markup_results_as_text(page: Any, server: LiveServer) -> None:
    page.goto(server.url + "/sparql")
    page.wait_for_selector(".yasqe .CodeMirror")
    page.evaluate("q => window.kgYasgui.getTab().getYasqe().setValue(q)", MARKUP_QUERY)
    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr table.dataTable tbody tr td")
    table = page.locator(".yasr table.dataTable tbody").inner_text()
    assert "<img src=x onerror=alert('from a literal')>" in table
    assert "<b>Markup</b> town" in table
    assert page.locator(".yasr table.dataTable tbody img, .yasr table.dataTable tbody b, "
                        ".yasr table.dataTable tbody svg").count() == 0
    # YASR turns IRIs into links, but not these: the script IRIs are shown without an href.
    anchors = page.eval_on_selector_all(".yasr table.dataTable tbody a",
                                        "els => els.map(e => [e.textContent, e.getAttribute('href')])")
    scripted = [(text, href) for text, href in anchors if text.lower().startswith(("javascript:", "data:"))]
    assert len(scripted) == 3 and all(href is None for _, href in scripted), scripted
    page.get_by_text("javascript:window.__injected=true", exact=True).first.click()


def test_query_text_with_markup_in_the_plain_form(page: Any, server: LiveServer) -> None:
    """The default query and the examples are rendered into the page: markup there stays text."""
    page.goto(server.url + "/sparql?format=html")
    assert page.locator("script:not([src]):not([type='application/json'])").count() == 0

