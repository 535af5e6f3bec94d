"""SHACL validation: one entry point for `kg validate`, `kg build`, `POST /validate` and writes.

The data is an Oxigraph store (`Source`: the embedded store opened read-only, or an in-memory
store), or an rdflib graph that is first copied into one (its literals as written: see
`fidelity`). Every shape runs on Oxigraph: SHACL Core compiled to SPARQL (`shacl_core`), sh:sparql
constraints with SHACL's pre-binding (`shacl_sparql`). A shape the compiled engine does not
evaluate (`shape_model` lists what, and why) is handed whole to pySHACL, on an rdflib copy of the
data (slow at scale: pySHACL reads triple by triple, 8-16x slower still through oxrdflib), and so
is everything when the data holds two literals that the store would make one (`1.0` and `1.00`)
or the shapes use SHACL rules, and a shape whose SPARQL constraint may read a literal the store
rewrote (`_rewritten_reads`). The project's shapes need no pySHACL at all (tests/test_shacl_core.py).

The report says sh:conforms false as soon as it has any result (SHACL §3.6). Whether Warnings
and Infos pass -- a write is stored, a build published, `kg validate` exits 0 -- is the separate
decision `allow_warnings` (setting `allow_warnings`, on by default), as pySHACL's option.
A failure (SHACL §3.6.1: shapes that cannot be checked as given) raises `ValidationFailure`.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib
from pyshacl import validate as pyshacl_validate
from pyshacl.errors import ReportableRuntimeError, ShapeLoadError
from pyshacl.errors import ValidationFailure as PyshaclFailure
from pyshacl.rdfutil.inoculate import inoculate
from rdflib.namespace import RDF, RDFS, SH

from ..errors import ValidationFailure
from ..store.terms import to_ox_term
from . import shacl_sparql
from .fidelity import Fidelity, as_rdflib
from .paths import PathError, read_path
from .paths import text as path_text
from .shacl_core import REWRITTEN, Evaluator, Found, Source, add_result
from .shape_model import TARGETS, Model, Shape, reachable, read_model, targeted_shapes
from .vocabulary import Vocabulary

SEVERITIES = ("Violation", "Warning", "Info")


@dataclass(frozen=True)
class Result:
    severity: str
    focus: str
    path: str | None
    value: str | None
    message: str
    detail: str | None
    shape: str | None
    component: str | None


@dataclass
class Report:
    results: list[Result]
    graph: rdflib.Graph
    truncated: bool = False
    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    allow_warnings: bool = True
    pyshacl_shapes: tuple[str, ...] = ()    # the shapes pySHACL checked (the compiled engine did the rest)
    notes: list[str] = field(default_factory=list)   # what a reader should know about how it was judged
    canonical_reads: tuple[str, ...] = ()   # shapes whose SPARQL constraints read literals as stored, not as written

    @property
    def conforms(self) -> bool:
        """SHACL §3.6: true only when there is no result at all, whatever its severity."""
        return self.total == 0

    @property
    def passed(self) -> bool:
        """The project's decision: no Violation, and no Warning or Info unless `allow_warnings`."""
        if self.counts.get("Violation", 0):
            return False
        return self.allow_warnings or self.total == 0

    def summary(self) -> str:
        parts = [f"{self.counts.get(s, 0)} {s}{'s' if self.counts.get(s, 0) != 1 else ''}" for s in SEVERITIES]
        verdict = "Conforms" if self.conforms else "Does not conform"
        cut = f" (showing the first {len(self.results)} of {self.total})" if self.truncated else ""
        passes = "; passes: Warnings and Infos are allowed (setting allow_warnings)" \
            if self.passed and not self.conforms else ""
        return f"{verdict}: {', '.join(parts)}{cut}{passes}."

    def to_text(self) -> str:
        lines = [self.summary()] + [f"Note: {n}" for n in self.notes]
        for r in self.results:
            lines.append("")
            lines.append(f"[{r.severity}] {r.message}")
            lines.append(f"  focus: {r.focus}")
            if r.path:
                lines.append(f"  path:  {r.path}")
            if r.value is not None:
                lines.append(f"  value: {r.value}")
            if r.shape:
                lines.append(f"  shape: {r.shape}")
            if r.detail and r.detail != r.message:
                lines.append(f"  engine: {r.detail}")
        return "\n".join(lines) + "\n"

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(["severity", "focus", "path", "value", "message", "detail", "shape", "component"])
        for r in self.results:
            writer.writerow([r.severity, r.focus, r.path or "", r.value or "", r.message, r.detail or "",
                             r.shape or "", r.component or ""])
        return buf.getvalue()

    def to_json(self) -> str:
        return json.dumps({"conforms": self.conforms, "passed": self.passed, "allow_warnings": self.allow_warnings,
                           "counts": self.counts, "truncated": self.truncated, "total": self.total,
                           "notes": self.notes,
                           "results": [r.__dict__ for r in self.results]}, indent=2)


