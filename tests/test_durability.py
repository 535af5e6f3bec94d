"""Durability with real processes: a write killed mid-way leaves all of it or none of it, and readers
never see a write half applied."""
from __future__ import annotations

import gc
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from server import namespaces as ns
from server.curation.patches import PatchLog

from .conftest import ROOT, copy_store

N_TRIPLES = 200_000
BULK = ns.GRAPH + "bulk"
CHILD = r"""
import sys
import pyoxigraph as ox
from server.curation.changes import Change, Diff
from server.curation.writes import Curation, Plan, empty_report
from server.curation.changelog import now_utc
from server.settings import load_settings

store, n, graph = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cur = Curation(load_settings({"store": store}))
comment = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
quads = [ox.Quad(ox.NamedNode(f"https://kars-gyumri.example.org/id/bulk-{i}"), comment, ox.Literal(f"bulk {i}"),
                 ox.NamedNode(graph)) for i in range(n)]
# The planning step (validation) is skipped here: what is tested is the commit, the code path every write ends with.
with cur.target() as target:
    rules = cur.rules(target.key, target.store)
    plan = Plan(Change("sparql-update"), Diff(quads, []), [graph], empty_report(rules.prepared), now_utc(), "curator")
    print("COMMITTING", flush=True)
    cur.commit(plan, target)
print("DONE", flush=True)
"""


def count(store: Path, graph: str) -> tuple[int, int]:
    """(triples in graph, change-log activities that added triples to it)."""
    st = ox.Store(str(store.resolve()))  # read-write: replays the log as a restarted server would
    try:
        n = int(next(iter(st.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")))["n"].value)
        acts = int(next(iter(st.query(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ns.G_CHANGELOG}> {{ ?a <http://www.w3.org/ns/prov#generated> <{graph}> }} }}"
        )))["n"].value)
    finally:
        del st
    return n, acts


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(3))
def test_a_write_killed_midway_leaves_all_or_nothing(built, tmp_path: Path, attempt: int) -> None:  # type: ignore[no-untyped-def]
    store = copy_store(built, tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(store), str(N_TRIPLES), BULK], cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "COMMITTING"
        # the commit of 200k triples takes a few seconds here: early, middle, and around its end
        low, high = ((0.05, 1.0), (1.0, 4.0), (4.0, 8.0))[attempt]
        time.sleep(random.uniform(low, high))
        proc.kill()
    finally:
        proc.wait(30)
        if proc.stdout:
            proc.stdout.close()
    triples, activities = count(store, BULK)
    assert (triples, activities) in ((0, 0), (N_TRIPLES, 1)), (triples, activities)
    if activities:  # the patch is written before the transaction: a committed change always has its diff
        (patch,) = PatchLog.beside(store).ids()
        preview = PatchLog.beside(store).load(patch, limit=0)
        assert preview is not None and preview.total_added == N_TRIPLES


@pytest.mark.slow
def test_readers_see_only_before_or_after_states(make_app, built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = copy_store(built, tmp_path)
    app = make_app(store=str(store), write_token="s3cret")
    graph, batch, writes = ns.GRAPH + "batches", 300, 5
    allowed = {i * batch for i in range(writes + 1)}
    seen: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        client = app.test_client()
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        deadline = time.monotonic() + 120
        for _ in range(5000):
            if stop.is_set() or time.monotonic() > deadline:
                return
            r = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
            if r.status_code == 200:
                seen.append(int(r.json["results"]["bindings"][0]["n"]["value"]))

    thread = threading.Thread(target=reader)
    thread.start()
    client = app.test_client()
    try:
        for w in range(writes):
            body = "".join(f'<{ns.ID}batch-{w}-{i}> <http://www.w3.org/2000/01/rdf-schema#comment> "b{w} {i}" .\n'
                           for i in range(batch))
            r = client.post(f"/rdf-graph-store?graph={graph}", data=body, content_type="application/n-triples",
                            headers={"Authorization": "Bearer s3cret"})
            assert r.status_code in (200, 201), r.text
    finally:
        stop.set()
        thread.join(150)
    assert seen, "the reader never got an answer"
    assert set(seen) <= allowed, sorted(set(seen) - allowed)
    assert seen == sorted(seen)  # never back to an older state
    app.extensions["kg"].engine.close()   # the app's read-write open, so that `count` may open it as a restart would
    gc.collect()
    assert count(store, graph)[0] == writes * batch
