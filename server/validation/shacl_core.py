"""SHACL core constraints (SHACL §4) compiled to SPARQL and run on Oxigraph's engine.

pySHACL walks an in-memory rdflib graph node by node: at 1M quads `kg validate` spent 37 s
copying the store into rdflib and 182 s in pySHACL, with 3.8 GB resident. Here each property
shape becomes a few SPARQL queries over the store itself (the on-disk store opened read-only,
or an in-memory pyoxigraph store), and only the results come back to Python.

The results are pySHACL's: same focus node, path, value, severity, source shape and
constraint component (tests/test_shacl_core.py runs both engines on the same data). The
engine's own text (`sh:resultMessage` beside the shape's `sh:message`) follows pySHACL's
wording but is not character for character the same.

Compiled: targets `sh:targetClass` (with `rdfs:subClassOf*`), implicit class targets,
`sh:targetNode`, `sh:targetSubjectsOf`, `sh:targetObjectsOf`; property shapes whose `sh:path`
is an IRI or `[ sh:inversePath IRI ]`, with `sh:minCount`, `sh:maxCount`, `sh:class`,
`sh:datatype`, `sh:nodeKind`, `sh:in`, `sh:languageIn`, `sh:uniqueLang`, `sh:minLength`,
`sh:maxLength`, `sh:minInclusive`/`maxInclusive`/`minExclusive`/`maxExclusive`, `sh:or` and
`sh:qualifiedValueShape` (+ `qualifiedMinCount`/`qualifiedMaxCount`) of shapes built from those
value constraints; `sh:severity`, `sh:deactivated`.

Not compiled (the node shape that uses it goes, whole, to pySHACL -- see `validation.py`):
any other constraint or parameter (sh:node, sh:and, sh:not, sh:xone, sh:hasValue, sh:pattern,
sh:equals, sh:lessThan, sh:closed, sh:qualifiedValueShapesDisjoint...), complex paths,
node-level value constraints, blank-node classes in sh:targetClass or sh:class. One known
difference: a blank node in the data's rdfs:subClassOf chain is not followed (pySHACL would).

The data graph is every named graph of the store except `Source.exclude` (the shapes and the
change log); the store's default graph is not data (as before: `kg load` without `--graph`).
"""
from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib
from pyshacl.rdfutil.compare import compare_literal
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node

from ..store.terms import to_ox_term, to_rdflib_term

TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_ANNOTATIONS = {RDF.type, RDFS.label, RDFS.comment, SH.message, SH.severity, SH.name, SH.description,
                SH.order, SH.group, SH.deactivated}
_NODE_SHAPE_KEYS = _ANNOTATIONS | set(TARGETS) | {SH.property, SH.sparql, SH.declare, SH.prefixes}
_VALUE_KEYS = {SH["class"], SH.datatype, SH.nodeKind, SH["in"], SH.languageIn, SH.minLength, SH.maxLength,
               SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive}
_PROPERTY_KEYS = _ANNOTATIONS | set(TARGETS) | _VALUE_KEYS | {
    SH.path, SH.minCount, SH.maxCount, SH.uniqueLang, SH["or"], SH.qualifiedValueShape, SH.qualifiedMinCount,
    SH.qualifiedMaxCount}
_RANGE = {SH.minInclusive: (SH.MinInclusiveConstraintComponent, lambda c: c >= 0, ">="),
          SH.maxInclusive: (SH.MaxInclusiveConstraintComponent, lambda c: c <= 0, "<="),
          SH.minExclusive: (SH.MinExclusiveConstraintComponent, lambda c: c > 0, ">"),
          SH.maxExclusive: (SH.MaxExclusiveConstraintComponent, lambda c: c < 0, "<")}
_NODE_KINDS = {SH.IRI: "isIRI({v})", SH.BlankNode: "isBlank({v})", SH.Literal: "isLiteral({v})",
               SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))",
               SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
               SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))"}
# Datatypes whose lexical forms rdflib parses (an ill-typed literal fails sh:datatype in pySHACL):
# for these SPARQL only narrows the candidates and Python decides, as pySHACL would. (Any
# lexical form is a valid xsd:string: SPARQL decides those alone.)
_PARSED = ({d for d in rdflib.term.XSDToPython if d is not None} - {XSD.string}) | {RDF.langString, RDFS.Literal,
                                                                                   RDFS.Datatype}