def _short(term: rdflib.term.Node | None) -> str | None:
    if term is None:
        return None
    if isinstance(term, rdflib.BNode):
        return "_:" + str(term)
    return str(term)


def _path_text(graph: rdflib.Graph, path: rdflib.term.Node | None) -> str | None:
    """A result's path as SPARQL property path syntax (`^p` for an inverse)."""
    if path is None or isinstance(path, rdflib.URIRef):
        return None if path is None else str(path)
    try:
        return path_text(read_path(graph, path).tree)
    except PathError:
        return "(complex path)"


def parse_report(graph: rdflib.Graph, shapes: rdflib.Graph | None, max_results: int | None,
                 found: Iterable[Found] = (), *, allow_warnings: bool = True) -> Report:
    """Turn the sh:ValidationReport graph (and the compiled engine's results) into rows a curator can read.

    Each result carries the shape's own `sh:message` (added to the graph as a second
    `sh:resultMessage` when the engine's text differs) and the engine's detail. A report cut
    at `max_results` is cut in its graph too, which then says so in an `rdfs:comment`. The
    compiled engine's results become triples only when kept (a million rdflib triples cost
    seconds). sh:conforms is written from the results (SHACL §3.6).
    """
    rows: list[tuple[Result, rdflib.term.Node | Found]] = []
    counts = {s: 0 for s in SEVERITIES}
    for node in list(graph.subjects(RDF.type, SH.ValidationResult)):
        if (None, SH.detail, node) in graph:  # a nested result explaining an sh:node failure, not one of its own
            continue
        shape = graph.value(node, SH.sourceShape)
        messages = [str(m) for m in graph.objects(node, SH.resultMessage)]
        declared = [] if (node, SH.sourceConstraint, None) in graph else \
            [m for m in shapes.objects(shape, SH.message)] if shapes is not None and shape else []
        for m in declared:
            graph.add((node, SH.resultMessage, m))
        rows.append((_row(graph.value(node, SH.resultSeverity), graph.value(node, SH.focusNode),
                          _path_text(graph, graph.value(node, SH.resultPath)), graph.value(node, SH.value),
                          messages, declared, shape, graph.value(node, SH.sourceConstraintComponent)), node))
    for f in found:
        declared = list(f.messages) if f.messages is not None else list(f.shape.messages)
        text = _short(f.path) if f.path is not None else \
            (path_text(f.shape.path.tree) if f.shape.path is not None else None)
        rows.append((_row(f.shape.severity, f.focus, text, f.value, [f.message], declared, f.shape.node,
                          f.component), f))
    for r, _n in rows:
        counts[r.severity] = counts.get(r.severity, 0) + 1
    order = {s: i for i, s in enumerate(SEVERITIES)}
    rows.sort(key=lambda rn: (order.get(rn[0].severity, 9), rn[0].shape or "", rn[0].focus, rn[0].path or ""))
    total = len(rows)
    truncated = max_results is not None and total > max_results
    report_nodes = list(graph.subjects(RDF.type, SH.ValidationReport))
    if not report_nodes:
        report_nodes = [rdflib.BNode()]
        graph.add((report_nodes[0], RDF.type, SH.ValidationReport))
    if truncated:
        for _row_, node in rows[max_results:]:
            if not isinstance(node, Found):
                graph.remove((None, SH.result, node))
                graph.remove((node, None, None))
        for report_node in report_nodes:
            graph.add((report_node, RDFS.comment, rdflib.Literal(
                f"Truncated: the first {max_results} of {total} results (setting max_report_results).")))
        rows = rows[:max_results]
    for _row_, node in rows:
        if isinstance(node, Found):
            add_result(graph, report_nodes[0], node, shapes if shapes is not None else rdflib.Graph(),
                       list(node.messages) if node.messages is not None else list(node.shape.messages))
    for report_node in report_nodes:
        graph.set((report_node, SH.conforms, rdflib.Literal(total == 0)))
    return Report([r for r, _n in rows], graph, truncated, total, counts, allow_warnings)


