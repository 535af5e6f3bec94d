"""The W3C SPARQL 1.1 test suite as test cases: its manifests read at run time (never copied), and
the comparison of an answer with a test's expected result.

Every file of the suite is named by its canonical IRI under `SUITE_IRI` (the base the suite's
manifests are written for): the data files are loaded into graphs of those names, and a query is
sent to an endpoint URL in its own folder, so that `FROM <data.ttl>` names the graph of that file
as the suite means it.

Comparison (as the suite's README says): solutions as multisets (as sequences where the query
orders them), blank nodes by one consistent mapping, literals by RDF term equality, ASK by its
boolean, graphs by isomorphism; CSV (lossy by design) by its rows of strings.
"""
from __future__ import annotations

import csv
import functools
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from . import w3c_suites
from .w3c_suites import suites_root

SUITE_IRI = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
RS = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/result-set#")

SYNTAX_TYPES = {"PositiveSyntaxTest11": ("query", True), "NegativeSyntaxTest11": ("query", False),
                "PositiveUpdateSyntaxTest11": ("update", True), "NegativeUpdateSyntaxTest11": ("update", False)}
EVALUATION_FOLDERS = ("aggregates", "bind", "bindings", "cast", "construct", "exists", "functions", "grouping",
                      "negation", "project-expression", "property-path", "subquery", "csv-tsv-res", "json-res")
RDF_FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES, ".rdf": ox.RdfFormat.RDF_XML}
RESULT_FORMATS = {".srx": ox.QueryResultsFormat.XML, ".srj": ox.QueryResultsFormat.JSON,
                  ".tsv": ox.QueryResultsFormat.TSV, ".csv": ox.QueryResultsFormat.CSV}


@dataclass(frozen=True)
class Entry:
    """One test of a manifest; files by their canonical IRIs."""

    folder: str
    name: str
    kind: str                         # the manifest's type, e.g. QueryEvaluationTest
    action: str                       # the query (or update) file
    data: tuple[str, ...] = ()        # qt:data: the default graph
    graph_data: tuple[str, ...] = ()  # qt:graphData: the named graphs
    result: str | None = None

    @property
    def id(self) -> str:
        return f"{self.folder}/{self.name}"

    @property
    def endpoint(self) -> str:
        """An endpoint URL in the test's folder: relative IRIs of its query resolve to its files."""
        return f"{SUITE_IRI}{self.folder}/sparql"


def sparql11() -> Path | None:
    """The suite's sparql11 folder, or None (tests that need it are skipped by `require`)."""
    root = suites_root()
    folder = None if root is None else root / "sparql11" / "sparql" / "sparql11"
    return folder if folder is not None and folder.is_dir() else None


def local_path(iri: str) -> Path:
    folder = sparql11()
    assert folder is not None and iri.startswith(SUITE_IRI), iri
    return folder / iri[len(SUITE_IRI):]


def text_of(iri: str) -> str:
    return local_path(iri).read_text(encoding="utf-8")


def entries(folders: Iterable[str] | None = None) -> list[Entry]:
    """Every entry of the manifests of these folders (all folders when None), in manifest order."""
    root = sparql11()
    if root is None:
        return []
    names = sorted(p.parent.name for p in root.glob("*/manifest.ttl")) if folders is None else list(folders)
    return [entry for folder in names for entry in _folder_entries(root, folder)]


@functools.cache
def _folder_entries(root: Path, folder: str) -> tuple[Entry, ...]:
    graph = rdflib.Graph().parse(root / folder / "manifest.ttl", format="turtle",
                                 publicID=f"{SUITE_IRI}{folder}/manifest.ttl")
    found = []
    for manifest in graph.subjects(RDF.type, MF.Manifest):
        listed = graph.value(manifest, MF.entries)
        for node in Collection(graph, listed) if listed is not None else []:
            found.append(_entry(graph, folder, node))
    return tuple(found)


def _entry(graph: rdflib.Graph, folder: str, node: Any) -> Entry:
    kind = str(graph.value(node, RDF.type)).rsplit("#", 1)[-1]
    action = graph.value(node, MF.action)
    result = graph.value(node, MF.result)
    name = str(node).rsplit("#", 1)[-1]
    if isinstance(action, rdflib.URIRef):
        return Entry(folder, name, kind, str(action), result=str(result) if result else None)
    query = graph.value(action, QT.query)
    return Entry(folder, name, kind, str(query) if query else "",
                 tuple(sorted(str(d) for d in graph.objects(action, QT.data))),
                 tuple(sorted(str(d) for d in graph.objects(action, QT.graphData))),
                 str(result) if result else None)


def known_failures() -> dict[str, str]:
    """The `[sparql]` table of the one file of known engine differences: test id -> reason."""
    return w3c_suites.known_failures("sparql")