_NM = rdflib.Graph().namespace_manager  # the prefixes pySHACL's messages use (rdflib's defaults)


class Unsupported(Exception):
    """A shape uses something not compiled here; pySHACL checks it instead."""


def n3(term: Node) -> str:
    return term.n3(_NM)


# -- the model ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Leaf:
    """One value constraint: `sparql(var, q)` is true when the value may fail it; `python`, when
    set, then decides on the rdflib term (True: fails). Without `python` SPARQL is exact."""

    component: rdflib.URIRef
    param: Node
    message: str
    python: Callable[[Node], bool] | None = None


@dataclass(frozen=True)
class AnyOf:
    """sh:or: the value fails when it fails every member shape (a member fails when one of its leaves does)."""

    members: tuple[tuple[Leaf, ...], ...]
    message: str
    component: rdflib.URIRef = SH.OrConstraintComponent


@dataclass(frozen=True)
class Qualified:
    shape: tuple[Leaf, ...]
    min_count: int | None
    max_count: int | None
    message: str


@dataclass
class Targets:
    classes: list[rdflib.URIRef] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    subjects_of: list[rdflib.URIRef] = field(default_factory=list)
    objects_of: list[rdflib.URIRef] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.classes or self.nodes or self.subjects_of or self.objects_of)


@dataclass
class PropertyCheck:
    """One property shape as reached from one set of targets (pySHACL reports it once per node shape)."""

    targets: Targets
    shape: Node
    predicate: rdflib.URIRef
    inverse: bool
    severity: Node
    min_count: int | None = None
    max_count: int | None = None
    values: list[Leaf | AnyOf] = field(default_factory=list)
    unique_lang: bool = False
    qualified: list[Qualified] = field(default_factory=list)


@dataclass
class Compiled:
    checks: list[PropertyCheck]
    targets: dict[Node, Targets]          # every shape with targets (SPARQL constraints use them too)
    fallback: list[Node]                  # node shapes left to pySHACL


# -- compiling the shapes graph ---------------------------------------------------------------
def compile_shapes(shapes: rdflib.Graph) -> Compiled:
    """Every targeted shape as checks, or listed in `fallback` when something is not compiled."""
    checks: list[PropertyCheck] = []
    targets: dict[Node, Targets] = {}
    fallback: list[Node] = []
    for shape in sorted(targeted_shapes(shapes), key=str):
        if _deactivated(shapes, shape):
            continue
        targets[shape] = shape_targets(shapes, shape)
        try:
            checks.extend(_compile_shape(shapes, shape, targets[shape]))
        except Unsupported:
            fallback.append(shape)
    return Compiled(checks, targets, fallback)


def targeted_shapes(shapes: rdflib.Graph) -> set[Node]:
    found = {s for p in TARGETS for s in shapes.subjects(p, None)}
    found |= {s for s in shapes.subjects(RDF.type, RDFS.Class)
              if (s, RDF.type, SH.NodeShape) in shapes or (s, RDF.type, SH.PropertyShape) in shapes}
    return found


def shape_targets(shapes: rdflib.Graph, shape: Node) -> Targets:
    t = Targets(classes=[c for c in shapes.objects(shape, SH.targetClass) if isinstance(c, rdflib.URIRef)],
                nodes=list(shapes.objects(shape, SH.targetNode)),
                subjects_of=[p for p in shapes.objects(shape, SH.targetSubjectsOf) if isinstance(p, rdflib.URIRef)],
                objects_of=[p for p in shapes.objects(shape, SH.targetObjectsOf) if isinstance(p, rdflib.URIRef)])
    if (shape, RDF.type, RDFS.Class) in shapes and isinstance(shape, rdflib.URIRef):
        t.classes.append(shape)
    return t


def _deactivated(shapes: rdflib.Graph, shape: Node) -> bool:
    return shapes.value(shape, SH.deactivated) == rdflib.Literal(True)


def _compile_shape(shapes: rdflib.Graph, shape: Node, targets: Targets) -> list[PropertyCheck]:
    if any(isinstance(c, rdflib.BNode) for c in shapes.objects(shape, SH.targetClass)):
        raise Unsupported("a blank-node target class")
    if (shape, SH.path, None) in shapes:  # a property shape with targets of its own
        return [_compile_property(shapes, shape, targets)]
    _only(shapes, shape, _NODE_SHAPE_KEYS)
    return [_compile_property(shapes, p, targets) for p in sorted(shapes.objects(shape, SH.property), key=str)
            if not _deactivated(shapes, p)]


