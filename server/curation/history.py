"""The change log for people and programs: pages of changes with their diffs, one change in full,
and what changed about one resource. No Flask here: the `/history` views, the resource pages and
any other front end (a curator's workbench) call `History`.

Every read is bounded, whatever the length of the log: a page reads the descriptions of at most
`limit` changes (chosen by one SPARQL query over the activities' IRIs), and of each change's patch
at most `rows` quads of each kind; a resource's history reads at most `limit` changes, and of each
patch only the rows about that resource. Labels come from one query for the IRIs on the page.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from ..errors import BadRequest, NotFound
from .changelog import HistoryFilter, activity_iri, chain_query, details_query, matching_query, older_query
from .patches import PatchLog, is_change_id, parse_patch

Select = Callable[[str], list[dict[str, str]]]
PAGE_SIZE = 20
MAX_PAGE = 100
CHAIN_STEPS = 40   # changes one query follows along the chain (it nests 2 + that many levels; the guard allows 64)
ROWS_SHOWN = 20          # quads of each kind shown per change on a page of the history
DETAIL_ROWS = 2000       # ... on the page of one change
RESOURCE_CHANGES = 20    # changes read for a resource's page
MAX_PATCH_SCAN = 16 << 20   # bytes of one patch read to find a resource's rows
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


@dataclass
class Row:
    """One quad of a diff, with labels for people."""

    subject: str
    predicate: str
    object: str            # the term as N-Triples writes it (a literal keeps its quotes, tag and type)
    graph: str
    object_iri: str | None
    subject_label: str = ""
    predicate_label: str = ""
    object_label: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """(predicate, object, graph): a resource page keys a value of its subject by (predicate, object),
        and who states it by graph; the same triple in another source's graph is another statement."""
        return self.predicate, self.object, self.graph


@dataclass
class ChangeSummary:
    id: str
    iri: str
    operation: str
    curator: str
    started: str
    ended: str
    graphs: list[str]
    added: int
    removed: int
    comment: str | None = None
    undoes: str | None = None
    undone_by: str | None = None
    dropped: str | None = None
    added_rows: list[Row] = field(default_factory=list)
    removed_rows: list[Row] = field(default_factory=list)
    patch_missing: bool = False

    @property
    def rows_cut(self) -> bool:
        return len(self.added_rows) < self.added or len(self.removed_rows) < self.removed

    @property
    def undoable(self) -> bool:
        return not (self.undone_by or self.dropped or self.patch_missing)


@dataclass
class HistoryPage:
    changes: list[ChangeSummary]
    where: HistoryFilter
    limit: int
    older: str | None          # the `before` of the next page, None on the last one


@dataclass
class ResourceHistory:
    """What the newest changes did to one resource's facts."""

    iri: str
    changes: list[ChangeSummary]                          # newest first, without rows
    added_by: dict[tuple[str, str, str], ChangeSummary]   # (predicate, object, graph) -> newest change that added it
    removed: list[tuple[Row, ChangeSummary]]              # statements a change removed and no later change added back
    more: bool                                            # older changes exist that were not read


