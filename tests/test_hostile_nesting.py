"""Deep nesting and RDF 1.2 triple terms through every RDF input: refused before any parser sees them.

The documents that end a process with a segmentation fault when parsed (JSON-LD 4,000 objects deep,
triple terms 20,000 deep, a query with 10,000 nested `<< >>`) are sent to a real `kg serve` and to
`kg` in a child process, so that a crash shows as a failed test. Every other path gets documents
nested just past the limit: deep enough to be refused, shallow enough that a parser without the
guard would read them (and the test would fail on the answer, not on a crash).
"""
from __future__ import annotations

import io
import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from server import namespaces as ns
from server.cli import main
from server.store.rdf_guard import MAX_RDF_DEPTH

from .conftest import KG, LiveServer, copy_store
from .hostile_support import dump

TOKEN = "nesting-T0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
G = ns.GRAPH + "nesting"
EX = "http://ex.example/"
N = MAX_RDF_DEPTH + 44   # past the limit, far below any parser's crash
RDF_NS = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://ex.example/"'

DEEP = {
    "jsonld": '{"@id": "http://ex.example/a", "http://ex.example/p": ' * N + '"x"' + "}" * N,
    "turtle": f"<{EX}a> <{EX}p> " + f"[ <{EX}p> " * N + '"x"' + " ]" * N + " .\n",
    "trig": f"<{G}> {{ <{EX}a> <{EX}p> " + "( " * N + '"x"' + " )" * N + " . }\n",
    "rdfxml": f'<rdf:RDF {RDF_NS}><rdf:Description rdf:about="{EX}a">' + "<ex:p><rdf:Description>" * N
              + "<ex:q>x</ex:q>" + "</rdf:Description></ex:p>" * N + "</rdf:Description></rdf:RDF>",
}
TRIPLE_TERMS = {
    "turtle": f"<< <{EX}a> <{EX}p> <{EX}o> >> <{EX}q> <{EX}z> .\n",
    "ntriples": f"<{EX}a> <{EX}p> <<( <{EX}a> <{EX}p> <{EX}o> )>> .\n",
    "nquads": f"<{EX}a> <{EX}p> <<( <{EX}a> <{EX}p> <{EX}o> )>> <{G}> .\n",
    "rdfxml": f'<rdf:RDF {RDF_NS}><rdf:Description rdf:about="{EX}a"><ex:p rdf:resource="{EX}o" '
              f'rdf:annotation="{EX}r"/></rdf:Description></rdf:RDF>',
}
MEDIA = {"jsonld": "application/ld+json", "turtle": "text/turtle", "trig": "application/trig",
         "rdfxml": "application/rdf+xml", "ntriples": "application/n-triples", "nquads": "application/n-quads"}
EXTENSION = {"jsonld": "jsonld", "turtle": "ttl", "trig": "trig", "rdfxml": "rdf", "ntriples": "nt", "nquads": "nq"}
CASES = [("deep", s) for s in DEEP] + [("triple", s) for s in TRIPLE_TERMS]
# The dumps `kg restore` reads are quad formats.
RESTORE_CASES = [("deep", "trig"), ("triple", "nquads")]


def document(kind: str, syntax: str) -> str:
    return DEEP[syntax] if kind == "deep" else TRIPLE_TERMS[syntax]


def assert_refused(kind: str, status: int, body: dict[str, Any]) -> None:
    """The one answer to these documents: 400 naming the limit, or 415 saying why RDF 1.2 is refused."""
    if kind == "deep":
        assert (status, body["error"], body["status"]) == (400, "RDF nested too deeply", 400), body
        assert body["limit"] == MAX_RDF_DEPTH and f"at most {MAX_RDF_DEPTH} are accepted" in body["message"]
    else:
        assert (status, body["error"], body["status"]) == (415, "RDF 1.2 not supported", 415), body
        assert "triple terms" in body["message"]


@pytest.fixture(scope="module")
def napp(make_app: Any, private_store: Path) -> Flask:
    return make_app(store=str(private_store), write_token=TOKEN)


# -- HTTP ------------------------------------------------------------------------------------------

