"""A write validates only the focus nodes it can affect: never fewer than full validation would
find at fault. For each change, every result that validating the whole post-write graph has and
the graph before did not have must be in the write's own report."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from server import namespaces as ns
from server.curation.changes import Change
from server.curation.locality import shape_reads, sparql_reads
from server.curation.store_access import Lease
from server.curation.writes import Curation, Target, WriteRejected
from server.settings import load_settings
from server.validation.validate import Report, Source, validate

from .conftest import ROOT

G = ns.GRAPH + "curated"
CASES = sorted((ROOT / "tests" / "shape_cases").glob("*.ttl"))
XSD = "http://www.w3.org/2001/XMLSchema#"
PFX = (f"PREFIX kgo: <{ns.KGO}> PREFIX kg: <{ns.ID}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
       "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> ")


@pytest.fixture(scope="module")
def curation(private_store: Path) -> Curation:
    return Curation(load_settings({"store": str(private_store)}))


@pytest.fixture(scope="module")
def before(curation: Curation) -> tuple[str, ox.Store, set[tuple[str, ...]]]:
    key, mem = curation.snapshot_store()
    rules = curation.rules(key, mem)
    return key, mem, keys(validate(curation.data_source(mem), shapes=rules.prepared))


def keys(report: Report) -> set[tuple[str, ...]]:
    return {(r.severity, r.focus, r.path or "", r.shape or "", r.value or "") for r in report.results}


def local_and_full(curation: Curation, before: tuple[str, ox.Store, set[tuple[str, ...]]],
                   change: Change) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]], str]:
    """The write's own report, and the results full validation of its post-write graph adds."""
    key, pre, old = before
    mem = ox.Store()
    mem.extend(pre)
    target = Target(Lease(mem), key, mem.update)
    try:
        plan = curation.plan(change, target)
        report, mode = plan.report, plan.validation
    except WriteRejected as rejected:
        report, mode = rejected.report, "rejected"
        plan = None
    diff = _diff_of(curation, change, pre)
    for q in diff.removed + diff.derived:
        mem.remove(q)
    mem.extend(diff.added)
    full = validate(curation.data_source(mem, diff.added), shapes=curation.rules(key, pre).prepared)
    return keys(report), keys(full) - old, mode if plan is None else plan.validation


def _diff_of(curation: Curation, change: Change, pre: ox.Store):  # type: ignore[no-untyped-def]
    """The change's diff as the write computes it, whatever its report says."""
    from server.curation import changes as ch

    diff = ch.update_diff(pre, change.update or "", curation.base)
    diff.derived = ch.orphaned_inferences(pre, diff.removed, diff.added, curation.g_inferred,
                                          frozenset({curation.g_shapes, curation.g_changelog}))
    return diff


def case_change(path: Path) -> Change:
    quads = ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE)
    body = " ".join(f"{q.subject} {q.predicate} {q.object} ." for q in quads)
    return Change("sparql-update", update=f"INSERT DATA {{ GRAPH <{G}> {{ {body} }} }}")


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_a_shape_case_added_to_the_graph(curation: Curation, before, path: Path) -> None:  # type: ignore[no-untyped-def]
    local, new, _mode = local_and_full(curation, before, case_change(path))
    assert new, "the case adds no result to the graph"
    assert new <= local, sorted(new - local)


def _one(store: ox.Store, query: str) -> ox.QuerySolution:
    return next(iter(store.query(PFX + query, use_default_graph_as_union=True)))  # type: ignore[arg-type]


