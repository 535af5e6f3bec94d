"""`kg dump` and `kg restore`: the whole store as N-Quads or TriG (optionally gzipped), and back.

A restore goes into an empty store only (it never merges into data that is already there)
and is published like a build: a fresh store directory, then the store link swapped to it.
"""
from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from .pipeline import publish
from ..errors import BadRequest, Conflict, NotFound
from ..http.formats import BY_NAME, Format
from ..store.embedded import format_for_path, open_input, parse_rdf

DUMP_FORMATS = ("nquads", "trig")


def dump_store(store_link: Path, output: IO[bytes], fmt_name: str = "nquads", *, compress: bool = False) -> None:
    if fmt_name not in DUMP_FORMATS:
        raise BadRequest(f"dump format {fmt_name!r} is not one of {', '.join(DUMP_FORMATS)}")
    if not store_link.exists():
        raise NotFound(f"no store at {store_link}; run `kg build` first")
    fmt: Format = BY_NAME[fmt_name]
    store = ox.Store.read_only(str(store_link.resolve()))
    try:
        sink: IO[bytes] = gzip.GzipFile(fileobj=output, mode="wb", mtime=0) if compress else output
        store.dump(sink, format=fmt.rdf)
        if compress:
            sink.close()
    finally:
        del store


def store_is_empty(path: Path) -> bool:
    if not path.exists():
        return True
    if path.is_dir() and not any(path.iterdir()):
        return True
    store = ox.Store.read_only(str(path.resolve()))
    try:
        return len(store) == 0
    finally:
        del store


def restore_store(dump_file: Path, store_link: Path) -> int:
    """Load a dump into a new store at `store_link`; refuse a store that holds data. Returns quads loaded."""
    if not dump_file.exists():
        raise NotFound(f"{dump_file}: file not found")
    if not store_is_empty(store_link):
        raise Conflict(f"the store at {store_link} is not empty; restore into a new or empty store path")
    fmt = format_for_path(dump_file)
    if fmt.name not in DUMP_FORMATS:
        raise BadRequest(f"{dump_file}: a dump is .nq or .trig (optionally .gz), not .{fmt.extension}")
    with open_input(dump_file) as fh:
        quads = parse_rdf(fh, fmt, source=str(dump_file))
    if store_link.is_dir() and not store_link.is_symlink():
        shutil.rmtree(store_link)   # empty (checked above); publish() puts a link there
    publish(store_link, quads)
    return len(quads)
