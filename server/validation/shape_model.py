"""The shapes graph read into shapes and constraints the compiled engine evaluates (SHACL §2, §4).

Each constraint is read as pySHACL reads it: the same parameters, the same number of values
allowed, the same value semantics (`semantics.py`). A shape that pySHACL would refuse to load,
or that uses what is not compiled here, raises `Unsupported`; `validate` hands it to pySHACL
whole (with every shape that refers to it), so that its answer -- a report or a failure -- is
pySHACL's. Not compiled: shapes that refer to themselves (recursion, which SHACL leaves
undefined and pySHACL cuts at its own depth), SHACL-AF (sh:target, sh:rule, sh:expression),
SPARQL-based constraint components, blank nodes named as targets or classes, ill-formed
parameters. Everything else in SHACL Core is, and sh:sparql constraints (`shacl_sparql`).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import rdflib
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node

from . import semantics
from .paths import Path, PathError, read_path
from .shacl_sparql import SparqlConstraint, read_constraint

TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_INTEGER_TYPES = frozenset(XSD[t] for t in (
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger", "unsignedLong",
    "unsignedInt", "unsignedShort", "unsignedByte", "nonPositiveInteger", "negativeInteger"))
_NODE_KINDS = {SH.IRI: "isIRI({v})", SH.BlankNode: "isBlank({v})", SH.Literal: "isLiteral({v})",
               SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))",
               SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
               SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))"}
_RANGES = {SH.minInclusive: (SH.MinInclusiveConstraintComponent, ">="),
           SH.maxInclusive: (SH.MaxInclusiveConstraintComponent, "<="),
           SH.minExclusive: (SH.MinExclusiveConstraintComponent, ">"),
           SH.maxExclusive: (SH.MaxExclusiveConstraintComponent, "<")}
_PAIRS = {SH.equals: SH.EqualsConstraintComponent, SH.disjoint: SH.DisjointConstraintComponent,
          SH.lessThan: SH.LessThanConstraintComponent, SH.lessThanOrEquals: SH.LessThanOrEqualsConstraintComponent}
_LOGICAL = {SH["not"]: ("not", SH.NotConstraintComponent), SH["and"]: ("and", SH.AndConstraintComponent),
            SH["or"]: ("or", SH.OrConstraintComponent), SH.xone: ("xone", SH.XoneConstraintComponent)}
# SHACL-AF and other features pySHACL evaluates that the compiled engine does not.
_NOT_COMPILED = (SH.target, SH.expression, SH.rule, SH.js)
_NM = rdflib.Graph().namespace_manager  # the prefixes pySHACL's messages use (rdflib's defaults)


class Unsupported(Exception):
    """A shape the compiled engine does not evaluate itself; pySHACL does."""


def n3(term: Node) -> str:
    return term.n3(_NM)


@dataclass(frozen=True, eq=False)
class Leaf:
    """One value constraint, judged value by value.

    `prefilter(v)` is SPARQL that is true for every value that may fail (never false for one
    that fails); `decide`, when set, then judges the written term exactly (True: it fails).
    Without `decide` the SPARQL is exact. `lexical`: the prefilter reads lexical forms, datatypes
    or language tags, which the store may have rewritten (such values always go to `decide`)."""

    component: rdflib.URIRef
    param: Node
    message: str
    prefilter: Callable[[str], str]
    decide: Callable[[Node], bool] | None = None
    lexical: bool = False


@dataclass(frozen=True, eq=False)
class Nested:
    """sh:node, sh:not, sh:and, sh:or, sh:xone: the value's conformance to other shapes."""

    component: rdflib.URIRef
    kind: str
    members: tuple[Shape, ...]
    message: str


@dataclass(frozen=True, eq=False)
class Qualified:
    shape: Shape
    min_count: int | None
    max_count: int | None
    siblings: tuple[Shape, ...]
    message: str


@dataclass
class Targets:
    classes: list[rdflib.URIRef] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    subjects_of: list[rdflib.URIRef] = field(default_factory=list)
    objects_of: list[rdflib.URIRef] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.classes or self.nodes or self.subjects_of or self.objects_of)


