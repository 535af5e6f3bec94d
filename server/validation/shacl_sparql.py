"""SHACL-SPARQL constraints (SHACL §5) evaluated on Oxigraph's engine.

**Pre-binding** (SHACL §5.3.1 and Appendix B "Pre-binding of Variables"): the query is evaluated
as if the solution {$this: node} (and $shapesGraph, $currentShape) were joined into every basic
graph pattern, at every depth -- inside UNION branches, nested groups, OPTIONAL and subqueries
-- so that a FILTER anywhere sees the pre-bound value. A join at the head of the query alone
reaches only the FILTERs of the outer group, and pyoxigraph's `substitutions` (SEP-0007) does not
reach BIND or the FILTERs of nested groups either. Here the join is written into the text right
after the `{` of every group pattern (a group that holds a subquery gets it inside the
subquery's own WHERE; groups inside EXISTS need none: the outer row already binds $this). The
positions come from a token scan of a query whose forms the parse below has checked, in which
every `{` opens a group pattern (VALUES and CONSTRUCT templates, the other users of braces, are
refused or absent).

**One query for all focus nodes** where that is provably the same as one query per node: the
join is then a subquery that yields every focus node, and each solution keeps its $this. It is
the same because every group pattern carries $this, so solutions of different nodes never meet --
unless something reads across solutions: aggregates (GROUP BY, COUNT, ...), LIMIT/OFFSET, or
functions that mint fresh terms (BNODE, RAND, UUID, STRUUID). A query with any of these, or whose
result does not carry $this, runs once per focus node (a blank node, which query text cannot
name, is reached as the i-th row of the focus nodes in a fixed order).

**Refused** (SHACL §5.3.1: a processor must report a failure): MINUS, VALUES, SERVICE (never
executed), `AS ?var` for a pre-bound variable, and subqueries that do not return $this. Every
sh:select and sh:ask in the shapes graph is checked before anything runs, those pySHACL would
evaluate included. Prefixes come from sh:prefixes, each declaration's owner followed through
owl:imports within the shapes graph (SHACL §5.2.1). `$PATH` in a property shape's constraint is
the shape's path in SPARQL syntax (§5.3.2); `?failure` bound to true is a failure.

On the embedded store the query reads the union of the store's graphs (naming every data graph
instead made one query 300x slower with 540 graphs), the shapes and change-log graphs included:
ours read only the data's vocabulary (tests/test_shacl_core.py holds their results on the store
to those on a copy of the data graphs alone). On a store made for one validation the default
graph is the data alone.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib
from pyparsing import ParseException, ParseResults
from rdflib.namespace import OWL, SH
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Node

from ..errors import ValidationFailure
from .paths import Path

PREBOUND = frozenset({"this", "shapesGraph", "currentShape"})
_FRESH_TERMS = frozenset({"Builtin_BNODE", "Builtin_RAND", "Builtin_UUID", "Builtin_STRUUID"})
_TOKEN = re.compile("|".join([
    r"(?P<comment>#[^\n]*)",
    r"(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^\"\\]|\\.|\"(?!\"\"))*\"\"\"|'(?:[^'\\\n\r]|\\.)*'"
    r"|\"(?:[^\"\\\n\r]|\\.)*\")",
    r"(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)",
    r"(?P<var>[?$][A-Za-z0-9_\u00B7-\uFFFF]+)",
    r"(?P<word>[A-Za-z_][A-Za-z0-9_\-]*(?::[^\s{}()\[\];,]*)?)",
    r"(?P<open>\{)", r"(?P<close>\})", r"(?P<paren>[()])",
]), re.S)
_PLACEHOLDER = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class SparqlConstraint:
    shape: Node
    node: Node                           # the constraint (sh:sourceConstraint)
    prologue: str                        # PREFIX lines
    body: str                            # the SELECT query, $PATH written in
    messages: tuple[rdflib.Literal, ...]
    batched: bool                        # one query for all focus nodes is the same as one per node
    variables: frozenset[str]            # pre-bound variables the query uses

    def text(self, join: str, *, everywhere: bool = True) -> str:
        """The query with `join` written into its group patterns (see `_joins`)."""
        return self.prologue + _insert_joins(self.body, join, everywhere=everywhere)


# -- reading and checking ------------------------------------------------------------------------
def read_constraint(shapes: rdflib.Graph, shape: Node, node: Node, path: Path | None) -> SparqlConstraint | None:
    """One sh:sparql constraint, checked (ValidationFailure when the spec says to refuse it)."""
    if shapes.value(node, SH.deactivated) == rdflib.Literal(True):
        return None
    selects = list(shapes.objects(node, SH.select))
    if len(selects) != 1 or not isinstance(selects[0], rdflib.Literal):
        raise ValidationFailure(f"the SPARQL constraint {node} of shape {shape} needs exactly one sh:select")
    prologue = prologue_of(shapes, node)
    body = str(selects[0])
    if path is not None:
        body = _substitute_path(body, path.sparql())
    reading = _checked(prologue + body, node, PREBOUND)
    messages = tuple(m for m in shapes.objects(node, SH.message) if isinstance(m, rdflib.Literal)) or \
        tuple(m for m in shapes.objects(shape, SH.message) if isinstance(m, rdflib.Literal))
    return SparqlConstraint(shape, node, prologue, body, messages, reading.batched, reading.variables & PREBOUND)


def check_all(shapes: rdflib.Graph) -> None:
    """Refuse, before anything runs, every SPARQL query of the shapes graph of a form the spec
    forbids (those that pySHACL would evaluate too)."""
    validators = (SH.validator, SH.nodeValidator, SH.propertyValidator)
    for p, prebound in ((SH.select, PREBOUND), (SH.ask, PREBOUND | {"value"})):
        for owner, text in shapes.subject_objects(p):
            if shapes.value(owner, SH.deactivated) == rdflib.Literal(True):
                continue
            body = _substitute_path(str(text), "<urn:x-kg:path>")
            components = {comp for v in validators for comp in shapes.subjects(v, owner)}
            params = {str(shapes.value(par, SH.path)).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
                      for comp in components for par in shapes.objects(comp, SH.parameter)}
            _checked(prologue_of(shapes, owner) + body, owner, frozenset(prebound | params))


@dataclass(frozen=True)
class Reading:
    batched: bool                  # one query for all focus nodes is the same as one per node
    variables: frozenset[str]      # the variables the query names


# Keywords of the forms the spec refuses and of those that read across solutions: a query whose
# tokens hold none of them (and one SELECT, no `AS` of a pre-bound variable, no `*` projection)
# has none of these forms, and is decided by its tokens alone; any other is parsed.
_PARSE_WHEN = frozenset({"MINUS", "VALUES", "SERVICE", "GROUP", "HAVING", "LIMIT", "OFFSET", "COUNT", "SUM", "MIN",
                         "MAX", "AVG", "SAMPLE", "GROUP_CONCAT", "BNODE", "RAND", "UUID", "STRUUID"})


def _checked(text: str, owner: Node, prebound: frozenset[str]) -> Reading:
    result = _read(text, prebound)
    if isinstance(result, str):
        raise ValidationFailure(f"the SPARQL query of {owner} {result}")
    return result


@functools.lru_cache(maxsize=1024)
def _read(text: str, prebound: frozenset[str]) -> Reading | str:
    """The query's reading, or what is wrong with it (kept per text: rdflib takes 15-250 ms to parse one)."""
    tokens = [(m.lastgroup, m.group(), m.start()) for m in _TOKEN.finditer(text) if m.lastgroup != "comment"]
    words = [t.upper() for kind, t, _ in tokens if kind == "word"]
    names = frozenset(t[1:] for kind, t, _ in tokens if kind == "var")
    after_as = {tokens[i + 1][1][1:] for i, (kind, t, _) in enumerate(tokens[:-1])
                if kind == "word" and t.upper() == "AS" and tokens[i + 1][0] == "var"}
    projection = _projection(text, tokens)
    if not (_PARSE_WHEN & set(words)) and words.count("SELECT") <= 1 and not (after_as & prebound) \
            and "*" not in projection:
        return Reading("this" in {t[1:] for kind, t, _ in _variable_tokens(projection)} or "SELECT" not in words, names)
    try:
        tree = parseQuery(text)[1]
    except (ParseException, ValueError, KeyError) as exc:
        return f"does not parse: {exc}"
    problem = _refusal(tree, prebound)
    if problem:
        return (f"uses {problem}, which SHACL does not allow in a query with pre-bound variables (SHACL 5.3.1); "
                "rewrite the query without it")
    return Reading(_batchable(tree), frozenset(_variables(tree)))