def _only(shapes: rdflib.Graph, node: Node, allowed: set[Node]) -> None:
    for p in set(shapes.predicates(node)):
        if p not in allowed:
            raise Unsupported(f"{p} on {node}")


def _one(shapes: rdflib.Graph, node: Node, p: Node) -> Node | None:
    values = list(shapes.objects(node, p))
    if len(values) > 1:
        raise Unsupported(f"more than one {p} on {node}")
    return values[0] if values else None


def _int(shapes: rdflib.Graph, node: Node, p: Node) -> int | None:
    v = _one(shapes, node, p)
    if v is None:
        return None
    if not isinstance(v, rdflib.Literal) or not isinstance(v.value, int):
        raise Unsupported(f"{p} is not an integer on {node}")
    return v.value


def _path(shapes: rdflib.Graph, prop: Node) -> tuple[rdflib.URIRef, bool]:
    """The path's property and whether it is read backwards."""
    path = _one(shapes, prop, SH.path)
    if isinstance(path, rdflib.URIRef):
        return path, False
    if isinstance(path, rdflib.BNode):
        inverse = shapes.value(path, SH.inversePath)
        if isinstance(inverse, rdflib.URIRef) and len(set(shapes.predicate_objects(path))) == 1:
            return inverse, True
    raise Unsupported(f"the path of {prop}")


def _compile_property(shapes: rdflib.Graph, prop: Node, targets: Targets) -> PropertyCheck:
    _only(shapes, prop, _PROPERTY_KEYS)
    predicate, inverse = _path(shapes, prop)
    check = PropertyCheck(targets, prop, predicate, inverse, shapes.value(prop, SH.severity) or SH.Violation,
                          _int(shapes, prop, SH.minCount), _int(shapes, prop, SH.maxCount))
    check.values = list(_leaves(shapes, prop))
    for members in shapes.objects(prop, SH["or"]):
        member_shapes = tuple(tuple(_value_shape(shapes, m)) for m in shapes.items(members))
        listed = ", ".join(n3(m) if isinstance(m, rdflib.URIRef) else _describe(shapes, m)
                           for m in shapes.items(members))
        check.values.append(AnyOf(member_shapes, f"Node {{value}} must conform to one or more shapes in [ {listed} ]"))
    unique = _one(shapes, prop, SH.uniqueLang)
    check.unique_lang = unique == rdflib.Literal(True)
    qualified = _one(shapes, prop, SH.qualifiedValueShape)
    if qualified is not None:
        leaves = tuple(_value_shape(shapes, qualified))
        if any(leaf.python for leaf in leaves):
            raise Unsupported("a qualified value shape that needs more than SPARQL")
        lo, hi = _int(shapes, prop, SH.qualifiedMinCount), _int(shapes, prop, SH.qualifiedMaxCount)
        counts = (f" MinCount {lo}" if lo is not None else "") + (f" MaxCount {hi}" if hi is not None else "")
        check.qualified.append(Qualified(leaves, lo, hi, f"Focus node does not conform to shape{counts}: "
                                                         f"{_describe(shapes, qualified)}"))
    return check


def _describe(shapes: rdflib.Graph, node: Node) -> str:
    if isinstance(node, rdflib.URIRef):
        return n3(node)
    return "[ " + " ; ".join(f"{n3(p)} {n3(o)}" for p, o in sorted(shapes.predicate_objects(node))) + " ]"


def _value_shape(shapes: rdflib.Graph, node: Node) -> Iterator[Leaf]:
    """A shape used as a value test (in sh:or, sh:qualifiedValueShape): value constraints only."""
    _only(shapes, node, _ANNOTATIONS | _VALUE_KEYS)
    if _deactivated(shapes, node):
        return
    yield from _leaves(shapes, node)