@dataclass(eq=False)
class Shape:
    node: Node
    path: Path | None = None
    severity: Node = SH.Violation
    messages: tuple[rdflib.Literal, ...] = ()
    deactivated: bool = False
    targets: Targets = field(default_factory=Targets)
    tests: list[Leaf | Nested] = field(default_factory=list)
    min_count: int | None = None
    max_count: int | None = None
    has_values: list[Node] = field(default_factory=list)
    unique_lang: bool = False
    pairs: list[tuple[rdflib.URIRef, Node]] = field(default_factory=list)
    closed: frozenset[Node] | None = None
    qualified: list[Qualified] = field(default_factory=list)
    properties: list[Shape] = field(default_factory=list)
    sparql: list[SparqlConstraint] = field(default_factory=list)

    @property
    def inline(self) -> bool:
        """A node shape made only of value constraints: its test fits in one SPARQL row."""
        return self.path is None and not (self.min_count or self.max_count is not None or self.has_values
                                          or self.unique_lang or self.pairs or self.closed is not None
                                          or self.qualified or self.properties or self.sparql) \
            and all(isinstance(t, Leaf) for t in self.tests)


@dataclass
class Model:
    shapes: dict[Node, Shape]       # compiled, by node
    top: list[Shape]                # the compiled shapes that have targets
    fallback: list[Node]            # targeted shapes left to pySHACL (with what they refer to)
    reasons: dict[Node, str]


def read_model(shapes: rdflib.Graph) -> Model:
    """Every targeted shape compiled, or listed in `fallback` with the reason."""
    reader = _Reader(shapes)
    model = Model({}, [], [], {})
    for node in sorted(targeted_shapes(shapes), key=str):
        try:
            shape = reader.shape(node)
        except Unsupported as exc:
            model.fallback.append(node)
            model.reasons[node] = str(exc)
            continue
        if not shape.deactivated:
            model.top.append(shape)
    model.shapes = reader.done
    return model


def targeted_shapes(shapes: rdflib.Graph) -> set[Node]:
    """Shapes with targets, explicit or implicit (a shape that is also a class, SHACL §2.1.3.1)."""
    found = {s for p in TARGETS for s in shapes.subjects(p, None)} | set(shapes.subjects(SH.target, None))
    classes = {RDFS.Class} | set(shapes.subjects(RDFS.subClassOf, RDFS.Class))
    for s in set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape)):
        if any((s, RDF.type, c) in shapes for c in classes):
            found.add(s)
    return found


