"""What a curator asks for (`Change`), and the quads it adds and removes (`Diff`), read from the
store without copying it wherever the change says what it touches.

- `INSERT DATA` / `DELETE DATA` updates: the quads they name are found by running the update on an
  empty in-memory store (every `DELETE DATA` read as `INSERT DATA`); the store is asked only
  whether it holds those; the update then runs on an in-memory store of just those it holds, and
  Oxigraph's own result is the diff.
- Graph Store writes, new sources, undo: the quads are given; the store is asked which it holds
  (a PUT or DELETE reads the one graph it replaces).
- Any other update (`DELETE/INSERT … WHERE`, `CLEAR`, `ADD`, …) can read anything: it is evaluated
  on an in-memory copy of the whole store, as every write was before (`Diff.copied`).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from ..errors import BadRequest
from ..store.embedded import query_syntax_error
from ..sparql.guard import words
from .patches import Patch

# The only words an update of INSERT DATA / DELETE DATA operations is made of (besides prefixed
# names and terms). Oxigraph's parser reads a keyword wherever the grammar allows one, even glued
# to what follows (`DELETEWHERE`), so any other word, and any prefix that starts with an update
# keyword, sends the update to the general path: never to the DATA path by mistake.
_DATA_WORDS = frozenset({"PREFIX", "BASE", "INSERT", "DELETE", "DATA", "GRAPH", "A", "TRUE", "FALSE"})
_UPDATE_KEYWORDS = ("INSERT", "DELETE", "DATA", "WHERE", "WITH", "USING", "CLEAR", "DROP", "CREATE", "ADD",
                    "MOVE", "COPY", "LOAD", "GRAPH", "DEFAULT", "NAMED", "ALL", "SILENT", "TO", "INTO", "SERVICE")


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
    curator: str | None = None               # recorded in the change log; None: the settings' name
    if_match: list[str] | None = None        # ETags one of which the graph must have now (Graph Store If-Match)
    if_none_match: bool = False              # If-None-Match: * -- the graph must not exist yet
    base_iri: str | None = None              # the base of the update's relative IRIs (the request's URL)


@dataclass
class Diff:
    added: list[ox.Quad]
    removed: list[ox.Quad]
    created: bool = False
    copied: bool = False   # computed on a copy of the whole store (an update that reads it)
    derived: list[ox.Quad] = field(default_factory=list)   # inferences the change leaves unsupported (not in its patch)

    @property
    def empty(self) -> bool:
        return not self.added and not self.removed

    def graphs(self) -> list[str]:
        return sorted({graph_of(q) or "" for q in self.added + self.removed})


def graph_of(q: ox.Quad) -> str | None:
    return q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else None


def has_blank(q: ox.Quad) -> bool:
    return isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode) \
        or isinstance(q.graph_name, ox.BlankNode)


def skolemize(quads: Iterable[ox.Quad], base: str, mapping: dict[str, ox.NamedNode]) -> list[ox.Quad]:
    """Blank nodes become `{base}.well-known/genid/<uuid>` IRIs (RDF 1.1 §3.5; the same IRI for the
    same node), so that every stored triple can be named exactly again by a later DELETE DATA or undo."""

    def term(t: Any) -> Any:
        if isinstance(t, ox.BlankNode):
            if t.value not in mapping:
                mapping[t.value] = ox.NamedNode(f"{base}.well-known/genid/{uuid.uuid4().hex}")
            return mapping[t.value]
        return t

    return [ox.Quad(term(q.subject), q.predicate, term(q.object), term(q.graph_name)) for q in quads]


def _run(store: ox.Store, update: str, base_iri: str | None = None) -> None:
    try:
        store.update(update, base_iri=base_iri)
    except SyntaxError as exc:
        raise query_syntax_error(exc, "update") from None
    except (OSError, ValueError, RuntimeError) as exc:
        raise BadRequest(f"the update could not be evaluated: {exc}") from None


def data_only(update: str) -> list[int] | None:
    """The offsets of the DELETE keywords when the update is only INSERT DATA / DELETE DATA
    operations (which read nothing from the store); None when it may read the store."""
    found = words(update)
    deletes = []
    for i, (word, offset, prefixed) in enumerate(found):
        upper = word.upper()
        if prefixed:
            if upper.split(":", 1)[0].startswith(_UPDATE_KEYWORDS):
                return None
            continue
        if upper not in _DATA_WORDS:
            return None
        if upper in ("INSERT", "DELETE"):
            if i + 1 >= len(found) or found[i + 1][0].upper() != "DATA":
                return None
            if upper == "DELETE":
                deletes.append(offset)
    return deletes


def update_diff(store: ox.Store, update: str, base: str, base_iri: str | None = None) -> Diff:
    """The quads an update adds and removes, as Oxigraph evaluates it (relative IRIs against `base_iri`)."""
    deletes = data_only(update)
    if deletes is not None:
        diff = _data_diff(store, update, deletes, base_iri)
        if diff is not None:
            return _skolemized(diff, base)
    return _skolemized(_copied_diff(store, update, base_iri), base)


def _data_diff(store: ox.Store, update: str, deletes: list[int], base_iri: str | None) -> Diff | None:
    _run(ox.Store(), update, base_iri)   # syntax (and DELETE DATA's no-blank-node rule) as Oxigraph checks them
    as_inserts = list(update)
    for offset in deletes:
        as_inserts[offset:offset + 6] = "INSERT"
    named = ox.Store()
    _run(named, "".join(as_inserts), base_iri)
    held = [q for q in named if not has_blank(q) and q in store]
    scratch = ox.Store()
    scratch.extend(held)
    _run(scratch, update, base_iri)
    after = set(scratch)
    before = set(held)
    added, removed = [q for q in after if q not in before], [q for q in before if q not in after]
    mentioned = set(named)
    if any(q not in mentioned and not has_blank(q) for q in added) or any(q not in mentioned for q in removed):
        return None   # it touched quads it does not name: not a DATA-only update after all
    return Diff(added, removed)


def _copied_diff(store: ox.Store, update: str, base_iri: str | None = None) -> Diff:
    mem = ox.Store()
    mem.bulk_extend(store.quads_for_pattern(None, None, None, None))
    before = set(mem)   # as Oxigraph holds them: the diff must not see its canonical forms as changes
    _run(mem, update, base_iri)
    after = set(mem)
    return Diff(list(after - before), list(before - after), copied=True)


def _skolemized(diff: Diff, base: str) -> Diff:
    fresh = [q for q in diff.added if has_blank(q)]
    if fresh:
        diff.added = [q for q in diff.added if not has_blank(q)] + skolemize(fresh, base, {})
    return diff


def graph_diff(store: ox.Store, change: Change, base: str) -> Diff:
    """A Graph Store write or a new source: the graph's new triples, what it holds now."""
    assert change.graph is not None
    node = ox.NamedNode(change.graph)
    exists = graph_exists(store, node)
    new = set(skolemize([ox.Quad(q.subject, q.predicate, q.object, node) for q in change.quads or []], base, {}))
    if change.delete_graph:
        return Diff([], list(store.quads_for_pattern(None, None, None, node)))
    if change.replace:
        current = set(store.quads_for_pattern(None, None, None, node))
        return Diff([q for q in new if q not in current], list(current - _held(new, current)), created=not exists)
    return Diff([q for q in new if q not in store], [], created=not exists)


