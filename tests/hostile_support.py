"""Helpers of the hostile-input tests: a private store, what a leaked exception looks like, a
loopback listener that must stay silent, and the RSS of a process tree."""
from __future__ import annotations

import os
import re
import select
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server import namespaces as ns
from server.build.pipeline import project_sources, publish, read_sources
from server.http.formats import BY_NAME
from server.store.embedded import SourceFile, open_shared

ROOT = Path(__file__).resolve().parent.parent

# What Python lets out when an exception escapes: never in a body we send.
LEAK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+|"
                  r"\b(?:KeyError|TypeError|AttributeError|IndexError|NameError|UnboundLocalError|AssertionError|"
                  r"RecursionError|ZeroDivisionError|UnicodeDecodeError|UnicodeEncodeError|PanicException|"
                  r"pyo3_runtime)\b")


def build_private_store(folder: Path, *, with_markup: bool = False) -> Path:
    """The project's files (no inference, no validation), published into a store of our own."""
    sources = project_sources()
    if with_markup:
        sources += [SourceFile(ROOT / "tests" / "fixtures" / "markup.ttl", ns.G_OUTSIDE),
                    SourceFile(ROOT / "tests" / "fixtures" / "hostile.trig", ns.G_OUTSIDE)]
    link = folder / "store"
    publish(link, read_sources(sources))
    return link


@contextmanager
def unchanged_store(folder: Path) -> Iterator[Path]:
    """A private store (markup fixtures included) that must hold the same quads at the end."""
    link = build_private_store(folder, with_markup=True)
    before = dump(link)
    yield link
    assert dump(link) == before, "the store changed"


def dump(link: Path) -> list[bytes]:
    """Every quad of the store as sorted N-Quads lines (blank node labels are the store's own),
    read through the store this process has open if an app holds it read-write (a second,
    read-only open beside a writer is undefined behaviour)."""
    return sorted(open_shared(link.resolve(), writable=False).dump_bytes(BY_NAME["nquads"]).splitlines())


def assert_clean(status: int, body: bytes, what: str) -> None:
    """Never a 500, never Python's exception text in the body."""
    assert status != 500, f"{what}: 500 {body[:300]!r}"
    assert status < 600, what
    text = body.decode("utf-8", "replace")
    m = LEAK.search(text)
    assert m is None, f"{what}: body leaks {m.group()!r}: {text[:300]!r}"


@contextmanager
def silent_listener() -> Iterator[tuple[str, socket.socket]]:
    """A loopback port that accepts connections but never answers; tests look whether one came."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", sock
    finally:
        sock.close()


def connection_arrived(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc (kB)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                parts = fh.read().rsplit(")", 1)[1].split()
            children.setdefault(int(parts[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total
