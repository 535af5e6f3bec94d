"""SHACL shapes: each constraint has a small invalid graph that yields exactly its result,
and the real data conforms (no Violation)."""
from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from server.build.pipeline import BuildResult
from server.validation.validate import validate

from .conftest import ROOT, parse_expectations

CASES = sorted((ROOT / "tests" / "shape_cases").glob("*.ttl"))


def test_there_is_a_case_for_each_kind_of_constraint() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_shape_case(path: Path, shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
    expect = parse_expectations(path.read_text(encoding="utf-8"),
                                ("expect-focus", "expect-path", "expect-severity", "expect-shape"))
    report = validate(rdflib.Graph().parse(path), shapes=shapes, ontology=ontology)
    assert len(report.results) == 1, report.to_text()
    (result,) = report.results
    assert result.focus == expect["expect-focus"]
    assert (result.path or "none") == expect["expect-path"]
    assert result.severity == expect["expect-severity"]
    assert result.shape == expect["expect-shape"]
    assert result.message and "constraint not met" not in result.message


def test_the_article_graph_has_no_violation(built: BuildResult) -> None:
    """One Warning (below): SHACL says it does not conform; the build published it (allow_warnings)."""
    assert built.report.counts == {"Violation": 0, "Warning": 1, "Info": 0}, built.report.to_text()
    assert built.report.passed and not built.report.conforms


def test_the_report_before_the_event_is_a_warning(built: BuildResult) -> None:
    """The article says Türkiye spoke on Thursday (Nov 27) of talks held Nov 28: a Warning, kept as written."""
    warnings = [r for r in built.report.results if r.severity == "Warning"]
    assert warnings, "the 'said Thursday' claim about the Nov. 28 meeting should be reported as a Warning"