def edits(store: ox.Store) -> dict[str, str]:
    """Changes to existing nodes whose effect reaches other focus nodes."""
    text = _one(store, "SELECT ?a ?t ?g WHERE { GRAPH ?g { ?a kgo:fullText ?t } }")
    start = _one(store, "SELECT ?p ?s ?g WHERE { GRAPH ?g { ?p a <http://www.w3.org/ns/oa#TextPositionSelector> ; "
                        "<http://www.w3.org/ns/oa#start> ?s } }")
    country = _one(store, "SELECT ?c ?g WHERE { GRAPH ?g { ?c a kgo:Country } ?post <http://www.w3.org/ns/org#postIn> ?c }")
    claim = _one(store, f"SELECT ?e ?d ?s ?g WHERE {{ ?c kgo:statementDate ?s ; kgo:claimsAbout ?e . "
                        f"GRAPH ?g {{ ?e kgo:date ?d }} FILTER(datatype(?d) = <{XSD}date>) }}")
    return {
        "article-text-changed": (f"DELETE DATA {{ GRAPH {text['g']} {{ {text['a']} kgo:fullText {text['t']} }} }} ; "
                                 f"INSERT DATA {{ GRAPH {text['g']} {{ {text['a']} kgo:fullText \"Shorter.\" }} }}"),
        "selector-start-removed": f"DELETE DATA {{ GRAPH {start['g']} {{ {start['p']} <http://www.w3.org/ns/oa#start> {start['s']} }} }}",
        "country-type-removed": f"DELETE DATA {{ GRAPH {country['g']} {{ {country['c']} a kgo:Country }} }}",
        "event-moved-after-a-claim-about-it": (
            f"DELETE DATA {{ GRAPH {claim['g']} {{ {claim['e']} kgo:date {claim['d']} }} }} ; "
            f"INSERT DATA {{ GRAPH {claim['g']} {{ {claim['e']} kgo:date \"2099-01-01\"^^<{XSD}date> }} }}"),  # a Warning about the claim
        "ends-before-it-starts": (f"INSERT DATA {{ GRAPH <{G}> {{ {claim['e']} kgo:startDate \"2025-01-02\"^^<{XSD}date> ; "
                                  f"kgo:endDate \"2025-01-01\"^^<{XSD}date> }} }}"),
        "class-hierarchy-changed": f"INSERT DATA {{ GRAPH <{G}> {{ kgo:City rdfs:subClassOf kgo:Post }} }}",
    }


EDITS = ["article-text-changed", "selector-start-removed", "country-type-removed", "event-moved-after-a-claim-about-it",
         "ends-before-it-starts", "class-hierarchy-changed"]


@pytest.mark.parametrize("name", EDITS)
def test_an_edit_of_existing_nodes(curation: Curation, before, name: str) -> None:  # type: ignore[no-untyped-def]
    update = edits(before[1])[name]
    local, new, mode = local_and_full(curation, before, Change("sparql-update", update=PFX + update))
    assert new, "the edit adds no result to the graph"
    assert new <= local, sorted(new - local)
    if name == "class-hierarchy-changed":
        assert mode in ("full", "rejected")


def test_a_comment_validates_only_its_node_and_the_records_about_it(curation: Curation, before) -> None:  # type: ignore[no-untyped-def]
    """A comment changes no result of other nodes: the per-source shapes read every predicate of a
    node (one value per source) and every triple a statement record names, so the node and its
    statement records are validated, on the few quads they read, and nothing else."""
    key, pre, _old = before
    mem = ox.Store()
    mem.extend(pre)
    plan = curation.plan(Change("sparql-update", update=PFX + f'INSERT DATA {{ GRAPH <{G}> {{ kg:gyumri rdfs:comment "a note" }} }}'),
                         Target(Lease(mem), key, mem.update))
    records = {row[0] for row in pre.query(PFX + "SELECT DISTINCT ?r WHERE { ?r rdf:subject kg:gyumri }",
                                           use_default_graph_as_union=True)}  # type: ignore[union-attr,index]
    assert records
    assert plan.validation == "local" and plan.focus_nodes == 1 + len(records)
    assert plan.read_quads < len(pre) // 10
    assert plan.report.passed and not plan.report.counts.get("Violation")


@pytest.mark.parametrize("query, reason", [
    ("SELECT $this WHERE { ?x <urn:p> $this }", "ends in $this"),
    ("SELECT $this WHERE { $this <urn:p>* ?x }", "unbounded"),
    ("SELECT $this WHERE { $this ^<urn:p> ?x }", "inverse"),
    ("SELECT $this WHERE { <urn:fixed> <urn:p> ?x . FILTER(?x = $this) }", "not joined"),
])
def test_sparql_constraints_that_read_backwards_or_globally_are_not_local(query: str, reason: str) -> None:
    found = sparql_reads(query)
    assert not found.local and reason in found.reason


def test_the_project_shapes_are_local_and_read_two_steps(shapes: rdflib.Graph) -> None:
    reads = shape_reads(shapes)
    assert reads.local, reads.reason
    assert reads.depth == 2
    assert (str(rdflib.URIRef("http://www.w3.org/ns/oa#hasSource")), f"{ns.KGO}fullText") in reads.paths


def test_full_validation_of_a_store_equals_the_sum_of_local_ones(curation: Curation, before) -> None:  # type: ignore[no-untyped-def]
    """Validating every target as its own focus set gives the whole graph's results (the restriction
    by VALUES changes which nodes are validated, not how)."""
    key, pre, old = before
    rules = curation.rules(key, pre)
    targets = {r[1] for r in old}
    assert targets
    restricted = validate(Source(pre, curation.data_source(pre).exclude, focus=frozenset(ox.NamedNode(t) for t in targets)),
                          shapes=rules.prepared)
    assert keys(restricted) == old
