"""SHACL Core (SHACL §4) compiled to SPARQL and run on Oxigraph's engine.

pySHACL walks an in-memory rdflib graph node by node: at 1M quads `kg validate` spent 37 s
copying the store into rdflib and 182 s in pySHACL, with 3.8 GB resident. Here each shape is
evaluated over the store itself (the on-disk store opened read-only, or an in-memory one) for
all its focus nodes at once, and only candidate results come back to Python.

How a shape is evaluated (`Evaluator.results`): its focus nodes are a SPARQL subquery (the
targets, or the value nodes of the shape that refers to it), never a list written into the
query: blank nodes cannot be written into a query. The value constraints of a shape (sh:class,
sh:datatype, ..., and sh:node/not/and/or/xone) are judged in one query per shape: each value
constraint adds a SPARQL flag that is true for every value that may fail it, only rows with a
raised flag come back, and Python judges those on the literal as written (`semantics`,
`fidelity`), as pySHACL does. A shape referred to by sh:node and kin is evaluated on the
referring shape's value nodes, and the set of those that fail it is what the referring query
needs (a shape made only of value constraints is folded into the referring query instead).
Cardinalities, sh:hasValue, sh:uniqueLang, the property-pair constraints, sh:closed and
qualified value shapes are one query each; sh:property evaluates the property shape on the
value nodes; sh:sparql constraints run through `shacl_sparql`.

The results are pySHACL's (tests/test_shacl_core.py and the W3C suite, tests/test_w3c_shacl.py):
same focus node, path, value, severity, source shape and constraint component; the engine's own
message follows pySHACL's wording but not character for character. What is not compiled is
listed in `shape_model`.

The data graph is every named graph of the store except `Source.exclude` (the shapes and the
change log), or, for a store made for one validation, its one data graph.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from ..errors import ValidationFailure
from . import semantics, shacl_sparql
from .fidelity import Fidelity
from .paths import Path, Step, expand, write
from .shape_model import Leaf, Model, Nested, Qualified, Shape, Targets, n3

REWRITTEN = ox.NamedNode("urn:x-kg:validation:rewritten")  # lists the literals the store rewrote


# -- the data ------------------------------------------------------------------------------------
@dataclass
class Source:
    """The data graph: the named graphs of an Oxigraph store less `exclude`, or its one `graph`.
    With `focus`, only these nodes are validated (a write's: the nodes it can affect), as far as
    the shapes target them."""

    store: ox.Store
    exclude: frozenset[str] = frozenset()
    graph: ox.NamedNode | None = None
    fidelity: Fidelity = field(default_factory=Fidelity)
    shapes_graph: str | None = None
    focus: frozenset[ox.NamedNode] | None = None
    _subclasses: dict[object, set[object]] | None = None
    _union_ok: dict[frozenset[str], bool] = field(default_factory=dict)

    def term(self, t: object) -> Node:
        """A term read from the store, as written where it was rewritten."""
        return self.fidelity.term(t)

    def run(self, text: str, closures: frozenset[str] = frozenset()) -> ox.QuerySolutions:
        """Our own queries: every triple pattern names its graph, except closure paths, which read
        the default graph (the data: see `dataset`)."""
        return self.store.query(text, **self.dataset(closures))  # type: ignore[return-value]

    def run_user(self, text: str) -> ox.QuerySolutions:
        """A SHACL-SPARQL constraint's query: its default graph is the data (see `shacl_sparql`)."""
        if self.graph is not None:
            return self.store.query(text, default_graph=[self.graph])  # type: ignore[return-value]
        return self.store.query(text, use_default_graph_as_union=True)  # type: ignore[return-value]

    def dataset(self, closures: frozenset[str]) -> dict[str, object]:
        if self.graph is not None:
            return {"default_graph": [self.graph]}
        if not closures:
            return {}
        if closures not in self._union_ok:
            self._union_ok[closures] = not self._used_outside_data(closures)
        if self._union_ok[closures]:
            return {"use_default_graph_as_union": True}
        names = [g for g in self.store.named_graphs() if isinstance(g, ox.NamedNode) and g.value not in self.exclude]
        return {"default_graph": names}

    def rewritten_predicates(self) -> tuple[frozenset[str], frozenset[str]]:
        """The predicates of literals the store rewrote: those whose lexical form changed, and those
        whose datatype changed (a store made for one validation lists them, see `fidelity`)."""
        if not self.fidelity.written:
            return frozenset(), frozenset()
        lexical, typed = set(), set()
        q = Query(self)
        text = (f"SELECT DISTINCT ?p ?o WHERE {{ VALUES ?o {{ {' '.join(str(t) for t in self.fidelity.written)} }} "
                f"{q.triple('?s', '?p', '?o')} }}")
        for row in q.run(text):
            stored, written = row["o"], self.fidelity.written.get(row["o"])  # type: ignore[index]
            if written is None:
                continue
            if stored.value != str(written):  # type: ignore[union-attr]
                lexical.add(row["p"].value)  # type: ignore[index]
            if stored.datatype.value != str(written.datatype or ""):  # type: ignore[union-attr]
                typed.add(row["p"].value)  # type: ignore[index]
        return frozenset(lexical), frozenset(typed)

    def _used_outside_data(self, predicates: frozenset[str]) -> bool:
        """Whether a graph that is not data (an excluded graph, the store's default graph) holds a
        triple with one of these predicates: then the union of all graphs is not the data."""
        values = " ".join(f"<{p}>" for p in sorted(predicates))
        graphs = " ".join(f"<{g}>" for g in sorted(self.exclude))
        asks = [f"ASK {{ VALUES ?p {{ {values} }} ?s ?p ?o }}"]
        if graphs:
            asks.append(f"ASK {{ VALUES ?p {{ {values} }} VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }} }}")
        return any(bool(self.store.query(a)) for a in asks)

    def subclasses(self, cls: rdflib.URIRef) -> list[object] | None:
        """The class and its rdfs:subClassOf descendants, or None when a blank node is among them
        (a query cannot name it)."""
        if self._subclasses is None:
            self._subclasses = {}
            q = Query(self)
            for row in self.run(f"SELECT DISTINCT ?a ?b WHERE {{ {q.triple('?a', f'<{RDFS.subClassOf}>', '?b')} }}"):
                self._subclasses.setdefault(row["b"], set()).add(row["a"])  # type: ignore[index]
        start = ox.NamedNode(str(cls))
        seen, todo = {start}, [start]
        while todo:
            for sub in self._subclasses.get(todo.pop(), ()):
                if sub not in seen:
                    seen.add(sub)
                    todo.append(sub)
        if any(isinstance(c, ox.BlankNode) for c in seen):
            return None
        return sorted(seen, key=str)


FOCUS = "?focus__"   # the variable a `Focus` binds, renamed where it is used


@dataclass(frozen=True)
class Focus:
    """A set of nodes: a SPARQL subquery that binds FOCUS to each (and the closure paths it reads)."""

    text: str
    closures: frozenset[str] = frozenset()


class Query:
    """Text of one query over a `Source`."""

    _n = itertools.count()   # one count for all queries: a focus made by one query is embedded in others

    def __init__(self, source: Source) -> None:
        self.source = source
        self.closures: set[str] = set()

    def var(self, stem: str) -> str:
        return f"?{stem}{next(Query._n)}"

    def triple(self, s: str, p: str, o: str) -> str:
        if self.source.graph is not None:
            return f"GRAPH <{self.source.graph.value}> {{ {s} {p} {o} }}"
        g = self.var("g")
        keep = ""
        if self.source.exclude:
            keep = f" FILTER({g} NOT IN ({', '.join(f'<{x}>' for x in sorted(self.source.exclude))}))"
        return f"GRAPH {g} {{ {s} {p} {o} }}{keep}"

    def path(self, path: Step, s: str, o: str) -> str:
        """The path from `s` to `o`: triple patterns, or a SPARQL property path over the data."""
        if not _has_closure(path):
            return expand(path, s, o, self.triple, lambda: self.var("p"))
        if self.source.graph is not None:
            return f"GRAPH <{self.source.graph.value}> {{ {s} {Path(rdflib.BNode(), path).sparql()} {o} }}"
        self.closures |= {str(p) for p in Path(rdflib.BNode(), path).predicates}
        return f"{s} {Path(rdflib.BNode(), path).sparql()} {o} ."

    def use(self, focus: Focus, var: str) -> str:
        """The focus nodes bound to `var`."""
        self.closures |= focus.closures
        return focus.text.replace(FOCUS, var)

    def values(self, shape: Shape, focus: Focus, f: str, v: str) -> str:
        """The focus nodes (`f`) and their value nodes (`v`): the focus itself for a node shape."""
        if shape.path is None:
            return f"{self.use(focus, f)} BIND({f} AS {v})"
        tree = shape.path.tree
        main = f"{self.use(focus, f)} {self.path(tree, f, v)}"
        if not _nullable(tree):
            return main
        # A path that may have length zero reaches the focus node itself, even one the graph does
        # not hold (SHACL 2.3.1); SPARQL's zero-length path reaches only nodes of the graph.
        return f"{{ {main} }} UNION {{ {self.use(focus, f)} BIND({f} AS {v}) }}"

    def instance_of(self, v: str, cls: rdflib.URIRef) -> str:
        """`v` is a SHACL instance of `cls` (rdf:type/rdfs:subClassOf*)."""
        classes = self.source.subclasses(cls)
        if classes is None:
            sub_class_of = Step("*", parts=(Step("pred", RDFS.subClassOf),))
            return self.path(Step("seq", parts=(Step("pred", RDF.type), sub_class_of)), v, f"<{cls}>")
        tc = self.var("tc")
        return f"VALUES {tc} {{ {' '.join(str(c) for c in classes)} }} {self.triple(v, f'<{RDF.type}>', tc)}"

    def targets(self, t: Targets) -> Focus:
        """The focus nodes of a shape's targets (SHACL §2.1.3)."""
        parts = [self.instance_of(FOCUS, c) for c in t.classes]
        if t.nodes:
            parts.append(f"VALUES {FOCUS} {{ {' '.join(str(ox_term(n)) for n in t.nodes)} }}")
        parts += [self.triple(FOCUS, f"<{p}>", self.var("o")) for p in t.subjects_of]
        parts += [self.triple(self.var("s"), f"<{p}>", FOCUS) for p in t.objects_of]
        union = " UNION ".join(f"{{ {p} }}" for p in parts) or "FILTER(false)"
        if self.source.focus is not None:  # a write validates the nodes it can affect, not every target
            only = " ".join(str(n) for n in sorted(self.source.focus, key=str))
            union = f"VALUES {FOCUS} {{ {only} }} {{ {union} }}"
        return Focus(f"{{ SELECT DISTINCT {FOCUS} WHERE {{ {union} }} }}", frozenset(self.closures))

    def value_nodes(self, shape: Shape, focus: Focus) -> Focus:
        """The value nodes of `shape` for these focus nodes, as the focus of the shapes it refers to."""
        if shape.path is None:
            return focus
        f, v = self.var("f"), self.var("v")
        body = self.values(shape, focus, f, v)
        return Focus(f"{{ SELECT DISTINCT ({v} AS {FOCUS}) WHERE {{ {body} }} }}", frozenset(self.closures))

    def run(self, text: str) -> ox.QuerySolutions:
        return self.source.run(text, frozenset(self.closures))


def _has_closure(s: Step) -> bool:
    return s.kind in ("*", "+", "?") or any(_has_closure(p) for p in s.parts)


def _nullable(s: Step) -> bool:
    if s.kind in ("*", "?"):
        return True
    if s.kind == "seq":
        return all(_nullable(p) for p in s.parts)
    if s.kind in ("alt",):
        return any(_nullable(p) for p in s.parts)
    if s.kind in ("inv", "+"):
        return _nullable(s.parts[0])
    return False


def ox_term(t: Node) -> object:
    from ..store.terms import to_ox_term

    return to_ox_term(t)


# -- evaluation ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Found:
    """One validation result, before it becomes triples of the report graph."""

    shape: Shape
    key: object                      # the focus node as the store holds it
    focus: Node                      # ... and as written
    component: rdflib.URIRef
    message: str
    value: Node | None = None
    path: Node | None = None         # when not the shape's own path (sh:closed)
    constraint: Node | None = None   # sh:sourceConstraint (SPARQL)
    messages: tuple[rdflib.Literal, ...] | None = None   # filled-in sh:message (SPARQL), else the shape's


class Evaluator:
    def __init__(self, source: Source, model: Model) -> None:
        self.source = source
        self.model = model
        self._failing: dict[tuple[int, str], frozenset[object]] = {}

    def evaluate(self) -> Iterator[Found]:
        """Every result of every compiled shape that has targets."""
        for shape in self.model.top:
            focus = Query(self.source).targets(shape.targets)
            if self.source.focus is not None and not self._holds_focus(focus):
                continue
            yield from self.results(shape, focus)

    def _holds_focus(self, focus: Focus) -> bool:
        """Whether a shape targets any of the source's few focus nodes (one ASK: a write skips the
        shapes that target none of the nodes it can affect)."""
        q = Query(self.source)
        return bool(q.run(f"ASK {{ {q.use(focus, '?x')} }}"))

    def results(self, shape: Shape, focus: Focus) -> Iterator[Found]:
        if shape.deactivated:
            return
        yield from self._value_tests(shape, focus)
        yield from self._counts(shape, focus)
        yield from self._has_values(shape, focus)
        yield from self._unique_lang(shape, focus)
        yield from self._pairs(shape, focus)
        yield from self._closed(shape, focus)
        for q in shape.qualified:
            yield from self._qualified(shape, q, focus)
        if shape.properties:
            yield from self._properties(shape, focus)
        for c in shape.sparql:
            yield from self._sparql(shape, c, focus)

    def _properties(self, shape: Shape, focus: Focus) -> Iterator[Found]:
        """sh:property: the property shapes on the value nodes. pySHACL checks them once per focus
        node and value node, so that a value node shared by n focus nodes has its results n times
        (as the W3C suite's core/property/property-001 expects)."""
        values = Query(self.source).value_nodes(shape, focus)
        times: dict[object, int] = {}
        if shape.path is not None:
            q = Query(self.source)
            f, v = q.var("f"), q.var("v")
            for row in q.run(f"SELECT {v} (COUNT(DISTINCT {f}) AS ?n) WHERE {{ {q.values(shape, focus, f, v)} }} "
                             f"GROUP BY {v}"):
                times[row[0]] = int(row[1].value)  # type: ignore[index]
        for prop in shape.properties:
            for found in self.results(prop, values):
                for _ in range(times.get(found.key, 1)):
                    yield found

    def failing(self, shape: Shape, focus: Focus) -> frozenset[object]:
        """The focus nodes that do not conform to `shape` (any result, whatever its severity)."""
        key = (id(shape), focus.text)
        if key not in self._failing:
            self._failing[key] = frozenset(f.key for f in self.results(shape, focus))
        return self._failing[key]

    def _found(self, shape: Shape, key: object, component: rdflib.URIRef, message: str, value: object = None,
               **extra: object) -> Found:
        return Found(shape, key, self.source.term(key), component, message,
                     None if value is None else self.source.term(value), **extra)  # type: ignore[arg-type]

    # -- value constraints, one query per shape ----------------------------------------------------
    def _value_tests(self, shape: Shape, focus: Focus) -> Iterator[Found]:
        if not shape.tests:
            return
        q = Query(self.source)
        f, v = q.var("f"), q.var("v")
        plan = _Flags(q, v, self.source.fidelity.written != {})
        checks = [plan.test(t) for t in shape.tests]
        domain: Focus | None = None
        if any(isinstance(t, Nested) and not all(m.inline for m in t.members) for t in shape.tests):
            domain = Query(self.source).value_nodes(shape, focus)
        prefilter = " || ".join(may for may, _must in checks)
        text = (f"SELECT DISTINCT {f} {v} {' '.join(plan.names)} WHERE {{ {q.values(shape, focus, f, v)} "
                f"{' '.join(plan.binds)} FILTER({prefilter}) }}")
        for row in q.run(text):
            key, value = row[0], row[1]  # type: ignore[index]
            decided = _Row(self, plan, row, value, domain)
            for t in shape.tests:
                if decided.fails(t):
                    term = self.source.term(value)
                    yield self._found(shape, key, t.component, t.message.replace("{value}", n3(term)), value)

    # -- constraints on each focus node ---------------------------------------------------------------
    def _counts(self, shape: Shape, focus: Focus) -> Iterator[Found]:
        lo, hi = shape.min_count or None, shape.max_count
        if lo is None and hi is None or shape.path is None:
            return
        q = Query(self.source)
        f, v = q.var("f"), q.var("v")
        tests = ([f"?n < {lo}"] if lo is not None else []) + ([f"?n > {hi}"] if hi is not None else [])
        text = (f"SELECT {f} ?n WHERE {{ {{ SELECT {f} (COUNT(DISTINCT {v}) AS ?n) WHERE {{ {q.use(focus, f)} "
                f"OPTIONAL {{ {q.path(shape.path.tree, f, v)} }} }} GROUP BY {f} }} FILTER({' || '.join(tests)}) }}")
        if _nullable(shape.path.tree):
            text = (f"SELECT {f} ?n WHERE {{ {{ SELECT {f} (COUNT(DISTINCT {v}) AS ?n) WHERE {{ "
                    f"{q.values(shape, focus, f, v)} }} GROUP BY {f} }} FILTER({' || '.join(tests)}) }}")
        path = n3(shape.path.node)
        for row in q.run(text):
            n, key = int(row["n"].value), row[0]  # type: ignore[index]
            where = f"{n3(self.source.term(key))}->{path}"
            if lo is not None and n < lo:
                yield self._found(shape, key, SH.MinCountConstraintComponent, f"Less than {lo} values on {where}")
            if hi is not None and n > hi:
                yield self._found(shape, key, SH.MaxCountConstraintComponent, f"More than {hi} values on {where}")

    def _pairs_of(self, shape: Shape, focus: Focus,
                  other: Node | None = None) -> dict[object, tuple[set[Node], set[Node]]]:
        """Per focus node: its value nodes, and its values of `other` (terms as written)."""
        q = Query(self.source)
        f, v, w = q.var("f"), q.var("v"), q.var("w")
        parts = [f"{{ {q.values(shape, focus, f, v)} }}"]
        if isinstance(other, rdflib.URIRef):
            parts.append(f"{{ {q.use(focus, f)} {q.triple(f, f'<{other}>', w)} }}")
        text = f"SELECT DISTINCT {f} {v} {w} WHERE {{ {' UNION '.join(parts)} }}"
        out: dict[object, tuple[set[Node], set[Node]]] = {}
        for row in q.run(text):
            mine, theirs = out.setdefault(row[0], (set(), set()))  # type: ignore[index]
            if row[1] is not None:  # type: ignore[index]
                mine.add(self.source.term(row[1]))  # type: ignore[index]
            if row[2] is not None:  # type: ignore[index]
                theirs.add(self.source.term(row[2]))  # type: ignore[index]
        return out

    def _has_values(self, shape: Shape, focus: Focus) -> Iterator[Found]:
        if not shape.has_values:
            return
        found = self._pairs_of(shape, focus)
        for wanted in shape.has_values:
            message = f"Missing expected value {n3(wanted)}"
            for key in self._all(focus):
                if wanted not in found.get(key, (set(), set()))[0]:
                    yield self._found(shape, key, SH.HasValueConstraintComponent, message)

    def _all(self, focus: Focus) -> list[object]:
        q = Query(self.source)
        return [row[0] for row in q.run(f"SELECT DISTINCT ?x WHERE {{ {q.use(focus, '?x')} }}")]  # type: ignore[index]

    def _unique_lang(self, shape: Shape, focus: Focus) -> Iterator[Found]:
        if not shape.unique_lang:
            return
        q = Query(self.source)
        f, v = q.var("f"), q.var("v")
        text = (f"SELECT {f} ?l WHERE {{ {q.values(shape, focus, f, v)} FILTER(isLiteral({v}) && LANG({v}) != \"\") "
                f"BIND(LCASE(LANG({v})) AS ?l) }} GROUP BY {f} ?l HAVING (COUNT(DISTINCT {v}) > 1)")
        for row in q.run(text):
            yield self._found(shape, row[0], SH.UniqueLangConstraintComponent,  # type: ignore[index]
                              "More than one String shares the same Language")

    def _pairs(self, shape: Shape, focus: Focus) -> Iterator[Found]:
        for component, other in shape.pairs:
            for key, (mine, theirs) in self._pairs_of(shape, focus, other).items():
                for value, message in _pair_results(component, mine, theirs, self.source.term(key), other):
                    yield Found(shape, key, self.source.term(key), component, message, value)

    def _closed(self, shape: Shape, focus: Focus) -> Iterator[Found]:
        if shape.closed is None:
            return
        q = Query(self.source)
        f, v, p, o = q.var("f"), q.var("v"), q.var("p"), q.var("o")
        allowed = ", ".join(f"<{a}>" for a in sorted(shape.closed) if isinstance(a, rdflib.URIRef))
        keep = f"FILTER({p} NOT IN ({allowed}))" if allowed else ""
        text = (f"SELECT DISTINCT {f} {p} {o} WHERE {{ {q.values(shape, focus, f, v)} {q.triple(v, p, o)} {keep} "
                f"FILTER(!({p} = <{RDF.type}> && {o} = <{RDFS.Resource}>)) }}")
        for row in q.run(text):
            key = row[0]  # type: ignore[index]
            value = self.source.term(row[2])  # type: ignore[index]
            yield Found(shape, key, self.source.term(key), SH.ClosedConstraintComponent,
                        f"Node {n3(self.source.term(key))} is closed. It cannot have value: {n3(value)}", value,
                        path=self.source.term(row[1]))  # type: ignore[index]

    def _qualified(self, shape: Shape, qualified: Qualified, focus: Focus) -> Iterator[Found]:
        """How many value nodes conform to the qualified shape (and to none of its siblings)."""
        q = Query(self.source)
        f, v = q.var("f"), q.var("v")
        exact = qualified.shape.inline and not qualified.siblings and not self.source.fidelity.written \
            and all(t.decide is None for t in qualified.shape.tests)  # type: ignore[union-attr]
        if exact:  # one query: SPARQL alone decides each value
            plan = _Flags(q, v, False)
            may, _must = plan.shape(qualified.shape)
            outside = " || ".join(([f"?n < {qualified.min_count}"] if qualified.min_count is not None else [])
                                  + ([f"?n > {qualified.max_count}"] if qualified.max_count is not None else []))
            text = (f"SELECT {f} ?n WHERE {{ {{ SELECT {f} (COUNT(DISTINCT {v}) AS ?n) WHERE {{ {q.use(focus, f)} "
                    f"OPTIONAL {{ {q.values(shape, focus, f, v)} {' '.join(plan.binds)} FILTER(!({may})) }} }} "
                    f"GROUP BY {f} }} FILTER({outside}) }}")
            counts = {row[0]: int(row[1].value) for row in q.run(text)}  # type: ignore[index]
        else:
            domain = Query(self.source).value_nodes(shape, focus)
            failing = self.failing(qualified.shape, domain)
            siblings = [self.failing(s, domain) for s in qualified.siblings]
            counts = {}
            text = (f"SELECT DISTINCT {f} {v} WHERE {{ {q.use(focus, f)} "
                    f"OPTIONAL {{ {q.values(shape, focus, f, v)} }} }}")
            for row in q.run(text):
                key, value = row[0], row[1]  # type: ignore[index]
                counts.setdefault(key, 0)
                if value is not None and value not in failing and all(value in s for s in siblings):
                    counts[key] += 1
        lo, hi = qualified.min_count, qualified.max_count
        for key, n in counts.items():
            if hi is not None and n > hi:
                yield self._found(shape, key, SH.QualifiedMaxCountConstraintComponent, qualified.message)
            if lo is not None and n < lo:
                yield self._found(shape, key, SH.QualifiedMinCountConstraintComponent, qualified.message)

    def _sparql(self, shape: Shape, c: shacl_sparql.SparqlConstraint, focus: Focus) -> Iterator[Found]:
        q = Query(self.source)
        focus_query = q.use(focus, "?this")
        if q.closures and self.source.graph is None:
            raise ValidationFailure(f"the SPARQL constraint {c.node} is reached through a path with * or +, "
                                "which this engine cannot pre-bind on a store of several graphs")
        for solution in shacl_sparql.solutions(c, self.source.run_user, focus_query, self.source.shapes_graph,
                                               shape.node):
            values = solution.values
            value = values.get("value", solution.focus)
            path = self.source.term(values["path"]) if "path" in values else None
            messages = tuple(shacl_sparql.message(m, values, self.source.term) for m in c.messages)
            yield Found(shape, solution.focus, self.source.term(solution.focus), SH.SPARQLConstraintComponent,
                        messages[0] if messages else "SPARQL constraint not met", self.source.term(value),
                        path=path, constraint=c.node, messages=messages)


# -- judging one row of a value-constraint query -----------------------------------------------------
class _Flags:
    """The SPARQL flags of one value-constraint query: a flag per leaf, and for every test the
    SPARQL that may be true (over-approximation) and must be true (under-approximation) when it fails."""

    def __init__(self, q: Query, v: str, rewritten: bool) -> None:
        self.q, self.v, self.rewritten = q, v, rewritten
        self.names: list[str] = []
        self.binds: list[str] = []
        self.flag_of: dict[int, int] = {}

    def leaf(self, leaf: Leaf) -> tuple[str, str]:
        if id(leaf) not in self.flag_of:
            i = len(self.names)
            self.flag_of[id(leaf)] = i
            if leaf.component == SH.ClassConstraintComponent:
                sparql = f"NOT EXISTS {{ {self.q.instance_of(self.v, leaf.param)} }}"  # type: ignore[arg-type]
            else:
                sparql = leaf.prefilter(self.v)
            if leaf.lexical and self.rewritten:
                r = f"<{REWRITTEN.value}>"
                sparql = f"({sparql} || EXISTS {{ GRAPH {r} {{ {r} {r} {self.v} }} }})"
            self.names.append(f"?flag{i}")
            self.binds.append(f"BIND(COALESCE({sparql}, true) AS ?flag{i})")
        name = self.names[self.flag_of[id(leaf)]]
        return name, (name if leaf.decide is None else "false")

    def shape(self, shape: Shape) -> tuple[str, str]:
        """(may fail, must fail) of a member shape."""
        if not shape.inline:
            return "true", "false"
        pairs = [self.leaf(t) for t in shape.tests]  # type: ignore[arg-type]
        return (" || ".join(m for m, _ in pairs) or "false"), (" || ".join(m for _, m in pairs) or "false")

    def test(self, t: Leaf | Nested) -> tuple[str, str]:
        if isinstance(t, Leaf):
            return self.leaf(t)
        members = [self.shape(m) for m in t.members]
        if t.kind == "node":
            return members[0]
        if t.kind == "not":
            may, must = members[0]
            return f"!({must})", f"!({may})"
        if t.kind == "and":
            return " || ".join(f"({m})" for m, _ in members), " || ".join(f"({m})" for _, m in members)
        if t.kind == "or":
            return " && ".join(f"({m})" for m, _ in members), " && ".join(f"({m})" for _, m in members)
        return "true", "false"  # xone: judged in Python


class _Row:
    def __init__(self, ev: Evaluator, plan: _Flags, row: ox.QuerySolution, value: object, domain: Focus | None) -> None:
        self.ev, self.plan, self.row, self.value, self.domain = ev, plan, row, value, domain
        self._term: Node | None = None

    @property
    def term(self) -> Node:
        if self._term is None:
            self._term = self.ev.source.term(self.value)
        return self._term

    def leaf_fails(self, leaf: Leaf) -> bool:
        if self.row[self.plan.names[self.plan.flag_of[id(leaf)]][1:]] != _TRUE:
            return False
        return leaf.decide is None or leaf.decide(self.term)

    def shape_fails(self, shape: Shape) -> bool:
        if shape.inline:
            return any(self.leaf_fails(t) for t in shape.tests)  # type: ignore[arg-type]
        assert self.domain is not None
        return self.value in self.ev.failing(shape, self.domain)

    def fails(self, t: Leaf | Nested) -> bool:
        if isinstance(t, Leaf):
            return self.leaf_fails(t)
        if t.kind == "node":
            return self.shape_fails(t.members[0])
        if t.kind == "not":
            return not self.shape_fails(t.members[0])
        if t.kind == "and":
            return any(self.shape_fails(m) for m in t.members)
        if t.kind == "or":
            return all(self.shape_fails(m) for m in t.members)
        return sum(not self.shape_fails(m) for m in t.members) != 1


_TRUE = ox.Literal(True)


def _pair_results(component: rdflib.URIRef, mine: set[Node], theirs: set[Node], focus: Node,
                  other: Node) -> Iterator[tuple[Node, str]]:
    """sh:equals, sh:disjoint, sh:lessThan, sh:lessThanOrEquals at one focus node, as pySHACL judges them."""
    where = f"{n3(focus)}->{n3(other)}"
    if component == SH.EqualsConstraintComponent:
        for value in list(mine - theirs) + list(theirs - mine):
            yield value, f"Value of {where} != {n3(value)}"
    elif component == SH.DisjointConstraintComponent:
        for value in mine & theirs:
            yield value, f"Value of {where} == {n3(value)}"
    else:
        or_equal = component == SH.LessThanOrEqualsConstraintComponent
        for value in mine:
            for compared in theirs:
                try:
                    less = semantics.less_than(value, compared, or_equal)
                except semantics.Incomparable as exc:
                    raise ValidationFailure(f"{exc} (focus node {n3(focus)}, value {n3(value)})") from None
                if not less:
                    yield value, f"Value of {where} {'<' if or_equal else '<='} {n3(value)}"


def add_result(report: rdflib.Graph, report_node: Node, f: Found, shapes: rdflib.Graph,
               messages: list[rdflib.Literal]) -> None:
    """One result as triples of the sh:ValidationReport graph, as pySHACL writes them."""
    r = rdflib.BNode()
    report.add((report_node, SH.result, r))
    report.add((r, RDF.type, SH.ValidationResult))
    report.add((r, SH.focusNode, f.focus))
    if f.path is not None:
        report.add((r, SH.resultPath, f.path))
    elif f.shape.path is not None:
        report.add((r, SH.resultPath, write(f.shape.path.tree, report)))
    if f.value is not None:
        report.add((r, SH.value, f.value))
    report.add((r, SH.resultSeverity, f.shape.severity))
    report.add((r, SH.sourceShape, f.shape.node))
    report.add((r, SH.sourceConstraintComponent, f.component))
    if f.constraint is not None:
        report.add((r, SH.sourceConstraint, f.constraint))
    for m in ([] if f.messages is not None else [rdflib.Literal(f.message)]) + messages:
        report.add((r, SH.resultMessage, m))

