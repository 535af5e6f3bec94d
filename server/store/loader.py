"""`kg load`: stream RDF files into the embedded store with Oxigraph's bulk loader.

Memory stays bounded whatever the file size (the bulk loader writes sorted runs to disk).
Progress is measured at the reader: bytes consumed, and triples counted by line for the
line-based formats (N-Triples, N-Quads) or estimated from the bytes for the others.
On a parse error the bulk loader ingests nothing from that file (observed with pyoxigraph
0.5 and tested in tests/test_loader.py): files before it stay loaded, the failing file is
rolled back as a whole. Each file is read once through the RDF guard first (`rdf_guard`: nesting,
XML entities, RDF 1.2), in chunks, before the loader parses it.
"""
from __future__ import annotations

import io
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable

import pyoxigraph as ox

from ..errors import InputSyntaxError
from .embedded import KGStore, format_for_path, open_input, syntax_error, touch_version
from .rdf_guard import check_stream
from .terms import checked_iri

if TYPE_CHECKING:
    from .remote import RemoteStore


@dataclass
class LoadStats:
    files: int = 0
    triples: int = 0
    bytes: int = 0
    seconds: float = 0.0
    exact: bool = True   # False when a non-line format's triples were estimated from its bytes

    @property
    def rate(self) -> float:
        return self.triples / self.seconds if self.seconds else 0.0


class Progress:
    """A progress bar on a terminal, a log line every `every_s` seconds otherwise."""

    def __init__(self, stream: IO[str] = sys.stderr, every_s: float = 5.0, tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.every_s = every_s if not self.tty else 0.2
        self.last = 0.0

    def update(self, name: str, done: int, total: int, triples: int, started: float, exact: bool) -> None:
        now = time.monotonic()
        if now - self.last < self.every_s and done < total:
            return
        self.last = now
        elapsed = now - started
        rate = triples / elapsed if elapsed else 0.0
        eta = (elapsed / done * (total - done)) if done and total else 0.0
        count = f"{triples:,}" if exact else f"~{triples:,}"
        if self.tty:
            width = 30
            filled = int(width * done / total) if total else width
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r{name} [{bar}] {count} triples, {rate:,.0f}/s, {elapsed:.0f}s elapsed, "
                              f"~{eta:.0f}s left ")
        else:
            pct = 100.0 * done / total if total else 100.0
            self.stream.write(f"load: {name}: {pct:.0f}% {count} triples, {rate:,.0f} triples/s, "
                              f"{elapsed:.1f}s elapsed, ~{eta:.0f}s left\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


class _CountingReader(io.RawIOBase):
    """Wraps the input so that every read the parser makes reports progress."""

    def __init__(self, raw: IO[bytes], on_read: Callable[[bytes], None]) -> None:
        self.raw = raw
        self.on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if n:
            self.on_read(data)
        return n


def _consumed(raw: IO[bytes], read: int) -> int:
    """How much of the file has been read, in the file's own bytes (its size is the progress's
    total): for a .gz file, where the compressed file is, not how much it has decompressed to."""
    fileobj = getattr(raw, "fileobj", None)
    return fileobj.tell() if fileobj is not None else read


def guard(path: Path, syntax: str) -> None:
    """The same guard as every other RDF input, read once in chunks before the loader parses the file."""
    with open_input(path) as raw:
        check_stream(raw, syntax, source=str(path))


def load_files(store_path: Path, files: list[Path], *, graph: str | None = None,
               progress: Progress | None = None) -> LoadStats:
    """Bulk-load each file; a syntax error names file, line and column (that file is not loaded)."""
    if graph:
        checked_iri(graph, "--graph")
    stats = LoadStats()
    store = KGStore(store_path, read_only=False)
    started_all = time.monotonic()
    try:
        for path in files:
            if not path.exists():
                raise InputSyntaxError(f"{path}: file not found", source=str(path))
            fmt = format_for_path(path)
            guard(path, fmt.name)
            line_based = fmt.name in ("ntriples", "nquads")
            total = path.stat().st_size
            state = {"bytes": 0, "lines": 0}
            started = time.monotonic()

            with open_input(path) as raw:
                def on_read(data: bytes, path: Path = path, total: int = total, raw: IO[bytes] = raw) -> None:
                    state["bytes"] += len(data)
                    state["lines"] += data.count(b"\n")
                    triples = state["lines"] if line_based else state["bytes"] // 60
                    if progress:
                        progress.update(path.name, _consumed(raw, state["bytes"]), total, triples, started,
                                        line_based)

                reader = io.BufferedReader(_CountingReader(raw, on_read), buffer_size=1 << 20)
                try:
                    store.ox.bulk_load(input=reader, format=fmt.rdf,
                                       to_graph=ox.NamedNode(graph) if graph else None)
                except SyntaxError as exc:
                    raise syntax_error(exc, str(path)) from None
            stats.triples += state["lines"] if line_based else state["bytes"] // 60
            stats.exact = stats.exact and line_based
            stats.files += 1
            stats.bytes += total
        store.ox.flush()
        if store_path.is_symlink():
            touch_version(store_path)
    finally:
        if progress:
            progress.done()
        store.close()
    stats.seconds = time.monotonic() - started_all
    return stats



def load_remote(remote: "RemoteStore", files: list[Path], *, graph: str | None = None,
                progress: Progress | None = None) -> LoadStats:
    """Stream-parse each file with pyoxigraph and POST it to the remote's Graph Store in batches.

    Each file is parsed twice: once to check it whole (a file with a syntax error sends
    nothing, as with the embedded loader), then again to send it, BATCH_TRIPLES triples per
    request (one GSP POST when the batch is one graph, else one INSERT DATA). Not atomic: a failure of the remote half-way leaves the batches sent
    so far. Blank nodes keep their labels within a batch only (each request is its own document).
    """
    from .remote import BATCH_TRIPLES

    stats = LoadStats()
    started_all = time.monotonic()
    target = ox.NamedNode(checked_iri(graph, "--graph")) if graph else None
    try:
        for path in files:
            if not path.exists():
                raise InputSyntaxError(f"{path}: file not found", source=str(path))
            fmt = format_for_path(path)
            guard(path, fmt.name)
            with open_input(path) as raw:
                try:
                    for _ in ox.parse(raw, format=fmt.rdf, without_named_graphs=False):
                        pass
                except SyntaxError as exc:
                    raise syntax_error(exc, str(path)) from None
            total = path.stat().st_size
            state = {"bytes": 0, "triples": 0}
            started = time.monotonic()

            batch: list[ox.Quad] = []
            with open_input(path) as raw:
                def on_read(data: bytes, path: Path = path, total: int = total, raw: IO[bytes] = raw) -> None:
                    state["bytes"] += len(data)
                    if progress:
                        progress.update(path.name, _consumed(raw, state["bytes"]), total, state["triples"], started,
                                        True)

                reader = io.BufferedReader(_CountingReader(raw, on_read), buffer_size=1 << 20)
                for q in ox.parse(reader, format=fmt.rdf, without_named_graphs=False):
                    batch.append(q if target is None else ox.Quad(q.subject, q.predicate, q.object, target))
                    state["triples"] += 1
                    if len(batch) >= BATCH_TRIPLES:
                        remote.post_quads(batch)
                        batch = []
            if batch:
                remote.post_quads(batch)
            stats.triples += state["triples"]
            stats.files += 1
            stats.bytes += total
    finally:
        if progress:
            progress.done()
    stats.seconds = time.monotonic() - started_all
    return stats