def _projection(text: str, tokens: list[tuple[str | None, str, int]]) -> str:
    """The text between the first SELECT and the WHERE group."""
    select = next((start for kind, t, start in tokens if kind == "word" and t.upper() == "SELECT"), None)
    if select is None:
        return ""
    end = next((start for kind, t, start in tokens if start > select and
                (kind == "open" or (kind == "word" and t.upper() == "WHERE"))), len(text))
    return text[select + len("SELECT"):end]


def _variable_tokens(text: str) -> list[tuple[str | None, str, int]]:
    return [(m.lastgroup, m.group(), m.start()) for m in _TOKEN.finditer(text) if m.lastgroup == "var"]


def prologue_of(shapes: rdflib.Graph, owner: Node) -> str:
    """PREFIX lines from sh:prefixes, each node followed through owl:imports (SHACL §5.2.1)."""
    declared: dict[str, str] = {}
    for start in shapes.objects(owner, SH.prefixes):
        seen: set[Node] = set()
        todo = [start]
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            for decl in shapes.objects(node, SH.declare):
                prefix, namespace = shapes.value(decl, SH.prefix), shapes.value(decl, SH.namespace)
                if prefix is not None and namespace is not None:
                    if declared.get(str(prefix), str(namespace)) != str(namespace):
                        raise ValidationFailure(f"the prefix {prefix}: is declared twice with different namespaces")
                    declared[str(prefix)] = str(namespace)
            todo.extend(shapes.objects(node, OWL.imports))
    return "".join(f"PREFIX {p}: <{n}>\n" for p, n in sorted(declared.items()))


