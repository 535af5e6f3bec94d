"""The W3C SHACL test suite read from its manifests, and reports compared as its index.html says.

Each `sht:Validate` entry names a data graph and a shapes graph (often the manifest itself) and
either the expected `sh:ValidationReport` or `sht:Failure`. Both reports are reduced to the
listed predicates (sh:resultMessage only where the expected report states one), result paths
are copied per result, and the two are compared as graphs, blank nodes by isomorphism.

Graphs are parsed as `kg validate` parses them (pyoxigraph's parser, literals as written), the
expected report too, so that both sides hold the same lexical forms.

    python -m tests.w3c_shacl      # the three scores: ours, the compiled engine alone, pySHACL
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, SH

from server.validation.fidelity import as_rdflib

MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = rdflib.Namespace("http://www.w3.org/ns/shacl-test#")
KEPT = {SH.result, SH.conforms, SH.focusNode, SH.resultPath, SH.resultSeverity, SH.sourceConstraint,
        SH.sourceConstraintComponent, SH.sourceShape, SH.value}


@dataclass(frozen=True)
class Entry:
    name: str                       # e.g. core/node/and-001
    data: Path
    shapes: Path
    expected: rdflib.Graph | None   # None: sht:Failure
    messages: frozenset[rdflib.Literal]


def parse(path: Path | None = None, *, text: str | None = None) -> rdflib.Graph:
    """Turtle (a file, or `kg validate`'s report) as `kg validate` reads it: relative IRIs against the
    file's URL, literals as written."""
    g = rdflib.Graph()
    quads = ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri()) if path \
        else ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)  # type: ignore[union-attr]
    for q in quads:
        g.add((as_rdflib(q.subject), as_rdflib(q.predicate), as_rdflib(q.object)))
    return g


def entries(suite: Path) -> list[Entry]:
    """Every test of the suite (`suite` holds data-shapes-test-suite/), in manifest order."""
    tests = suite / "data-shapes-test-suite" / "tests"
    return list(_entries(tests / "manifest.ttl", tests))


def _entries(manifest: Path, tests: Path) -> Iterator[Entry]:
    g = parse(manifest)
    for included in g.objects(None, MF.include):
        yield from _entries(_local(included), tests)
    for listed in g.objects(None, MF.entries):
        for e in g.items(listed):
            action, result = g.value(e, MF.action), g.value(e, MF.result)
            name = str(_local(e).relative_to(tests)).removesuffix(".ttl")
            messages = frozenset(g.objects(None, SH.resultMessage))
            expected = None if result == SHT.Failure else reduce(g, result, messages)
            yield Entry(name, _local(g.value(action, SHT.dataGraph)), _local(g.value(action, SHT.shapesGraph)),
                        expected, frozenset(g.objects(result, SH.resultMessage)) | _messages(g, result))


def _messages(g: rdflib.Graph, report: rdflib.term.Node) -> frozenset[rdflib.Literal]:
    return frozenset(m for r in g.objects(report, SH.result) for m in g.objects(r, SH.resultMessage))


def _local(iri: rdflib.term.Node) -> Path:
    return Path(rdflib.URIRef(iri).removeprefix("file://"))


def reduce(g: rdflib.Graph, report: rdflib.term.Node, messages: frozenset[rdflib.Literal]) -> rdflib.Graph:
    """The report reduced as the suite's index.html says (result paths copied per result)."""
    out = rdflib.Graph()
    out.add((report, RDF.type, SH.ValidationReport))
    for o in g.objects(report, SH.conforms):
        out.add((report, SH.conforms, o))
    for r in g.objects(report, SH.result):
        out.add((report, SH.result, r))
        out.add((r, RDF.type, SH.ValidationResult))
        for p, o in g.predicate_objects(r):
            if p == SH.resultPath:
                out.add((r, p, _copy(g, o, out)))
            elif p in KEPT or (p == SH.resultMessage and o in messages):
                out.add((r, p, o))
    return out


def _copy(g: rdflib.Graph, node: rdflib.term.Node, out: rdflib.Graph) -> rdflib.term.Node:
    if not isinstance(node, rdflib.BNode):
        return node
    fresh = rdflib.BNode()
    for p, o in g.predicate_objects(node):
        out.add((fresh, p, _copy(g, o, out)))
    return fresh


def reduced_actual(report: rdflib.Graph, entry: Entry) -> rdflib.Graph:
    node = report.value(predicate=RDF.type, object=SH.ValidationReport)
    return reduce(report, node, entry.messages)


def same(actual: rdflib.Graph, entry: Entry) -> bool:
    assert entry.expected is not None
    return isomorphic(reduced_actual(actual, entry), entry.expected)


def missing(actual: rdflib.Graph, entry: Entry) -> list[tuple[str, ...]]:
    """Expected results that the actual report lacks (blank nodes read as `_`): a missed violation."""
    assert entry.expected is not None
    have = _result_keys(reduced_actual(actual, entry))
    want = _result_keys(entry.expected)
    return [k for k in want if have.count(k) < want.count(k)]


def _result_keys(g: rdflib.Graph) -> list[tuple[str, ...]]:
    def text(t: rdflib.term.Node | None) -> str:
        return "_" if isinstance(t, rdflib.BNode) else str(t)

    return sorted(tuple(text(g.value(r, p)) for p in (SH.focusNode, SH.value, SH.sourceShape,
                                                        SH.sourceConstraintComponent, SH.resultSeverity))
                  for r in g.subjects(RDF.type, SH.ValidationResult))


# -- the three scores --------------------------------------------------------------------------------
def ours(entry: Entry) -> tuple[bool, bool]:
    """(passes, answered by the compiled engine alone) through the validation entry point."""
    from server.errors import ValidationFailure
    from server.validation.validate import validate

    try:
        report = validate(parse(entry.data), shapes=parse(entry.shapes))
    except ValidationFailure:
        return entry.expected is None, True
    alone = not report.pyshacl_shapes
    return (entry.expected is not None and same(report.graph, entry)), alone


def pyshacl_alone(entry: Entry) -> bool:
    from pyshacl import validate as pyshacl_validate

    try:
        _c, graph, _t = pyshacl_validate(parse(entry.data), shacl_graph=parse(entry.shapes), inference="none",
                                         advanced=True, do_owl_imports=False)
    except Exception:  # noqa: BLE001 - any failure of pySHACL counts as its failure
        return entry.expected is None
    if not isinstance(graph, rdflib.Graph):
        return entry.expected is None
    return entry.expected is not None and same(graph, entry)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.w3c_suites import suites_root

    logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)
    root = suites_root()
    if root is None:
        print("the W3C suites were not found: set KG_W3C_SUITES", file=sys.stderr)
        return 2
    all_entries = entries(root / "shacl")
    scores = {"ours": 0, "compiled engine alone": 0, "pySHACL alone": 0}
    for e in all_entries:
        passed, alone = ours(e)
        scores["ours"] += passed
        scores["compiled engine alone"] += passed and alone
        scores["pySHACL alone"] += pyshacl_alone(e)
        if "-v" in argv:
            print(f"{e.name}: ours {'pass' if passed else 'FAIL'}{'' if alone else ' (pySHACL)'}")
    for name, n in scores.items():
        print(f"{name}: {n}/{len(all_entries)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
