"""Which focus nodes a change can affect, read from the shapes themselves.

A shape reads the graph along paths that start at its focus node: `kgs:Person-holds` reads
`org:holds` of a person and then `rdf:type` of the post it points to; the evidence-offsets
constraint reads `oa:hasSource` of a quote and then `kgo:fullText` of the article. `Reads` is the
set of those predicate paths, taken from the compiled engine's model of the shapes (`sh:path`,
`sh:class` on the values, shapes nested by sh:property, sh:node, sh:or and kin, the targets) and
from the SHACL-SPARQL constraints, parsed with rdflib's SPARQL
parser into algebra (triple patterns joined from `$this`). A changed triple `s p o` can change
the results of a focus node `x` only if some path `q1 … qk p` leads from `x` to `s` along
`q1 … qk`: so the focus nodes a change affects are found by walking each path backwards from
the subjects it touched, through the store's indexes, never by scanning it.

A change needs the whole graph validated (`affected` answers None) when the shapes read
backwards (`sh:inversePath`, `sh:targetObjectsOf`, a SPARQL pattern that ends in `$this` or is
not joined to it), through paths of unbounded length (`*`, `+`), with constraints the compiled
engine leaves to pySHACL (their reads are not known here), or when the change
touches `rdfs:subClassOf` (the class hierarchy decides every class target and `sh:class`).
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, RDFS, SH
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath
from rdflib.plugins.sparql import prepareQuery

from ..validation.paths import Step
from ..validation.shape_model import Leaf, Model, Nested, Shape, read_model

MAX_DEPTH = 4          # longer read paths make a change validate the whole graph
OUT_READ_WHOLE = 1000  # a node with more quads than this is read predicate by predicate
GLOBAL = frozenset({str(RDFS.subClassOf)})
ANY = None             # a path step that reads any predicate

ReadPath = tuple["str | None", ...]


@dataclass(frozen=True)
class Reads:
    """The predicate paths the shapes read from a focus node, or why they cannot be known."""

    paths: frozenset[ReadPath] = frozenset()
    local: bool = True
    reason: str = ""

    @property
    def depth(self) -> int:
        return max((len(p) for p in self.paths), default=0)

    @property
    def steps(self) -> frozenset[str | None]:
        """Predicates read before the last step of a path: the ones a neighbourhood follows."""
        return frozenset(step for p in self.paths for step in p[:-1])


def not_local(reason: str) -> Reads:
    return Reads(frozenset(), False, reason)


def shape_reads(shapes: rdflib.Graph | Model) -> Reads:
    """What the shapes read, from the compiled engine's model of them and their parsed SPARQL constraints."""
    model = shapes if isinstance(shapes, Model) else read_model(shapes)
    if model.fallback:
        return not_local(f"shape {model.fallback[0]} uses constraints checked by pySHACL")
    paths: set[ReadPath] = {(str(RDF.type),)}   # class targets
    try:
        for shape in model.top:
            if shape.targets.objects_of:
                return not_local("a shape targets the objects of a predicate (sh:targetObjectsOf)")
            paths |= {(str(p),) for p in shape.targets.subjects_of}
            paths |= _reads_of(shape, {()})
    except _Unknown as exc:
        return not_local(str(exc))
    if any(len(p) > MAX_DEPTH for p in paths):
        return not_local(f"a shape reads more than {MAX_DEPTH} steps from its focus node")
    return Reads(frozenset(q[:i] for q in paths for i in range(1, len(q) + 1)))  # a path reads its prefixes


def _reads_of(shape: Shape, prefixes: set[ReadPath]) -> set[ReadPath]:
    """The paths a shape reads from the focus nodes of its top shape, reached along `prefixes`."""
    if any(len(p) > MAX_DEPTH for p in prefixes):
        raise _Unknown(f"a shape reads more than {MAX_DEPTH} steps from its focus node")
    own = _step_reads(shape.path.tree, str(shape.node)) if shape.path is not None else [()]
    values = {p + o for p in prefixes for o in own}
    reads = set(values)
    for test in shape.tests:
        if isinstance(test, Leaf) and test.component == SH.ClassConstraintComponent:
            reads |= {v + (str(RDF.type),) for v in values}   # sh:class reads the values' rdf:type
        elif isinstance(test, Nested):
            for member in test.members:
                reads |= _reads_of(member, values)
    reads |= {p + (str(other),) for _component, other in shape.pairs for p in prefixes}
    if shape.closed is not None:
        reads |= {v + (ANY,) for v in values}
    for q in shape.qualified:
        for member in (q.shape, *q.siblings):
            reads |= _reads_of(member, values)
    for prop in shape.properties:
        reads |= _reads_of(prop, values)
    for c in shape.sparql:
        found = sparql_reads(c.prologue + c.body)
        if not found.local:
            raise _Unknown(f"the SPARQL constraint of {c.shape}: {found.reason}")
        reads |= {p + r for p in prefixes for r in found.paths}
    return {r for r in reads if r}


