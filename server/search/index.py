"""The full-text index: an SQLite FTS5 table beside the store, one row per thing.

Why SQLite FTS5: it ships with Python (no new dependency, nothing to compile), ranks with BM25,
keeps prefix indexes for the search-as-you-type box, updates row by row in a transaction (a
curated write changes a handful of rows), and is one file that readers in every gunicorn
worker open side by side. Tantivy would bring a native package and an index directory with a
writer lock for an index of this size.

The file keeps SQLite's rollback journal, not WAL: a rebuilt index replaces the file in one
rename, and a WAL file left beside the old one would be read as part of the new.

The index records the data version it reflects (`meta.version`, the same version as the
pages' ETags). A search on an index that is missing or behind the data rebuilds it first;
`kg build` builds it with the store, and the write path updates the rows a write touches
(`index_changes`), so in normal use a search never waits for a rebuild.
"""
from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..linked_data.quotes import sentence_around
from .entries import Entry, Rows, Scope, gather, kind_of, type_labels
from .text import Segment, fold, highlight, match_expression, words

SCHEMA_VERSION = "3"
# BM25 weights of the indexed columns: a word of a thing's name counts most, one of its other
# names less, one of the sentences about it least.
WEIGHTS = (10.0, 5.0, 1.0)

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE things(id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE, href TEXT NOT NULL, label TEXT NOT NULL,
                    kind TEXT NOT NULL, types TEXT NOT NULL, quotes TEXT NOT NULL, notes TEXT NOT NULL,
                    full_text TEXT NOT NULL, name_key TEXT NOT NULL);
CREATE INDEX things_by_name ON things(name_key);
CREATE VIRTUAL TABLE words USING fts5(name, other_names, text, tokenize='unicode61 remove_diacritics 2',
                                      prefix='2 3 4');
"""


@dataclass(frozen=True)
class Hit:
    iri: str
    href: str
    label: str
    kind: str
    types: list[str]
    quote: list[Segment] | None   # the sentence that mentions the words searched for, cut around them

    def to_json(self) -> dict[str, object]:
        text = "".join(s.text for s in self.quote or [])
        spans, at = [], 0
        for s in self.quote or []:
            if s.hit:
                spans.append([at, at + len(s.text)])
            at += len(s.text)
        return {"iri": self.iri, "href": self.href, "label": self.label, "type": self.kind, "types": self.types,
                "quote": text or None, "highlights": spans}


@dataclass(frozen=True)
class Results:
    query: str
    total: int
    hits: list[Hit]
    offset: int


def index_file(store_dir: Path) -> Path:
    """The index of one store build: a sibling file, so that `kg build`'s link swap changes both."""
    return store_dir.parent / (store_dir.name + ".search.sqlite")


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 30000")
    return con


# -- building and updating ------------------------------------------------------------------------

def _rows_of(entry: Entry, scope: Scope, labels: dict[str, str]) -> tuple[tuple[object, ...], tuple[str, ...]]:
    names = [t for t, _ in entry.labels]
    thing = (entry.iri, scope.href(entry.iri), entry.label, kind_of(entry, labels), json.dumps(entry.types),
             json.dumps(entry.quotes, ensure_ascii=False), json.dumps(entry.descriptions, ensure_ascii=False),
             entry.full_text, " ".join(words(entry.label)))
    indexed = (fold(" · ".join(names)), fold(" · ".join(entry.other_names)),
               fold(" ".join(entry.quotes + entry.descriptions + [entry.full_text])))
    return thing, indexed


def _insert(con: sqlite3.Connection, entries: Iterable[Entry], scope: Scope, labels: dict[str, str]) -> int:
    n = 0
    for entry in entries:
        thing, indexed = _rows_of(entry, scope, labels)
        cur = con.execute("INSERT INTO things(iri, href, label, kind, types, quotes, notes, full_text, name_key) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", thing)
        con.execute("INSERT INTO words(rowid, name, other_names, text) VALUES (?, ?, ?, ?)", (cur.lastrowid, *indexed))
        n += 1
    return n


def build_index(path: Path, rows: Rows, scope: Scope, version: str) -> int:
    """Write a complete index of the graph to `path` (a new file, renamed into place); its size."""
    entries = gather(rows, scope)
    labels = type_labels(rows, (t for e in entries.values() for t in e.types))
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    con = _connect(tmp)
    try:
        con.executescript(_SCHEMA)
        with con:
            n = _insert(con, entries.values(), scope, labels)
            con.executemany("INSERT INTO meta VALUES (?, ?)", [("schema", SCHEMA_VERSION), ("version", version),
                                                                ("base", scope.base)])
        con.execute("INSERT INTO words(words) VALUES ('optimize')")
    finally:
        con.close()
    os.replace(tmp, path)
    return n