class History:
    """Pages of the change log: `select` runs a SELECT through the query engine (with its limits)."""

    def __init__(self, select: Select, log: PatchLog, base: str, prefixes: dict[str, str] | None = None,
                 chain_steps: int = CHAIN_STEPS) -> None:
        self.select = select
        self.chain_steps = max(1, chain_steps)
        self.log = log
        self.base = base
        self.prefixes = sorted((prefixes or {}).items(), key=lambda kv: -len(kv[1]))

    def page(self, where: HistoryFilter = HistoryFilter(), limit: int = PAGE_SIZE, rows: int = ROWS_SHOWN) -> HistoryPage:
        if where.before is not None and not is_change_id(where.before):
            raise BadRequest(f"before={where.before!r} is not a change id (they look like 20261206T101500123456Z-a1b2c3)")
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
        found = self.newest(where, limit + 1)
        changes = self.described(found[:limit])
        self._with_rows(changes, rows)
        older = changes[-1].id if len(found) > limit else None
        return HistoryPage(changes, where, limit, older)

    def change(self, change_id: str, rows: int = DETAIL_ROWS) -> ChangeSummary:
        if not is_change_id(change_id):
            raise BadRequest(f"{change_id!r} is not a change id (see /history)")
        found = self.described([activity_iri(self.base, change_id)])
        if not found:
            raise NotFound(f"no change {change_id} in the change log (see /history)")
        self._with_rows(found, rows)
        return found[0]

    def newest(self, where: HistoryFilter, count: int) -> list[str]:
        """The IRIs of the `count` newest changes the filter selects (older than `before`).

        The whole log, unfiltered, is read along its chain (each change names the one before it):
        `count` index lookups. A filter reads the IRIs of the changes it selects, and they are
        sorted here (as their ids sort: by time)."""
        before = activity_iri(self.base, where.before) if where.before else None
        if not (where.graph or where.resource or where.curator):
            chained = self._chain(before, count)
            if chained is not None:
                return chained
        iris = sorted((r["activity"] for r in self.select(matching_query(self.base, where))), reverse=True)
        return [i for i in iris if before is None or i < before][:count]

    def _chain(self, before: str | None, count: int) -> list[str] | None:
        """Up to `count` changes along `prov:wasInformedBy`, or None when the chain ends early
        while older changes exist (changes recorded before the chain was kept). Read in pieces of
        `chain_steps` (each step nests one OPTIONAL: a whole page in one query would nest deeper
        than the query guard allows)."""
        found: list[str] = []
        cursor = before   # the change the next piece starts from (listed first, not counted)
        while len(found) < count:
            steps = min(self.chain_steps, count - len(found))
            rows = self.select(chain_query(self.base, cursor, steps))
            if not rows:
                return [] if cursor is None else None
            row = rows[0]
            piece = [row[f"a{i}"] for i in range(steps + 1) if f"a{i}" in row]
            ended = len(piece) < steps + 1
            if cursor is not None:
                if not piece or piece[0] != cursor:
                    raise NotFound(f"no change {cursor.rsplit('/', 1)[-1]} in the change log (see /history)")
                piece = piece[1:]
            found += piece
            if ended or not found:
                break
            cursor = found[-1]
        if len(found) >= count:
            return found[:count]
        last = found[-1] if found else before
        # The chain ended: at the first change, or at one recorded before changes named their
        # predecessor (then the rest is read as a filtered page is). Only the last page asks.
        return None if last and self.select(older_query(self.base, last)) else found

    def described(self, iris: list[str]) -> list[ChangeSummary]:
        """The history's view of these changes, in the order given."""
        if not iris:
            return []
        by_iri = {r["activity"]: self._summary(r) for r in self.select(details_query(self.base, iris))}
        return [by_iri[i] for i in iris if i in by_iri]

    def patch_text(self, change_id: str) -> str:
        """The change's RDF Patch as the patch log holds it."""
        self.change(change_id, rows=0)
        try:
            return self.log.path(change_id).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotFound(f"the patch of change {change_id} is not in the patch log") from None

    def resource(self, iri: str, limit: int = RESOURCE_CHANGES) -> ResourceHistory:
        """The newest changes of one resource's triples, and which of its facts each added or removed."""
        found = self.newest(HistoryFilter(resource=iri), limit + 1)
        changes = self.described(found[:limit])
        added_by: dict[tuple[str, str, str], ChangeSummary] = {}
        removed: dict[tuple[str, str, str], tuple[Row, ChangeSummary]] = {}
        settled: set[tuple[str, str, str]] = set()
        for summary in changes:   # newest first: the first change to touch a fact says what became of it
            rows = self._rows_about(summary.id, iri)
            if rows is None:
                summary.patch_missing = True
                continue
            added, gone = rows
            for q in added:
                row = _row(q)
                if row.key not in settled:
                    added_by[row.key] = summary
                    settled.add(row.key)
            for q in gone:
                row = _row(q)
                if row.key not in settled:
                    removed[row.key] = (row, summary)
                    settled.add(row.key)
        self.label([row for row, _s in removed.values()])
        return ResourceHistory(iri, changes, added_by, list(removed.values()), len(found) > limit)

    # -- internals -------------------------------------------------------------------------------
    def _summary(self, r: dict[str, str]) -> ChangeSummary:
        iri = r["activity"]
        return ChangeSummary(iri.rsplit("/", 1)[-1], iri, r["operation"], r["agent"], r["started"], r["ended"],
                             sorted(r.get("graphs", "").split()), int(r["added"]), int(r["removed"]), r.get("comment"),
                             r.get("undoes"), r.get("undoneBy"), r.get("dropped"))

    def _with_rows(self, changes: list[ChangeSummary], rows: int) -> None:
        for summary in changes:
            preview = self.log.load(summary.id, limit=rows) if rows else None
            if preview is None:
                summary.patch_missing = rows > 0 and not self.log.path(summary.id).exists()
                continue
            summary.added_rows = [_row(q) for q in preview.patch.added]
            summary.removed_rows = [_row(q) for q in preview.patch.removed]
        self.label([row for s in changes for row in s.added_rows + s.removed_rows])

    def _rows_about(self, change_id: str, iri: str) -> tuple[list[ox.Quad], list[ox.Quad]] | None:
        """The rows (added, removed) of a patch whose subject is `iri`, found without parsing the others;
        None when the patch is missing, nothing from a patch too large to read for one page."""
        path = self.log.path(change_id)
        try:
            if path.stat().st_size > MAX_PATCH_SCAN:
                return [], []
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        head = f"<{iri}> "
        lines = [ln for ln in text.splitlines() if ln[:2] not in ("A ", "D ") or ln[2:].startswith(head)]
        patch = parse_patch("\n".join(lines), str(path)).patch
        return patch.added, patch.removed

    def label(self, rows: Iterable[Row]) -> None:
        """Fill in labels: one query for every IRI of the rows."""
        rows = list(rows)
        iris = {r.subject for r in rows} | {r.predicate for r in rows} | {r.object_iri for r in rows if r.object_iri}
        if not iris:
            return
        values = " ".join(f"<{i}>" for i in sorted(iris))
        labels: dict[str, tuple[int, str]] = {}
        query = f"SELECT ?s ?l (LANG(?l) AS ?lang) WHERE {{ VALUES ?s {{ {values} }} ?s <{RDFS_LABEL}> ?l }}"
        for r in self.select(query):
            rank = 0 if r.get("lang", "").startswith("en") else 1 if not r.get("lang") else 2
            if r["s"] not in labels or rank < labels[r["s"]][0]:
                labels[r["s"]] = (rank, r["l"])
        for row in rows:
            row.subject_label = labels.get(row.subject, (0, ""))[1] or self.curie(row.subject)
            row.predicate_label = labels.get(row.predicate, (0, ""))[1] or self.curie(row.predicate)
            row.object_label = labels.get(row.object_iri or "", (0, ""))[1] or self.curie(row.object_iri or "")

    def curie(self, iri: str) -> str:
        """`rdfs:label` for an IRI without a label of its own (the longest known namespace wins)."""
        for prefix, namespace in self.prefixes:
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return f"{prefix}:{iri[len(namespace):]}"
        return iri


def _row(q: ox.Quad) -> Row:
    obj = q.object
    return Row(str(q.subject.value), q.predicate.value, str(obj), q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else "",
               obj.value if isinstance(obj, ox.NamedNode) else None)


def annotate(facts: Iterable[Any], found: ResourceHistory) -> None:
    """Mark each value of a resource page (`Fact`s of `linked_data.pages`, their values keyed by
    N-Triples term, each with the graphs that state it) with the newest change that added it, per
    graph: a change that added a second source's statement of a value did not add the first's."""
    for fact in facts:
        for value in fact.values:
            value.changes = {g: found.added_by[(fact.predicate, value.key, g)] for g in value.graphs
                             if (fact.predicate, value.key, g) in found.added_by}