def _step_reads(step: Step, shape: str) -> list[ReadPath]:
    """The predicate sequences a property shape's path reads."""
    if step.kind == "pred":
        return [(str(step.iri),)]
    if step.kind == "seq":
        out: list[ReadPath] = [()]
        for part in step.parts:
            out = [a + b for a in out for b in _step_reads(part, shape)]
        return out
    if step.kind == "alt":
        return [r for part in step.parts for r in _step_reads(part, shape)]
    if step.kind == "?":
        return [()] + _step_reads(step.parts[0], shape)
    if step.kind == "inv":
        raise _Unknown(f"{shape} reads an inverse path")
    raise _Unknown(f"{shape} reads a path of unbounded length (* or +)")


# -- SHACL-SPARQL constraints ----------------------------------------------------------------------

def sparql_reads(query: str) -> Reads:
    """The paths a SELECT constraint reads from `$this`, from rdflib's algebra of the query."""
    try:
        algebra = prepareQuery(query).algebra
    except Exception as exc:  # rdflib raises many kinds for what it cannot parse
        return not_local(f"its query could not be analysed ({type(exc).__name__})")
    edges: list[tuple[Any, ReadPath, Any]] = []
    try:
        for s, p, o in _patterns(algebra):
            edges += [(s, steps, o) for steps in _expand(p)]
    except _Unknown as exc:
        return not_local(str(exc))
    return _paths_from_this(edges)


class _Unknown(Exception):
    """A pattern whose reads cannot be stated as forward paths."""