def send(app: Flask, path: str, kind: str, syntax: str) -> Any:
    body = document(kind, syntax).encode()
    client = app.test_client()
    if path == "sources":
        return client.post("/sources", headers=AUTH, data={
            "slug": "nesting", "text": (io.BytesIO(b"An article."), "nesting.txt"),
            "facts": (io.BytesIO(body), f"facts.{EXTENSION[syntax]}", MEDIA[syntax])})
    if path.startswith("validate"):
        url = "/validate" + ("?mode=standalone" if path.endswith("standalone") else "")
        return client.post(url, data=body, headers={"Content-Type": MEDIA[syntax], "Accept": "application/json"})
    method = "PUT" if path == "graph-store-put" else "POST"
    return client.open(f"/rdf-graph-store?graph={G}", method=method, data=body,
                       headers={**AUTH, "Content-Type": MEDIA[syntax]})


# The Graph Store and /sources take triples: a quad format is theirs to refuse for another reason.
HTTP_CASES = [(path, kind, syntax) for path in ["validate", "validate-standalone", "graph-store-put",
                                                "graph-store-post", "sources"]
              for kind, syntax in CASES if not (syntax == "nquads" and path in ("graph-store-put", "graph-store-post"))]


@pytest.mark.parametrize("path,kind,syntax", HTTP_CASES)
def test_every_http_rdf_input_refuses(napp: Flask, private_store: Path, path: str, kind: str, syntax: str) -> None:
    before = dump(private_store)
    resp = send(napp, path, kind, syntax)
    assert_refused(kind, resp.status_code, resp.get_json())
    assert dump(private_store) == before


@pytest.mark.parametrize("update,kind", [
    (f"INSERT DATA {{ GRAPH <{G}> {{ <{EX}a> <{EX}p> <<( <{EX}a> <{EX}p> <{EX}o> )>> }} }}", "triple"),
    (f"INSERT DATA {{ GRAPH <{G}> {{ << <{EX}a> <{EX}p> <{EX}o> >> <{EX}q> <{EX}z> }} }}", "triple"),
    (f"INSERT {{ GRAPH <{G}> {{ <{EX}a> <{EX}p> ?t }} }} WHERE {{ BIND(<<( <{EX}a> <{EX}p> <{EX}o> )>> AS ?t) }}",
     "triple"),
    (f"INSERT DATA {{ GRAPH <{G}> {{ " + "<< " * 300 + f"<{EX}a> <{EX}p> <{EX}o>" + f" >> <{EX}q> <{EX}z>" * 300
     + " } }", "deep"),
])
def test_updates_refuse_triple_terms_and_deep_reifiers(napp: Flask, private_store: Path, update: str, kind: str) -> None:
    before = dump(private_store)
    resp = napp.test_client().post("/sparql", data={"update": update}, headers=AUTH)
    body = resp.get_json()
    if kind == "deep":   # the query guard's limit (max_query_depth) counts << >> as it counts brackets
        assert resp.status_code == 400 and body["error"] == "Query refused" and "levels of brackets" in body["message"]
    else:
        assert_refused(kind, resp.status_code, body)
    assert dump(private_store) == before


def test_a_query_with_deep_reifiers_is_refused(napp: Flask) -> None:
    query = "SELECT * WHERE { " + "<< " * 300 + "?s ?p ?o" + " >> ?q ?z" * 300 + " }"
    resp = napp.test_client().post("/sparql", data={"query": query}, headers={"Accept": "application/json"})
    assert resp.status_code == 400 and "levels of brackets" in resp.get_json()["message"]


# -- the CLI ---------------------------------------------------------------------------------------

def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def write_doc(folder: Path, kind: str, syntax: str) -> Path:
    path = folder / f"{kind}.{EXTENSION[syntax]}"
    path.write_text(document(kind, syntax), encoding="utf-8")
    return path


def assert_cli_refused(result: Any, kind: str) -> None:
    assert result.exit_code == 2, result.output
    expected = f"at most {MAX_RDF_DEPTH} are accepted" if kind == "deep" else "RDF 1.2 triple terms"
    assert expected in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("kind,syntax", CASES)
def test_kg_validate_and_kg_load_refuse(tmp_path: Path, kind: str, syntax: str) -> None:
    path = write_doc(tmp_path, kind, syntax)
    assert_cli_refused(cli("validate", str(path)), kind)
    assert_cli_refused(cli("load", str(path), "--store", str(tmp_path / "store")), kind)
    if (tmp_path / "store").exists():
        from .conftest import dump_lines

        assert dump_lines(tmp_path / "store") == []


@pytest.mark.parametrize("kind,syntax", [c for c in CASES if c[1] in ("turtle", "jsonld", "rdfxml")])
def test_kg_add_source_refuses(built: Any, tmp_path: Path, kind: str, syntax: str) -> None:
    link = copy_store(built, tmp_path)
    before = dump(link)
    article = tmp_path / "article.txt"
    article.write_text("An article.", encoding="utf-8")
    assert_cli_refused(cli("add-source", str(article), str(write_doc(tmp_path, kind, syntax)),
                           "--store", str(link)), kind)
    assert dump(link) == before