def _walk(node: object) -> Iterator[CompValue]:
    if isinstance(node, CompValue):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, (list, ParseResults)):
        for item in node:
            yield from _walk(item)


def _refusal(tree: CompValue, prebound: frozenset[str]) -> str | None:
    """SHACL §5.3.1: the forms a SHACL-SPARQL processor must report as a failure (None: none)."""
    if "valuesClause" in tree and tree["valuesClause"] is not None:
        return "VALUES"
    for node in _walk(tree):
        if node.name == "MinusGraphPattern":
            return "MINUS"
        if node.name in ("InlineData", "ValuesClause"):
            return "VALUES"
        if node.name == "ServiceGraphPattern":
            return "SERVICE"
        bound = node["var"] if node.name in ("Bind", "GroupAs") and "var" in node else \
            node["evar"] if node.name == "vars" and "evar" in node else None
        if bound is not None and str(bound) in prebound:
            return f"AS ?{bound} (a pre-bound variable)"
        if node.name == "SubSelect" and "this" not in _projected(node):
            return "a subquery that does not return $this"
    return None


def _projected(select: CompValue) -> set[str]:
    """The variables a (sub)query returns: those listed, or for SELECT * those in scope."""
    if "projection" in select:
        return {str(item["evar"] if "evar" in item else item["var"]) for item in select["projection"]}
    return _in_scope(select["where"])


def _in_scope(node: object) -> set[str]:
    """Variables a pattern binds (SPARQL §18.2.1): not those only read by a FILTER."""
    if isinstance(node, rdflib.Variable):
        return {str(node)}
    if isinstance(node, CompValue):
        if node.name == "Filter":
            return set()
        if node.name == "SubSelect":
            return _projected(node)
        if node.name == "Bind":
            return {str(node["var"])}
        return set().union(*(_in_scope(v) for v in node.values()))
    if isinstance(node, (list, ParseResults)):
        return set().union(*(_in_scope(v) for v in node))
    return set()


def _variables(tree: CompValue) -> set[str]:
    found: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, rdflib.Variable):
            found.add(str(node))
        elif isinstance(node, CompValue):
            for v in node.values():
                visit(v)
        elif isinstance(node, (list, ParseResults)):
            for v in node:
                visit(v)
    visit(tree)
    return found