def _leaves(shapes: rdflib.Graph, node: Node) -> Iterator[Leaf]:
    for cls in sorted(shapes.objects(node, SH["class"]), key=str):
        if not isinstance(cls, rdflib.URIRef):
            raise Unsupported("a blank-node sh:class")
        yield Leaf(SH.ClassConstraintComponent, cls, f"Value does not have class {n3(cls)}")
    dt = _one(shapes, node, SH.datatype)
    if dt is not None:
        yield Leaf(SH.DatatypeConstraintComponent, dt, f"Value is not Literal with datatype {n3(dt)}",
                   (lambda v, d=dt: not datatype_ok(v, d)) if dt in _PARSED else None)
    kind = _one(shapes, node, SH.nodeKind)
    if kind is not None:
        if kind not in _NODE_KINDS:
            raise Unsupported(f"sh:nodeKind {kind}")
        yield Leaf(SH.NodeKindConstraintComponent, kind, f"Value is not of Node Kind {n3(kind)}")
    members = _one(shapes, node, SH["in"])
    if members is not None:
        items = list(shapes.items(members))
        if any(isinstance(i, rdflib.BNode) for i in items):
            raise Unsupported("a blank node in sh:in")
        yield Leaf(SH.InConstraintComponent, members,
                   "Value {value} not in list [" + ", ".join(n3(i) for i in items) + "]")
    langs = _one(shapes, node, SH.languageIn)
    if langs is not None:
        listed = " ".join(n3(i) for i in shapes.items(langs))
        yield Leaf(SH.LanguageInConstraintComponent, langs, f"String language is not in ( {listed} )")
    for p, component, op in ((SH.minLength, SH.MinLengthConstraintComponent, ">="),
                             (SH.maxLength, SH.MaxLengthConstraintComponent, "<=")):
        length = _int(shapes, node, p)
        if length is not None:
            yield Leaf(component, rdflib.Literal(length), f"String length not {op} {length}")
    for p, (component, passes, op) in _RANGE.items():
        bound = _one(shapes, node, p)
        if bound is not None:
            if not isinstance(bound, rdflib.Literal):
                raise Unsupported(f"{p} is not a literal")
            yield Leaf(component, bound, f"Value is not {op} {n3(bound)}",
                       lambda v, b=bound, ok=passes: not in_range(v, b, ok))


# -- pySHACL's value semantics, where SPARQL's differ -------------------------------------------
_PY_TYPES = {XSD.string: (str, bytes), RDF.langString: (str, bytes), XSD.integer: int, XSD.boolean: bool}


def datatype_ok(v: Node, datatype: Node) -> bool:
    """sh:datatype as pySHACL decides it: the datatype IRI matches and rdflib parsed the lexical form."""
    import datetime
    import decimal

    if not isinstance(v, rdflib.Literal):
        return False
    if datatype == RDFS.Literal:
        return True
    if v.datatype == datatype:
        if getattr(v, "ill_typed", None) is True:
            return False
    elif not ((v.datatype is None and v.language is None and datatype == XSD.string)
              or (datatype == RDF.langString and v.language)):
        return datatype == RDFS.Datatype and v.datatype is not None
    expected = {**_PY_TYPES, XSD.float: float, XSD.decimal: decimal.Decimal, XSD.date: datetime.date,
                XSD.time: datetime.time, XSD.dateTime: datetime.datetime}.get(datatype)  # type: ignore[dict-item]
    return expected is None or isinstance(v.value, expected)


def in_range(v: Node, bound: rdflib.Literal, passes: Callable[[int], bool]) -> bool:
    """sh:minInclusive and kin as pySHACL compares: rdflib's literal order, strings only with strings."""
    if not isinstance(v, rdflib.Literal) or isinstance(v.value, str) != isinstance(bound.value, str):
        return False
    try:
        return passes(compare_literal(v, bound))
    except (TypeError, NotImplementedError):
        return False


