"""A closed vocabulary: a term in the ontology's own namespace that the ontology does not declare
is a Violation, with the nearest declared term as a suggestion ("did you mean kgo:Person?").

SHACL checks the shape of what is there; it has no constraint for "this IRI is not a term of our
vocabulary", and a typo such as `kgo:Persn`, or a class nobody declared (`kgo:Village`), makes a
node that no shape targets and that every query for `kgo:Person` misses. The namespace is the
ontology's IRI plus `#` (the `owl:Ontology` of the ontology graph); declared terms are the IRIs
of that namespace that the ontology describes (any triple with the term as subject).

Results are `sh:ValidationResult`s of `kgs:ClosedVocabularyShape` (a shape without targets,
named in shapes/shapes.ttl so that reports can point to it): focus node the subject that uses
the term, path the predicate, value the term.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

import pyoxigraph as ox
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SH

from ..store.terms import to_rdflib_term
from .shacl_core import Source

PER_TERM = 20  # usages reported for each undeclared term found in a whole store
_CLASS_TYPES = {OWL.Class, RDFS.Class}
_PROPERTY_TYPES = {OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property}
SHAPE_LOCAL = "ClosedVocabularyShape"
COMPONENT = rdflib.URIRef("urn:x-kg:validation:ClosedVocabularyConstraintComponent")


@dataclass(frozen=True)
class Misuse:
    focus: ox.NamedNode | ox.BlankNode
    path: ox.NamedNode
    term: ox.NamedNode
    suggestion: str | None


@dataclass(frozen=True)
class Vocabulary:
    """The terms the ontology declares in its namespace; `only`: check these quads, not the whole data."""

    namespace: str
    shape: rdflib.URIRef
    classes: frozenset[str]
    properties: frozenset[str]
    declared: frozenset[str]
    only: tuple[ox.Quad, ...] | None = None
    _locals: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, ontology: rdflib.Graph, shapes_namespace: str) -> Vocabulary | None:
        """The ontology's vocabulary, or None when the graph declares no owl:Ontology."""
        iri = next((o for o in ontology.subjects(RDF.type, OWL.Ontology) if isinstance(o, rdflib.URIRef)), None)
        if iri is None:
            return None
        ns = str(iri) + "#"
        declared = frozenset(str(s) for s in ontology.subjects() if isinstance(s, rdflib.URIRef) and str(s).startswith(ns))
        typed = lambda kinds: frozenset(str(s) for k in kinds for s in ontology.subjects(RDF.type, k)  # noqa: E731
                                        if str(s) in declared)
        return cls(ns, rdflib.URIRef(shapes_namespace + SHAPE_LOCAL), typed(_CLASS_TYPES), typed(_PROPERTY_TYPES),
                   declared)

    def for_quads(self, quads: Iterable[ox.Quad]) -> Vocabulary:
        """The same vocabulary, checking only these quads (what a write adds)."""
        return replace(self, only=tuple(quads))

    def suggest(self, term: str, position: str) -> str | None:
        """The nearest declared term of the same kind, by its local name."""
        pool = self.classes if position == "class" else self.properties if position == "property" else self.declared
        if position not in self._locals:
            self._locals[position] = {t[len(self.namespace):].lower(): t for t in pool}
        names = self._locals[position]
        local = term[len(self.namespace):].lower()
        match = difflib.get_close_matches(local, list(names), n=1, cutoff=0.6)
        return names[match[0]] if match else None

    # -- finding misuses ---------------------------------------------------------------------------
    def misuses(self, source: Source) -> Iterator[Misuse]:
        if self.only is not None:
            yield from self._in_quads(self.only)
        else:
            yield from self._in_store(source)

    def _in_quads(self, quads: Iterable[ox.Quad]) -> Iterator[Misuse]:
        for q in quads:
            for term, position in self._terms(q):
                if term.value not in self.declared:
                    yield Misuse(q.subject, q.predicate, term, self.suggest(term.value, position))  # type: ignore[arg-type]

    def _terms(self, q: ox.Quad) -> Iterator[tuple[ox.NamedNode, str]]:
        if q.predicate.value.startswith(self.namespace):
            yield q.predicate, "property"
        if isinstance(q.object, ox.NamedNode) and q.object.value.startswith(self.namespace):
            yield q.object, "class" if q.predicate.value == str(RDF.type) else "term"
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(self.namespace):
            yield q.subject, "term"

    def _in_store(self, source: Source) -> Iterator[Misuse]:
        """The distinct terms of each position, then those in the namespace (one pass over the
        store per position: DISTINCT on the store's own term ids first, so that only distinct
        terms are spelt out for the namespace test), then a few usages of each undeclared one,
        found through the store's indexes. The passes read the union of the graphs: a term only
        the shapes or the change log use has no usage in the data, and no result."""
        undeclared: set[ox.NamedNode] = set()
        for pattern in ("?s ?t ?o", "?s ?p ?t", "?t ?p ?o"):
            text = (f'SELECT ?t WHERE {{ {{ SELECT DISTINCT ?t WHERE {{ {pattern} }} }} '
                    f'FILTER(isIRI(?t) && STRSTARTS(STR(?t), "{self.namespace}")) }}')
            rows = source.run_user(text)  # the union of the graphs, or a validation store's data graph
            undeclared |= {row[0] for row in rows if row[0].value not in self.declared}  # type: ignore[index,union-attr]
        for term in sorted(undeclared, key=lambda t: t.value):
            yield from self._usages(source, term)

    def _usages(self, source: Source, term: ox.NamedNode) -> Iterator[Misuse]:
        seen = 0
        for pattern in ((None, term, None), (None, None, term), (term, None, None)):
            for quad in source.store.quads_for_pattern(*pattern, None):
                if not _in_data(source, quad.graph_name):
                    continue
                where = next((w for used, w in self._terms(quad) if used == term), "term")
                yield Misuse(quad.subject, quad.predicate, term, self.suggest(term.value, where))  # type: ignore[arg-type]
                seen += 1
                if seen >= PER_TERM:
                    return

    # -- into the report ---------------------------------------------------------------------------
    def add_results(self, source: Source, report: rdflib.Graph, report_node: rdflib.term.Node,
                    prefix: str = "kgo:") -> int:
        """Each misuse as an sh:ValidationResult of the report; returns how many."""
        added = 0
        for m in dict.fromkeys(self.misuses(source)):
            r = rdflib.BNode()
            term = m.term.value
            short = prefix + term[len(self.namespace):]
            hint = (f"did you mean {prefix}{m.suggestion[len(self.namespace):]}?" if m.suggestion
                    else "no declared term is close; see /ontology for the terms it declares")
            message = (f"{short} is not declared in the ontology (ontology/kg.ttl): {hint} Use a declared term, "
                       f"or declare {short} in the ontology first.")
            for p, o in ((RDF.type, SH.ValidationResult), (SH.focusNode, to_rdflib_term(m.focus)),
                         (SH.resultPath, to_rdflib_term(m.path)), (SH.value, to_rdflib_term(m.term)),
                         (SH.resultSeverity, SH.Violation), (SH.sourceShape, self.shape),
                         (SH.sourceConstraintComponent, COMPONENT), (SH.resultMessage, rdflib.Literal(message))):
                report.add((r, p, o))
            report.add((report_node, SH.result, r))
            added += 1
        return added


def _in_data(source: Source, graph: object) -> bool:
    if source.graph is not None:
        return graph == source.graph
    return isinstance(graph, ox.NamedNode) and graph.value not in source.exclude
