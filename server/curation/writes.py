"""Curated writes: every write is one transaction, validated before anything reaches the disk.

No Flask here; the HTTP views and the `kg` commands call `Curation.write(change)`.

How a write runs (one writer at a time: a thread lock, and the store's lock file across processes):

1. *Target*: the store read-write, through the one seam to the query engine
   (`store_access.writable_store`), or kept open by this process when it has no engine.
2. *Diff*: the quads the change adds and removes, read from the store without copying it
   (`changes`); blank nodes it brings are skolemised.
3. *Check*: the graphs written must be ours and not reserved; a conditional write's ETag must
   still be the graph's. Then validation of the post-write state, local to the change
   (`locality`): the focus nodes the change can affect, found by walking the shapes' read paths
   backwards from the subjects it touched, are validated on an in-memory store of what the shapes
   read from them; and every term of the ontology's namespace the change adds must be declared.
   A Violation rejects the write (`WriteRejected`, 422, with the report).
4. *Commit*: the change's RDF Patch goes to the patch log (a file, synced), then ONE update
   request -- `DELETE DATA {…} ; INSERT DATA {…}` with the change's `prov:Activity` -- which
   Oxigraph applies as one transaction. A crash before the update leaves a patch no activity
   names (ignored, and removed by the next `kg build`); after it, the data, its description and
   its patch are all there.

On a remote store (setting remote_query_url) the same steps run against an in-memory copy of the
remote (read with one SELECT), and the commit sends the same single update request to
remote_update_url, after checking that the remote's data version has not moved (which narrows
but cannot close the window: the remote offers no compare-and-swap).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, SH

from .. import namespaces as ns
from ..errors import (
    BadRequest,
    Conflict,
    Forbidden,
    KGError,
    NotFound,
    PreconditionFailed,
    ServiceUnavailable,
    Unprocessable,
)
from ..search import index_changes
from ..settings import Settings
from ..store.embedded import data_version, touch_version
from ..store.rdf_guard import triple_terms_refused
from ..store.threads import computation
from ..store.terms import to_rdflib_term
from ..validation.validate import (
    PreparedShapes,
    Report,
    Source,
    parse_report,
    prepare,
    validate,
    with_payload,
    written_terms,
)
from ..validation.vocabulary import Vocabulary
from . import changes as ch
from .changelog import (
    PROV,
    RDF_TYPE,
    activity_iri,
    activity_quads,
    changelog_graph,
    head_quads,
    heads_reset,
    kgc,
    legacy_patch,
    new_activity_id,
    now_utc,
    rebased,
)
from .changes import Change, Diff, graph_of
from .locality import PostState, Reads, affected, neighbourhood, shape_reads
from .patches import Patch, PatchLog, is_change_id
from .store_access import HeldStore, Lease, StoreLock, writable_store

log = logging.getLogger("kg.curation")
MAX_GRAPH_URI_CHARS = 2000
PROPOSED = ox.NamedNode("urn:x-kg:validation:proposed")  # where POST /validate puts the proposed triples
RDFS_SUBCLASS = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")

__all__ = ["Change", "Curation", "Outcome", "Plan", "WriteRejected", "graph_of"]


class WriteRejected(Unprocessable):
    """The write would leave Violations; nothing was stored. Carries the report."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"the write was not applied: {report.summary()}")
        self.report = report


@dataclass
class Target:
    """What a write reads (the store as it is) and how it commits its one update request."""

    lease: Lease
    key: str                          # the store directory or remote version: what the rules are cached by
    apply: Callable[[str], None]
    snapshot: list[ox.Quad] | None = None   # a remote's quads as it holds them (see `as_stored`)

    @property
    def store(self) -> ox.Store:
        return self.lease.store


@dataclass
class Plan:
    change: Change
    diff: Diff
    graphs: list[str]
    report: Report
    started: datetime
    curator: str
    focus_nodes: int = 0
    validation: str = "local"    # local | full | none
    read_quads: int = 0          # quads copied into the validation store

    @property
    def added(self) -> list[ox.Quad]:
        return self.diff.added

    @property
    def removed(self) -> list[ox.Quad]:
        return self.diff.removed

    @property
    def created(self) -> bool:
        return self.diff.created


@dataclass
class Outcome:
    activity: Patch | None
    plan: Plan

    @property
    def report(self) -> Report:
        return self.plan.report


