"""Shared fixtures: the store is built once per session; apps are made by a factory."""
from __future__ import annotations

import http.server
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient

from server import create_app
from server.build.pipeline import BuildResult, build

ROOT = Path(__file__).resolve().parent.parent
KG = str(Path(sys.executable).with_name("kg"))
T = TypeVar("T")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """One real build of the project's files into an on-disk store, for the whole session."""
    link = tmp_path_factory.mktemp("store") / "store"
    return build(link, log=lambda *a: None)


@pytest.fixture(scope="session")
def store_link(built: BuildResult) -> Path:
    return built.store_path.parent.parent / "store"


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    """The project's shapes, as the validator reads them."""
    return rdflib.Graph().parse(ROOT / "shapes" / "shapes.ttl")


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ROOT / "ontology" / "kg.ttl")


@pytest.fixture(scope="session")
def make_app(store_link: Path) -> Iterator[Callable[..., Flask]]:
    """A factory of apps over the session's store; each variant's query processes are ended at the end."""
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        settings = {"store": str(store_link), "query_timeout_s": 10.0, **overrides}
        app = create_app(settings)
        app.testing = True
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["kg"].engine.close()


@pytest.fixture(scope="session")
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process_group(proc: subprocess.Popen[Any]) -> None:
    """End a server we started in its own session: TERM, then KILL after 15 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class LiveServer:
    """A real `kg serve` (gunicorn) process on a free loopback port."""

    def __init__(self, store: Path, env: dict[str, str] | None = None, timeout: float = 60.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environ = {**os.environ, "KG_STORE": str(store), "KG_PORT": str(self.port), "KG_WORKERS": "2",
                   **(env or {})}
        self.proc = subprocess.Popen([KG, "serve"], env=environ, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self._wait(timeout)

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kg serve exited: {self.proc.stderr.read() if self.proc.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("kg serve did not start listening in time")

    def stop(self) -> str:
        """Stop the server; its log (stderr) as it ended."""
        stop_process_group(self.proc)
        if not self.proc.stderr or self.proc.stderr.closed:
            return ""
        log = self.proc.stderr.read()
        self.proc.stderr.close()
        return log


@pytest.fixture(scope="session")
def live_server(store_link: Path) -> Iterator[LiveServer]:
    server = LiveServer(store_link)
    yield server
    server.stop()


def parse_expectations(text: str, keys: tuple[str, ...]) -> dict[str, str]:
    """`# key: value` header lines of a test data file."""
    found = {}
    for line in text.splitlines():
        m = re.match(r"#\s*([\w-]+):\s*(.*)$", line)
        if m and m.group(1).lower() in keys:
            found[m.group(1).lower()] = m.group(2).strip()
    return found


def copy_store(built: BuildResult, folder: Path) -> Path:
    """A private copy of the session's built store (a store dir and a link to it), for tests that write."""
    target = folder / "store.builds" / built.store_path.name
    shutil.copytree(built.store_path, target)
    link = folder / "store"
    link.symlink_to(os.path.relpath(target, folder))
    return link


