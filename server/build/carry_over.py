"""What `kg build` keeps of the store it replaces: every accepted change, replayed on the files.

The files and the service relate like this: **the dataset is the files plus the accepted changes,
in the order they were made.** The files are `ontology/`, `shapes/`, `data/` (and extra sources);
the changes are the RDF Patches of `data/changes/` (exported with `kg export-changes`, reviewed and
committed with the files) and, beside them, the changes of the current store's change log that
`data/changes/` does not hold yet (their patches are in the store's patch log). A build replays
all of them, oldest first, on what the files give:

- a change whose removed quads are all there is applied (graphs that only changes made -- added
  sources, curated graphs -- are made again this way);
- a change already in the files (none of its removed quads there, all of its added quads there:
  someone folded it into the Turtle) is kept as done;
- any other change no longer applies (a file edit changed what it removed): the build stops and
  names it, unless `--drop-unapplied-changes` says to publish without it (it stays in the change
  log, marked dropped, and its patch stays in the patch log).

The change log of the new store is made again from the patches (each description is a function
of its patch), so a build from the files alone, after `kg export-changes`, gives the same dataset.
Graphs of the current store that no file and no change makes (data put there by `kg load`, say)
stop the build too, unless `--drop-unlogged-graphs`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .. import namespaces as ns
from ..curation.changelog import (
    activities_query,
    activity_quads,
    changelog_graph,
    dropped_quad,
    kgc,
    legacy_patch,
    rebased,
)
from ..curation.patches import SUFFIX, Patch, PatchLog, parse_patch, write_durably
from ..curation.store_access import StoreLock
from ..errors import BuildError, NotFound
from ..store.embedded import rebase_quads

if TYPE_CHECKING:
    from ..store.remote import RemoteStore


@dataclass
class CurrentLog:
    """What the store being replaced holds of its changes."""

    activities: list[str] = field(default_factory=list)       # change IRIs, oldest first
    dropped: dict[str, str] = field(default_factory=dict)     # change IRI -> why a build dropped it
    descriptions: dict[str, list[ox.Quad]] = field(default_factory=dict)   # dropped changes' own triples
    legacy: dict[str, Patch] = field(default_factory=dict)    # changes recorded before patches existed
    graphs: set[str] = field(default_factory=set)
    file_graphs: set[str] = field(default_factory=set)        # graphs its build made from files

    @property
    def head(self) -> tuple[int, str | None]:
        return len(self.activities), self.activities[-1] if self.activities else None


def read_current(store_link: Path, base: str, remote: RemoteStore | None = None) -> CurrentLog:
    """The change log (and graph names) of the store a build replaces; an empty log when there is none."""
    g = changelog_graph(base)
    if remote is not None:  # which graphs its last build made is not known: its other graphs are replaced, as before
        mem = ox.Store()
        mem.extend(remote.graph_quads(g) or [])
        return _read(mem, base, set(), set())
    if not store_link.exists():
        return CurrentLog()
    target = store_link.resolve()
    store = ox.Store.read_only(str(target))
    try:
        graphs = {n.value for n in store.named_graphs() if isinstance(n, ox.NamedNode)}
        return _read(store, base, graphs, previous_file_graphs(target))
    finally:
        del store


def _read(store: ox.Store, base: str, graphs: set[str], file_graphs: set[str]) -> CurrentLog:
    log = CurrentLog(graphs=graphs, file_graphs=file_graphs)
    g = ox.NamedNode(changelog_graph(base))
    for row in store.query(activities_query(base)):  # type: ignore[union-attr]
        iri = row["activity"].value  # type: ignore[index]
        log.activities.append(iri)
        if row["dropped"] is not None:  # type: ignore[index]
            log.dropped[iri] = row["dropped"].value  # type: ignore[index]
            log.descriptions[iri] = list(store.quads_for_pattern(ox.NamedNode(iri), None, None, g))
        if row["legacy"] is not None:  # type: ignore[index]
            patch = legacy_patch(store, iri, base)
            if patch is not None:
                log.legacy[iri] = patch
    return log


def previous_file_graphs(store_dir: Path) -> set[str]:
    """The graphs the build of `store_dir` made from files (recorded beside it by `publish`)."""
    sidecar = store_dir.parent / (store_dir.name + ".json")
    try:
        return set(json.loads(sidecar.read_text()).get("file_graphs", []))
    except (OSError, ValueError):
        return set()


def exported(changes_dir: Path | None, base: str) -> dict[str, Patch]:
    """The patches of `data/changes/`, written against the default base, by change id."""
    if changes_dir is None or not changes_dir.is_dir():
        return {}
    found: dict[str, Patch] = {}
    for path in sorted(changes_dir.glob("*" + SUFFIX)):
        patch = parse_patch(path.read_text(encoding="utf-8"), str(path)).patch
        found[patch.id] = rebase_patch(patch, ns.DEFAULT_BASE, base)
    return found


def rebase_patch(patch: Patch, old: str, new: str) -> Patch:
    """The patch with IRIs under `old` moved under `new` (the files are written against the default base)."""
    if old == new:
        return patch

    def iri(value: str | None) -> str | None:
        return new + value[len(old):] if value and value.startswith(old) else value

    return replace(patch, iri=iri(patch.iri) or "", graphs=[iri(g) or "" for g in patch.graphs],
                   removed=list(rebase_quads(patch.removed, old, new)), added=list(rebase_quads(patch.added, old, new)),
                   undoes=iri(patch.undoes), previous=iri(patch.previous))


@dataclass
class Pending:
    patches: list[Patch]       # to replay, oldest first
    missing: list[str]         # changes of the log whose patch is in neither place
    unlogged: list[str]        # graphs of the current store that neither files nor changes make


def pending_changes(current: CurrentLog, files: dict[str, Patch], log: PatchLog, file_graphs: set[str],
                    base: str) -> Pending:
    by_id = {k: p for k, p in files.items() if p.iri not in current.dropped}   # a build dropped it before
    missing = []
    for iri in current.activities:
        change_id = iri.rsplit("/", 1)[-1]
        if change_id in by_id or iri in current.dropped:
            continue
        found = log.load(change_id) if (log.folder / (change_id + SUFFIX)).exists() else None
        patch = found.patch if found is not None else current.legacy.get(iri)
        if patch is None:
            missing.append(iri)
        else:
            by_id[change_id] = patch
    patches = [by_id[k] for k in sorted(by_id)]
    made = file_graphs | {g for p in patches for g in p.graphs} | current.file_graphs \
        | {rebased(ns.G_INFERRED, base), changelog_graph(base)}
    unlogged = sorted(g for g in current.graphs - made if g.startswith(base + "graph/"))
    return Pending(patches, missing, unlogged)


@dataclass
class Conflict:
    patch: Patch
    missing: list[ox.Quad]
    exported: bool = False    # the patch is a file of data/changes (fix or remove it there)

    def describe(self) -> str:
        shown = "; ".join(str(q) for q in self.missing[:3])
        more = f" and {len(self.missing) - 3} more" if len(self.missing) > 3 else ""
        return (f"change {self.patch.id} ({self.patch.operation} by {self.patch.agent}, {self.patch.started:%Y-%m-%d %H:%M}) "
                f"removes {len(self.missing)} quad(s) the files no longer hold: {shown}{more}")


@dataclass
class Replay:
    quads: list[ox.Quad]
    applied: list[Patch] = field(default_factory=list)
    already: list[Patch] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def replay(quads: list[ox.Quad], patches: list[Patch]) -> Replay:
    """Apply the patches in order to the quads of the files (only the graphs they touch are copied)."""
    if not patches:
        return Replay(quads)
    touched = {g for p in patches for q in p.added + p.removed for g in [q.graph_name]}
    store = ox.Store()
    store.bulk_extend(q for q in quads if q.graph_name in touched)
    out = Replay([])
    for patch in patches:
        gone = [q for q in patch.removed if q not in store]
        if not gone:
            for q in patch.removed:
                store.remove(q)
            store.extend(patch.added)
            out.applied.append(patch)
        elif len(gone) == len(patch.removed) and all(q in store for q in patch.added):
            out.already.append(patch)
        else:
            out.conflicts.append(Conflict(patch, gone))
    out.quads = [q for q in quads if q.graph_name not in touched] + list(store)
    return out


def changelog_quads(kept: list[Patch], current: CurrentLog, dropped: dict[str, str], base: str,
                    dropped_patches: list[Patch] | None = None) -> list[ox.Quad]:
    """The change log of the new store: each kept change described again from its patch, the heads, and
    the dropped changes, described (from their patch, or as the replaced store described them) and
    marked dropped."""
    out: list[ox.Quad] = []
    last: dict[str, Patch] = {}
    for patch in sorted(kept, key=lambda p: p.id):
        out += activity_quads(patch, base)
        for graph in patch.graphs:
            last[graph] = patch
        last[changelog_graph(base)] = patch
    g, head = ox.NamedNode(changelog_graph(base)), ox.NamedNode(kgc(base) + "lastChange")
    out += [ox.Quad(ox.NamedNode(graph), head, ox.NamedNode(patch.iri), g) for graph, patch in last.items()]
    described = {p.iri: activity_quads(p, base) for p in dropped_patches or []}
    for iri, reason in dropped.items():
        out += described.get(iri) or current.descriptions.get(iri, [])
        out.append(dropped_quad(iri, reason, base))
    return out


def refuse(pending: Pending, conflicts: list[Conflict], *, drop_unapplied: bool, drop_unlogged: bool) -> None:
    """Stop the build when it would lose something, unless told to (and then say what is dropped)."""
    lines = []
    if not drop_unapplied:
        lines += [c.describe() + (f" (its file: data/changes/{c.patch.id}{SUFFIX})" if c.exported else "")
                  for c in conflicts]
        lines += [f"change {iri.rsplit('/', 1)[-1]} has no patch in data/changes/ or in the patch log" for iri in pending.missing]
    if not drop_unlogged:
        lines += [f"graph <{g}> of the current store comes from no file and no logged change" for g in pending.unlogged]
    if lines:
        flags = []
        if conflicts or pending.missing:
            flags.append("--drop-unapplied-changes (they stay in the change log, marked dropped)")
        if pending.unlogged:
            flags.append("--drop-unlogged-graphs (load them again after the build, or add them as extra_sources)")
        raise BuildError("the build would drop accepted work; nothing was published:\n  " + "\n  ".join(lines)
                         + "\nFix the files (or undo the change), or publish without them with " + " and ".join(flags))


def dropped_reasons(conflicts: list[Conflict], missing: list[str], now: str) -> dict[str, str]:
    out = {c.patch.iri: f"dropped by the build of {now}: it no longer applies to the files" for c in conflicts}
    out.update({iri: f"dropped by the build of {now}: its patch was missing" for iri in missing})
    return out


def legacy_to_log(current: CurrentLog, log: PatchLog) -> None:
    """Changes recorded before patches existed get their patch in the log (the next log is compact)."""
    for patch in current.legacy.values():
        if not log.path(patch.id).exists():
            log.save(patch)


def export_changes(store_link: Path, changes_dir: Path, base: str, remote: RemoteStore | None = None) -> list[Path]:
    """Write every accepted change that `changes_dir` does not hold yet as `<change id>.rdfp`, against
    the default base (as the other files of data/ are written); returns the files written, oldest first."""
    with StoreLock(store_link).held(what="kg export-changes"):
        current = read_current(store_link, base, remote)
    have = {p.name[:-len(SUFFIX)] for p in changes_dir.glob("*" + SUFFIX)} if changes_dir.is_dir() else set()
    log = PatchLog.beside(store_link)
    written = []
    for iri in current.activities:
        change_id = iri.rsplit("/", 1)[-1]
        if iri in current.dropped or change_id in have:
            continue
        found = log.load(change_id) if log.path(change_id).exists() else None
        patch = found.patch if found is not None else current.legacy.get(iri)
        if patch is None:
            raise NotFound(f"the patch of change {change_id} is not in the patch log ({log.folder}); "
                           f"{len(written)} change(s) were exported before it")
        written.append(write_durably(changes_dir / (change_id + SUFFIX),
                                     rebase_patch(patch, base, ns.DEFAULT_BASE).text()))
    return written
