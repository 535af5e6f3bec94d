"""`kg dump` and `kg restore`: the whole store as N-Quads or TriG (optionally gzipped), and back.

A restore goes into an empty store only (it never merges into data that is already there)
and is published like a build: a fresh store directory, then the store link swapped to it.

The diffs of the accepted changes live in the store's patch log, beside the store (see
`curation.patches`). A dump carries them too, in one extra graph, `{base}graph/changelog/patches`,
each change's RDF Patch as a literal (`<change> kgc:patch "…"`); a restore puts them back into
the new store's patch log and leaves that graph out of the store, so that the restored store
can undo, export and rebuild every change as the original could.
"""
from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from .pipeline import publish
from .. import namespaces as ns
from ..curation.changelog import activities_query, changelog_graph, kgc
from ..curation.patches import PatchLog, is_change_id, parse_patch
from ..curation.store_access import StoreLock
from ..errors import BadRequest, Conflict, NotFound
from ..http.formats import BY_NAME, Format
from ..store.embedded import format_for_path, open_input, parse_rdf

DUMP_FORMATS = ("nquads", "trig")


def dump_store(store_link: Path, output: IO[bytes], fmt_name: str = "nquads", *, compress: bool = False,
               base: str = ns.DEFAULT_BASE) -> None:
    if fmt_name not in DUMP_FORMATS:
        raise BadRequest(f"dump format {fmt_name!r} is not one of {', '.join(DUMP_FORMATS)}")
    if not store_link.exists():
        raise NotFound(f"no store at {store_link}; run `kg build` first")
    fmt: Format = BY_NAME[fmt_name]
    with StoreLock(store_link).held(what="kg dump"):   # no write commits while the dump reads the store
        _dump(store_link, output, fmt, compress, base)


def _dump(store_link: Path, output: IO[bytes], fmt: Format, compress: bool, base: str) -> None:
    store = ox.Store.read_only(str(store_link.resolve()))
    try:
        sink: IO[bytes] = gzip.GzipFile(fileobj=output, mode="wb", mtime=0) if compress else output
        store.dump(sink, format=fmt.rdf)
        patches = patch_quads(store, PatchLog.beside(store_link), base)
        if patches:
            sink.write(b"\n" + ox.serialize(patches, format=fmt.rdf))
        if compress:
            sink.close()
    finally:
        del store


def patches_graph(base: str) -> ox.NamedNode:
    return ox.NamedNode(changelog_graph(base) + "/patches")


def patch_quads(store: ox.Store, log: PatchLog, base: str) -> list[ox.Quad]:
    """The patches of the changes the store's log names, as quads of the dump's patches graph."""
    g, p = patches_graph(base), ox.NamedNode(kgc(base) + "patch")
    out = []
    for row in store.query(activities_query(base)):  # type: ignore[union-attr]
        iri = row["activity"].value  # type: ignore[index]
        change_id = iri.rsplit("/", 1)[-1]
        if is_change_id(change_id) and log.path(change_id).exists():
            out.append(ox.Quad(ox.NamedNode(iri), p, ox.Literal(log.path(change_id).read_text(encoding="utf-8")), g))
    return out


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


def restore_store(dump_file: Path, store_link: Path, base: str = ns.DEFAULT_BASE) -> int:
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
    g = patches_graph(base)
    log = PatchLog.beside(store_link)
    for q in quads:
        if q.graph_name == g:
            patch = parse_patch(q.object.value, f"{dump_file}: the patch of <{q.subject.value}>").patch
            log.save(patch)
    quads = [q for q in quads if q.graph_name != g]
    publish(store_link, quads, base_iri=base)
    return len(quads)
