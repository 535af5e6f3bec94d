"""How a write gets the store read-write, and how writes and `kg build` keep out of each other's way.

`writable_store(engine, link)` is the one seam between the write path and the query engine.
An on-disk Oxigraph store has one writing process, and opening it read-only beside a writer is
undefined behaviour, so:

- the engine of a server that writes holds the store open read-write itself (its one worker,
  `store.embedded_engine`) and lends it (`engine.writable_store(store_dir)`);
- with no engine (the `kg` commands, benchmarks), `HeldStore` opens the store once and keeps it.

`StoreLock` is a lock file beside the store link (`<store>.lock`): a write holds it while it
reads, validates and commits; `kg build` holds it while it reads the change log and again while
it swaps the link, so that no accepted write lands in a store directory that is being replaced.
"""
from __future__ import annotations

import errno
import fcntl
import gc
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import ServiceUnavailable


class StoreLock:
    """An exclusive lock (flock) on `<store>.lock`, shared by every process that writes the store."""

    def __init__(self, store_link: Path) -> None:
        link = Path(os.path.abspath(store_link))
        self.path = link.parent / (link.name + ".lock")

    @contextmanager
    def held(self, wait_s: float = 30.0, what: str = "a write") -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() > deadline:
                        raise ServiceUnavailable(f"{what} waited {wait_s:g} s for the store: a build or another "
                                                 "write holds it; try again shortly") from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock


class Lease:
    """A store lent for one write. pyoxigraph closes a store only when the last reference to it
    goes, so the write path reaches the store through the lease alone, and `release` drops it
    before readers are let back in."""

    def __init__(self, store: ox.Store, *, owned: bool = True) -> None:
        self._store: ox.Store | None = store
        self._owned = owned   # False: lent by an engine that keeps it open

    @property
    def store(self) -> ox.Store:
        if self._store is None:
            raise RuntimeError("the store was used after its write ended")
        return self._store

    def release(self) -> None:
        store, self._store = self._store, None
        if store is not None and self._owned and sys.getrefcount(store) > 2:
            # Something else still holds it: typically a reference cycle through frames that a
            # parser's cached exception keeps (rdflib's SPARQL parser does). Collect it now, or the
            # store stays open beside the readers about to be let in.
            del store
            gc.collect()


def open_read_write(store_dir: Path) -> ox.Store:
    """Open the store for writing; a handle of this process not yet collected is collected first."""
    try:
        return ox.Store(str(store_dir))
    except OSError as exc:
        if "lock" not in str(exc).lower():
            raise
        gc.collect()
        return ox.Store(str(store_dir))


@contextmanager
def writable_store(engine: Any, store_dir: Path) -> Iterator[Lease]:
    """The store the engine holds read-write, lent for one write."""
    with engine.writable_store(store_dir) as store:
        lease = Lease(store, owned=False)
        try:
            yield lease
        finally:
            lease.release()


class HeldStore:
    """The store kept open read-write by a process that has no query engine (one writer process)."""

    def __init__(self) -> None:
        self._dir: Path | None = None
        self._lease: Lease | None = None

    @contextmanager
    def writable(self, store_dir: Path) -> Iterator[Lease]:
        if self._lease is None or self._dir != store_dir:
            self.close()
            self._lease, self._dir = Lease(open_read_write(store_dir)), store_dir
        yield self._lease

    def current(self, store_dir: Path) -> ox.Store | None:
        """The open store, when it is the one `store_dir` names (reads must go through it)."""
        return self._lease.store if self._lease is not None and self._dir == store_dir else None

    def close(self) -> None:
        if self._lease is not None:
            self._lease.store.flush()
            self._lease.release()
            self._lease = None
            self._dir = None