# -- SPARQL over the store ----------------------------------------------------------------------
@dataclass
class Source:
    """The data graph: the named graphs of an Oxigraph store, less `exclude`."""

    store: ox.Store
    exclude: frozenset[str] = frozenset()
    focus: frozenset[ox.NamedNode | ox.BlankNode] | None = None   # validate only these nodes (None: every target)
    _subclasses: dict[str, set[str]] | None = None
    _closures: dict[str, list[str]] = field(default_factory=dict)

    def query(self, q: str) -> ox.QuerySolutions:
        return self.store.query(q)  # type: ignore[return-value]

    def subclasses(self, cls: rdflib.URIRef) -> list[str]:
        """The class and its rdfs:subClassOf descendants (IRIs only), as SPARQL terms."""
        key = str(cls)
        if key not in self._closures:
            self._closures[key] = self._descendants(cls)
        return self._closures[key]

    def _descendants(self, cls: rdflib.URIRef) -> list[str]:
        if self._subclasses is None:
            self._subclasses = {}
            q = Query(self)
            for row in self.query(f"SELECT DISTINCT ?a ?b WHERE {{ {q.triple('?a', RDFS.subClassOf, '?b')} }}"):
                if isinstance(row["a"], ox.NamedNode) and isinstance(row["b"], ox.NamedNode):  # type: ignore[index]
                    self._subclasses.setdefault(row["b"].value, set()).add(row["a"].value)  # type: ignore[index]
        seen, todo = {str(cls)}, [str(cls)]
        while todo:
            for sub in self._subclasses.get(todo.pop(), ()):
                if sub not in seen:
                    seen.add(sub)
                    todo.append(sub)
        return sorted(f"<{c}>" for c in seen)