def _held(new: set[ox.Quad], current: set[ox.Quad]) -> set[ox.Quad]:
    """The new quads as the store holds them (canonical literals compare equal through a store)."""
    probe = ox.Store()
    probe.extend(new)
    return {q for q in current if q in probe}


def graph_exists(store: ox.Store, node: ox.NamedNode) -> bool:
    return any(True for _ in store.quads_for_pattern(None, None, None, node))


def orphaned_inferences(store: ox.Store, removed: list[ox.Quad], added: list[ox.Quad], inferred: str,
                        not_data: frozenset[str]) -> list[ox.Quad]:
    """Inferred quads about nodes that the change leaves in no asserted quad at all.

    The inferences are as of the last build, and a write does not infer. But the OWL RL rules
    `kg build` evaluates derive a triple about a node only from triples that mention it, so once
    no asserted triple mentions a node, nothing supports what was inferred about it: undoing the
    addition of a city must not leave the city typed `kgo:Place` by the inferred graph alone
    (and then without the label every place needs)."""
    g = ox.NamedNode(inferred)
    gone, mentioned = set(removed), {t for q in added for t in (q.subject, q.object)}
    candidates = {t for q in removed for t in (q.subject, q.object)
                  if isinstance(t, (ox.NamedNode, ox.BlankNode)) and t not in mentioned}

    def asserted(node: Any, pattern: tuple[Any, Any, Any]) -> bool:
        return any(q not in gone and isinstance(q.graph_name, ox.NamedNode)
                   and q.graph_name.value not in not_data and q.graph_name != g
                   for q in store.quads_for_pattern(*pattern, None))

    out: list[ox.Quad] = []
    for node in candidates:
        if not asserted(node, (node, None, None)) and not asserted(node, (None, None, node)):
            out += list(store.quads_for_pattern(node, None, None, g)) + list(store.quads_for_pattern(None, None, node, g))
    return out


def undo_diff(store: ox.Store, patch: Patch) -> Diff:
    """Revert a change: its added quads that are still there go, its removed quads that are gone come back."""
    return Diff([q for q in patch.removed if q not in store], [q for q in patch.added if q in store])
