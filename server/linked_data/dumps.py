"""Downloadable dumps of the dataset, made once per data version and kept beside the store.

No Flask here. The quads are read page by page through the same `select` as everything else
(so each read keeps the engine's time limit) and written to `<store>.cache/<data version>/`:
the whole dataset as N-Quads and TriG (gzip), one N-Quads file per named graph, and the union
as Turtle. gzip headers carry no time stamp, so a file's sha256 depends on the data alone.
A version's directory is written under a temporary name and renamed into place, so two
server processes racing to make it never expose half a file.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..http import formats
from .describe import Select, all_quads_query, fetch_paged, render

KEEP_VERSIONS = 2


@dataclass(frozen=True)
class Dump:
    name: str          # file name under /dumps/
    media_type: str    # of the content (before gzip for .gz files)
    size: int
    sha256: str
    graph: str | None  # the named graph it holds, or None for the whole dataset
    title: str

    @property
    def gzipped(self) -> bool:
        return self.name.endswith(".gz")


def cache_root(store: str | os.PathLike[str]) -> Path:
    """The cache directory beside the store link (never inside the store directory)."""
    link = Path(os.path.abspath(store))
    return link.parent / (link.name + ".cache")


# `{base}graph/<rest>` with a plain rest (lower-case words, hyphens, slashes) keeps a name that reads
# as the graph: `graph-article.kars-gyumri-second-round`. Every other graph gets a short readable stem
# and a hash of its whole IRI after an underscore, which no plain name holds: names never collide,
# and never grow past the file system's 255 bytes whatever the IRI's length.
_PLAIN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)*")
PLAIN_MAX = 80
STEM_MAX = 40


def graph_dump_name(base: str, graph: str) -> str:
    """The dump file name of one named graph (without `.nq.gz`): one name per graph, at most 86 characters."""
    rest = graph[len(base + "graph/"):] if graph.startswith(base + "graph/") else ""
    if len(rest) <= PLAIN_MAX and _PLAIN.fullmatch(rest):
        return "graph-" + rest.replace("/", ".")
    readable = rest or (graph[len(base):] if graph.startswith(base) else graph.split("://", 1)[-1])
    stem = re.sub(r"[^A-Za-z0-9]+", "-", readable).strip("-")[:STEM_MAX].strip("-")
    return f"graph-{stem}_{hashlib.sha256(graph.encode('utf-8')).hexdigest()[:16]}"


def ensure_dumps(select: Select, *, store: str, version: str, base: str, prefixes: dict[str, str],
                 page: int, leave_out: str | None = None) -> list[Dump]:
    """The dumps of this data version: made now if missing, else read from the manifest.

    `leave_out` is a graph the dumps do not hold: the change log, which grows with every write
    and would make every first page view after a write read all of it again (its changes are
    served a page at a time by /history, and `kg dump` keeps it)."""
    root = cache_root(store)
    final = root / version / "dumps"
    manifest = final / "manifest.json"
    if manifest.exists():
        return [Dump(**d) for d in json.loads(manifest.read_text())]
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=root, prefix=".making-"))
    try:
        quads = fetch_paged(select, lambda limit, offset: all_quads_query(limit, offset, leave_out), page)
        dumps = _write(work, quads, base, prefixes)
        (work / "manifest.json").write_text(json.dumps([d.__dict__ for d in dumps], indent=1))
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(work, final)
        except OSError:  # another process made it first: theirs is as good as ours
            shutil.rmtree(work, ignore_errors=True)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    _prune(root, keep=version)
    return [Dump(**d) for d in json.loads(manifest.read_text())]


def dump_path(store: str | os.PathLike[str], version: str, name: str) -> Path:
    return cache_root(store) / version / "dumps" / name


def _write(folder: Path, quads: list[ox.Quad], base: str, prefixes: dict[str, str]) -> list[Dump]:
    fmts = formats.BY_NAME
    files: list[tuple[str, bytes, str, str | None, str]] = [
        ("dataset.nq.gz", render(fmts["nquads"], quads, prefixes), fmts["nquads"].media_type, None,
         "the whole dataset, every named graph (N-Quads, gzip)"),
        ("dataset.trig.gz", render(fmts["trig"], quads, prefixes), fmts["trig"].media_type, None,
         "the whole dataset, every named graph (TriG, gzip)"),
        ("default.ttl", render(fmts["turtle"], quads, prefixes), fmts["turtle"].media_type, None,
         "the union of the named graphs (Turtle)"),
    ]
    graphs = sorted({q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)})
    for g in graphs:
        subset = [q for q in quads if q.graph_name == ox.NamedNode(g)]
        files.append((graph_dump_name(base, g) + ".nq.gz", render(fmts["nquads"], subset, prefixes),
                      fmts["nquads"].media_type, g, f"named graph {g} (N-Quads, gzip)"))
    out = []
    for name, data, media, graph, title in files:
        payload = gzip.compress(data, mtime=0) if name.endswith(".gz") else data
        (folder / name).write_bytes(payload)
        out.append(Dump(name, media, len(payload), hashlib.sha256(payload).hexdigest(), graph, title))
    return out


def _prune(root: Path, keep: str) -> None:
    versions = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                      key=lambda p: p.stat().st_mtime, reverse=True)
    for old in versions[KEEP_VERSIONS:]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
