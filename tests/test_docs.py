"""Every example of the README and of docs/*.md runs as written, so that none can rot.

Each fenced block tagged `sh`, `sparql` or `python` is one test, run in document order against
a real `kg serve` (with a write token) over a copy of the session's store; the only change made
to an example is its port (`127.0.0.1:8000` becomes the test server's). A page's blocks share
one shell: variables a block sets (`E=…`, `export KG_WRITE_TOKEN=…`) are there for the next.
Each page runs in a scratch folder that looks like a checkout after the two setup commands
(`.venv/`, `tests/`, `data/`… are links to this one; `var/` is its own), so an example that
builds, dumps or writes files leaves this checkout alone. curl fails on an HTTP error (a
`.curlrc` with `--fail-with-body`), so an example that gets a 4xx fails here.

A block that cannot run in a test (one that starts the server, or runs this test suite) says so
in the Markdown just before it, and is reported as skipped with that reason:

    <!-- not run by the docs test: it starts the server (the test starts its own) -->

A block whose requests are meant to fail (an example of an error) says
`<!-- docs test: HTTP errors expected -->`; its commands must still exit 0 otherwise, and each
answer it shows in a comment (`# 400 Query refused: …`) must be what the server answered.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, LiveServer, copy_store

pytestmark = [pytest.mark.slow]

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LANGUAGES = ("sh", "sparql", "python")
SKIP = re.compile(r"<!--\s*not run by the docs test:\s*(.+?)\s*-->")
ERRORS_EXPECTED = re.compile(r"<!--\s*docs test:\s*HTTP errors expected\s*-->")
TOKEN = "docs-test-write-token"
BLOCK_TIMEOUT_S = 300
# What a checkout holds after setup, linked into each page's scratch folder.
CHECKOUT = [".venv", "bench", "data", "docs", "node_modules", "ontology", "package.json", "pyproject.toml",
            "scripts", "server", "shapes", "tests", "README.md"]


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    language: str
    text: str
    skip: str | None
    errors_expected: bool

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks_of(page: Path) -> list[Block]:
    """The fenced blocks of a page, each with the marker comment (if any) on the lines before it."""
    out = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        start, language = i, m.group(1)
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        before = "\n".join(lines[max(0, start - 3):start])
        skip = SKIP.search(before)
        if language in LANGUAGES:
            out.append(Block(page, start + 1, language, "\n".join(lines[start + 1:end]) + "\n",
                             skip.group(1) if skip else None, bool(ERRORS_EXPECTED.search(before))))
        i = end + 1
    return out


BLOCKS = [b for page in PAGES for b in blocks_of(page)]


def test_the_pages_have_examples() -> None:
    assert len(BLOCKS) > 25 and {b.page.name for b in BLOCKS} >= {"README.md", "endpoint.md", "curation.md"}


class Session:
    """One page's scratch checkout, its server, and its shell's exported variables."""

    def __init__(self, page: Path, built: Any, folder: Path) -> None:
        self.page = page
        self.folder = folder
        for name in CHECKOUT:
            (folder / name).symlink_to(ROOT / name)
        var = folder / "var"
        var.mkdir()
        store = copy_store(built, var)       # var/store -> var/store.builds/…
        (var / "write-token").write_text(TOKEN + "\n")
        self.server = LiveServer(store, env={"KG_WRITE_TOKEN": TOKEN})
        curl_home = folder / ".curl"
        curl_home.mkdir()
        (curl_home / ".curlrc").write_text("--fail-with-body\n--max-time 120\n")
        self.curl_home = curl_home
        self.state = folder / ".exported"
        self.state.write_text("")
        self.python_so_far = ""

    def rewrite(self, text: str) -> str:
        port = str(self.server.port)
        return text.replace("127.0.0.1:8000", "127.0.0.1:" + port).replace("localhost:8000", "localhost:" + port)

    def environ(self, errors_expected: bool) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
        env["HOME"] = str(self.folder)
        env["CURL_HOME"] = str(self.folder) if errors_expected else str(self.curl_home)
        return env

    def run(self, block: Block) -> None:
        if block.language == "sh":
            env = self.environ(block.errors_expected)
            # The variables earlier blocks exported, then this block's own curl settings.
            script = (f"set -a\nsource {self.state}\nCURL_HOME={env['CURL_HOME']}\nset -e -o pipefail\n"
                      f"{self.rewrite(block.text)}\nexport -p > {self.state}\n")
            done = subprocess.run(["bash", "-c", script], cwd=self.folder, env=env, capture_output=True, text=True,
                                  timeout=BLOCK_TIMEOUT_S)
        elif block.language == "python":
            self.python_so_far += self.rewrite(block.text) + "\n"
            done = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", self.python_so_far], cwd=self.folder,
                                  env=self.environ(False), capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S)
        else:
            done = subprocess.run(["curl", "--fail-with-body", "-sS", "-H", "Accept: application/sparql-results+json",
                                   "--data-urlencode", f"query={block.text}", self.server.url + "/sparql"],
                                  capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S)
            if done.returncode == 0:
                assert json.loads(done.stdout)["results"]["bindings"], f"{block.where}: the query answers no row"
        assert done.returncode == 0, (f"{block.where} failed (exit {done.returncode}):\n{block.text}\n"
                                      f"--- stdout (end)\n{done.stdout[-1500:]}\n--- stderr (end)\n{done.stderr[-1500:]}")
        if block.errors_expected:
            for shown in re.findall(r"^# ([1-5][0-9][0-9] .+)$", self.rewrite(block.text), re.M):
                assert shown in done.stdout, f"{block.where}: the server did not answer what the page shows: {shown}"

    def close(self) -> None:
        self.server.stop()


@pytest.fixture(scope="module")
def sessions(built: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[Path, Session]]:
    """The page being run (a page's session ends when the next page starts)."""
    open_: dict[Path, Session] = {}
    yield open_
    for s in open_.values():
        s.close()


def session_for(page: Path, sessions: dict[Path, Session], built: Any, tmp: pytest.TempPathFactory) -> Session:
    if page not in sessions:
        for other in list(sessions):
            sessions.pop(other).close()
        sessions[page] = Session(page, built, tmp.mktemp("docs-" + page.stem))
    return sessions[page]


# Commands that would never end in a test (a server) or run this suite inside itself.
NEVER_IN_A_TEST = re.compile(r"\bkg serve\b|scripts/serve\.sh|scripts/test\.sh|\bpytest\b|oxigraph serve")


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_example_runs(block: Block, sessions: dict[Path, Session], built: Any,
                      tmp_path_factory: pytest.TempPathFactory) -> None:
    if block.skip:
        pytest.skip(f"{block.where}: {block.skip}")
    assert not NEVER_IN_A_TEST.search(block.text), (
        f"{block.where} starts a server or the test suite, which cannot run here: mark it in the Markdown "
        "with <!-- not run by the docs test: REASON --> (and keep what can run in a block of its own)")
    session_for(block.page, sessions, built, tmp_path_factory).run(block)