class _Reader:
    def __init__(self, shapes: rdflib.Graph) -> None:
        self.g = shapes
        self.done: dict[Node, Shape] = {}
        self.failed: dict[Node, str] = {}
        self.reading: set[Node] = set()
        self.custom_params = {shapes.value(param, SH.path) for param in shapes.objects(None, SH.parameter)} - {None}

    def shape(self, node: Node) -> Shape:
        if node in self.done:
            return self.done[node]
        if node in self.failed:
            raise Unsupported(self.failed[node])
        if node in self.reading:
            raise Unsupported(f"the shape {n3(node)} refers to itself (recursion)")
        self.reading.add(node)
        try:
            shape = self._read(node)
        except Unsupported as exc:
            self.failed[node] = str(exc)
            raise
        except PathError as exc:
            self.failed[node] = f"{n3(node)}: {exc}"
            raise Unsupported(self.failed[node]) from None
        finally:
            self.reading.discard(node)
        self.done[node] = shape
        return shape

    # -- reading one shape ---------------------------------------------------------------------
    def _read(self, node: Node) -> Shape:
        g = self.g
        for p in _NOT_COMPILED:
            if (node, p, None) in g:
                raise Unsupported(f"{n3(p)} on {n3(node)}")
        if any((node, p, None) in g for p in self.custom_params):
            raise Unsupported(f"{n3(node)} uses a SPARQL-based constraint component")
        paths = list(g.objects(node, SH.path))
        if len(paths) > 1:
            raise Unsupported(f"{n3(node)} has more than one sh:path")
        deactivated = list(g.objects(node, SH.deactivated))
        if len(deactivated) > 1 or (deactivated and not isinstance(deactivated[0], rdflib.Literal)):
            raise Unsupported(f"sh:deactivated of {n3(node)}")
        shape = Shape(node, read_path(g, paths[0]) if paths else None,
                      next(iter(g.objects(node, SH.severity)), SH.Violation),
                      tuple(m for m in g.objects(node, SH.message) if isinstance(m, rdflib.Literal)),
                      bool(deactivated and deactivated[0].value))  # type: ignore[union-attr]
        shape.targets = self._targets(node)
        if shape.deactivated:
            return shape
        self._value_tests(shape)
        self._cardinality(shape)
        self._focus_tests(shape)
        self._shape_refs(shape)
        shape.sparql = [read_constraint(g, shape.node, c, shape.path) for c in g.objects(node, SH.sparql)]
        shape.sparql = [c for c in shape.sparql if c is not None]
        return shape

    def _targets(self, node: Node) -> Targets:
        g = self.g
        t = Targets(nodes=list(g.objects(node, SH.targetNode)),
                    subjects_of=[p for p in g.objects(node, SH.targetSubjectsOf) if isinstance(p, rdflib.URIRef)],
                    objects_of=[p for p in g.objects(node, SH.targetObjectsOf) if isinstance(p, rdflib.URIRef)])
        for c in g.objects(node, SH.targetClass):
            if not isinstance(c, rdflib.URIRef):
                raise Unsupported(f"a target class of {n3(node)} that is not an IRI")
            t.classes.append(c)
        if any(isinstance(n, rdflib.BNode) for n in t.nodes):
            raise Unsupported(f"a blank node as sh:targetNode of {n3(node)}")
        if node in targeted_shapes_implicit(g):
            if not isinstance(node, rdflib.URIRef):
                raise Unsupported(f"a blank-node shape that is a class ({node})")
            t.classes.append(node)
        return t

    def _one(self, node: Node, p: Node) -> Node | None:
        values = list(self.g.objects(node, p))
        if len(values) > 1:
            raise Unsupported(f"more than one {n3(p)} on {n3(node)}")
        return values[0] if values else None

    def _value_tests(self, shape: Shape) -> None:
        g, node = self.g, shape.node
        tests = shape.tests
        for cls in g.objects(node, SH["class"]):
            if not isinstance(cls, rdflib.URIRef):
                raise Unsupported(f"a blank-node or literal sh:class on {n3(node)}")
            tests.append(Leaf(SH.ClassConstraintComponent, cls, f"Value does not have class {n3(cls)}",
                              lambda v: "true"))  # the query builder writes the class test itself
        dt = self._one(node, SH.datatype)
        if dt is not None:
            parsed = dt in semantics.PARSED
            tests.append(Leaf(SH.DatatypeConstraintComponent, dt, f"Value is not Literal with datatype {n3(dt)}",
                              (lambda v: "true") if parsed else
                              (lambda v, d=dt: f"(!isLiteral({v}) || datatype({v}) != <{d}>)"),
                              lambda v, d=dt: not semantics.datatype_ok(v, d), lexical=True))
        kind = self._one(node, SH.nodeKind)
        if kind is not None:
            if kind not in _NODE_KINDS:
                raise Unsupported(f"sh:nodeKind {kind}")
            tests.append(Leaf(SH.NodeKindConstraintComponent, kind, f"Value is not of Node Kind {n3(kind)}",
                              lambda v, k=kind: "!" + _NODE_KINDS[k].format(v=v)))  # type: ignore[index]
        self._in(shape)
        self._language_in(shape)
        for p, component, op in ((SH.minLength, SH.MinLengthConstraintComponent, ">="),
                                 (SH.maxLength, SH.MaxLengthConstraintComponent, "<=")):
            length = self._one(node, p)
            if length is None:
                continue
            if not isinstance(length, rdflib.Literal) or getattr(length, "ill_typed", False) \
                    or length.datatype not in _INTEGER_TYPES or length.value < 0:
                raise Unsupported(f"{n3(p)} of {n3(node)} is not a non-negative integer")
            n = int(length.value)
            sparql_op = "<" if op == ">=" else ">"
            tests.append(Leaf(component, length, f"String length not {op} {n}",
                              lambda v, n=n, o=sparql_op: f"(isBlank({v}) || STRLEN(STR({v})) {o} {n})",
                              lambda v, n=n, o=op: not semantics.length_ok(v, n, o), lexical=True))
        for p, (component, op) in _RANGES.items():
            for bound in g.objects(node, p):
                if not isinstance(bound, rdflib.Literal):
                    raise Unsupported(f"{n3(p)} of {n3(node)} is not a literal")
                tests.append(Leaf(component, bound, f"Value is not {op} {n3(bound)}", lambda v: "true",
                                  lambda v, b=bound, o=op: not semantics.in_range(v, b, o)))
        self._pattern(shape)

    def _in(self, shape: Shape) -> None:
        members = self._one(shape.node, SH["in"])
        if members is None:
            return
        try:
            items = list(self.g.items(members))
        except (ValueError, AttributeError):
            raise Unsupported(f"the sh:in of {n3(shape.node)} is not a list") from None
        allowed = frozenset(items)
        listed = "[" + ", ".join(n3(i) for i in items) + "]"
        if all(isinstance(i, rdflib.URIRef) for i in items):
            same = " || ".join(f"sameTerm({{v}}, <{i}>)" for i in items) or "false"
            prefilter: Callable[[str], str] = lambda v, s=same: "!(" + s.format(v=v) + ")"  # noqa: E731
        else:
            prefilter = lambda v: "true"  # noqa: E731  (literals: rdflib's term equality decides)
        shape.tests.append(Leaf(SH.InConstraintComponent, members, "Value {value} not in list " + listed, prefilter,
                                lambda v, a=allowed: v not in a))

    def _language_in(self, shape: Shape) -> None:
        langs_node = self._one(shape.node, SH.languageIn)
        if langs_node is None:
            return
        langs = list(self.g.items(langs_node))
        if not all(isinstance(x, rdflib.Literal) and isinstance(x.value, str) for x in langs):
            raise Unsupported(f"sh:languageIn of {n3(shape.node)} lists something other than strings")
        wanted = frozenset(str(x).lower() for x in langs)
        listed = " ".join(n3(x) for x in langs)
        tests = shape.tests
        tests.append(Leaf(SH.LanguageInConstraintComponent, langs_node, f"String language is not in ( {listed} )",
                          lambda v, w=wanted: semantics.language_in_sparql(v, w),
                          lambda v, w=wanted: not semantics.language_in(v, w)))

    def _pattern(self, shape: Shape) -> None:
        patterns = list(self.g.objects(shape.node, SH.pattern))
        if not patterns:
            return
        flags = next(iter(self.g.objects(shape.node, SH.flags)), None)
        for p in patterns:
            if not isinstance(p, rdflib.Literal):
                raise Unsupported(f"sh:pattern of {n3(shape.node)} is not a literal")
            try:
                matcher = semantics.compile_pattern(p, flags)
            except re.error as exc:
                raise Unsupported(f"sh:pattern {p!r}: {exc}") from None
            shape.tests.append(Leaf(SH.PatternConstraintComponent, p, f"Value does not match pattern '{p}'",
                                    lambda v: "true", lambda v, m=matcher: not semantics.pattern_ok(v, m)))

    def _cardinality(self, shape: Shape) -> None:
        for p in (SH.minCount, SH.maxCount):
            value = self._one(shape.node, p)
            if value is None:
                continue
            if shape.path is None:
                raise Unsupported(f"{n3(p)} on the node shape {n3(shape.node)}")
            if not isinstance(value, rdflib.Literal) or value.datatype != XSD.integer \
                    or not isinstance(value.value, int) or value.value < 0:
                raise Unsupported(f"{n3(p)} of {n3(shape.node)} is not a non-negative xsd:integer")
            if p == SH.minCount:
                shape.min_count = value.value
            else:
                shape.max_count = value.value

    def _focus_tests(self, shape: Shape) -> None:
        g, node = self.g, shape.node
        shape.has_values = list(g.objects(node, SH.hasValue))
        unique = self._one(node, SH.uniqueLang)
        if unique is not None:
            if not isinstance(unique, rdflib.Literal) or not isinstance(unique.value, bool):
                raise Unsupported(f"sh:uniqueLang of {n3(node)} is not a boolean")
            if shape.path is None:
                raise Unsupported(f"sh:uniqueLang on the node shape {n3(node)}")
            shape.unique_lang = unique == rdflib.Literal(True)  # only `true` activates it (SHACL §4.4.4)
        for p, component in _PAIRS.items():
            for other in g.objects(node, p):
                if p in (SH.lessThan, SH.lessThanOrEquals):
                    if shape.path is None:
                        raise Unsupported(f"{n3(p)} on the node shape {n3(node)}")
                    if not isinstance(other, rdflib.URIRef):
                        raise Unsupported(f"{n3(p)} of {n3(node)} is not an IRI")
                shape.pairs.append((component, other))
        closed = self._one(node, SH.closed)
        ignored = list(g.objects(node, SH.ignoredProperties))
        if ignored and closed is None:
            raise Unsupported(f"sh:ignoredProperties without sh:closed on {n3(node)}")
        if closed is not None:
            if not isinstance(closed, rdflib.Literal):
                raise Unsupported(f"sh:closed of {n3(node)} is not a literal")
            if closed.value:
                allowed: set[Node] = {i for lst in ignored for i in g.items(lst)}
                allowed |= {p for ps in g.objects(node, SH.property) for p in g.objects(ps, SH.path)}
                shape.closed = frozenset(allowed)

    def _shape_refs(self, shape: Shape) -> None:
        g, node = self.g, shape.node
        for ref in g.objects(node, SH.node):
            target = self.shape(ref)
            if target.path is not None:
                raise Unsupported(f"sh:node of {n3(node)} names a property shape")
            shape.tests.append(Nested(SH.NodeConstraintComponent, "node", (target,),
                                      f"Value does not conform to Shape {n3(ref)}"))
        for p, (kind, component) in _LOGICAL.items():
            for ref in g.objects(node, p):
                if kind == "not":
                    members = [ref]
                else:
                    try:
                        members = list(g.items(ref))
                    except (ValueError, AttributeError):
                        raise Unsupported(f"the {n3(p)} of {n3(node)} is not a list") from None
                    if not members:
                        raise Unsupported(f"the {n3(p)} list of {n3(node)} is empty")
                listed = ", ".join(n3(m) for m in members)
                shape.tests.append(Nested(component, kind, tuple(self.shape(m) for m in members),
                                          f"Node {{value}} fails {kind}( {listed} )"))
        for ref in g.objects(node, SH.property):
            prop = self.shape(ref)
            if prop.path is None:
                raise Unsupported(f"sh:property of {n3(node)} names a shape without sh:path")
            shape.properties.append(prop)
        self._qualified(shape)

    def _qualified(self, shape: Shape) -> None:
        g, node = self.g, shape.node
        refs = list(g.objects(node, SH.qualifiedValueShape))
        if not refs or shape.path is None:  # pySHACL skips it on a node shape (with a warning)
            return
        counts = []
        for p in (SH.qualifiedMinCount, SH.qualifiedMaxCount):
            value = self._one(node, p)
            if value is not None and (not isinstance(value, rdflib.Literal) or not isinstance(value.value, int)
                                      or isinstance(value.value, bool)):
                raise Unsupported(f"{n3(p)} of {n3(node)} is not an integer")
            counts.append(value.value if value is not None else None)  # type: ignore[union-attr]
        if counts == [None, None]:
            raise Unsupported(f"sh:qualifiedValueShape of {n3(node)} without a count")
        disjoint = any(isinstance(d, rdflib.Literal) and d.value is True
                       for d in g.objects(node, SH.qualifiedValueShapesDisjoint))
        for ref in refs:
            siblings: list[Node] = []
            if disjoint:
                for parent in g.subjects(SH.property, node):
                    for other in g.objects(parent, SH.property):
                        siblings += [s for s in g.objects(other, SH.qualifiedValueShape) if s != ref]
            text = "".join(f" {w} {c}" for w, c in zip(("MinCount", "MaxCount"), counts) if c is not None)
            shape.qualified.append(Qualified(self.shape(ref), counts[0], counts[1],
                                             tuple(self.shape(s) for s in dict.fromkeys(siblings)),
                                             f"Focus node does not conform to shape{text}: {n3(ref)}"))


def targeted_shapes_implicit(shapes: rdflib.Graph) -> set[Node]:
    classes = {RDFS.Class} | set(shapes.subjects(RDFS.subClassOf, RDFS.Class))
    return {s for c in classes for s in shapes.subjects(RDF.type, c)
            if (s, RDF.type, SH.NodeShape) in shapes or (s, RDF.type, SH.PropertyShape) in shapes}


def reachable(shape: Shape) -> Iterator[Shape]:
    """The shape and every shape it refers to (sh:node, sh:not, sh:and, sh:or, sh:xone, sh:property,
    qualified value shapes and their siblings), once each."""
    seen: set[int] = set()
    todo = [shape]
    while todo:
        s = todo.pop()
        if id(s) in seen:
            continue
        seen.add(id(s))
        yield s
        todo += [m for t in s.tests if isinstance(t, Nested) for m in t.members] + s.properties
        todo += [q.shape for q in s.qualified] + [x for q in s.qualified for x in q.siblings]