def _patterns(node: Any) -> Iterator[tuple[Any, Any, Any]]:
    """Every triple pattern anywhere in the algebra (BGPs, NOT EXISTS, subqueries, GRAPH)."""
    if isinstance(node, dict):  # rdflib's CompValue is an ordered dict
        for item in (node["triples"] if "triples" in node else ()):  # CompValue.get returns the key when missing
            # a translated BGP holds (s, p, o) tuples; an untranslated block (inside NOT EXISTS)
            # holds lists of terms, three per triple
            if isinstance(item, tuple) and len(item) == 3:
                yield item
            elif isinstance(item, list) and len(item) % 3 == 0:
                for i in range(0, len(item), 3):
                    yield item[i], item[i + 1], item[i + 2]
            else:
                raise _Unknown("a triple pattern of an unexpected form")
        for key, value in node.items():
            if key != "triples" and not key.startswith("_"):
                yield from _patterns(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _patterns(item)


def _expand(p: Any) -> list[ReadPath]:
    """The predicate sequences a path step reads."""
    if isinstance(p, rdflib.URIRef):
        return [(str(p),)]
    if isinstance(p, rdflib.Variable) or isinstance(p, NegatedPath):
        return [(ANY,)]
    if isinstance(p, AlternativePath):
        return [steps for arg in p.args for steps in _expand(arg)]
    if isinstance(p, SequencePath):
        out: list[ReadPath] = [()]
        for arg in p.args:
            out = [a + b for a in out for b in _expand(arg)]
        return out
    if isinstance(p, InvPath):
        raise _Unknown("it reads an inverse path (^)")
    if isinstance(p, MulPath):
        if p.mod == "?":
            return [()] + _expand(p.path)
        raise _Unknown("it reads a path of unbounded length (* or +)")
    if isinstance(p, Path):
        raise _Unknown(f"it reads a path of kind {type(p).__name__}")
    raise _Unknown("a predicate of an unexpected form")


def _paths_from_this(edges: list[tuple[Any, ReadPath, Any]]) -> Reads:
    """Walk the patterns from `$this`: every pattern must be reached from it, forwards."""
    this = rdflib.Variable("this")
    reached: dict[Any, set[ReadPath]] = {this: {()}}
    paths: set[ReadPath] = set()
    changed = True
    while changed:  # to a fixed point: each round adds paths, all of them at most MAX_DEPTH long
        changed = False
        for s, steps, o in edges:
            for prefix in list(reached.get(s, ())):
                full = prefix + steps
                if len(full) > MAX_DEPTH:
                    return not_local(f"it reads more than {MAX_DEPTH} steps from $this")
                if steps:
                    paths.add(full)
                if isinstance(o, (rdflib.Variable, rdflib.BNode)) and full not in reached.setdefault(o, set()):
                    reached[o].add(full)
                    changed = True
    pending = [edge for edge in edges if edge[0] not in reached]
    if pending:
        s, _steps, o = pending[0]
        where = "ends in $this" if o == this else "is not joined to $this"
        return not_local(f"a pattern {where} (it reads the graph backwards or globally)")
    return Reads(frozenset(paths))


# -- the post-write state, without copying the store ----------------------------------------------

@dataclass
class PostState:
    """The store as it will be after a change: its quads less `removed`, plus `added`."""

    store: ox.Store
    added: list[ox.Quad]
    removed: list[ox.Quad]
    skip: frozenset[str] = frozenset()      # graphs that are not data (shapes, change log)
    _gone: set[ox.Quad] = field(default_factory=set)
    _by_subject: dict[Any, list[ox.Quad]] = field(default_factory=dict)
    _by_object: dict[Any, list[ox.Quad]] = field(default_factory=dict)
    _out: dict[Any, list[ox.Quad] | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._gone = set(self.removed)
        for q in self.added:
            self._by_subject.setdefault(q.subject, []).append(q)
            self._by_object.setdefault(q.object, []).append(q)

    def outgoing(self, node: Any, predicate: str | None) -> Iterator[ox.Quad]:
        """A node's quads with this predicate. A node's quads are read whole once (one seek in the
        store's index rather than one per predicate the shapes read), unless it has more than
        OUT_READ_WHOLE of them."""
        p = ox.NamedNode(predicate) if predicate else None
        whole = self._whole(node)
        if whole is None:
            yield from self._keep(self.store.quads_for_pattern(node, p, None, None))
        else:
            yield from (q for q in whole if p is None or q.predicate == p)
        yield from (q for q in self._by_subject.get(node, ()) if p is None or q.predicate == p)

    def _whole(self, node: Any) -> list[ox.Quad] | None:
        if node not in self._out:
            first = list(itertools.islice(self.store.quads_for_pattern(node, None, None, None), OUT_READ_WHOLE + 1))
            self._out[node] = list(self._keep(first)) if len(first) <= OUT_READ_WHOLE else None
        return self._out[node]

    def incoming(self, node: Any, predicate: str | None) -> Iterator[ox.Quad]:
        p = ox.NamedNode(predicate) if predicate else None
        yield from self._keep(self.store.quads_for_pattern(None, p, node, None))
        yield from (q for q in self._by_object.get(node, ()) if p is None or q.predicate == p)

    def with_predicate(self, predicate: str) -> list[ox.Quad]:
        p = ox.NamedNode(predicate)
        return list(self._keep(self.store.quads_for_pattern(None, p, None, None))) + \
            [q for q in self.added if q.predicate == p]

    def _keep(self, quads: Iterable[ox.Quad]) -> Iterator[ox.Quad]:
        for q in quads:
            if q not in self._gone and not self._skipped(q):
                yield q

    def _skipped(self, q: ox.Quad) -> bool:
        return isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in self.skip


def affected(state: PostState, changed: Iterable[ox.Quad], reads: Reads) -> set[Any] | None:
    """The focus nodes whose results the changed quads can change, or None: validate everything."""
    if not reads.local:
        return None
    focus: set[Any] = set()
    for q in changed:
        if q.predicate.value in GLOBAL:
            return None
        for path in reads.paths:
            if path[-1] is ANY or path[-1] == q.predicate.value:
                focus |= _back(state, {q.subject}, path[:-1])
    return {n for n in focus if not isinstance(n, ox.Literal)}


def _back(state: PostState, nodes: set[Any], steps: ReadPath) -> set[Any]:
    for step in reversed(steps):
        nodes = {q.subject for n in nodes for q in state.incoming(n, step)}
        if not nodes:
            break
    return nodes


def neighbourhood(state: PostState, focus: set[Any], reads: Reads) -> list[ox.Quad]:
    """Every quad the shapes read from the focus nodes: along each read path, in the post-write state.
    Paths that share their first steps read them once (a trie of the paths)."""
    trie: dict[Any, Any] = {}
    for path in reads.paths:
        node = trie
        for step in path:
            node = node.setdefault(step, {})
    out: set[ox.Quad] = set()
    todo: list[tuple[set[Any], dict[Any, Any]]] = [(set(focus), trie)]
    while todo:
        level, steps = todo.pop()
        for step, rest in steps.items():
            quads = [q for n in level for q in state.outgoing(n, step)]
            out.update(quads)
            nxt = {q.object for q in quads if not isinstance(q.object, ox.Literal)}
            if rest and nxt:
                todo.append((nxt, rest))
    return list(out)