def _batchable(tree: CompValue) -> bool:
    """Whether one query joining all focus nodes gives each node's solutions (see the module doc)."""
    if "projection" in tree and "this" not in _projected(tree):
        return False
    for node in _walk(tree):
        if node.name in ("GroupClause", "HavingClause") or node.name.startswith("Aggregate_") \
                or node.name in _FRESH_TERMS or "limitoffset" in node:
            return False
    return True


def _substitute_path(body: str, path: str) -> str:
    """$PATH written as the shape's path (SHACL §5.3.2 substitutes it in the text)."""
    out, last = [], 0
    for m in _TOKEN.finditer(body):
        if m.lastgroup == "var" and m.group()[1:] == "PATH":
            out += [body[last:m.start()], path]
            last = m.end()
    return "".join(out) + body[last:]


@dataclass
class _Group:
    end: int                 # offset just after its `{`
    join: bool               # the join goes in (see `_joins`)
    exists: bool             # inside FILTER EXISTS / NOT EXISTS
    optional: bool           # the group of an OPTIONAL
    subquery: bool = False   # holds a subquery (its WHERE gets the join)
    mentions: bool = False   # a pre-bound variable appears somewhere inside


def _joins(body: str, everywhere: bool, prebound: frozenset[str] = PREBOUND) -> list[int]:
    """The offsets where the join is written: after the `{` of group patterns (not the one that holds
    a subquery: its WHERE gets it; none inside EXISTS: the row outside binds $this already).

    With one row (`everywhere`), every such group. With every focus node, only the groups where it
    changes the answer (the query's WHERE, and any group with a FILTER or BIND over a pre-bound
    variable or an OPTIONAL that reads one); elsewhere it distributes over UNION, GRAPH and joins,
    and a join with every focus node there would only multiply the rows to evaluate."""
    tokens = [(m.lastgroup, m.group(), m.end()) for m in _TOKEN.finditer(body) if m.lastgroup != "comment"]
    stack: list[_Group] = []
    out: list[int] = []
    owner: _Group | None = None     # the group whose FILTER or BIND expression is being read
    start = (0, 0)                  # (parens, groups) when that expression began
    opened = False
    parens = 0
    previous = ""
    for i, (kind, text, end) in enumerate(tokens):
        if kind == "var" and text[1:] in prebound:
            for g in stack:
                g.mentions = True
            if owner is not None:
                owner.join = True
        if kind == "open":
            following = tokens[i + 1][1].upper() if i + 1 < len(tokens) else ""
            inside_exists = previous == "EXISTS" or (bool(stack) and stack[-1].exists)
            subquery = following == "SELECT"
            stack.append(_Group(end, everywhere or not stack, inside_exists, previous == "OPTIONAL", subquery))
            opened = opened or owner is not None
        elif kind == "close" and stack:
            group = stack.pop()
            if group.join and not group.exists and not group.subquery:
                out.append(group.end)
            if group.optional and group.mentions and stack:
                stack[-1].join = True
        elif kind == "paren":
            parens += 1 if text == "(" else -1
            opened = opened or (owner is not None and text == "(")
        if owner is not None and opened and (parens, len(stack)) == start:
            owner, opened = None, False
        word = text.upper() if kind == "word" else ""
        if word in ("FILTER", "BIND") and owner is None and stack:
            owner, start, opened = stack[-1], (parens, len(stack)), False
        previous = word
    return sorted(out)


def _insert_joins(body: str, join: str, *, everywhere: bool = True) -> str:
    out, last = [], 0
    for at in _joins(body, everywhere):
        out += [body[last:at], " ", join, " "]
        last = at
    return "".join(out) + body[last:]


# -- evaluation -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Solution:
    focus: object                       # $this, as the store holds it
    values: dict[str, object]           # the solution's bindings


def solutions(c: SparqlConstraint, run: Callable[[str], ox.QuerySolutions], focus_query: str,
              shapes_graph: str | None, current_shape: Node) -> Iterator[Solution]:
    """Every solution of the constraint for every focus node (the subquery `focus_query` yields them)."""
    extra = _extra_join(c, shapes_graph, current_shape)
    try:
        yield from _evaluate(c, run, focus_query, extra)
    except SyntaxError as exc:  # a query decided by its tokens alone was not parsed before
        raise ValidationFailure(f"the SPARQL query of {c.node} does not parse: {exc}") from None