@pytest.mark.parametrize("kind,syntax", RESTORE_CASES)
def test_kg_restore_refuses(tmp_path: Path, kind: str, syntax: str) -> None:
    assert_cli_refused(cli("restore", str(write_doc(tmp_path, kind, syntax)), "--store", str(tmp_path / "s")), kind)


@pytest.mark.parametrize("kind,syntax", [("deep", "turtle"), ("triple", "ntriples")])
def test_kg_build_refuses_extra_sources(tmp_path: Path, kind: str, syntax: str) -> None:
    store = tmp_path / "store"
    result = cli("build", "--store", str(store), "--extra-sources", str(write_doc(tmp_path, kind, syntax)))
    assert result.exit_code == 2 and not store.exists(), result.output
    expected = f"at most {MAX_RDF_DEPTH} are accepted" if kind == "deep" else "RDF 1.2 triple terms"
    assert expected in result.output


# -- the documents that crash a parser, in real processes --------------------------------------------

CRASH_JSONLD = '{"@id": "http://ex.example/a", "http://ex.example/p": ' * 4000 + '"x"' + "}" * 4000
CRASH_TRIPLE_TERMS = (f"<{EX}a> <{EX}p> " + f"<<( <{EX}a> <{EX}p> " * 20000 + f"<{EX}o>" + " )>>" * 20000 + " .\n")
CRASH_QUERY = "SELECT * WHERE { " + "<< " * 10000 + "?s ?p ?o" + " >> ?q ?z" * 10000 + " }"


@pytest.fixture(scope="module")
def server(built: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # A store of its own: a server with the write token holds its store open read-write, and this
    # module's app (napp) holds private_store so.
    store = copy_store(built, tmp_path_factory.mktemp("nesting-server"))
    srv = LiveServer(store, env={"KG_WRITE_TOKEN": TOKEN, "KG_WORKERS": "1"})
    yield srv
    srv.stop()


def post(server: LiveServer, path: str, body: bytes, ctype: str, token: bool = False) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": ctype, "Accept": "application/json", **({"Authorization": AUTH["Authorization"]}
                                                                        if token else {})}
    req = urllib.request.Request(server.url + path, data=body, headers=headers,
                                 method="PUT" if path.startswith("/rdf-graph-store") else "POST")
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.slow
def test_documents_that_crash_a_parser_are_refused_by_a_real_server(server: LiveServer) -> None:
    """The unauthenticated crash: no worker dies, every request gets its 4xx, the server answers on."""
    import urllib.parse

    status, body = post(server, "/validate", CRASH_JSONLD.encode(), "application/ld+json")
    assert_refused("deep", status, body)
    status, body = post(server, "/validate?mode=standalone", CRASH_TRIPLE_TERMS.encode(), "application/n-triples")
    assert_refused("triple", status, body)
    status, body = post(server, f"/rdf-graph-store?graph={G}", CRASH_JSONLD.encode(), "application/ld+json", token=True)
    assert_refused("deep", status, body)
    status, body = post(server, "/sparql", urllib.parse.urlencode({"query": CRASH_QUERY}).encode(),
                        "application/x-www-form-urlencoded")
    assert status == 400 and "levels of brackets" in body["message"]
    with urllib.request.urlopen(server.url + "/healthz", timeout=30) as resp:
        assert resp.status == 200
    log = server.stop()
    assert "SIGSEGV" not in log and "exited with code" not in log, log[-2000:]
    assert log.count("Booting worker") == 1, log[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("command,name,text", [
    ("validate", "deep.jsonld", CRASH_JSONLD),
    ("load", "deep.jsonld", CRASH_JSONLD),
    ("load", "terms.nt", CRASH_TRIPLE_TERMS),
    ("validate", "terms.nt", CRASH_TRIPLE_TERMS),
])
def test_documents_that_crash_a_parser_are_refused_by_the_cli(tmp_path: Path, command: str, name: str,
                                                               text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    args = [KG, command, str(path)] + (["--store", str(tmp_path / "store")] if command == "load" else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, (done.returncode, done.stderr[-500:])   # -11 would be the segmentation fault
    expected = f"at most {MAX_RDF_DEPTH} are accepted" if name.endswith("jsonld") else "RDF 1.2 triple terms"
    assert done.stderr.startswith("kg: error: ") and expected in done.stderr, done.stderr
