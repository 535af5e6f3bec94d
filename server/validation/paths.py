"""SHACL property paths (SHACL §2.3.1) read from the shapes graph and written as SPARQL.

A path is kept as a small tree. One made only of predicates, inverses, sequences and
alternatives can be spelt as plain triple patterns (each in its own `GRAPH ?g`, so that the
graphs excluded from the data stay out); one with `*`, `+` or `?` needs a SPARQL property path,
evaluated over a default graph that is the data (see `shacl_core.Query`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import rdflib
import rdflib.collection
from rdflib.namespace import RDF, SH
from rdflib.term import Node

_CLOSURES = {SH.zeroOrMorePath: "*", SH.oneOrMorePath: "+", SH.zeroOrOnePath: "?"}


class PathError(ValueError):
    """Not a well-formed SHACL path (SHACL §2.3.1)."""


@dataclass(frozen=True)
class Step:
    """One node of a path tree: `kind` is pred, inv, seq, alt, or a closure (*, +, ?)."""

    kind: str
    iri: rdflib.URIRef | None = None
    parts: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Path:
    node: Node            # the value of sh:path, copied into each result's sh:resultPath
    tree: Step

    @property
    def predicate(self) -> rdflib.URIRef | None:
        """The IRI when the path is one predicate."""
        return self.tree.iri if self.tree.kind == "pred" else None

    @property
    def closure(self) -> bool:
        return _has_closure(self.tree)

    @property
    def predicates(self) -> frozenset[rdflib.URIRef]:
        return frozenset(_predicates(self.tree))

    def sparql(self) -> str:
        return _sparql(self.tree)


def read_path(shapes: rdflib.Graph, node: Node) -> Path:
    return Path(node, _step(shapes, node, frozenset()))


def _step(shapes: rdflib.Graph, node: Node, seen: frozenset[Node]) -> Step:
    if isinstance(node, rdflib.URIRef):
        return Step("pred", node)
    if not isinstance(node, rdflib.BNode) or node in seen:
        raise PathError(f"{node!r} is not a SHACL path")
    seen = seen | {node}
    if (node, RDF.first, None) in shapes:
        members = list(shapes.items(node))
        if len(members) < 2:
            raise PathError("a sequence path needs at least two members")
        return Step("seq", parts=tuple(_step(shapes, m, seen) for m in members))
    pairs = list(shapes.predicate_objects(node))
    if len(pairs) != 1:
        raise PathError(f"the path node {node} has {len(pairs)} properties, not one")
    p, o = pairs[0]
    if p == SH.alternativePath:
        members = list(shapes.items(o))
        if len(members) < 2:
            raise PathError("an alternative path needs at least two members")
        return Step("alt", parts=tuple(_step(shapes, m, seen) for m in members))
    if p == SH.inversePath:
        return Step("inv", parts=(_step(shapes, o, seen),))
    if p in _CLOSURES:
        return Step(_CLOSURES[p], parts=(_step(shapes, o, seen),))  # type: ignore[index]
    raise PathError(f"{p} is not a path property")


def _has_closure(s: Step) -> bool:
    return s.kind in ("*", "+", "?") or any(_has_closure(p) for p in s.parts)


def _predicates(s: Step) -> set[rdflib.URIRef]:
    return ({s.iri} if s.iri is not None else set()).union(*(_predicates(p) for p in s.parts))


def _sparql(s: Step) -> str:
    if s.kind == "pred":
        return f"<{s.iri}>"
    if s.kind == "inv":
        return f"^({_sparql(s.parts[0])})"
    if s.kind == "seq":
        return "(" + " / ".join(_sparql(p) for p in s.parts) + ")"
    if s.kind == "alt":
        return "(" + " | ".join(_sparql(p) for p in s.parts) + ")"
    return f"({_sparql(s.parts[0])}){s.kind}"


def expand(s: Step, subject: str, obj: str, triple: Callable[[str, str, str], str], fresh: Callable[[], str]) -> str:
    """A path without closures as triple patterns (`triple` writes one, `fresh` names a variable)."""
    if s.kind == "pred":
        return triple(subject, f"<{s.iri}>", obj)
    if s.kind == "inv":
        return expand(s.parts[0], obj, subject, triple, fresh)
    if s.kind == "seq":
        names = [subject] + [fresh() for _ in s.parts[1:]] + [obj]
        return " ".join(expand(p, names[i], names[i + 1], triple, fresh) for i, p in enumerate(s.parts))
    if s.kind == "alt":
        return " UNION ".join("{ " + expand(p, subject, obj, triple, fresh) + " }" for p in s.parts)
    raise ValueError("a closure path is not spelt as triple patterns")


_CLOSURE_PROPERTY = {v: k for k, v in _CLOSURES.items()}


def write(s: Step, graph: rdflib.Graph) -> Node:
    """The path as SHACL path triples added to `graph` (its own blank nodes): the report's sh:resultPath."""
    if s.kind == "pred":
        return s.iri  # type: ignore[return-value]
    node = rdflib.BNode()
    if s.kind == "seq":
        rdflib.collection.Collection(graph, node, [write(p, graph) for p in s.parts])
    elif s.kind == "alt":
        members = rdflib.BNode()
        rdflib.collection.Collection(graph, members, [write(p, graph) for p in s.parts])
        graph.add((node, SH.alternativePath, members))
    elif s.kind == "inv":
        graph.add((node, SH.inversePath, write(s.parts[0], graph)))
    else:
        graph.add((node, _CLOSURE_PROPERTY[s.kind], write(s.parts[0], graph)))
    return node


def text(s: Step) -> str:
    """The path for people: SPARQL property path syntax with bare IRIs (`^p`, `p / q`, `(p)*`)."""
    if s.kind == "pred":
        return str(s.iri)
    inner = [text(p) if p.kind == "pred" else f"({text(p)})" for p in s.parts]
    if s.kind == "inv":
        return "^" + inner[0]
    if s.kind in ("seq", "alt"):
        return (" / " if s.kind == "seq" else " | ").join(inner)
    return inner[0] + s.kind
