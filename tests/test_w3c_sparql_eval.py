"""The W3C SPARQL 1.1 query evaluation tests through `/sparql`, one test per manifest entry.

Each test's dataset is given by the protocol (Protocol §2.1.4): every data file of the suite is a
graph of its own in one store built for the session, and a query is sent with `default-graph-uri`
(its `qt:data` files) and `named-graph-uri` (its `qt:graphData` files) so that it sees exactly
its dataset; a query that names its own dataset (FROM) is sent without them. It is sent to an
endpoint URL in the test's folder, so that its relative IRIs (`FROM <data.ttl>`, `GRAPH
<data.ttl>`) resolve to the suite's files. The answer, asked for in the expected result's format,
is compared with the expected result (see `w3c_sparql`).

Where our answer is wrong, the same query is run on pyoxigraph directly, with the same dataset
and base: if that fails the same way, the difference is the engine's and must be listed with its
reason in tests/w3c/known_failures.toml (`[sparql]`); a failure of ours alone fails the test, and
so does a listed test that passes.

    .venv/bin/python -m pytest -p no:cacheprovider tests/test_w3c_sparql_eval.py
"""
from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from flask import Flask

from server.sparql.guard import scan

from .w3c_sparql import (EVALUATION_FOLDERS, RDF_FORMATS, RESULT_FORMATS, Answer, Entry, answer_from_graph,
                         answer_from_results, entries, expected_answer, known_failures, local_path, same, text_of)
from .w3c_suites import require

EVALUATION = [e for e in entries(EVALUATION_FOLDERS) if e.kind in ("QueryEvaluationTest", "CSVResultFormatTest")]
KNOWN = known_failures()
MEDIA = {".srx": "application/sparql-results+xml", ".srj": "application/sparql-results+json",
         ".tsv": "text/tab-separated-values", ".csv": "text/csv"}
NO_GRAPH = "urn:x-kg-test:no-such-graph"   # a default-graph-uri naming no graph: an empty default graph


def _params() -> list[Any]:
    if not EVALUATION:
        return [pytest.param(None, id="suite-not-found")]
    return [pytest.param(e, id=e.id) for e in EVALUATION]


@pytest.fixture(scope="module")
def suite_dataset() -> ox.Store:
    """Every data file of these tests in a graph named by its IRI, in memory: what pyoxigraph is
    asked directly."""
    require("sparql11")
    store = ox.Store()
    for iri in sorted({d for e in EVALUATION for d in e.data + e.graph_data}):
        path = local_path(iri)
        store.load(path=str(path), format=RDF_FORMATS[path.suffix], base_iri=iri, to_graph=ox.NamedNode(iri))
    return store


@pytest.fixture(scope="module")
def suite_app(make_app: Any, suite_dataset: ox.Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app over an on-disk copy of the same dataset (closed before the app opens it)."""
    folder: Path = tmp_path_factory.mktemp("w3c-sparql") / "store"
    disk = ox.Store(str(folder))
    disk.bulk_extend(suite_dataset.quads_for_pattern(None, None, None, None))
    disk.flush()
    del disk
    gc.collect()
    yield make_app(store=str(folder), query_timeout_s=20.0)


def dataset_of(entry: Entry, query: str) -> tuple[list[str], list[str]]:
    """The protocol dataset of a test: none for a query with FROM (its own names the graphs), an
    empty default graph for a test without data."""
    if scan(query).has_dataset_clause:
        return [], []
    return list(entry.data) or [NO_GRAPH], list(entry.graph_data)


def ordered(query: str) -> bool:
    """Whether the query's solutions come in an order: ORDER BY after its last group (an ORDER BY
    inside a subquery orders nothing outside it)."""
    return re.search(r"(?i)\bORDER\s+BY\b", query[query.rfind("}") + 1:]) is not None


def ask_endpoint(app: Flask, entry: Entry, query: str, expected: Answer) -> Answer:
    """The query through /sparql, in the expected result's format."""
    suffix = Path(entry.result or "").suffix
    accept = MEDIA.get(suffix) or ("text/turtle" if expected.kind == "graph" else MEDIA[".srj"])
    default, named = dataset_of(entry, query)
    site = entry.endpoint[:-len("sparql")]
    resp = app.test_client().post("/sparql", data={"query": query, "default-graph-uri": default,
                                                   "named-graph-uri": named},
                                  headers={"Accept": accept}, base_url=site)
    if resp.status_code != 200:
        return Answer("error", error=f"{resp.status_code} {resp.get_data(as_text=True)[:300]}")
    assert resp.mimetype == accept.split(",")[0], (resp.mimetype, accept)
    if resp.mimetype == "text/turtle":
        return answer_from_graph(resp.data, "turtle")
    fmt = next(f for s, f in RESULT_FORMATS.items() if MEDIA[s] == resp.mimetype)
    return answer_from_results(resp.data, fmt)


def ask_pyoxigraph(store: ox.Store, entry: Entry, query: str, expected: Answer) -> Answer:
    """The same query, dataset and base on pyoxigraph itself, written by its own serializers in
    the same format."""
    default, named = dataset_of(entry, query)
    options: dict[str, Any] = {"base_iri": entry.endpoint}
    if default or named:
        options.update(default_graph=[ox.NamedNode(g) for g in default], named_graphs=[ox.NamedNode(g) for g in named])
    try:
        result = store.query(query, **options)
        if isinstance(result, ox.QueryTriples):
            return answer_from_graph(ox.serialize(list(result), format=ox.RdfFormat.TURTLE), "turtle")
        fmt = RESULT_FORMATS.get(Path(entry.result or "").suffix, ox.QueryResultsFormat.JSON)
        return answer_from_results(result.serialize(format=fmt), fmt)
    except (SyntaxError, OSError, ValueError, RuntimeError) as exc:
        return Answer("error", error=f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("entry", _params())
def test_w3c_query_evaluation(suite_app: Flask, suite_dataset: ox.Store, entry: Entry | None) -> None:
    require("sparql11")
    assert entry is not None
    query = text_of(entry.action)
    expected = expected_answer(entry)
    order = ordered(query)
    ours = ask_endpoint(suite_app, entry, query, expected)
    if same(expected, ours, ordered=order):
        assert entry.id not in KNOWN, f"{entry.id} passes now: take it off tests/w3c/known_failures.toml"
        return
    direct = ask_pyoxigraph(suite_dataset, entry, query, expected)
    assert not same(expected, direct, ordered=order), \
        f"{entry.id}: pyoxigraph answers right and /sparql does not:\nours:     {ours}\nexpected: {expected}"
    assert ours.kind == direct.kind == "error" or same(direct, ours, ordered=order), \
        f"{entry.id}: /sparql and pyoxigraph are both wrong, differently:\nours:   {ours}\ndirect: {direct}"
    assert entry.id in KNOWN, (f"{entry.id} fails in pyoxigraph too: list it in tests/w3c/known_failures.toml "
                               f"[sparql] with its reason\nexpected: {expected}\ngot:      {ours}")
    pytest.xfail(f"the engine's: {KNOWN[entry.id]}")
