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
from rdflib.namespace import RDF, RDFS, SH

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
    """Turn pySHACL's sh:ValidationReport graph into rows a curator can read.

    Each result carries the shape's own `sh:message` (added to the graph as a second
    `sh:resultMessage` when the engine's text differs) and the engine's detail. A report cut
    at `max_results` is cut in its graph too, which then says so in an `rdfs:comment`.
    """
    rows: list[tuple[Result, rdflib.term.Node]] = []
    counts = {s: 0 for s in SEVERITIES}
    for node in list(graph.subjects(RDF.type, SH.ValidationResult)):
        if (None, SH.detail, node) in graph:  # a nested result explaining an sh:node failure, not one of its own
            continue
        severity = str(graph.value(node, SH.resultSeverity) or SH.Violation).rsplit("#", 1)[-1]
        counts[severity] = counts.get(severity, 0) + 1
        shape = graph.value(node, SH.sourceShape)
        messages = [str(m) for m in graph.objects(node, SH.resultMessage)]
        declared = [m for m in shapes.objects(shape, SH.message)] if shapes is not None and shape else []
        for m in declared:
            graph.add((node, SH.resultMessage, m))
        declared_text = [str(m) for m in declared]
        message = declared_text[0] if declared_text else (messages[0] if messages else "constraint not met")
        detail = next((m for m in messages if m not in declared_text and m != message), None)
        rows.append((Result(severity, _short(graph.value(node, SH.focusNode)) or "",
                            _path_text(graph, graph.value(node, SH.resultPath)),
                            _short(graph.value(node, SH.value)), message, detail, _short(shape),
                            _short(graph.value(node, SH.sourceConstraintComponent))), node))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    rows.sort(key=lambda rn: (order.get(rn[0].severity, 9), rn[0].shape or "", rn[0].focus, rn[0].path or ""))
    total = len(rows)
    truncated = max_results is not None and total > max_results
    if truncated:
        for _row, node in rows[max_results:]:
            graph.remove((None, SH.result, node))
            graph.remove((node, None, None))
        for report_node in graph.subjects(RDF.type, SH.ValidationReport):
            graph.add((report_node, RDFS.comment, rdflib.Literal(
                f"Truncated: the first {max_results} of {total} results (setting max_report_results).")))
        rows = rows[:max_results]
    return Report([r for r, _n in rows], graph, truncated, total, counts)


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


def validate(data: rdflib.Graph, *, shapes: rdflib.Graph, ontology: rdflib.Graph | None = None,
             max_results: int | None = None) -> Report:
    """Validate `data` (in memory) against `shapes`; SHACL-SPARQL constraints included.

    Inference is not asked of pySHACL: the build materialises it once, into its own graph.
    SHACL-SPARQL constraints run on Oxigraph (see `shacl_sparql`); pySHACL checks the rest.
    """
    core, sparql_constraints = split_shapes(shapes)
    _conforms, report_graph, _text = pyshacl_validate(
        data_graph=data, shacl_graph=engine_shapes(core), ont_graph=ontology, inference="none", advanced=True,
        allow_warnings=True, allow_infos=True, abort_on_first=False, meta_shacl=False, iterate_rules=False,
        do_owl_imports=False)  # never fetch what posted data's owl:imports names (SSRF)
    evaluate(shapes, sparql_constraints, data + ontology if ontology is not None else data, report_graph)
    return parse_report(report_graph, shapes, max_results)