@dataclass
class Rules:
    """The stored shapes and ontology, prepared once per store: compiled shapes, read paths, vocabulary."""

    shapes: rdflib.Graph
    ontology: rdflib.Graph
    prepared: PreparedShapes
    reads: Reads
    vocabulary: Vocabulary | None


class Curation:
    """Validation of the served graph and guarded writes to it, for one store link."""

    def __init__(self, settings: Settings, engine: Any = None) -> None:
        self.settings = settings
        self.link = Path(settings.store)
        self.base = settings.base_iri
        self.engine = engine
        self.agent = settings.write_token_name
        self.max_results = settings.max_report_results
        self.g_changelog = changelog_graph(self.base)
        self.g_shapes = rebased(ns.G_SHAPES, self.base)
        self.g_ontology = rebased(ns.G_ONTOLOGY, self.base)
        self.g_inferred = rebased(ns.G_INFERRED, self.base)
        self.reserved = {self.g_changelog: "written by the service only (every accepted write is recorded there)",
                         self.g_shapes: "the shapes come from shapes/shapes.ttl through `kg build`",
                         self.g_ontology: "the ontology comes from ontology/kg.ttl through `kg build`",
                         self.g_inferred: "the inferences are recomputed by `kg build`"}
        self.remote = engine.remote if engine is not None and hasattr(engine, "remote") else None
        if self.remote is None and settings.remote:
            from ..store.remote import RemoteStore

            self.remote = RemoteStore(settings)
        self.log = PatchLog.beside(self.link)
        self.lock = StoreLock(self.link)
        self._held = HeldStore() if engine is None and self.remote is None else None
        self._write_lock = threading.Lock()
        self._open_lock = threading.Lock()   # no in-process read-only open beside our own writer
        self._cache_lock = threading.Lock()
        self._rules: tuple[str, Rules] | None = None
        self._report: tuple[str, Report] | None = None

    def close(self) -> None:
        """Flush and close a store this object holds open (no engine), and a remote's connections."""
        if self._held is not None:
            self._held.close()
        if self.remote is not None:
            self.remote.close()

    # -- reading the store -----------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[ox.Store]:
        """The store as it is now: the one the server's engine has open (each of its iterators reads
        one snapshot, beside the writes), else the one this process holds, else a read-only open."""
        reading = getattr(self.engine, "reading", None)
        if reading is not None:
            with reading() as (_path, store):
                yield store
            return
        if not self.link.exists():
            raise ServiceUnavailable(f"no store at {self.link}; run `kg build`")
        with self._open_lock:
            held = self._held.current(self.link.resolve()) if self._held is not None else None
            if held is not None:
                yield held
                return
            store = ox.Store.read_only(str(self.link.resolve()))
            try:
                yield store
            finally:
                del store

    def version(self, fresh: bool = False) -> str:
        if self.remote is not None:
            return self.remote.data_version(fresh=fresh)[0]
        return data_version(self.link)[0]

    def snapshot(self) -> tuple[Path | str, list[ox.Quad]]:
        """Every quad of the store as it is now, and the store directory (or remote version) it came from."""
        if self.remote is not None:
            version = self.version(fresh=True)
            return version, self.remote.quads()
        with self.reading() as store:
            return self.link.resolve(), list(store.quads_for_pattern(None, None, None, None))

    def graph_quads(self, graph: str) -> list[ox.Quad] | None:
        """One named graph's quads, or None when the store has no such graph."""
        if self.remote is not None:
            return self.remote.graph_quads(graph)
        with self.reading() as store:
            node = ox.NamedNode(graph)
            quads = list(store.quads_for_pattern(None, None, None, node))
            if not quads and not store.contains_named_graph(node):
                return None
            return quads

    def union_quads(self) -> list[ox.Quad]:
        if self.remote is not None:
            return self.remote.quads()
        with self.reading() as store:
            return list(store.quads_for_pattern(None, None, None, None))

    def rules(self, key: str, store: ox.Store) -> Rules:
        """The shapes and ontology of this store (they change only with a build: cached per store)."""
        with self._cache_lock:
            if self._rules and self._rules[0] == key:
                return self._rules[1]
        shapes = graph_as_rdflib(store, self.g_shapes)
        ontology = graph_as_rdflib(store, self.g_ontology)
        prepared = prepare(shapes)
        rules = Rules(shapes, ontology, prepared, shape_reads(prepared.model),
                      Vocabulary.of(ontology, rebased(ns.SHAPES, self.base)))
        with self._cache_lock:
            self._rules = (key, rules)
        return rules

    def data_source(self, mem: ox.Store, written: list[ox.Quad] | None = None,
                    focus: frozenset[Any] | None = None) -> Source:
        """The data graphs of a store: all but the shapes and the change log (the ontology is one of them);
        the literals of `written` (a payload `mem` holds) judged as written; only `focus` validated."""
        return with_payload(mem, frozenset({self.g_shapes, self.g_changelog}), written or [], focus)

    # -- validation of the served graph and of proposed data ----------------------
    def current_report(self) -> Report:
        """The served graph's report, computed once per data version (on the store itself)."""
        version = self.version()
        with self._cache_lock:
            if self._report and self._report[0] == version:
                return self._report[1]
        if self.remote is not None:
            key, mem = self.snapshot_store()
            report = computation(self._report_of, key, mem)
        else:
            with self.reading() as store:
                report = computation(self._report_of, str(self.link.resolve()), store)
        with self._cache_lock:
            self._report = (version, report)
        return report

    def _report_of(self, key: str, store: ox.Store, proposed: list[ox.Quad] | None = None) -> Report:
        """The data of a store against its shapes and vocabulary (the rules too are computed here: on a
        gevent worker this runs off the event loop, see `computation`)."""
        rules = self.rules(key, store)
        vocabulary = rules.vocabulary
        if proposed is not None and vocabulary is not None:
            vocabulary = vocabulary.for_quads(proposed)
        return validate(self.data_source(store, proposed), shapes=rules.prepared, max_results=self.max_results,
                        allow_warnings=self.settings.allow_warnings, vocabulary=vocabulary)

    def validate_proposal(self, proposed: list[ox.Quad], *, standalone: bool) -> Report:
        """POST /validate: the proposed triples with the served graph (or alone); nothing is stored."""
        key, mem = self.snapshot_store()
        if standalone:
            return computation(self._standalone_report, key, mem, proposed)
        proposed = [ox.Quad(q.subject, q.predicate, q.object, PROPOSED) for q in proposed]
        mem.extend(proposed)
        return computation(self._report_of, key, mem, proposed)

    def _standalone_report(self, key: str, mem: ox.Store, proposed: list[ox.Quad]) -> Report:
        rules = self.rules(key, mem)
        vocabulary = rules.vocabulary.for_quads(proposed) if rules.vocabulary else None
        return validate(self.to_rdflib(proposed), shapes=rules.prepared, ontology=rules.ontology,
                        max_results=self.max_results, allow_warnings=self.settings.allow_warnings,
                        vocabulary=vocabulary)

    def snapshot_store(self) -> tuple[str, ox.Store]:
        """The store as it is now, copied into an in-memory Oxigraph store, and the key it came from."""
        mem = ox.Store()
        if self.remote is not None:
            version = self.version(fresh=True)
            mem.extend(self.remote.quads())
            return version, mem
        with self.reading() as store:
            target = str(self.link.resolve())
            mem.extend(store.quads_for_pattern(None, None, None, None))
        return target, mem

    @staticmethod
    def to_rdflib(quads: Iterable[ox.Quad]) -> rdflib.Graph:
        """Literals as written (a payload's own forms, where the store would rewrite them)."""
        return written_terms(quads)

    # -- writes ------------------------------------------------------------------
    def write(self, change: Change) -> Outcome:
        """Diff, validate and commit one change, or raise and leave the store as it was."""
        with self._write_lock:
            outcome, error = self._write(change)
        if error is not None:
            raise error
        assert outcome is not None
        if outcome.activity is not None:
            if self.remote is None:
                touch_version(self.link)
            held = self._held.current(self.link.resolve()) if self._held is not None else None
            index_changes(self.settings, outcome.plan.added + outcome.plan.removed, self.engine, store=held)
        return outcome

    def _write(self, change: Change) -> tuple[Outcome | None, BaseException | None]:
        """The write, its error returned rather than raised: the frames of a traceback would keep
        the store open (pyoxigraph closes it with its last reference) after readers resume."""
        try:
            with self.target() as target:
                plan = self.plan(change, target)
                activity = self.commit(plan, target) if not plan.diff.empty else None
                del target
            return Outcome(activity, plan), None
        except Exception as exc:  # handed back to write(), which raises it
            if not isinstance(exc, KGError):
                log.exception("the write failed")
            return None, detached(exc)

    @contextmanager
    def target(self) -> Iterator[Target]:
        """The store a write reads and commits to, held for the whole write: the one the server's
        engine holds read-write, or (no engine) the one this process keeps open; nothing else
        writes meanwhile (the lock file)."""
        if self.remote is not None:
            yield self._remote_target()
            return
        if not self.link.exists():
            raise ServiceUnavailable(f"no store at {self.link}; run `kg build`")
        with self.lock.held(), self._open_lock:
            store_dir = self.link.resolve()   # after the lock: a build swaps the link only while holding it
            opened = self._held.writable(store_dir) if self._held is not None \
                else writable_store(self.engine, store_dir)
            with opened as lease:
                yield Target(lease, str(store_dir), lambda request: lease.store.update(request))

    def _remote_target(self) -> Target:
        assert self.remote is not None
        version = self.version(fresh=True)
        quads = self.remote.quads()
        mem = ox.Store()
        mem.extend(quads)

        def send(request: str) -> None:
            if self.version(fresh=True) != version:
                raise ServiceUnavailable("the remote store changed while the write was being checked; send it again")
            assert self.remote is not None
            self.remote.update(request)

        return Target(Lease(mem), version, send, quads)

    def plan(self, change: Change, target: Target) -> Plan:
        """The change's diff, checked and validated; raises (and stores nothing) when it may not be applied."""
        started = now_utc()
        store = target.store
        rules = computation(self.rules, target.key, store)
        if change.update is not None:
            diff = ch.update_diff(store, change.update, self.base, change.base_iri)
            if any(isinstance(q.object, ox.Triple) for q in diff.added):
                raise triple_terms_refused("the update", "<<( … )>>, << … >>")
        elif change.undo_of is not None:
            diff = ch.undo_diff(store, self.undoable(store, change.undo_of))
        else:
            diff = self._graph_change(store, change, target.key)
        written = diff.added   # a payload's literals as written: validation judges those (`fidelity`)
        diff.added = canonical(diff.added)
        if target.snapshot is not None:
            diff.removed = as_stored(diff.removed, target.snapshot)
        graphs = diff.graphs()
        for g in graphs:
            if not g:
                raise BadRequest("the change writes to the default graph, which here is the union of the named "
                                 f"graphs; name a graph, e.g. INSERT DATA {{ GRAPH <{self.base}graph/curated> {{ … }} }}")
            self.check_graph(g)
        for g in sorted({graph_of(q) or "" for q in diff.added}):
            if not ch.graph_exists(store, ox.NamedNode(g)):
                self.check_new_graph(g)
        if change.graph and change.graph not in graphs:
            graphs.append(change.graph)
        diff.derived = ch.orphaned_inferences(store, diff.removed, diff.added, self.g_inferred,
                                              frozenset({self.g_shapes, self.g_changelog}))
        if target.snapshot is not None:
            diff.derived = as_stored(diff.derived, target.snapshot)
        plan = Plan(change, diff, graphs, empty_report(rules.prepared), started, change.curator or self.agent)
        if not diff.empty:
            self.validate_change(plan, store, rules, written)
        if not plan.report.passed:
            raise WriteRejected(plan.report)
        return plan

    def _graph_change(self, store: ox.Store, change: Change, key: str) -> Diff:
        assert change.graph is not None
        self.check_graph(change.graph)
        exists = ch.graph_exists(store, ox.NamedNode(change.graph))
        if change.must_not_exist and exists:
            raise Conflict(f"graph <{change.graph}> already exists; choose another slug")
        if change.delete_graph and not exists:
            raise NotFound(f"there is no graph <{change.graph}>")
        self.check_preconditions(store, key, change, exists)
        return ch.graph_diff(store, change, self.base)

    def check_graph(self, graph: str) -> None:
        if not graph.startswith(self.base + "graph/"):
            raise BadRequest(f"graph <{graph}> is not one of this service's graphs; "
                             f"write to a graph IRI under {self.base}graph/")
        if graph in self.reserved:
            raise Forbidden(f"graph <{graph}> is reserved: {self.reserved[graph]}")

    def check_new_graph(self, graph: str) -> None:
        """A graph a write creates must have a page of its own: `/graph/<rest>` finds it by its path.

        Clients drop a fragment and send a query apart from the path, and the server decodes
        percent-escapes and merges slashes, so an IRI with `#`, `?`, `%`, an empty or a dot segment
        would name a graph that no address reaches. The length bound keeps its address (UTF-8
        percent-encoded) under the 2,000 characters every client and proxy accepts.
        """
        rest = graph[len(self.base + "graph/"):]
        problem = None
        if not rest:
            problem = "it names no graph below graph/"
        elif any(c in rest for c in "?#%"):
            problem = "a '?', '#' or '%' would keep its page /graph/… from finding it"
        elif any(seg in ("", ".", "..") for seg in rest.split("/")):
            problem = "an empty, '.' or '..' segment would keep its page /graph/… from finding it"
        elif uri_length(graph) > MAX_GRAPH_URI_CHARS:
            problem = (f"its address is {uri_length(graph):,} characters once percent-encoded; at most "
                       f"{MAX_GRAPH_URI_CHARS:,} are accepted")
        if problem:
            shown = graph if len(graph) <= 120 else graph[:120] + "…"
            raise BadRequest(f"graph <{shown}> cannot be created: {problem}. Name graphs like "
                             f"{self.base}graph/curated or {self.base}graph/topic/2025", limit=MAX_GRAPH_URI_CHARS)

    # -- conditional writes --------------------------------------------------------
    def graph_version(self, store: ox.Store, key: str, graph: str) -> str:
        """The graph's version: the store it is in and the newest change that wrote it (one lookup).
        Graph Store answers carry it in their ETag; a conditional write names it again."""
        last = next(store.quads_for_pattern(ox.NamedNode(graph), ox.NamedNode(kgc(self.base) + "lastChange"), None,
                                            ox.NamedNode(self.g_changelog)), None)
        return self._version(key, last.object.value if last is not None else None)

    def _version(self, key: str, last_change: str | None) -> str:
        change = last_change.rsplit("/", 1)[-1] if last_change else "files"
        return f'{"remote" if self.remote is not None else Path(key).name}.{change}'

    def current_graph_version(self, graph: str) -> str:
        """The graph's version now, as `graph_version` (for a GET)."""
        if self.remote is not None:
            rows = self.remote.select(f"SELECT ?c WHERE {{ GRAPH <{self.g_changelog}> {{ <{graph}> "
                                      f"<{kgc(self.base)}lastChange> ?c }} }}")
            return self._version("remote", rows[0]["c"].value if rows else None)  # type: ignore[index,union-attr]
        with self.reading() as store:
            return self.graph_version(store, str(self.link.resolve()), graph)

    def check_preconditions(self, store: ox.Store, key: str, change: Change, exists: bool) -> None:
        assert change.graph is not None
        if change.if_none_match and exists:
            raise PreconditionFailed(f"graph <{change.graph}> exists already (If-None-Match: *); nothing was changed")
        if change.if_match is None:
            return
        if not exists:
            raise PreconditionFailed(f"graph <{change.graph}> does not exist, so no ETag can match it; "
                                     "nothing was changed")
        current = self.graph_version(store, key, change.graph)
        if "*" not in change.if_match and current not in change.if_match:
            raise PreconditionFailed(f"graph <{change.graph}> was changed since you read it; GET it again (for its "
                                     "new ETag), apply your edit to what it holds now, and send that with If-Match")

    # -- validation of a change ------------------------------------------------------
    def validate_change(self, plan: Plan, store: ox.Store, rules: Rules, written: list[ox.Quad]) -> None:
        """Validate what the change can affect; the report goes into the plan. Each quad stays in its
        named graph (some shapes count values per source graph); the added literals are judged as
        `written` (a graph write's payload), as an in-memory copy of parsed input would be."""
        diff = plan.diff
        vocabulary = rules.vocabulary.for_quads(diff.added) if rules.vocabulary else None
        skip = frozenset({self.g_shapes, self.g_changelog})
        state = PostState(store, diff.added, diff.removed + diff.derived, skip)
        focus = affected(state, diff.added + diff.removed, rules.reads)
        allow = self.settings.allow_warnings
        if focus is None:
            mem = ox.Store()
            mem.bulk_extend(store.quads_for_pattern(None, None, None, None))
            for q in diff.removed + diff.derived:
                mem.remove(q)
            mem.extend(diff.added)
            plan.report = computation(validate, self.data_source(mem, written), shapes=rules.prepared,
                                      max_results=self.max_results, allow_warnings=allow, vocabulary=vocabulary)
            plan.validation, plan.read_quads = "full", len(mem)
            return
        quads = neighbourhood(state, focus, rules.reads) if focus else []
        scratch = ox.Store()
        scratch.extend(quads)
        scratch.extend(state.with_predicate(RDFS_SUBCLASS.value))  # the class hierarchy: every class target
        iris = all(isinstance(n, ox.NamedNode) for n in focus)
        source = self.data_source(scratch, written, frozenset(focus) if iris else None)
        report = computation(validate, source, shapes=rules.prepared, max_results=None if not iris else self.max_results,
                             allow_warnings=allow, vocabulary=vocabulary)
        if not iris:
            notes = report.notes
            report = restrict(report.graph, {str(to_rdflib_term(n)) for n in focus}, rules.shapes, self.max_results,
                              allow)
            report.notes = notes
        plan.report, plan.focus_nodes, plan.read_quads = report, len(focus), len(quads)
        plan.validation = "local" if focus else "none"

    # -- undo -------------------------------------------------------------------
    def undoable(self, store: ox.Store, activity: str) -> Patch:
        """The patch of a change that may be undone now, or 404 / 409 saying why not."""
        g = ox.NamedNode(self.g_changelog)
        act = ox.NamedNode(activity)
        v = kgc(self.base)
        if not any(True for _ in store.quads_for_pattern(act, RDF_TYPE, ox.NamedNode(PROV + "Activity"), g)):
            raise NotFound(f"no change <{activity}> in the change log")
        undone = next(store.quads_for_pattern(None, ox.NamedNode(v + "undoes"), act, g), None)
        if undone is not None:
            raise Conflict(f"change <{activity}> has already been undone, by <{undone.subject.value}>")
        if any(True for _ in store.quads_for_pattern(act, ox.NamedNode(v + "dropped"), None, g)):
            raise Conflict(f"change <{activity}> was dropped by a build: its triples are not in the store to undo")
        patch = self.patch_of(store, activity)
        if patch is None:
            raise Conflict(f"the diff of change <{activity}> is not in the patch log ({self.log.folder}); "
                           "restore that folder from the backup it was dumped with, then undo again")
        return patch

    def patch_of(self, store: ox.Store, activity: str) -> Patch | None:
        """A change's patch: from the patch log, or from the graph for a change recorded before patches."""
        change_id = activity.rsplit("/", 1)[-1]
        found = self.log.load(change_id) if is_change_id(change_id) else None
        return found.patch if found is not None else legacy_patch(store, activity, self.base)

    # -- commit -------------------------------------------------------------------
    def commit(self, plan: Plan, target: Target) -> Patch:
        """Record the patch, then apply data and description in one update request (one transaction)."""
        ended = now_utc()
        change_id = new_activity_id(plan.started)
        previous = self.last_change(target.store)
        patch = Patch(change_id, activity_iri(self.base, change_id), plan.change.operation, plan.curator,
                      plan.started, ended, plan.graphs, plan.diff.removed, plan.diff.added,
                      undoes=plan.change.undo_of, comment=plan.change.comment, previous=previous)
        request = heads_reset(plan.graphs + [self.g_changelog], self.base)
        request += " ;\n" + data_update(plan.diff.removed + plan.diff.derived, plan.diff.added + activity_quads(patch, self.base)
                                         + head_quads(patch, self.base) + self.log_head(patch))
        if plan.change.delete_graph and plan.change.graph:  # the graph itself goes too, not only its triples
            request += f" ;\nDROP SILENT GRAPH <{plan.change.graph}>"
        self.log.save(patch)
        try:
            target.apply(request)
        except BaseException:
            self.log.discard(patch.id)
            raise
        return patch

    def last_change(self, store: ox.Store) -> str | None:
        """The newest change of the log (its head: one lookup, whatever the log's length)."""
        g = ox.NamedNode(self.g_changelog)
        head = next(store.quads_for_pattern(g, ox.NamedNode(kgc(self.base) + "lastChange"), None, g), None)
        return head.object.value if head is not None else None

    def log_head(self, patch: Patch) -> list[ox.Quad]:
        g = ox.NamedNode(self.g_changelog)
        return [ox.Quad(g, ox.NamedNode(kgc(self.base) + "lastChange"), ox.NamedNode(patch.iri), g)]


