"""SHACL validation: one entry point for `kg validate`, `kg build` and the HTTP service.

pySHACL reads triple by triple; through oxrdflib every read crosses into Oxigraph (8–16×
slower), so callers hand it an in-memory rdflib graph.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

import rdflib
from pyshacl import validate as pyshacl_validate
from rdflib.namespace import RDF, SH

from .shacl_sparql import evaluate, split_shapes

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


def parse_report(graph: rdflib.Graph, shapes: rdflib.Graph | None, max_results: int | None) -> Report:
    """Turn pySHACL's sh:ValidationReport graph into rows a curator can read."""
    rows: list[Result] = []
    counts = {s: 0 for s in SEVERITIES}
    for node in graph.subjects(RDF.type, SH.ValidationResult):
        severity = str(graph.value(node, SH.resultSeverity) or SH.Violation).rsplit("#", 1)[-1]
        counts[severity] = counts.get(severity, 0) + 1
        shape = graph.value(node, SH.sourceShape)
        messages = [str(m) for m in graph.objects(node, SH.resultMessage)]
        declared = [str(m) for m in shapes.objects(shape, SH.message)] if shapes is not None and shape else []
        message = declared[0] if declared else (messages[0] if messages else "constraint not met")
        detail = next((m for m in messages if m not in declared), None)
        rows.append(Result(severity, _short(graph.value(node, SH.focusNode)) or "",
                           _path_text(graph, graph.value(node, SH.resultPath)),
                           _short(graph.value(node, SH.value)), message, detail, _short(shape),
                           _short(graph.value(node, SH.sourceConstraintComponent))))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    rows.sort(key=lambda r: (order.get(r.severity, 9), r.shape or "", r.focus, r.path or ""))
    total = len(rows)
    truncated = max_results is not None and total > max_results
    return Report(rows[:max_results] if truncated else rows, graph, truncated, total, counts)


def validate(data: rdflib.Graph, *, shapes: rdflib.Graph, ontology: rdflib.Graph | None = None,
             max_results: int | None = None) -> Report:
    """Validate `data` (in memory) against `shapes`; SHACL-SPARQL constraints included.

    Inference is not asked of pySHACL: the build materialises it once, into its own graph.
    SHACL-SPARQL constraints run on Oxigraph (see `shacl_sparql`); pySHACL checks the rest.
    """
    core, sparql_constraints = split_shapes(shapes)
    _conforms, report_graph, _text = pyshacl_validate(
        data_graph=data, shacl_graph=core, ont_graph=ontology, inference="none", advanced=True,
        allow_warnings=True, allow_infos=True, abort_on_first=False, meta_shacl=False, iterate_rules=False,
        do_owl_imports=False)  # never fetch what posted data's owl:imports names (SSRF)
    evaluate(shapes, sparql_constraints, data + ontology if ontology is not None else data, report_graph)
    return parse_report(report_graph, shapes, max_results)
