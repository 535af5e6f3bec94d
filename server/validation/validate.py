"""SHACL validation: one entry point for `kg validate`, `kg build` and the HTTP service.

The data is an Oxigraph store (`Source`: the embedded store opened read-only, or an in-memory
store), or an in-memory rdflib graph that is first copied into one. Core constraints run as
SPARQL on that store (`shacl_core`), SHACL-SPARQL constraints too (`shacl_sparql`); a node
shape that uses something `shacl_core` does not compile is checked by pySHACL, on an rdflib
copy of the data (slow at scale: pySHACL reads triple by triple, 8–16x slower still through
oxrdflib). The project's shapes need no pySHACL at all (tests/test_shacl_core.py).
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
from pyshacl.rdfutil.inoculate import inoculate
from rdflib.namespace import RDF, RDFS, SH

from ..store.terms import to_ox_term, to_rdflib_term
from . import shacl_core, shacl_sparql
from .shacl_core import Source
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

    @property
    def conforms(self) -> bool:
        """Conforms when nothing is a Violation; Warnings and Infos are advice."""
        return self.counts.get("Violation", 0) == 0

    def summary(self) -> str:
        parts = [f"{self.counts.get(s, 0)} {s}{'s' if self.counts.get(s, 0) != 1 else ''}" for s in SEVERITIES]
        verdict = "Conforms" if self.conforms else "Does not conform"
        cut = f" (showing the first {len(self.results)} of {self.total})" if self.truncated else ""
        return f"{verdict}: {', '.join(parts)}{cut}."

    def to_text(self) -> str:
        lines = [self.summary()]
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
        return json.dumps({"conforms": self.conforms, "counts": self.counts, "truncated": self.truncated,
                           "total": self.total, "results": [r.__dict__ for r in self.results]}, indent=2)


def _short(term: rdflib.term.Node | None) -> str | None:
    if term is None:
        return None
    if isinstance(term, rdflib.BNode):
        return "_:" + str(term)
    return str(term)


def _path_text(graph: rdflib.Graph, path: rdflib.term.Node | None) -> str | None:
    if path is None:
        return None
    if isinstance(path, rdflib.BNode):
        inverse = graph.value(path, SH.inversePath)
        if inverse is not None:
            return f"^{inverse}"
        return "(complex path)"
    return str(path)


def parse_report(graph: rdflib.Graph, shapes: rdflib.Graph | None, max_results: int | None,
                 found: Iterable[shacl_core.Found] = ()) -> Report:
    """Turn the sh:ValidationReport graph (and the compiled core's results) into rows a curator can read.

    Each result carries the shape's own `sh:message` (added to the graph as a second
    `sh:resultMessage` when the engine's text differs) and the engine's detail. A report cut
    at `max_results` is cut in its graph too, which then says so in an `rdfs:comment`. The
    core's results become triples only when kept (a million rdflib triples cost seconds).
    """
    rows: list[tuple[Result, rdflib.term.Node | shacl_core.Found]] = []
    counts = {s: 0 for s in SEVERITIES}
    for node in list(graph.subjects(RDF.type, SH.ValidationResult)):
        if (None, SH.detail, node) in graph:  # a nested result explaining an sh:node failure, not one of its own
            continue
        shape = graph.value(node, SH.sourceShape)
        messages = [str(m) for m in graph.objects(node, SH.resultMessage)]
        declared = [m for m in shapes.objects(shape, SH.message)] if shapes is not None and shape else []
        for m in declared:
            graph.add((node, SH.resultMessage, m))
        rows.append((_row(graph.value(node, SH.resultSeverity), graph.value(node, SH.focusNode),
                          _path_text(graph, graph.value(node, SH.resultPath)), graph.value(node, SH.value),
                          messages, declared, shape, graph.value(node, SH.sourceConstraintComponent)), node))
    declared_of: dict[rdflib.term.Node, list[rdflib.Literal]] = {}
    for f in found:
        if f.check.shape not in declared_of:
            declared_of[f.check.shape] = list(shapes.objects(f.check.shape, SH.message)) if shapes is not None else []
        path = f"^{f.check.predicate}" if f.check.inverse else str(f.check.predicate)
        rows.append((_row(f.check.severity, f.focus, path, f.value, [f.message], declared_of[f.check.shape],
                          f.check.shape, f.component), f))
    for r, _n in rows:
        counts[r.severity] = counts.get(r.severity, 0) + 1
    order = {s: i for i, s in enumerate(SEVERITIES)}
    rows.sort(key=lambda rn: (order.get(rn[0].severity, 9), rn[0].shape or "", rn[0].focus, rn[0].path or ""))
    total = len(rows)
    truncated = max_results is not None and total > max_results
    report_nodes = list(graph.subjects(RDF.type, SH.ValidationReport))
    if truncated:
        for _row_, node in rows[max_results:]:
            if not isinstance(node, shacl_core.Found):
                graph.remove((None, SH.result, node))
                graph.remove((node, None, None))
        for report_node in report_nodes:
            graph.add((report_node, RDFS.comment, rdflib.Literal(
                f"Truncated: the first {max_results} of {total} results (setting max_report_results).")))
        rows = rows[:max_results]
    for _row_, node in rows:
        if isinstance(node, shacl_core.Found) and report_nodes:
            shacl_core.add_result(graph, report_nodes[0], node, declared_of[node.check.shape])
    return Report([r for r, _n in rows], graph, truncated, total, counts)


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


def in_memory(data: rdflib.Graph, ontology: rdflib.Graph | None) -> Source:
    """An in-memory store of the data, with the ontology mixed in as pySHACL mixes an ont_graph
    (its classes, property axioms and named individuals)."""
    store = ox.Store()
    extra = inoculate(rdflib.Graph(), ontology) if ontology is not None else rdflib.Graph()
    store.extend([ox.Quad(to_ox_term(s), to_ox_term(p), to_ox_term(o), DATA_GRAPH)  # type: ignore[arg-type]
                  for g in (data, extra) for s, p, o in g])
    return Source(store)


def rdflib_copy(source: Source) -> rdflib.Graph:
    """The data graph in rdflib, for pySHACL (memory grows with the store: only for uncompiled shapes)."""
    g = rdflib.Graph()
    for q in source.store.quads_for_pattern(None, None, None, None):
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value not in source.exclude:
            g.add((to_rdflib_term(q.subject), to_rdflib_term(q.predicate), to_rdflib_term(q.object)))
    return g


def without_targets(shapes: rdflib.Graph, compiled: shacl_core.Compiled) -> rdflib.Graph:
    """The shapes with the targets of every compiled shape removed: what is left for pySHACL."""
    out = engine_shapes(shapes)
    for shape in compiled.targets:
        if shape not in compiled.fallback:
            for p in shacl_core.TARGETS:
                out.remove((shape, p, None))
            out.remove((shape, RDF.type, RDFS.Class))
    return out


def _pyshacl(data: rdflib.Graph | Source, shapes: rdflib.Graph, ontology: rdflib.Graph | None,
             compiled: shacl_core.Compiled) -> rdflib.Graph:
    """pySHACL's report for the node shapes `shacl_core` does not compile (an empty report when none)."""
    if not compiled.fallback:
        report = rdflib.Graph()
        report.add((rdflib.BNode(), RDF.type, SH.ValidationReport))
        return report
    graph = data if isinstance(data, rdflib.Graph) else rdflib_copy(data)
    _conforms, report, _text = pyshacl_validate(
        data_graph=graph, shacl_graph=without_targets(shapes, compiled), ont_graph=ontology, inference="none",
        advanced=True, allow_warnings=True, allow_infos=True, abort_on_first=False, meta_shacl=False,
        iterate_rules=False, do_owl_imports=False)  # never fetch what posted data's owl:imports names (SSRF)
    return report


@dataclass(frozen=True)
class PreparedShapes:
    """The shapes split into core and SHACL-SPARQL constraints and compiled, once: a write
    validates a few nodes, and compiling the shapes again for each one cost more than that."""

    shapes: rdflib.Graph
    core: rdflib.Graph
    sparql: list[shacl_sparql.SparqlConstraint]
    compiled: shacl_core.Compiled


def prepare(shapes: rdflib.Graph) -> PreparedShapes:
    core, sparql_constraints = shacl_sparql.split_shapes(shapes)
    return PreparedShapes(shapes, core, sparql_constraints, shacl_core.compile_shapes(core))


def validate(data: rdflib.Graph | Source, *, shapes: rdflib.Graph | PreparedShapes,
             ontology: rdflib.Graph | None = None, max_results: int | None = None,
             vocabulary: Vocabulary | None = None) -> Report:
    """Validate `data` against `shapes`: core and SHACL-SPARQL constraints, on Oxigraph.

    `data` is a store (`Source`: its named graphs less the excluded ones; its own ontology
    graph is part of it) or an rdflib graph, with `ontology` mixed in as pySHACL's ont_graph.
    Inference is not asked for: the build materialises it once, into its own graph.
    With a `vocabulary`, a term of the ontology's namespace it does not declare is a Violation too.
    """
    prepared = shapes if isinstance(shapes, PreparedShapes) else prepare(shapes)
    core, compiled = prepared.core, prepared.compiled
    source = data if isinstance(data, Source) else in_memory(data, ontology)
    report = _pyshacl(data, core, ontology, compiled)
    report_node = report.value(predicate=RDF.type, object=SH.ValidationReport)
    found = list(shacl_core.evaluate(compiled, core, source))
    focus = lambda shape: shacl_core.focus_nodes(compiled, shape, source)  # noqa: E731
    shacl_sparql.evaluate(prepared.sparql, source.store, focus, report, report_node)
    if vocabulary is not None:
        vocabulary.add_results(source, report, report_node)
    parsed = parse_report(report, prepared.shapes, max_results, found)
    report.set((report_node, SH.conforms, rdflib.Literal(parsed.conforms)))
    return parsed