def detached(exc: BaseException) -> BaseException:
    """The error without its traceback and chained errors (whose frames hold the store)."""
    exc.__traceback__ = None
    exc.__context__ = None
    exc.__cause__ = None
    return exc


def uri_length(iri: str) -> int:
    """Characters of the IRI as a URI (RFC 3987 §3.1: each non-ASCII UTF-8 byte becomes %XX)."""
    encoded = iri.encode("utf-8")
    return len(encoded) + 2 * sum(1 for b in encoded if b >= 0x80)


def graph_as_rdflib(store: ox.Store, graph: str) -> rdflib.Graph:
    """One named graph of the store in rdflib (the shapes, the ontology: small)."""
    g = rdflib.Graph()
    for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
        g.add((to_rdflib_term(q.subject), to_rdflib_term(q.predicate), to_rdflib_term(q.object)))  # type: ignore[arg-type]
    return g


def canonical(quads: list[ox.Quad]) -> list[ox.Quad]:
    """The quads as a store holds them (canonical literals), so that patches name them exactly."""
    store = ox.Store()
    store.extend(quads)
    return list(store)


def empty_report(prepared: PreparedShapes) -> Report:
    graph = rdflib.Graph()
    node = rdflib.BNode()
    graph.add((node, RDF.type, SH.ValidationReport))
    graph.add((node, SH.conforms, rdflib.Literal(True)))
    return parse_report(graph, prepared.shapes, None)


