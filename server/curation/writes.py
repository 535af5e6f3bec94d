"""Curated writes: every write is one transaction, validated before anything reaches the disk.

No Flask here; the HTTP views and the `kg` commands call `Curation.write(change)`.

How a write runs (one writer at a time, `_write_lock`):

1. *Plan*: copy the store into an in-memory `pyoxigraph.Store` (a read-only open of the store
   directory, side by side with the query processes), apply the change there, and take the
   difference (quads added, quads removed). Blank nodes the change brings are skolemised
   (RDF 1.1 §3.5, `{base}.well-known/genid/…`) so that every stored triple can be named
   exactly again by a later DELETE DATA or an undo.
2. *Check*: the graphs written must be ours (`{base}graph/…`) and not reserved (ontology,
   shapes, inferred, changelog); then validate the post-write state with the stored shapes.
   A Violation rejects the write (`WriteRejected`, 422, with the report); Warnings are kept
   in the outcome.
3. *Commit*: inside `engine.exclusive()` (no query process has the store open), open the
   store read-write and send ONE update request — `DELETE DATA {…} ; INSERT DATA {…}`
   including the change-log activity — which Oxigraph applies as one transaction; flush;
   `touch_version()`. A crash leaves all of it or none of it.

On a remote store (setting remote_query_url) the same steps run against the remote: the
snapshot is read with one SELECT over every named graph, and the commit sends the same single
update request to remote_update_url. Atomicity is then the remote's: Oxigraph (and Fuseki/TDB2,
GraphDB) apply one update request as one transaction; Virtuoso commits per request only in its
default transactional mode (see the README, Scale). Between plan and commit another writer could
change the remote: the commit checks that the data version (a hash of the triples per graph) has
not moved, which narrows but cannot close that window -- the remote offers no compare-and-swap.

Validation of a write is local when the shapes allow it: the shapes are checked to read the
graph only forwards from a focus node (no inverse paths, no `sh:targetObjectsOf`, no SPARQL
pattern ending in `$this`), so a triple `s p o` can change the results only of nodes that
reach `s`. Those nodes (the subjects touched plus their in-neighbours up to BACK_HOPS) are
validated on their forward neighbourhood (FORWARD_HOPS) with the ontology as background,
and only their results count. Otherwise the whole post-write graph is validated.
"""
from __future__ import annotations

import functools
import re
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, SH
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable

from .. import namespaces as ns
from ..errors import BadRequest, Conflict, Forbidden, NotFound, QuerySyntaxError, ServiceUnavailable, Unprocessable
from ..http.offload import computation
from ..settings import Settings
from ..search import index_changes
from ..store.embedded import data_version, touch_version
from ..store.rdf_guard import triple_terms_refused
from ..validation.fidelity import Fidelity
from ..validation.shacl_core import REWRITTEN
from ..validation.shacl_sparql import prologue_of
from ..validation.validate import Report, Source, parse_report, validate, written_terms
from .changelog import Activity, activity_iri, kgc, new_activity_id, now_utc, parse_nquads, rebased

BACK_HOPS = 3
MAX_GRAPH_URI_CHARS = 2000
PROPOSED = ox.NamedNode("urn:x-kg:validation:proposed")  # where POST /validate puts the proposed triples
FORWARD_HOPS = 3