def _evaluate(c: SparqlConstraint, run: Callable[[str], ox.QuerySolutions], focus_query: str,
              extra: str) -> Iterator[Solution]:
    if c.batched:
        yield from _rows(run(c.text(f"{focus_query} {extra}", everywhere=False)), None)
        return
    nodes = [row["this"] for row in run(f"SELECT ?this WHERE {{ {focus_query} }} ORDER BY ?this")]
    for i, node in enumerate(nodes):
        if isinstance(node, ox.BlankNode):
            one = f"{{ SELECT ?this WHERE {{ {focus_query} }} ORDER BY ?this OFFSET {i} LIMIT 1 }}"
        else:
            one = f"VALUES ?this {{ {node} }}"
        yield from _rows(run(c.text(f"{one} {extra}")), node)


def _extra_join(c: SparqlConstraint, shapes_graph: str | None, current_shape: Node) -> str:
    names, values = [], []
    if "shapesGraph" in c.variables:
        if shapes_graph is None:
            raise ValidationFailure(f"the SPARQL constraint {c.node} uses $shapesGraph, which this store does not hold")
        names.append("?shapesGraph")
        values.append(f"<{shapes_graph}>")
    if "currentShape" in c.variables:
        if not isinstance(current_shape, rdflib.URIRef):
            raise ValidationFailure(f"the SPARQL constraint {c.node} uses $currentShape on a blank-node shape; "
                                "give the shape an IRI")
        names.append("?currentShape")
        values.append(f"<{current_shape}>")
    return f"VALUES ({' '.join(names)}) {{ ({' '.join(values)}) }}" if names else ""


def _rows(answer: ox.QuerySolutions, node: object) -> Iterator[Solution]:
    names = [v.value for v in answer.variables]
    for row in answer:
        values = {n: row[n] for n in names if row[n] is not None}
        if values.get("failure") == ox.Literal(True):
            raise ValidationFailure("a SPARQL constraint reported a failure (?failure is true)")
        yield Solution(values.get("this", node) if node is None else node, values)


def message(template: rdflib.Literal, values: dict[str, object], written: Callable[[object], Node]) -> rdflib.Literal:
    """sh:message with {?var} and {$var} filled from the solution (SHACL §5.3.2)."""
    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in values:
            return str(written(values[name]))
        return m.group(0)

    return rdflib.Literal(_PLACEHOLDER.sub(fill, str(template)), lang=template.language)


# -- literals the store rewrote -----------------------------------------------------------------------
_LEXICAL = frozenset("Builtin_" + n for n in (
    "STR", "STRLEN", "SUBSTR", "UCASE", "LCASE", "STRSTARTS", "STRENDS", "CONTAINS", "STRBEFORE", "STRAFTER",
    "ENCODE_FOR_URI", "CONCAT", "LANG", "LANGMATCHES", "REGEX", "REPLACE", "MD5", "SHA1", "SHA256", "SHA384",
    "SHA512", "IRI", "STRDT", "STRLANG", "sameTerm", "DATATYPE")) | {"Aggregate_GroupConcat"}
_LEXICAL_WORDS = frozenset(n.split("_", 1)[1].upper() for n in _LEXICAL) | {"URI", "GROUP_CONCAT"}
_PASSING = frozenset({"Builtin_IF", "Builtin_COALESCE"})   # functions that hand a term on unchanged