def _row(severity: rdflib.term.Node | None, focus: rdflib.term.Node | None, path: str | None,
         value: rdflib.term.Node | None, messages: list[str], declared: list[rdflib.Literal],
         shape: rdflib.term.Node | None, component: rdflib.term.Node | None) -> Result:
    declared_text = [str(m) for m in declared]
    message = declared_text[0] if declared_text else (messages[0] if messages else "constraint not met")
    detail = next((m for m in messages if m not in declared_text and m != message), None)
    return Result(str(severity or SH.Violation).rsplit("#", 1)[-1], _short(focus) or "", path, _short(value),
                  message, detail, _short(shape), _short(component))


def engine_shapes(shapes: rdflib.Graph) -> rdflib.Graph:
    """The shapes without the node and property shapes' sh:message, so that pySHACL writes its own
    detail into sh:resultMessage (the curator's message is added back by `parse_report`).
    SPARQL constraints keep theirs: it is a template filled in per result."""
    out = rdflib.Graph()
    for t in shapes:
        if t[1] == SH.message and (t[0], SH.select, None) not in shapes:
            continue
        out.add(t)
    return out


DATA_GRAPH = ox.NamedNode("urn:x-kg:validation:data")
SHAPES_GRAPH = ox.NamedNode("urn:x-kg:validation:shapes")


def in_memory(data: rdflib.Graph, ontology: rdflib.Graph | None, shapes: rdflib.Graph | None = None) -> Source:
    """An in-memory store of the data (with the ontology mixed in as pySHACL mixes an ont_graph:
    its classes, property axioms and named individuals), the shapes in a graph of their own
    ($shapesGraph), and the literals the store rewrote listed (`fidelity`)."""
    store = ox.Store()
    extra = inoculate(rdflib.Graph(), ontology) if ontology is not None else rdflib.Graph()
    store.extend([ox.Quad(to_ox_term(s), to_ox_term(p), to_ox_term(o), DATA_GRAPH)  # type: ignore[arg-type]
                  for g in (data, extra) for s, p, o in g])
    targets = [] if shapes is None else list(shapes.objects(None, SH.targetNode))
    fidelity = Fidelity.of([o for g in (data, extra) for o in g.objects()] + targets)
    store.extend([ox.Quad(REWRITTEN, REWRITTEN, stored, REWRITTEN) for stored in fidelity.written])
    if shapes is not None:
        store.extend([ox.Quad(to_ox_term(s), to_ox_term(p), to_ox_term(o), SHAPES_GRAPH)  # type: ignore[arg-type]
                      for s, p, o in shapes])
    return Source(store, graph=DATA_GRAPH, fidelity=fidelity, shapes_graph=SHAPES_GRAPH.value)


def with_payload(store: ox.Store, exclude: frozenset[str], written: list[ox.Quad],
                 focus: frozenset[ox.NamedNode] | None = None) -> Source:
    """A store that holds a payload (`written`, as parsed), its literals judged as written: the
    literals the store rewrote are listed in it, as `in_memory` lists those of parsed input. A store
    without a payload is not touched (it may be the read-only store itself)."""
    fidelity = Fidelity.of_payload(written, store) if written else Fidelity()
    if fidelity.written:
        store.extend([ox.Quad(REWRITTEN, REWRITTEN, stored, REWRITTEN) for stored in fidelity.written])
        exclude = exclude | {REWRITTEN.value}
    return Source(store, exclude, fidelity=fidelity, focus=focus)