class WriteRejected(Unprocessable):
    """The write would leave Violations; nothing was stored. Carries the report."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"the write was not applied: {report.summary()}")
        self.report = report


@dataclass
class Change:
    """What a curator asks for. Exactly one of `update`, `quads`, `delete_graph`, `undo_of` is used."""

    operation: str
    update: str | None = None
    graph: str | None = None
    quads: list[ox.Quad] | None = None      # new triples for `graph`
    replace: bool = False                    # PUT: the graph becomes exactly `quads`
    delete_graph: bool = False
    must_not_exist: bool = False             # add-source: a new graph only
    undo_of: str | None = None
    comment: str | None = None
    base_iri: str | None = None              # the base of the update's relative IRIs (the request's URL)


@dataclass
class Plan:
    change: Change
    target: Path | str      # the store directory, or the remote data version
    added: list[ox.Quad]
    removed: list[ox.Quad]
    graphs: list[str]
    report: Report
    created: bool
    started: datetime
    focus_nodes: int = 0
    local: bool = False


@dataclass
class Outcome:
    activity: Activity | None
    plan: Plan

    @property
    def report(self) -> Report:
        return self.plan.report


@dataclass
class Rules:
    """The stored shapes and ontology as in-memory rdflib graphs, and whether validation can be local."""

    shapes: rdflib.Graph
    ontology: rdflib.Graph
    local_ok: bool


def shapes_read_forward_only(shapes: rdflib.Graph) -> bool:
    """True when no constraint can look at a focus node from the triples that point to it."""
    if any(True for _ in shapes.triples((None, SH.targetObjectsOf, None))):
        return False
    if any(True for _ in shapes.triples((None, SH.inversePath, None))):
        return False
    if any(True for _ in shapes.triples((None, SH.target, None))):
        return False
    queries = [prologue_of(shapes, node) + str(select) for node in shapes.objects(None, SH.sparql)
               for select in shapes.objects(node, SH.select)]
    return not any(sparql_reads_backwards(q) for q in queries)


_THIS = Variable("this")


@functools.lru_cache(maxsize=256)
def sparql_reads_backwards(query: str) -> bool:
    """True when a triple pattern of the query has $this as its object, or reads a property backwards
    (^p in a path). Decided on rdflib's parse of the query, not on its text: `GRAPH ?g { $this p ?o }`
    reads forwards. A query rdflib cannot parse counts as reading backwards (the safe answer).
    Cached: rdflib parses a query in milliseconds, and the shapes are read again for every new store."""
    try:
        algebra = translateQuery(parseQuery(query)).algebra
    except Exception:  # any parse or translation failure: validate the whole graph rather than guess
        return True
    return any(o == _THIS or _inverse(p) for s, p, o in _triple_patterns(algebra))


def _triple_patterns(node: Any) -> Iterator[tuple[Any, Any, Any]]:
    """Every triple pattern of a query's algebra, in FILTER (NOT) EXISTS and subqueries too."""
    if isinstance(node, CompValue):
        if node.name in ("BGP", "TriplesBlock"):
            yield from (tuple(t) for t in node.get("triples") or [])  # type: ignore[misc]
        for value in node.values():
            yield from _triple_patterns(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _triple_patterns(item)


def _inverse(predicate: Any) -> bool:
    if isinstance(predicate, InvPath):
        return True
    if isinstance(predicate, (SequencePath, AlternativePath)):
        return any(_inverse(a) for a in predicate.args)
    if isinstance(predicate, MulPath):
        return _inverse(predicate.path)
    if isinstance(predicate, NegatedPath):
        return any(_inverse(a) for a in predicate.args)
    return False


def skolemize(quads: Iterable[ox.Quad], base: str, mapping: dict[str, ox.NamedNode]) -> list[ox.Quad]:
    """Blank nodes become `{base}.well-known/genid/<uuid>` IRIs (the same IRI for the same node)."""

    def term(t: Any) -> Any:
        if isinstance(t, ox.BlankNode):
            if t.value not in mapping:
                mapping[t.value] = ox.NamedNode(f"{base}.well-known/genid/{uuid.uuid4().hex}")
            return mapping[t.value]
        return t

    return [ox.Quad(term(q.subject), q.predicate, term(q.object), term(q.graph_name)) for q in quads]


def _term_text(t: Any) -> str:
    return str(t)


def data_update(removed: list[ox.Quad], added: list[ox.Quad]) -> str:
    """One SPARQL Update request (DELETE DATA ; INSERT DATA) for a difference of quads."""

    def blocks(quads: list[ox.Quad]) -> str:
        by_graph: dict[str, list[str]] = {}
        for q in quads:
            by_graph.setdefault(str(q.graph_name), []).append(
                f"{_term_text(q.subject)} {_term_text(q.predicate)} {_term_text(q.object)} .")
        return "\n".join(f"GRAPH {g} {{\n" + "\n".join(lines) + "\n}" for g, lines in by_graph.items())

    parts = []
    if removed:
        parts.append("DELETE DATA {\n" + blocks(removed) + "\n}")
    if added:
        parts.append("INSERT DATA {\n" + blocks(added) + "\n}")
    return " ;\n".join(parts)


def syntax_error(exc: SyntaxError, what: str) -> QuerySyntaxError:
    """pyoxigraph says 'error at L:C: …'; keep line and column as fields."""
    text = str(exc)
    m = re.match(r"error at (\d+):(\d+): (.*)", text, re.S)
    if m:
        line, col = int(m.group(1)), int(m.group(2))
        return QuerySyntaxError(f"syntax error in the {what} at line {line}, column {col}: {m.group(3)}",
                                line=line, column=col)
    return QuerySyntaxError(f"syntax error in the {what}: {text}")


class Curation:
    """Validation of the served graph and guarded writes to it, for one store link."""

    def __init__(self, settings: Settings, engine: Any = None) -> None:
        self.settings = settings
        self.link = Path(settings.store)
        self.base = settings.base_iri
        self.engine = engine
        self.agent = settings.write_token_name
        self.max_results = settings.max_report_results
        self.g_changelog = rebased(ns.G_CHANGELOG, self.base)
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
        self._write_lock = threading.Lock()
        self._open_lock = threading.Lock()   # no in-process read-only open beside our own writer
        self._cache_lock = threading.Lock()
        self._rules: tuple[str, Rules] | None = None
        self._report: tuple[str, Report] | None = None

    # -- reading the store -----------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[ox.Store]:
        if not self.link.exists():
            raise ServiceUnavailable(f"no store at {self.link}; run `kg build`")
        with self._open_lock:
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
            target = self.link.resolve()
            return target, list(store.quads_for_pattern(None, None, None, None))

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

    def rules(self, target: Path | str, quads: list[ox.Quad]) -> Rules:
        with self._cache_lock:
            if self._rules and self._rules[0] == str(target):
                return self._rules[1]
        shapes = self.to_rdflib(q for q in quads if graph_of(q) == self.g_shapes)
        ontology = self.to_rdflib(q for q in quads if graph_of(q) == self.g_ontology)
        rules = Rules(shapes, ontology, shapes_read_forward_only(shapes))
        with self._cache_lock:
            self._rules = (str(target), rules)
        return rules

    @staticmethod
    def to_rdflib(quads: Iterable[ox.Quad]) -> rdflib.Graph:
        """Literals as written (a payload's own forms, where the store would rewrite them)."""
        return written_terms(quads)

    def data_graph_names(self, quads: Iterable[ox.Quad]) -> set[str]:
        """Graphs validated as data: all but the shapes and the change log."""
        return {g for g in (graph_of(q) for q in quads) if g} - {self.g_shapes, self.g_changelog}

    # -- validation of the served graph and of proposed data ----------------------
    def current_report(self) -> Report:
        """The served graph's report, computed once per data version (validated on an in-memory copy)."""
        version = self.version()
        with self._cache_lock:
            if self._report and self._report[0] == version:
                return self._report[1]
        target, mem = self.snapshot_store()
        report = computation(validate, self.data_source(mem), shapes=self.store_rules(target, mem).shapes,
                             max_results=self.max_results, allow_warnings=self.settings.allow_warnings)
        with self._cache_lock:
            self._report = (version, report)
        return report

    def validate_proposal(self, proposed: list[ox.Quad], *, standalone: bool) -> Report:
        """POST /validate: the proposed triples with the served graph (or alone); nothing is stored."""
        target, mem = self.snapshot_store()
        rules = self.store_rules(target, mem)
        if standalone:
            return computation(validate, self.to_rdflib(proposed), shapes=rules.shapes, ontology=rules.ontology,
                               max_results=self.max_results, allow_warnings=self.settings.allow_warnings)
        proposed = [ox.Quad(q.subject, q.predicate, q.object, PROPOSED) for q in proposed]
        mem.extend(proposed)
        return computation(validate, self.data_source(mem, proposed), shapes=rules.shapes, max_results=self.max_results,
                           allow_warnings=self.settings.allow_warnings)

    def snapshot_store(self) -> tuple[Path | str, ox.Store]:
        """The store as it is now, copied into an in-memory Oxigraph store (no Python list of quads),
        and the store directory (or remote version) it came from."""
        mem = ox.Store()
        if self.remote is not None:
            version = self.version(fresh=True)
            mem.extend(self.remote.quads())
            return version, mem
        with self.reading() as store:
            target = self.link.resolve()
            mem.extend(store.quads_for_pattern(None, None, None, None))
        return target, mem

    def store_rules(self, target: Path | str, mem: ox.Store) -> Rules:
        graphs = (ox.NamedNode(self.g_shapes), ox.NamedNode(self.g_ontology))
        return self.rules(target, [q for g in graphs for q in mem.quads_for_pattern(None, None, None, g)])

    def data_source(self, mem: ox.Store, written: list[ox.Quad] | None = None) -> Source:
        """The data graphs of a store: all but the shapes and the change log (the ontology is one of them);
        the literals of `written` (a payload) judged as written."""
        fidelity = Fidelity.of_payload(written, mem) if written else Fidelity()
        return Source(mem, frozenset({self.g_shapes, self.g_changelog}), fidelity=fidelity)

    # -- writes ------------------------------------------------------------------
    def write(self, change: Change) -> Outcome:
        """Plan, validate and commit one change, or raise and leave the store as it was."""
        with self._write_lock:
            plan = self.plan(change)
            activity = self.commit(plan) if (plan.added or plan.removed) else None
            if activity is not None:
                index_changes(self.settings, plan.added + plan.removed, self.engine)
            return Outcome(activity, plan)

    def plan(self, change: Change) -> Plan:
        started = now_utc()
        target, quads = self.snapshot()
        rules = self.rules(target, quads)
        graphs_before = {g for g in (graph_of(q) for q in quads) if g}
        mem = ox.Store()
        mem.extend(quads)
        created = False
        if change.update is not None:
            before = set(mem)   # as Oxigraph holds them: the diff must not see its canonical forms as changes
            try:
                mem.update(change.update, base_iri=change.base_iri)
            except SyntaxError as exc:
                raise syntax_error(exc, "update") from None
            except (OSError, ValueError, RuntimeError) as exc:
                raise BadRequest(f"the update could not be evaluated: {exc}") from None
            after = set(mem)
            added, removed = list(after - before), list(before - after)
            if any(isinstance(q.object, ox.Triple) for q in added):
                raise triple_terms_refused("the update", "<<( … )>>, << … >>")
            fresh = [q for q in added if _has_blank(q)]
            if fresh:
                skolem = skolemize(fresh, self.base, {})
                for q in fresh:
                    mem.remove(q)
                mem.extend(skolem)
                added = [q for q in added if not _has_blank(q)] + skolem
        elif change.undo_of is not None:
            added, removed = self._undo_diff(mem, change.undo_of)
        else:
            assert change.graph is not None
            self.check_graph(change.graph)
            exists = change.graph in graphs_before
            if change.must_not_exist and exists:
                raise Conflict(f"graph <{change.graph}> already exists; choose another slug")
            if change.delete_graph and not exists:
                raise NotFound(f"there is no graph <{change.graph}>")
            created = not exists and not change.delete_graph
            node = ox.NamedNode(change.graph)
            current = set(mem.quads_for_pattern(None, None, None, node))
            new = set(skolemize([ox.Quad(q.subject, q.predicate, q.object, node) for q in change.quads or []],
                                self.base, {}))
            removed = list(current) if change.delete_graph else (list(current - new) if change.replace else [])
            added = [] if change.delete_graph else list(new - current)
            for q in removed:
                mem.remove(q)
            mem.extend(added)
        removed = as_stored(removed, quads)
        graphs = sorted({graph_of(q) or "" for q in added + removed})
        for g in graphs:
            if not g:
                raise BadRequest("the change writes to the default graph, which here is the union of the named "
                                 f"graphs; name a graph, e.g. INSERT DATA {{ GRAPH <{self.base}graph/curated> {{ … }} }}")
            self.check_graph(g)
        for g in sorted({graph_of(q) or "" for q in added} - graphs_before):
            self.check_new_graph(g)
        if change.graph and change.graph not in graphs:
            graphs.append(change.graph)
        report, focus, local = self.validate_post_state(mem, rules, {q.subject for q in added + removed}, added)
        plan = Plan(change, target, added, removed, graphs, report, created, started, focus, local)
        if not report.passed:
            raise WriteRejected(report)
        return plan

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

    def validate_post_state(self, mem: ox.Store, rules: Rules, touched: set[Any],
                            added: list[ox.Quad]) -> tuple[Report, int, bool]:
        """The store after the write, the added literals as written (a graph write's payload)."""
        skip = {self.g_shapes, self.g_changelog}
        source = self.data_source(mem, added)
        if not rules.local_ok:
            return computation(validate, source, shapes=rules.shapes, max_results=self.max_results,
                               allow_warnings=self.settings.allow_warnings), 0, False
        affected = _back_closure(mem, touched, BACK_HOPS, skip)
        # Each quad stays in its named graph (some shapes count values per source graph); the
        # payload's literals are judged as written, as an in-memory copy of parsed input would be.
        local = ox.Store()
        local.extend(_forward_closure(mem, affected, FORWARD_HOPS, skip | {self.g_ontology}))
        local.extend(mem.quads_for_pattern(None, None, None, ox.NamedNode(self.g_ontology)))  # the class hierarchy, whole
        local.extend(ox.Quad(REWRITTEN, REWRITTEN, stored, REWRITTEN) for stored in source.fidelity.written)
        data = Source(local, frozenset({REWRITTEN.value}), fidelity=source.fidelity)
        full = computation(validate, data, shapes=rules.shapes)
        keep = {n.value for n in affected if isinstance(n, ox.NamedNode)}
        report = restrict(full.graph, keep, rules.shapes, self.max_results, self.settings.allow_warnings)
        report.notes += [n for n in (source.fidelity.note(),) if n]
        return report, len(affected), True

    def _undo_diff(self, mem: ox.Store, activity: str) -> tuple[list[ox.Quad], list[ox.Quad]]:
        v = kgc(self.base)
        g = ox.NamedNode(self.g_changelog)
        act = ox.NamedNode(activity)
        if not any(True for _ in mem.quads_for_pattern(act, None, None, g)):
            raise NotFound(f"no change <{activity}> in the change log")
        if any(True for _ in mem.quads_for_pattern(None, ox.NamedNode(v + "undoes"), act, g)):
            raise Conflict(f"change <{activity}> has already been undone")

        def snapshot(name: str) -> list[ox.Quad]:
            found = list(mem.quads_for_pattern(act, ox.NamedNode(v + name), None, g))
            return parse_nquads(found[0].object.value) if found else []

        was_added, was_removed = snapshot("addedQuads"), snapshot("removedQuads")
        removed = [q for q in was_added if q in mem]
        added = [q for q in was_removed if q not in mem]
        for q in removed:
            mem.remove(q)
        mem.extend(added)
        return added, removed

    def commit(self, plan: Plan) -> Activity:
        ended = now_utc()
        activity_id = new_activity_id(plan.started)
        activity = Activity(activity_id, activity_iri(self.base, activity_id), plan.change.operation, self.agent,
                            plan.started, ended, plan.graphs, plan.added, plan.removed, plan.change.undo_of,
                            plan.change.comment)
        request = data_update(plan.removed, plan.added + activity.quads(self.base))
        if plan.change.delete_graph and plan.change.graph:  # the graph itself goes too, not only its triples
            request += f" ;\nDROP SILENT GRAPH <{plan.change.graph}>"
        if self.remote is not None:
            if self.version(fresh=True) != plan.target:
                raise ServiceUnavailable("the remote store changed while the write was being checked; send it again")
            self.remote.update(request)
            return activity
        exclusive = self.engine.exclusive() if self.engine is not None else nullcontext()
        with exclusive, self._open_lock:
            if self.link.resolve() != plan.target:
                raise ServiceUnavailable("the store was rebuilt while the write was being checked; send it again")
            apply_update(plan.target, request)
        touch_version(self.link)
        return activity


def apply_update(store_dir: Path, request: str) -> None:
    """The one atomic disk operation: a single update request in a single transaction, flushed."""
    store = ox.Store(str(store_dir))
    try:
        store.update(request)
        store.flush()
    finally:
        del store


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


def uri_length(iri: str) -> int:
    """Characters of the IRI as a URI (RFC 3987 §3.1: each non-ASCII UTF-8 byte becomes %XX)."""
    encoded = iri.encode("utf-8")
    return len(encoded) + 2 * sum(1 for b in encoded if b >= 0x80)


def graph_of(q: ox.Quad) -> str | None:
    return q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else None


def _has_blank(q: ox.Quad) -> bool:
    return isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode) \
        or isinstance(q.graph_name, ox.BlankNode)


def _back_closure(mem: ox.Store, start: set[Any], hops: int, skip: set[str]) -> set[Any]:
    """The nodes touched and every node that reaches them in up to `hops` steps."""
    seen = {n for n in start if not isinstance(n, ox.Literal)}
    frontier = set(seen)
    for _ in range(hops):
        nxt = set()
        for node in frontier:
            for q in mem.quads_for_pattern(None, None, node, None):
                if graph_of(q) not in skip and q.subject not in seen:
                    nxt.add(q.subject)
        seen |= nxt
        frontier = nxt
        if not frontier:
            break
    return seen


def _forward_closure(mem: ox.Store, start: set[Any], hops: int, skip: set[str]) -> list[ox.Quad]:
    """Every quad readable from the start nodes in up to `hops` steps forwards."""
    out: list[ox.Quad] = []
    seen = set(start)
    frontier = set(start)
    for _ in range(hops):
        nxt = set()
        for node in frontier:
            for q in mem.quads_for_pattern(node, None, None, None):
                if graph_of(q) in skip:
                    continue
                out.append(q)
                if not isinstance(q.object, ox.Literal) and q.object not in seen:
                    nxt.add(q.object)
        seen |= nxt
        frontier = nxt
    return out