def reads_rewritten(c: SparqlConstraint, lexical: frozenset[str], typed: frozenset[str]) -> bool:
    """Whether the query may read the lexical form (STR, REGEX, ...) of a literal the store rewrote, or
    the datatype (DATATYPE, sameTerm) of one whose datatype it changed: `lexical` and `typed` are the
    predicates of such literals. Then its answer on the store may differ from the answer on the data
    as written. Values are followed from triple patterns through BIND; any doubt counts as a read."""
    if not (lexical or typed):
        return False
    words = {m.group().upper() for m in _TOKEN.finditer(c.body) if m.lastgroup == "word"}
    iris = {m.group() for m in _TOKEN.finditer(c.body) if m.lastgroup == "iri"}
    if not (words & _LEXICAL_WORDS) and "XSD:STRING" not in words and f"<{XSD_STRING}>" not in iris:
        return False
    tree = _algebra(c.prologue + c.body)
    kinds: dict[str, set[str]] = {}
    for node in _walk_all(tree):
        for triple in _triples(node):
            for p, o in zip(triple[1::2], triple[2::2]):
                found = _kinds(p, lexical, typed)
                ends = [o] + ([triple[0]] if not isinstance(p, rdflib.URIRef) else [])  # a path may run backwards
                for v in ends:
                    if isinstance(v, rdflib.Variable) and found:
                        kinds.setdefault(str(v), set()).update(found)
    changed = True
    while changed:  # BIND(?x AS ?y), BIND(IF(.., ?x, ..) AS ?y): ?y may hold what ?x holds
        changed = False
        for node in _walk_all(tree):
            if isinstance(node, CompValue) and node.name == "Bind":
                expr = _unwrapped(node["expr"])
                passed = {str(expr)} if isinstance(expr, rdflib.Variable) else \
                    _mentioned(expr) if isinstance(expr, CompValue) and expr.name in _PASSING else set()
                new = set().union(*(kinds.get(v, set()) for v in passed)) - kinds.get(str(node["var"]), set())
                if new:
                    kinds.setdefault(str(node["var"]), set()).update(new)
                    changed = True
    for node in _walk_all(tree):
        if not isinstance(node, CompValue):
            continue
        wanted = {"dt"} if node.name == "Builtin_DATATYPE" else {"lex", "dt"} if node.name == "Builtin_sameTerm" \
            else {"lex"} if node.name in _LEXICAL or (node.name == "Function" and str(node.get("iri")) == XSD_STRING) \
            else set()
        if wanted and any(kinds.get(v, set()) & wanted for v in _mentioned(node)):
            return True
    return False


XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def names_graphs(c: SparqlConstraint) -> bool:
    """Whether the query reads named graphs (GRAPH): a flat copy of the data, as pySHACL reads it, has none."""
    return any(isinstance(n, CompValue) and n.name == "GraphGraphPattern" for n in _walk_all(_algebra(c.prologue + c.body)))


@functools.lru_cache(maxsize=256)
def _algebra(text: str) -> CompValue:
    """The parse tree with prefixed names resolved (the parse, not the algebra: rdflib's algebra keeps
    the FILTERs inside EXISTS out of sight)."""
    from rdflib.plugins.sparql.algebra import translatePName, translatePrologue, traverse

    parsed = parseQuery(text)
    prologue = translatePrologue(parsed[0], None)
    return traverse(parsed[1], visitPost=functools.partial(translatePName, prologue=prologue))


def _walk_all(node: object) -> Iterator[object]:
    yield node
    if isinstance(node, CompValue):
        for value in node.values():
            yield from _walk_all(value)
    elif isinstance(node, (list, tuple, ParseResults)):
        for item in node:
            yield from _walk_all(item)


def _triples(node: object) -> list[list[object]]:
    """The triple patterns of a triples block (subject, then predicate-object pairs)."""
    if isinstance(node, CompValue) and node.name == "TriplesBlock":
        return [list(t) for t in node["triples"]]
    return []


def _kinds(predicate: object, lexical: frozenset[str], typed: frozenset[str]) -> set[str]:
    if isinstance(predicate, rdflib.URIRef):
        return ({"lex"} if str(predicate) in lexical else set()) | ({"dt"} if str(predicate) in typed else set())
    if isinstance(predicate, CompValue):  # a property path: any of its IRIs
        return set().union(*(_kinds(n, lexical, typed) for n in _walk_all(predicate) if isinstance(n, rdflib.URIRef)))
    return {"lex", "dt"}  # a variable, or anything unexpected


def _unwrapped(expr: object) -> object:
    """An expression without the parse's one-child layers (ConditionalOrExpression > ... > ?x)."""
    while isinstance(expr, CompValue) and expr.name.endswith("Expression") and "other" not in expr and "op" not in expr:
        expr = expr["expr"]
    return expr


def _mentioned(node: object) -> set[str]:
    return {str(n) for n in _walk_all(node) if isinstance(n, rdflib.Variable)}