class Query:
    """Text of one query: every triple pattern inside GRAPH ?gN, the excluded graphs filtered out."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._n = itertools.count()

    def var(self, stem: str) -> str:
        return f"?{stem}{next(self._n)}"

    def triple(self, s: str, p: Node | str, o: str) -> str:
        g = self.var("g")
        pred = f"<{p}>" if isinstance(p, rdflib.URIRef) else str(p)
        keep = ""
        if self.source.exclude:
            keep = f" FILTER({g} NOT IN ({', '.join(f'<{x}>' for x in sorted(self.source.exclude))}))"
        return f"GRAPH {g} {{ {s} {pred} {o} }}{keep}"

    def focus(self, t: Targets) -> str:
        """A subquery binding ?this to every focus node of the targets (SHACL §2.1.3)."""
        parts = []
        classes = sorted({c for cls in t.classes for c in self.source.subclasses(cls)})
        if classes:
            tc = self.var("tc")
            parts.append(f"VALUES {tc} {{ {' '.join(classes)} }} {self.triple('?this', RDF.type, tc)}")
        if t.nodes:
            parts.append(f"VALUES ?this {{ {' '.join(str(to_ox_term(n)) for n in t.nodes)} }}")
        parts += [self.triple("?this", p, self.var("o")) for p in t.subjects_of]
        parts += [self.triple(self.var("s"), p, "?this") for p in t.objects_of]
        union = " UNION ".join(f"{{ {p} }}" for p in parts) or "FILTER(false)"
        if self.source.focus is not None:  # a write validates the nodes it can affect, not every target
            only = " ".join(str(n) for n in sorted(self.source.focus, key=str))
            union = f"VALUES ?this {{ {only} }} {{ {union} }}"
        return f"{{ SELECT DISTINCT ?this WHERE {{ {union} }} }}"

    def values(self, check: PropertyCheck, v: str) -> str:
        """?this's value nodes on the check's path, bound to `v`."""
        if check.inverse:
            return self.triple(v, check.predicate, "?this")
        return self.triple("?this", check.predicate, v)

    def may_fail(self, leaf: Leaf, v: str, shapes: rdflib.Graph) -> str:
        """SPARQL true when the value may fail the leaf (exact unless the leaf has `python`)."""
        c, param = leaf.component, leaf.param
        if c == SH.ClassConstraintComponent:
            tc = self.var("tc")
            subs = " ".join(self.source.subclasses(param))  # type: ignore[arg-type]
            return f"NOT EXISTS {{ VALUES {tc} {{ {subs} }} {self.triple(v, RDF.type, tc)} }}"
        if c == SH.DatatypeConstraintComponent:
            if param in _PARSED:
                return "true"
            return f"(!isLiteral({v}) || datatype({v}) != <{param}>)"
        if c == SH.NodeKindConstraintComponent:
            return "!" + _NODE_KINDS[param].format(v=v)  # type: ignore[index]
        if c == SH.InConstraintComponent:
            same = " || ".join(f"sameTerm({v}, {to_ox_term(i)})" for i in shapes.items(param))
            return f"!({same or 'false'})"
        if c == SH.LanguageInConstraintComponent:
            langs = [str(i).lower() for i in shapes.items(param)]
            if "*" in langs:
                return f"(!isLiteral({v}) || LANG({v}) = \"\")"
            listed = ", ".join(f'"{lang}"' for lang in langs) or '""'
            lang = f"LCASE(LANG({v}))"
            return (f"(!isLiteral({v}) || LANG({v}) = \"\" || !({lang} IN ({listed}) || "
                    f"STRBEFORE(CONCAT({lang}, \"-\"), \"-\") IN ({listed})))")
        if c == SH.MinLengthConstraintComponent:
            return f"(isBlank({v}) || STRLEN(STR({v})) < {param})"
        if c == SH.MaxLengthConstraintComponent:
            return f"(isBlank({v}) || STRLEN(STR({v})) > {param})"
        return "true"  # decided in Python (ranges)


# -- evaluation -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Found:
    """One validation result, before it becomes triples of the report graph."""

    check: PropertyCheck
    focus: Node
    component: rdflib.URIRef
    message: str
    value: Node | None = None


def evaluate(compiled: Compiled, shapes: rdflib.Graph, source: Source) -> Iterator[Found]:
    """Every result of the compiled checks, property shape by property shape."""
    targeted: dict[int, bool] = {}
    for check in compiled.checks:
        if source.focus is not None:  # a few nodes: skip the shapes none of them is a target of (one ASK each)
            key = id(check.targets)
            if key not in targeted:
                targeted[key] = bool(source.query(f"ASK {{ {Query(source).focus(check.targets)} }}"))
            if not targeted[key]:
                continue
        yield from _counts(check, source)
        yield from _values(check, shapes, source)
        yield from _unique_lang(check, source)
        for qualified in check.qualified:
            yield from _qualified(check, qualified, shapes, source)


def _counts(check: PropertyCheck, source: Source) -> Iterator[Found]:
    lo, hi = check.min_count if check.min_count else None, check.max_count
    if lo is None and hi is None:
        return
    q = Query(source)
    text = (f"SELECT ?this ?n WHERE {{ {{ SELECT ?this (COUNT(DISTINCT ?v) AS ?n) WHERE {{ {q.focus(check.targets)} "
            f"OPTIONAL {{ {q.values(check, '?v')} }} }} GROUP BY ?this }} FILTER({_outside(lo, hi)}) }}")
    for row in source.query(text):
        n, focus = int(row["n"].value), to_rdflib_term(row["this"])  # type: ignore[index]
        where = f"{n3(focus)}->{_path_text(check)}"
        if lo is not None and n < lo:
            yield Found(check, focus, SH.MinCountConstraintComponent, f"Less than {lo} values on {where}")
        if hi is not None and n > hi:
            yield Found(check, focus, SH.MaxCountConstraintComponent, f"More than {hi} values on {where}")


def _outside(lo: int | None, hi: int | None) -> str:
    """SPARQL: ?n is below `lo` or above `hi` (each optional)."""
    tests = ([f"?n < {lo}"] if lo is not None else []) + ([f"?n > {hi}"] if hi is not None else [])
    return " || ".join(tests) or "false"


def _path_text(check: PropertyCheck) -> str:
    return f"^{n3(check.predicate)}" if check.inverse else n3(check.predicate)


def _values(check: PropertyCheck, shapes: rdflib.Graph, source: Source) -> Iterator[Found]:
    if not check.values:
        return
    q = Query(source)
    leaves: list[Leaf] = []
    flags: list[str] = []

    def flag(leaf: Leaf) -> str:
        leaves.append(leaf)
        flags.append(f"BIND(COALESCE({q.may_fail(leaf, '?v', shapes)}, true) AS ?f{len(leaves) - 1})")
        return f"?f{len(leaves) - 1}"

    tops = []
    for c in check.values:
        if isinstance(c, Leaf):
            tops.append(flag(c))
        else:
            members = ["(" + (" || ".join(flag(leaf) for leaf in m) or "false") + ")" for m in c.members]
            tops.append("(" + (" && ".join(members) or "true") + ")")
    names = " ".join(f"?f{i}" for i in range(len(leaves)))
    text = (f"SELECT DISTINCT ?this ?v {names} WHERE {{ {q.focus(check.targets)} {q.values(check, '?v')} "
            f"{' '.join(flags)} FILTER({' || '.join(tops)}) }}")
    for row in source.query(text):
        flagged = [row[i + 2] == _TRUE for i in range(len(leaves))]  # type: ignore[index]
        value = to_rdflib_term(row[1])  # type: ignore[index]
        fails = {id(leaf): flag and (leaf.python is None or _python_fails(leaf, value))
                 for leaf, flag in zip(leaves, flagged)}
        for c in check.values:
            failed = fails[id(c)] if isinstance(c, Leaf) else \
                all(any(fails[id(leaf)] for leaf in m) for m in c.members)
            if failed:
                yield Found(check, to_rdflib_term(row[0]), c.component,  # type: ignore[index]
                            c.message.replace("{value}", n3(value)), value)


_TRUE = ox.Literal(True)


@functools.lru_cache(maxsize=65536)
def _python_fails(leaf: Leaf, value: Node) -> bool:
    """The leaf's Python check, once per distinct value (dates and offsets repeat)."""
    return leaf.python(value)  # type: ignore[misc]


