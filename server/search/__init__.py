"""Search over the graph: names, other names and the sentences of the sources, in a full-text
index kept beside the store (`index.py`), read by `/search` (`views.py`).

Three entry points keep it current:
- `build_for_store(store_dir, base)`: `kg build` (and every publish of a new store) writes the
  index of the new store before the store is swapped in;
- `index_changes(settings, quads, engine)`: the write path calls it after each committed write,
  with the quads the write added and removed;
- `current_index(settings, engine)`: a search on a missing or outdated index (a restored store,
  a `kg load`, a remote store changed by `kg build`) rebuilds it first.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..settings import Settings
from ..sparql.queries import query_request
from ..store.embedded import data_version
from .entries import Rows, Scope
from .index import build_index, build_lock, index_file, is_current, search, update_index

log = logging.getLogger("kg.search")

__all__ = ["build_for_store", "current_index", "index_changes", "search"]
TOUCHED_BATCH = 100   # nodes of a change asked about in one query


def store_rows(store: ox.Store) -> Rows:
    """SELECTs on an open store, every row (for `kg build`: no server, no row cap)."""
    def rows(query: str) -> Iterator[dict[str, str]]:
        solutions = store.query(query, use_default_graph_as_union=True)
        names = [v.value for v in solutions.variables]  # type: ignore[union-attr]
        for solution in solutions:  # type: ignore[union-attr]
            yield {n: solution[n].value for n in names if solution[n] is not None}
    return rows


def engine_rows(engine: Any, settings: Settings) -> Rows:
    """SELECTs through the query engine (its time limit and caps), fetched a row cap at a time so
    that the cap cuts nothing."""
    page = settings.max_result_rows

    def rows(query: str) -> Iterator[dict[str, str]]:
        offset = 0
        while True:
            answer = engine.run(query_request(f"{query} LIMIT {page} OFFSET {offset}", settings,
                                              explicit_format="json"))
            bindings = json.loads(answer.body)["results"]["bindings"]
            for b in bindings:
                yield {k: v["value"] for k, v in b.items()}
            if len(bindings) < page and not answer.truncated:
                return
            offset += len(bindings)
    return rows


def location(settings: Settings) -> Path:
    """The index file: beside the store build the `store` link points at; for a remote store,
    beside the `store` setting's path."""
    if settings.remote:
        link = Path(settings.store)
        return link.parent / (link.name + ".remote-search.sqlite")
    return index_file(Path(settings.store).resolve())


def build_for_store(store_dir: Path, base: str) -> int:
    """Index a store directory that nothing serves yet (called by `publish`, before the swap)."""
    store = ox.Store.read_only(str(store_dir))
    try:
        return build_index(index_file(store_dir), store_rows(store), Scope.for_base(base), data_version(store_dir)[0])
    finally:
        del store


def current_index(settings: Settings, engine: Any) -> Path:
    """The index of the data served now, rebuilt first when it is missing or behind."""
    path = location(settings)
    if is_current(path, str(engine.data_version()[0]), settings.base_iri):
        return path
    with build_lock(path):
        version = str(engine.data_version()[0])   # read before the data, so a write meanwhile shows up as behind
        if not is_current(path, version, settings.base_iri):
            log.info("building the search index %s", path)
            build_index(path, engine_rows(engine, settings), Scope.for_base(settings.base_iri), version)
    return path


def index_changes(settings: Settings, quads: Iterable[ox.Quad], engine: Any = None,
                  store: ox.Store | None = None) -> None:
    """After a committed write: rewrite the index rows of every thing the write touched.

    `engine` is the server's query engine; without one (a command-line write) the store is read
    directly: `store` when the writer holds it open (opening it read-only beside its own writer
    would be undefined behaviour), else opened read-only. Never fails the write (it is stored
    already): on an error the index is left behind the data and the next search rebuilds it.
    """
    path = location(settings)
    try:
        if not path.exists() or (engine is None and settings.remote):
            return  # nothing to keep current; the first search builds it from the data
        scope = Scope.for_base(settings.base_iri)
        if engine is None and store is None:
            store = ox.Store.read_only(str(Path(settings.store).resolve()))
        rows = engine_rows(engine, settings) if store is None else store_rows(store)
        version = str((engine.data_version() if engine is not None else data_version(Path(settings.store)))[0])
        with build_lock(path):
            update_index(path, rows, scope, touched_things(quads, rows, scope), version)
        del store
    except Exception:  # noqa: BLE001 — see the docstring: the write stands; the index catches up later
        log.exception("the search index could not be updated; it will be rebuilt on the next search")


def touched_things(quads: Iterable[ox.Quad], rows: Rows, scope: Scope) -> set[str]:
    """The things whose entry a change may alter: its subjects and objects, and the things whose
    evidence (quote node, selector or source) it touched."""
    nodes = sorted({t.value for q in quads for t in (q.subject, q.object) if isinstance(t, ox.NamedNode)})
    things = {n for n in nodes if scope.holds(n)}
    kgo, oa = scope.vocabulary, "http://www.w3.org/ns/oa#"
    # Each node is written into branches of its own: Oxigraph does not push a VALUES binding into
    # the branches of a UNION, and read every evidence link of the store for each write (2 s a
    # write at a million quads).
    for start in range(0, len(nodes), TOUCHED_BATCH):
        branches = " UNION ".join(
            f"{{ ?s <{kgo}evidence> <{n}> }} UNION {{ ?s <{kgo}evidence>/<{oa}hasSelector> <{n}> }} "
            f"UNION {{ ?s <{kgo}evidence>/<{oa}hasSource> <{n}> }}" for n in nodes[start:start + TOUCHED_BATCH])
        things |= {r["s"] for r in rows(f"SELECT DISTINCT ?s WHERE {{ {branches} }}")}
    return things
