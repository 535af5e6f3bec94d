"""Undo from the browser (Debian's chromium through Playwright, on a real `kg serve`): the token is typed
once, kept in sessionStorage, sent as an Authorization header; no cookie is set."""
from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from server import namespaces as ns

from .conftest import LiveServer, copy_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKEN = "browser-undo-token"
G = ns.GRAPH + "browser"


@pytest.fixture(scope="module")
def server(built: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    store = copy_store(built, tmp_path_factory.mktemp("browser-undo"))
    live = LiveServer(store, env={"KG_WRITE_TOKEN": TOKEN, "KG_WRITE_TOKEN_NAME": "browser-curator"})
    yield live
    live.stop()


def post(url: str, data: dict[str, str], headers: dict[str, str]) -> Any:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode(), headers=headers, method="POST")
    return urllib.request.urlopen(request, timeout=60)


def ask(server: LiveServer, query: str) -> bool:
    url = server.url + "/sparql?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"}),
                                timeout=60) as resp:
        return bool(json.load(resp)["boolean"])


def add_town(server: LiveServer, town: str, label: str) -> str:
    """A new city through the served write path; the change's id."""
    with post(server.url + "/sparql", {"update": f'INSERT DATA {{ GRAPH <{G}> {{ {town} a <{ns.KGO}City> ; '
                                                 f'<http://www.w3.org/2000/01/rdf-schema#label> "{label}"@en }} }}'},
              {"Authorization": f"Bearer {TOKEN}"}) as resp:
        return str(resp.headers["KG-Change"]).rsplit("/", 1)[-1]


def test_undo_a_change_from_the_history_page(browser: Any, server: LiveServer) -> None:
    town = f"<{ns.ID}browser-town>"
    change = add_town(server, town, "Browser Town")
    assert ask(server, f"ASK {{ {town} ?p ?o }}")

    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sent: list[dict[str, str]] = []
    page.on("request", lambda r: sent.append(r.headers) if r.url.endswith(f"/history/{change}/undo") else None)
    page.goto(server.url + "/history")
    row = page.locator(f'tr.change[data-id="{change}"]')
    assert row.locator("button.undo").count() == 1

    row.locator("button.undo").click()                 # no token yet: the page asks for it
    page.locator("#token-form").wait_for(state="visible")
    page.fill("#token-form input[name=token]", TOKEN)
    page.click("#token-form button[type=submit]")
    expect(page.locator("#undo-status")).to_have_text(re.compile("^Undone"), timeout=60_000)

    assert not ask(server, f"ASK {{ {town} ?p ?o }}")
    assert "undone by" in row.locator("td.state").inner_text()
    assert sent and sent[-1].get("authorization") == f"Bearer {TOKEN}"
    assert page.evaluate("window.sessionStorage.getItem('kg-curator-token')") == TOKEN
    assert page.evaluate("document.cookie") == "" and context.cookies() == []

    page.reload()                                       # the same session: no second prompt, and a second undo is refused
    page.locator(f'tr.change[data-id="{change}"] td.state').wait_for()
    assert "undone by" in page.locator(f'tr.change[data-id="{change}"] td.state').inner_text()
    assert errors == []
    context.close()


def test_a_wrong_token_is_forgotten_and_nothing_changes(browser: Any, server: LiveServer) -> None:
    town = f"<{ns.ID}browser-town-kept>"
    change = add_town(server, town, "Kept Town")
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url + f"/history/{change}")
    page.click("button.undo")
    page.fill("#token-form input[name=token]", "not-the-token")
    page.click("#token-form button[type=submit]")
    expect(page.locator("#undo-status")).to_have_text(re.compile(r"^Not undone \(403\)"), timeout=60_000)
    assert page.evaluate("window.sessionStorage.getItem('kg-curator-token')") is None
    assert ask(server, f"ASK {{ {town} ?p ?o }}")
    context.close()


def test_the_pages_serve_the_script_from_this_host(server: LiveServer) -> None:
    with urllib.request.urlopen(server.url + "/static/history.js", timeout=60) as resp:
        assert resp.headers["Content-Type"].startswith("text/javascript") or \
            resp.headers["Content-Type"].startswith("application/javascript")
        assert b"sessionStorage" in resp.read()