def _unique_lang(check: PropertyCheck, source: Source) -> Iterator[Found]:
    if not check.unique_lang:
        return
    q = Query(source)
    text = (f"SELECT ?this ?l WHERE {{ {q.focus(check.targets)} {q.values(check, '?v')} "
            f"FILTER(isLiteral(?v) && LANG(?v) != \"\") BIND(LCASE(LANG(?v)) AS ?l) }} "
            f"GROUP BY ?this ?l HAVING (COUNT(DISTINCT ?v) > 1)")
    for row in source.query(text):
        yield Found(check, to_rdflib_term(row["this"]), SH.UniqueLangConstraintComponent,  # type: ignore[index]
                    "More than one String shares the same Language")


def _qualified(check: PropertyCheck, qualified: Qualified, shapes: rdflib.Graph, source: Source) -> Iterator[Found]:
    q = Query(source)
    fails = " || ".join(q.may_fail(leaf, "?v", shapes) for leaf in qualified.shape) or "false"
    lo, hi = qualified.min_count, qualified.max_count
    text = (f"SELECT ?this ?n WHERE {{ {{ SELECT ?this (COUNT(DISTINCT ?v) AS ?n) WHERE {{ {q.focus(check.targets)} "
            f"OPTIONAL {{ {q.values(check, '?v')} FILTER(!COALESCE({fails}, true)) }} }} GROUP BY ?this }} "
            f"FILTER({_outside(lo, hi)}) }}")
    for row in source.query(text):
        n, focus = int(row["n"].value), to_rdflib_term(row["this"])  # type: ignore[index]
        if hi is not None and n > hi:
            yield Found(check, focus, SH.QualifiedMaxCountConstraintComponent, qualified.message)
        if lo is not None and n < lo:
            yield Found(check, focus, SH.QualifiedMinCountConstraintComponent, qualified.message)


def focus_nodes(compiled: Compiled, shape: Node, source: Source) -> list[object]:
    """The shape's focus nodes in the data, as pyoxigraph terms (for the SHACL-SPARQL constraints)."""
    targets = compiled.targets.get(shape)
    if not targets:
        return []
    q = Query(source)
    return [row["this"] for row in source.query(f"SELECT ?this WHERE {{ {q.focus(targets)} }}")]  # type: ignore[index]


def add_result(report: rdflib.Graph, report_node: Node, f: Found, messages: list[rdflib.Literal]) -> None:
    """One result as triples of the sh:ValidationReport graph, as pySHACL writes them."""
    r = rdflib.BNode()
    report.add((report_node, SH.result, r))
    report.add((r, RDF.type, SH.ValidationResult))
    report.add((r, SH.focusNode, f.focus))
    if f.check.inverse:
        path = rdflib.BNode()
        report.add((path, SH.inversePath, f.check.predicate))
        report.add((r, SH.resultPath, path))
    else:
        report.add((r, SH.resultPath, f.check.predicate))
    if f.value is not None:
        report.add((r, SH.value, f.value))
    report.add((r, SH.resultSeverity, f.check.severity))
    report.add((r, SH.sourceShape, f.check.shape))
    report.add((r, SH.sourceConstraintComponent, f.component))
    for m in [rdflib.Literal(f.message), *messages]:
        report.add((r, SH.resultMessage, m))