def rdflib_copy(source: Source) -> rdflib.Graph:
    """The data graph in rdflib, for pySHACL (memory grows with the store: only for uncompiled shapes)."""
    g = rdflib.Graph()
    for q in source.store.quads_for_pattern(None, None, None, source.graph):
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value not in source.exclude:
            g.add((source.term(q.subject), source.term(q.predicate), source.term(q.object)))
    return g


def for_pyshacl(shapes: rdflib.Graph, model: Model) -> rdflib.Graph:
    """The shapes with the targets of every compiled shape removed: what is left for pySHACL."""
    out = engine_shapes(shapes)
    for shape in model.top:
        for p in TARGETS:
            out.remove((shape.node, p, None))
        out.remove((shape.node, RDF.type, RDFS.Class))
    return out


def _pyshacl(data: rdflib.Graph, shapes: rdflib.Graph, ontology: rdflib.Graph | None) -> rdflib.Graph:
    """pySHACL's report, or ValidationFailure when pySHACL fails instead (SHACL §3.6.1).

    allow_warnings is off here: with it, pySHACL takes a Warning of a shape named by sh:node or
    sh:or for conformance; the report holds every result either way."""
    try:
        _conforms, report, text = pyshacl_validate(
            data_graph=data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True,
            allow_warnings=False, allow_infos=False, abort_on_first=False, meta_shacl=False, iterate_rules=False,
            do_owl_imports=False)  # never fetch what posted data's owl:imports names (SSRF)
    except (ReportableRuntimeError, ShapeLoadError, PyshaclFailure) as exc:
        raise ValidationFailure(f"the shapes cannot be checked: {getattr(exc, 'message', exc)}") from None
    except (RuntimeError, ValueError, TypeError, NotImplementedError, AttributeError, KeyError) as exc:
        raise ValidationFailure(f"the shapes cannot be checked (pySHACL stopped: {type(exc).__name__}: {exc})") \
            from None
    if not isinstance(report, rdflib.Graph):
        raise ValidationFailure(f"the shapes cannot be checked: {text or report}")
    return report


@dataclass(frozen=True)
class PreparedShapes:
    """The shapes checked and read into the compiled engine's model, once: a write validates a few
    nodes, and reading the shapes again for each one cost more than that. `validate` works on a
    copy of the model (it moves shapes to pySHACL when the data asks for it)."""

    shapes: rdflib.Graph
    model: Model

    def fresh_model(self) -> Model:
        m = self.model
        return Model(dict(m.shapes), list(m.top), list(m.fallback), dict(m.reasons))


def prepare(shapes: rdflib.Graph) -> PreparedShapes:
    """The shapes checked (forbidden SPARQL forms refused: ValidationFailure) and read."""
    shacl_sparql.check_all(shapes)
    return PreparedShapes(shapes, read_model(shapes))