@pytest.fixture(scope="module")
def private_store(built: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store this test module may write to (a copy of the session build: much cheaper than a build)."""
    return copy_store(built, tmp_path_factory.mktemp("private"))


def dump_lines(store: Path) -> list[str]:
    """The store as sorted N-Quads lines: equal lists mean the store is the same, quad for quad.
    (Read through the store this process has open, if an app of the session holds it read-write:
    a second, read-only open beside a writer is undefined behaviour.)"""
    import pyoxigraph as ox

    from server.store.embedded import open_shared

    opened = open_shared(store.resolve(), writable=False)
    text = opened.ox.dump(format=ox.RdfFormat.N_QUADS).decode("utf-8")
    return sorted(text.splitlines())


OTHER_BASE = "https://other.example/"


@pytest.fixture(scope="session")
def other_base_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store whose IRIs use another base, with a test place whose label holds markup.

    Published without inference or validation (the project's files rebased term by term, plus
    tests/fixtures/markup.ttl in the outside graph): enough to prove that requests map to IRIs by
    path under any base, and that pages escape literals.
    """
    from server import namespaces as ns
    from server.build.pipeline import project_sources, publish, read_sources
    from server.store.embedded import SourceFile

    link = tmp_path_factory.mktemp("other-store") / "store"
    sources = project_sources() + [SourceFile(ROOT / "tests" / "fixtures" / "markup.ttl", ns.G_OUTSIDE)]
    publish(link, read_sources(sources, OTHER_BASE))
    return link


@pytest.fixture(scope="session")
def other_base_server(other_base_store: Path) -> Iterator[LiveServer]:
    """gunicorn serving the other-base store under its own canonical base."""
    server = LiveServer(other_base_store, env={"KG_BASE_IRI": OTHER_BASE})
    yield server
    server.stop()


# -- the remote store: `oxigraph serve` from the oxigraph package ------------------------------

OXIGRAPH = str(Path(sys.executable).with_name("oxigraph"))
STORE_KINDS = ["embedded", "remote"]


class OxigraphServer:
    """`oxigraph serve` on a free loopback port with its own data directory; stops by itself.

    Runs under `timeout` (an hour) in its own session, so it ends even if the test run dies.
    Without --union-default-graph: our queries ask for the union per query
    (remote_union_param), so that FROM keeps its meaning.
    """

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (folder / "oxigraph.log").open("wb")
        self.proc = subprocess.Popen(["timeout", "3600", OXIGRAPH, "serve", "--location", str(folder / "data"),
                                      "--bind", f"127.0.0.1:{self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"oxigraph serve exited: {(folder / 'oxigraph.log').read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("oxigraph serve did not start listening in time")
                time.sleep(0.1)

    @property
    def settings(self) -> dict[str, str]:
        return {"remote_query_url": self.url + "/query", "remote_update_url": self.url + "/update",
                "remote_gsp_url": self.url + "/store", "remote_union_param": "union-default-graph"}

    def stop(self) -> None:
        stop_process_group(self.proc)
        self.log.close()


def start_remote(folder: Path, base_iri: str | None = None) -> OxigraphServer:
    """An `oxigraph serve` holding the project's graph, published by `kg build`'s remote path."""
    from server.settings import load_settings
    from server.store.remote import RemoteStore

    server = OxigraphServer(folder)
    remote = RemoteStore(load_settings(server.settings))
    try:
        build(folder / "unused-store", log=lambda *a: None, remote=remote,
              **({"base_iri": base_iri} if base_iri else {}))
    except BaseException:
        server.stop()
        raise
    finally:
        remote.close()
    return server


@pytest.fixture(scope="session")
def remote_oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    """The session's remote store (read-only use: tests that write start their own)."""
    server = start_remote(tmp_path_factory.mktemp("oxigraph"))
    yield server
    server.stop()


@pytest.fixture(scope="session", params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def any_store_app(store_kind: str, make_app: Callable[..., Flask], request: pytest.FixtureRequest) -> Flask:
    """The app over the embedded store, then over `oxigraph serve`: modules that take their `app`
    from this fixture run every test on both stores."""
    if store_kind == "embedded":
        return make_app()
    return make_app(**request.getfixturevalue("remote_oxigraph").settings)


CHROMIUM = "/usr/bin/chromium"
# Headless Debian chromium as root on a machine without outside network: no sandbox, and no
# background connections (they are refused many at a time and slow the start).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright (never a browser Playwright downloads)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `scripts/setup.sh test` (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


# -- a SPARQL endpoint that holds SERVICE calls: a query that is still running, deterministically --

@contextmanager
def asking_meanwhile(ask: Callable[[], T], clients: int = 3, most: int = 60) -> Iterator[list[T]]:
    """`clients` threads calling `ask()` again and again (at most `most` times each) while the
    block runs; the list of what they got, complete once the block has ended."""
    import threading

    got: list[T] = []
    stop = threading.Event()

    def client() -> None:
        for _ in range(most):
            if stop.is_set():
                return
            got.append(ask())

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    try:
        yield got
    finally:
        stop.set()
        for t in threads:
            t.join(120)


def one_answer(sock: socket.socket) -> tuple[bytes, dict[str, str], bytes]:
    """(status line, headers, body) of one answer with Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = {k.decode().lower(): v.decode().strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return lines[0], headers, body


class QuietHTTPServer(http.server.ThreadingHTTPServer):
    """A stand-in for another service, on loopback in a thread of the test process. A caller that
    gives up (its worker retired, its query timed out, its client closed) resets the connection:
    expected in these tests, not a traceback in their output; any other error still prints."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SparqlStub:
    """A SPARQL endpoint on loopback for SERVICE calls: each call's text (its body, or its path
    for a GET) goes to `on_call`, and once that returns, `answer` (SPARQL JSON) is sent back."""

    def __init__(self, answer: dict[str, Any], on_call: Callable[[str], object]) -> None:
        import json
        import threading

        body = json.dumps(answer).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                on_call(self.rfile.read(length).decode() if length else self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class HeldService:
    """A SPARQL endpoint for SERVICE calls that answers only once released (or after a minute).

    A query calling it is, for certain, still inside Oxigraph until then: what the time limit,
    the fairness rule or a busy worker do with a running query is tested without depending on how
    fast a slow query happens to be on the machine. Allow it with `service_allowlist=held.url`.
    """

    def __init__(self) -> None:
        import threading

        self.released = threading.Event()
        self._arrived = threading.Condition()
        self.arrivals = 0
        self._stub = SparqlStub({"head": {"vars": ["s"]}, "results": {"bindings": []}}, self._hold)
        self.url = self._stub.url

    def _hold(self, _text: str) -> None:
        with self._arrived:
            self.arrivals += 1
            self._arrived.notify_all()
        self.released.wait(60)

    def query(self) -> str:
        return f"SELECT ?s WHERE {{ SERVICE <{self.url}> {{ ?s ?p ?o }} }}"

    def wait_for(self, arrivals: int, timeout: float = 60.0) -> None:
        """Until `arrivals` calls have come in (each one a query now held inside Oxigraph)."""
        with self._arrived:
            assert self._arrived.wait_for(lambda: self.arrivals >= arrivals, timeout), \
                f"{self.arrivals} of {arrivals} SERVICE calls arrived"

    def stop(self) -> None:
        self.released.set()
        self._stub.stop()


@pytest.fixture()
def held_service() -> Iterator[HeldService]:
    held = HeldService()
    yield held
    held.stop()


# -- two sources: the seed article and a second report of the same talks ---------------------

SECOND_REPORT = ("second-report.txt", "second-report.ttl")
SECOND_REPORT_SLUG = "caucasus-rail-monitor-2025-11-30"
WRITE_TOKEN = "test-token-for-sources"


def second_report_form(slug: str = SECOND_REPORT_SLUG) -> dict[str, Any]:
    """The second report as a curator sends it to POST /sources: its text, its facts, a slug."""
    import io

    text, facts = (ROOT / "tests" / "fixtures" / name for name in SECOND_REPORT)
    return {"text": (io.BytesIO(text.read_bytes()), text.name, "text/plain"),
            "facts": (io.BytesIO(facts.read_bytes()), facts.name, "text/turtle"), "slug": slug}


@dataclass
class TwoSources:
    store: Path
    added: dict[str, Any]   # the JSON answer of POST /sources (the post-write validation report)


@pytest.fixture(scope="session")
def two_sources(built: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> TwoSources:
    """A copy of the session's store with the second report added through the write path, once."""
    link = copy_store(built, tmp_path_factory.mktemp("two-sources"))
    app = create_app({"store": str(link), "write_token": WRITE_TOKEN, "query_timeout_s": 10.0})
    try:
        resp = app.test_client().post("/sources", data=second_report_form(), headers={
            "Authorization": f"Bearer {WRITE_TOKEN}", "Accept": "application/json"})
    finally:
        app.extensions["kg"].engine.close()
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return TwoSources(link, resp.json)