def data_update(removed: list[ox.Quad], added: list[ox.Quad]) -> str:
    """One SPARQL Update request (DELETE DATA ; INSERT DATA) for a difference of quads."""

    def blocks(quads: list[ox.Quad]) -> str:
        by_graph: dict[str, list[str]] = {}
        for q in quads:
            by_graph.setdefault(str(q.graph_name), []).append(f"{q.subject} {q.predicate} {q.object} .")
        return "\n".join(f"GRAPH {g} {{\n" + "\n".join(lines) + "\n}" for g, lines in by_graph.items())

    parts = []
    if removed:
        parts.append("DELETE DATA {\n" + blocks(removed) + "\n}")
    if added:
        parts.append("INSERT DATA {\n" + blocks(added) + "\n}")
    return " ;\n".join(parts)


def restrict(report_graph: rdflib.Graph, focus: set[str], shapes: rdflib.Graph, max_results: int | None,
             allow_warnings: bool = True) -> Report:
    """The report limited to results about these focus nodes (sh:conforms recomputed by parse_report)."""
    g = rdflib.Graph()
    for prefix, namespace in report_graph.namespaces():
        g.bind(prefix, namespace)
    for t in report_graph:
        g.add(t)
    for res in list(g.subjects(RDF.type, SH.ValidationResult)):
        if str(g.value(res, SH.focusNode)) not in focus:
            g.remove((None, SH.result, res))
            g.remove((res, None, None))
    return parse_report(g, shapes, max_results, allow_warnings=allow_warnings)


