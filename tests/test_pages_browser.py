"""Pages in Debian's chromium: they render without console errors, link to each other, escape markup."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(other_base_server: Any) -> Any:
    return other_base_server



@pytest.fixture()
def page(browser: Any, server: Any) -> Iterator[Any]:
    context = browser.new_context()
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    outside = []
    pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server.url) else None)
    yield pg
    assert pg.errors == []
    assert outside == []  # no asset from another host
    context.close()


def test_home_person_event_place_and_links(page: Any, server: Any) -> None:
    page.goto(server.url + "/")
    assert page.locator("h1").inner_text() == "Kars–Gyumri knowledge graph"
    page.locator('details:has(a[href="/doc/recep-tayyip-erdogan"]) > summary').click()
    page.click('a[href="/doc/recep-tayyip-erdogan"]')
    assert page.url == server.url + "/doc/recep-tayyip-erdogan"
    assert page.locator("h1").inner_text() == "Recep Tayyip Erdogan"
    page.goto(server.url + "/id/second-round-technical-talks")  # through the 303
    assert page.url == server.url + "/doc/second-round-technical-talks"
    assert page.locator("ol.timeline li.current").inner_text().endswith("second round of technical talks on the Kars–Gyumri railway")
    assert page.locator("blockquote mark").count() > 0
    page.click('dl.facts a[href="/doc/gyumri"]')
    assert page.url == server.url + "/doc/gyumri"
    assert page.locator("svg.map text.current").text_content() == "Gyumri"


def test_literal_markup_is_shown_as_text(page: Any, server: Any) -> None:
    page.goto(server.url + "/doc/markup-test-place")
    assert page.evaluate("window.__injected === undefined")
    assert page.locator("h1").inner_text() == "<script>window.__injected = true</script><b>Markup</b> town"
    assert page.locator("h1 b").count() == 0