# -- answers, read into one comparable form ------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """What a query answered: solutions (rows of variable -> N-Triples term, in order), a
    boolean, a graph, CSV rows, or an error."""

    kind: str                                    # "solutions", "boolean", "graph", "csv", "error"
    rows: tuple[tuple[tuple[str, str], ...], ...] = ()
    boolean: bool | None = None
    graph: rdflib.Graph | None = None
    error: str = ""

    def __repr__(self) -> str:
        if self.kind == "solutions" or self.kind == "csv":
            return f"Answer({self.kind}, {len(self.rows)} rows: {list(self.rows)[:6]})"
        if self.kind == "graph":
            assert self.graph is not None
            return f"Answer(graph of {len(self.graph)}: {sorted(self.graph)[:4]})"
        return f"Answer({self.kind}, {self.boolean if self.kind == 'boolean' else self.error})"


def answer_from_results(data: bytes, fmt: ox.QueryResultsFormat) -> Answer:
    """A SPARQL results document (XML, JSON, TSV) as an Answer."""
    if fmt == ox.QueryResultsFormat.CSV:
        return answer_from_csv(data.decode("utf-8"))
    parsed = ox.parse_query_results(data, fmt)
    if isinstance(parsed, ox.QueryBoolean):
        return Answer("boolean", boolean=bool(parsed))
    names = [v.value for v in parsed.variables]
    rows = tuple(tuple(sorted((n, str(s[n])) for n in names if s[n] is not None)) for s in parsed)
    return Answer("solutions", rows)


def answer_from_csv(text: str) -> Answer:
    """CSV rows as strings (CSV keeps no term types); cells of blank nodes stay `_:label`."""
    lines = list(csv.reader(io.StringIO(text)))
    header, body = lines[0], lines[1:]
    rows = tuple(tuple(sorted((n, v) for n, v in zip(header, line) if v != "")) for line in body)
    return Answer("csv", rows)


def answer_from_graph(data: bytes | str, rdf_format: str, base: str | None = None) -> Answer:
    """An RDF document: a graph, or (in the suite's expected results) an rs:ResultSet."""
    graph = rdflib.Graph().parse(data=data, format=rdf_format, publicID=base)
    result_set = next(iter(graph.subjects(RDF.type, RS.ResultSet)), None)
    if result_set is None:
        return Answer("graph", graph=graph)
    boolean = graph.value(result_set, RS.boolean)
    if boolean is not None:
        return Answer("boolean", boolean=bool(boolean.toPython()))
    solutions = []
    for solution in graph.objects(result_set, RS.solution):
        index = graph.value(solution, RS.index)
        row = tuple(sorted((str(graph.value(b, RS.variable)), _nt(graph.value(b, RS.value)))
                           for b in graph.objects(solution, RS.binding)))
        solutions.append((int(index) if index is not None else 0, row))
    return Answer("solutions", tuple(row for _, row in sorted(solutions, key=lambda s: s[0])))


def _nt(term: Any) -> str:
    """An rdflib term as pyoxigraph writes it (N-Triples; xsd:string literals without a datatype)."""
    if isinstance(term, rdflib.URIRef):
        return str(ox.NamedNode(str(term)))
    if isinstance(term, rdflib.BNode):
        return str(ox.BlankNode(str(term)))
    if term.language:
        return str(ox.Literal(str(term), language=term.language))
    datatype = ox.NamedNode(str(term.datatype)) if term.datatype else None
    return str(ox.Literal(str(term), datatype=datatype))


def expected_answer(entry: Entry) -> Answer:
    assert entry.result is not None, entry
    path = local_path(entry.result)
    if path.suffix in RESULT_FORMATS:
        return answer_from_results(path.read_bytes(), RESULT_FORMATS[path.suffix])
    return answer_from_graph(path.read_bytes(), {".ttl": "turtle", ".rdf": "xml", ".nt": "nt"}[path.suffix],
                             base=entry.result)


# -- comparison ----------------------------------------------------------------------------------

_BNODE = re.compile(r"^_:")


def same(expected: Answer, got: Answer, *, ordered: bool = False) -> bool:
    """Equal answers: blank nodes by one consistent mapping, rows as multisets (or in order)."""
    if expected.kind != got.kind:
        return False
    if expected.kind == "boolean":
        return expected.boolean == got.boolean
    if expected.kind == "graph":
        assert expected.graph is not None and got.graph is not None
        return isomorphic(expected.graph, got.graph)
    if expected.kind == "error":
        return True
    if len(expected.rows) != len(got.rows):
        return False
    if not any(_BNODE.match(v) for row in expected.rows + got.rows for _, v in row):
        return list(expected.rows) == list(got.rows) if ordered else Counter(expected.rows) == Counter(got.rows)
    return _match_rows(list(expected.rows), list(got.rows), {}, {}, ordered)


def _match_rows(expected: list[Any], got: list[Any], there: dict[str, str], back: dict[str, str],
                ordered: bool) -> bool:
    """Backtracking search for a one-to-one blank node mapping under which the rows match (the
    suite's results are small: a few rows with blank nodes)."""
    if not expected:
        return not got
    row, rest = expected[0], expected[1:]
    candidates = [0] if ordered else range(len(got))
    for i in candidates:
        mapping = _extend(row, got[i], dict(there), dict(back))
        if mapping is not None and _match_rows(rest, got[:i] + got[i + 1:], *mapping, ordered):
            return True
    return False


def _extend(row: Any, other: Any, there: dict[str, str], back: dict[str, str]) -> tuple[dict[str, str],
                                                                                       dict[str, str]] | None:
    if [n for n, _ in row] != [n for n, _ in other]:
        return None
    for (_, a), (_, b) in zip(row, other):
        if _BNODE.match(a) and _BNODE.match(b):
            if there.setdefault(a, b) != b or back.setdefault(b, a) != a:
                return None
        elif a != b:
            return None
    return there, back