def stored_form(q: ox.Quad) -> ox.Quad:
    """The quad as an Oxigraph store holds it: literals in canonical form ("01"^^xsd:integer is
    "1", xsd:nonNegativeInteger becomes xsd:integer, "1"^^xsd:boolean is "true")."""
    one = ox.Store()
    one.add(q)
    return next(iter(one))


def as_stored(removed: list[ox.Quad], snapshot: list[ox.Quad]) -> list[ox.Quad]:
    """The quads to delete, in the forms the store holds them.

    Changes are planned on an in-memory Oxigraph copy, which keeps literals in canonical form. A
    remote store that keeps them as written (Virtuoso, for one) would not match a DELETE of the
    canonical form, and the old triple would stay: each removed quad is mapped back to the
    snapshot's own quads of the same subject, predicate and graph with the same canonical form.
    """
    present = set(snapshot)
    missing = [q for q in removed if q not in present]
    if not missing:
        return removed
    wanted = {(q.subject, q.predicate, q.graph_name) for q in missing}
    originals: dict[ox.Quad, list[ox.Quad]] = {}
    for q in snapshot:
        if (q.subject, q.predicate, q.graph_name) in wanted:
            originals.setdefault(stored_form(q), []).append(q)
    return [q for q in removed if q in present] + [o for q in missing for o in originals.get(q, [q])]