def update_index(path: Path, rows: Rows, scope: Scope, iris: Iterable[str], version: str) -> int:
    """Rewrite the rows of these things (dropping those that no longer have a name); rows changed."""
    iris = sorted({i for i in iris if scope.holds(i)})
    con = _connect(path)
    try:
        with con:
            if iris:
                entries = gather(rows, scope, only=iris)
                labels = type_labels(rows, (t for e in entries.values() for t in e.types))
                for iri in iris:
                    found = con.execute("SELECT id FROM things WHERE iri = ?", (iri,)).fetchone()
                    if found:
                        con.execute("DELETE FROM words WHERE rowid = ?", found)
                        con.execute("DELETE FROM things WHERE id = ?", found)
                _insert(con, entries.values(), scope, labels)
            con.execute("UPDATE meta SET value = ? WHERE key = 'version'", (version,))
    finally:
        con.close()
    return len(iris)


def is_current(path: Path, version: str, base: str) -> bool:
    """True when the index at `path` reflects this data version under this base IRI."""
    if not path.exists():
        return False
    try:
        meta = dict(_reader(path).execute("SELECT key, value FROM meta").fetchall())
    except (sqlite3.DatabaseError, OSError):
        return False
    return meta.get("schema") == SCHEMA_VERSION and meta.get("version") == version and meta.get("base") == base


@contextmanager
def build_lock(path: Path) -> Iterator[None]:
    """One builder at a time across the server's processes (the others wait, then find it built)."""
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# -- searching --------------------------------------------------------------------------------------

_local = threading.local()


def _reader(path: Path) -> sqlite3.Connection:
    """One connection per thread, reopened when the file at `path` is another one (a rebuild
    renames a new file into place; a new store build has a new path)."""
    key = (str(path), os.stat(path).st_ino)
    held: tuple[tuple[str, int], sqlite3.Connection] | None = getattr(_local, "held", None)
    if held is not None and held[0] == key:
        return held[1]
    if held is not None:
        held[1].close()
    con = _connect(path)
    _local.held = (key, con)
    return con


def search(path: Path, query: str, *, limit: int = 20, offset: int = 0) -> Results:
    """The things whose names or sentences hold every word of `query`, best first: those named
    exactly what was typed, then BM25's order."""
    expr = match_expression(query)
    if expr is None:
        return Results(query, 0, [], offset)
    con = _reader(path)
    total = con.execute("SELECT count(*) FROM words WHERE words MATCH ?", (expr,)).fetchone()[0]
    ids = _page(con, expr, " ".join(words(query)), limit, offset)
    rows = {r[0]: r[1:] for r in con.execute(
        "SELECT id, iri, href, label, kind, types, quotes, notes, full_text FROM things "
        f"WHERE id IN ({', '.join('?' * len(ids))})", ids)} if ids else {}
    hits = [Hit(iri, href, label, kind, json.loads(types), best_quote(query, json.loads(quotes), json.loads(notes),
                                                                        full_text))
            for iri, href, label, kind, types, quotes, notes, full_text in (rows[i] for i in ids)]
    return Results(query, total, hits, offset)


def _page(con: sqlite3.Connection, expr: str, name_key: str, limit: int, offset: int) -> list[int]:
    """Row ids of one page of results. Ranked in the full-text table alone, which joins nothing:
    a common word matches tens of thousands of things, and only a page of them is read."""
    exact = [r[0] for r in con.execute("SELECT id FROM things WHERE name_key = ? ORDER BY label", (name_key,))]
    page = exact[offset:offset + limit]
    wanted = limit - len(page)
    if wanted > 0:
        skip = max(0, offset - len(exact))
        ranked = con.execute(f"SELECT rowid FROM words WHERE words MATCH ? ORDER BY bm25(words, {', '.join(map(str, WEIGHTS))}), "
                             "rowid LIMIT ?", (expr, skip + wanted + len(exact)))
        taken = set(exact)
        page += [r for (r,) in ranked if r not in taken][skip:skip + wanted]
    return page


def best_quote(query: str, quotes: list[str], notes: list[str], full_text: str) -> list[Segment] | None:
    """The first sentence about the thing that holds the words searched for (they are marked);
    else the thing's first sentence in a source, as context for a match on its name."""
    for sentence in quotes + notes:
        marked = highlight(sentence, query)
        if marked:
            return marked
    at = 0
    for segment in highlight(full_text, query) or []:
        if segment.hit:
            return highlight(sentence_around(full_text, at, at + len(segment.text)), query)
        at += len(segment.text)
    if quotes:
        return [Segment(quotes[0], False)]
    return [Segment(notes[0], False)] if notes else None