def validate(data: rdflib.Graph | Source, *, shapes: rdflib.Graph | PreparedShapes,
             ontology: rdflib.Graph | None = None, max_results: int | None = None, allow_warnings: bool = True,
             vocabulary: Vocabulary | None = None) -> Report:
    """Validate `data` against `shapes`: core and SHACL-SPARQL constraints, on Oxigraph.

    `data` is a store (`Source`: its named graphs less the excluded ones; its own ontology
    graph is part of it) or an rdflib graph, with `ontology` mixed in as pySHACL's ont_graph.
    Inference is not asked for: the build materialises it once, into its own graph.
    `allow_warnings` only decides `Report.passed`. Raises ValidationFailure for a failure.
    With a `vocabulary`, a term of the ontology's namespace it does not declare is a Violation too.
    """
    prepared = shapes if isinstance(shapes, PreparedShapes) else prepare(shapes)
    shapes, model = prepared.shapes, prepared.fresh_model()
    source = data if isinstance(data, Source) else in_memory(data, ontology, shapes)
    if (source.fidelity.collisions and not isinstance(data, Source)) or (None, SH.rule, None) in shapes:
        # see the module's docstring; shapes that read named graphs stay here (`_on_graphs`)
        kept = [shape for shape in model.top if _on_graphs(shape)]
        model = Model(model.shapes, kept, sorted(set(targeted_shapes(shapes)) - {k.node for k in kept}, key=str), {})
    canonical = _rewritten_reads(data, source, model)
    notes = [canonical_note(canonical)] if canonical else []
    found = list(Evaluator(source, model).evaluate())
    if model.fallback:
        graph = data if isinstance(data, rdflib.Graph) else rdflib_copy(source)
        report = _pyshacl(graph, for_pyshacl(shapes, model), ontology if isinstance(data, rdflib.Graph) else None)
    else:
        report = rdflib.Graph()
        report.add((rdflib.BNode(), RDF.type, SH.ValidationReport))
    if vocabulary is not None:
        vocabulary.add_results(source, report, next(report.subjects(RDF.type, SH.ValidationReport)))
    parsed = parse_report(report, shapes, max_results, found, allow_warnings=allow_warnings)
    parsed.pyshacl_shapes = tuple(_short(n) or "" for n in model.fallback)
    parsed.canonical_reads = tuple(canonical)
    notes += [n for n in (source.fidelity.note(),) if n and isinstance(data, Source)]
    for note in notes:
        parsed.notes.append(note)
        for node in parsed.graph.subjects(RDF.type, SH.ValidationReport):
            parsed.graph.add((node, RDFS.comment, rdflib.Literal(note)))
    return parsed


def canonical_note(shapes: Iterable[str]) -> str:
    """What a report says of the shapes whose SPARQL constraints read literals as the store holds them."""
    return f"the SPARQL-based constraints of {', '.join(shapes)} read literals the store holds in canonical form, not as written"


def _on_graphs(shape: Shape) -> bool:
    """A shape with a SPARQL constraint that reads named graphs (GRAPH ?g: one source's values): it
    cannot be handed to pySHACL, whose copy of the data is one flat graph, and stays on Oxigraph,
    which reads the stored forms of literals."""
    return any(shacl_sparql.names_graphs(c) for s in reachable(shape) for c in s.sparql)


def _rewritten_reads(data: rdflib.Graph | Source, source: Source, model: Model) -> list[str]:
    """SPARQL-based constraints that may read a literal the store rewrote (`shacl_sparql.reads_rewritten`):
    with the data at hand as written, their shapes go to pySHACL, which reads it so; the shapes that
    must read the stored forms (on a store holding a payload, or reading named graphs) are returned,
    for the report to say so."""
    if not source.fidelity.written:
        return []
    lexical, typed = source.rewritten_predicates()
    reading = [shape for shape in model.top if any(shacl_sparql.reads_rewritten(c, lexical, typed)
                                                   for s in reachable(shape) for c in s.sparql)]
    on_graphs = [shape for shape in reading if _on_graphs(shape)]
    kept = reading if isinstance(data, Source) else on_graphs
    if isinstance(data, Source):
        return [_short(s.node) or "" for s in kept]
    for shape in reading:
        if shape in on_graphs:
            continue
        model.top.remove(shape)
        model.fallback.append(shape.node)
        model.reasons[shape.node] = "its SPARQL constraints read the lexical form of literals the store rewrites"
    return [_short(s.node) or "" for s in kept]


def written_terms(quads: Iterable[ox.Quad], fidelity: Fidelity | None = None) -> rdflib.Graph:
    """Quads as an rdflib graph of their triples, literals as written (parsed input), or mapped back
    to the written form by `fidelity` (quads read from a store)."""
    g = rdflib.Graph()
    term = fidelity.term if fidelity is not None else as_rdflib
    for q in quads:
        g.add((as_rdflib(q.subject), as_rdflib(q.predicate), term(q.object)))
    return g
