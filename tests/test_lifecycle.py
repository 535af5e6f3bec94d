"""The files and the service together: `kg build` keeps every accepted change, `kg export-changes`
puts them into data/changes/, and a build from the files alone gives the same dataset."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner, Result
from rdflib.compare import isomorphic

from server import namespaces as ns
from server.build.pipeline import build, project_sources
from server.cli import main as kg_main
from server.curation.changes import Change
from server.curation.patches import PatchLog
from server.curation.sources import source_change
from server.curation.writes import Curation
from server.http.formats import BY_NAME
from server.settings import load_settings

from .conftest import ROOT

PFX = f"PREFIX kgo: <{ns.KGO}> PREFIX kg: <{ns.ID}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
G = ns.GRAPH + "curated"
FIXTURES = ROOT / "tests" / "fixtures"
GYUMRI_LABEL = '"Gyumri"@en'


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A copy of the project's files, built into `<tmp>/store`."""
    root = tmp_path / "project"
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns("changes"))
    build(tmp_path / "store", sources=project_sources(root), changes_dir=root / "data" / "changes")
    return root


def store_of(project: Path) -> Path:
    return project.parent / "store"


def kg(project: Path, *args: str, store: Path | None = None) -> Result:
    return CliRunner().invoke(kg_main, [*args, "--store", str(store or store_of(project)), "--project-dir", str(project)])


def write(project: Path, change: Change) -> str:
    """One change through the write path every server and command uses; its change id."""
    cur = Curation(load_settings({"store": str(store_of(project))}))
    try:
        outcome = cur.write(change)
    finally:
        cur.close()
    assert outcome.activity is not None
    return outcome.activity.id


def update(text: str) -> Change:
    return Change("sparql-update", update=PFX + text)


def quads(store: Path, graph: str | None = None) -> set[str]:
    st = ox.Store.read_only(str(store.resolve()))
    try:
        node = ox.NamedNode(graph) if graph else None
        return {str(q) for q in st.quads_for_pattern(None, None, None, node)}
    finally:
        del st


def ask(store: Path, query: str) -> bool:
    st = ox.Store.read_only(str(store.resolve()))
    try:
        return bool(st.query(PFX + query, use_default_graph_as_union=True))
    finally:
        del st


def test_a_write_survives_kg_build(project: Path) -> None:
    change = write(project, update(f'INSERT DATA {{ GRAPH <{G}> {{ kg:lifecycle-town a kgo:City ; '
                                   f'rdfs:label "Lifecycle Town"@en }} }}'))
    result = kg(project, "build")
    assert result.exit_code == 0, result.output
    assert "1 replayed" in result.output
    store = store_of(project)
    assert ask(store, f'ASK {{ GRAPH <{G}> {{ kg:lifecycle-town rdfs:label "Lifecycle Town"@en }} }}')
    # the change log came along, in its compact form, and still names the change
    assert ask(store, f"ASK {{ GRAPH <{ns.G_CHANGELOG}> {{ <{ns.ID}change/{change}> a <http://www.w3.org/ns/prov#Activity> ; "
                      f"<{ns.DEFAULT_BASE}changelog#changed> kg:lifecycle-town }} }}")


def test_an_edit_of_a_file_backed_graph_survives_kg_build(project: Path) -> None:
    write(project, update(f'DELETE DATA {{ GRAPH <{ns.G_ARTICLE}> {{ kg:gyumri rdfs:label {GYUMRI_LABEL} }} }} ; '
                          f'INSERT DATA {{ GRAPH <{ns.G_ARTICLE}> {{ kg:gyumri rdfs:label "Gyumri (Gümrü)"@en }} }}'))
    assert kg(project, "build").exit_code == 0
    assert ask(store_of(project), f'ASK {{ GRAPH <{ns.G_ARTICLE}> {{ kg:gyumri rdfs:label "Gyumri (Gümrü)"@en }} }}')
    assert not ask(store_of(project), f"ASK {{ kg:gyumri rdfs:label {GYUMRI_LABEL} }}")


def test_an_added_source_survives_kg_build(project: Path) -> None:
    change = source_change((FIXTURES / "second-article.txt").read_bytes(), (FIXTURES / "second-article.ttl").read_bytes(),
                           BY_NAME["turtle"], slug="lifecycle-source", base=ns.DEFAULT_BASE)
    write(project, change)
    graph = ns.GRAPH + "article/lifecycle-source"
    before = quads(store_of(project), graph)
    result = kg(project, "build")
    assert result.exit_code == 0, result.output
    assert quads(store_of(project), graph) == before and before


def test_a_change_that_no_longer_applies_is_named_and_nothing_is_published(project: Path) -> None:
    change = write(project, update(f'DELETE DATA {{ GRAPH <{ns.G_ARTICLE}> {{ kg:gyumri rdfs:label {GYUMRI_LABEL} }} }} ; '
                                   f'INSERT DATA {{ GRAPH <{ns.G_ARTICLE}> {{ kg:gyumri rdfs:label "Gyumri city"@en }} }}'))
    article = project / "data" / "article.ttl"   # meanwhile someone edits the same label in the file
    text = article.read_text(encoding="utf-8")
    assert text.count('rdfs:label "Gyumri"@en') == 1
    article.write_text(text.replace('rdfs:label "Gyumri"@en', 'rdfs:label "Gjumri"@en'), encoding="utf-8")
    served = store_of(project).resolve()
    result = kg(project, "build")
    assert result.exit_code == 1
    assert change in result.output and "no longer hold" in result.output
    assert "--drop-unapplied-changes" in result.output
    assert store_of(project).resolve() == served   # the previous store still serves
    assert ask(store_of(project), 'ASK { kg:gyumri rdfs:label "Gyumri city"@en }')

    result = kg(project, "build", "--drop-unapplied-changes")
    assert result.exit_code == 0, result.output
    assert f"DROPPED: {change}" in result.output
    store = store_of(project)
    assert ask(store, 'ASK { kg:gyumri rdfs:label "Gjumri"@en }') and not ask(store, 'ASK { kg:gyumri rdfs:label "Gyumri city"@en }')
    assert ask(store, f'ASK {{ <{ns.ID}change/{change}> <{ns.DEFAULT_BASE}changelog#dropped> ?why }}')
    assert PatchLog.beside(store).path(change).exists()   # the dropped work can still be read
    assert kg(project, "build").exit_code == 0            # and is not asked about again


def test_a_graph_only_kg_load_wrote_stops_the_build(project: Path, tmp_path: Path) -> None:
    extra = tmp_path / "loaded.nt"
    extra.write_text(f"<{ns.ID}loaded-thing> <http://www.w3.org/2000/01/rdf-schema#comment> \"loaded\" .\n")
    loaded = ns.GRAPH + "loaded"
    assert CliRunner().invoke(kg_main, ["load", str(extra), "--graph", loaded, "--store", str(store_of(project))]).exit_code == 0
    result = kg(project, "build")
    assert result.exit_code == 1 and f"<{loaded}>" in result.output and "--drop-unlogged-graphs" in result.output
    result = kg(project, "build", "--drop-unlogged-graphs")
    assert result.exit_code == 0 and loaded in result.output
    assert not quads(store_of(project), loaded)


def test_exported_changes_rebuild_the_same_dataset_from_the_files_alone(project: Path, tmp_path: Path) -> None:
    source = source_change((FIXTURES / "second-article.txt").read_bytes(), (FIXTURES / "second-article.ttl").read_bytes(),
                           BY_NAME["turtle"], slug="export-source", base=ns.DEFAULT_BASE)
    ids = [write(project, source),
           write(project, update(f'INSERT DATA {{ GRAPH <{G}> {{ kg:export-town a kgo:City ; rdfs:label "Export Town"@en }} }}')),
           write(project, update(f'DELETE DATA {{ GRAPH <{ns.G_ARTICLE}> {{ kg:gyumri rdfs:label {GYUMRI_LABEL} }} }} ; '
                                 f'INSERT DATA {{ GRAPH <{ns.G_ARTICLE}> {{ kg:gyumri rdfs:label "Gyumri (exported)"@en }} }}'))]
    undo = write(project, Change("undo", undo_of=f"{ns.ID}change/{ids[1]}"))
    served_data = data_and_log(store_of(project))

    result = kg(project, "export-changes")
    assert result.exit_code == 0, result.output
    folder = project / "data" / "changes"
    assert sorted(p.stem for p in folder.glob("*.rdfp")) == sorted(ids + [undo])
    text = (folder / f"{ids[2]}.rdfp").read_text(encoding="utf-8")
    assert f'D <{ns.ID}gyumri> <http://www.w3.org/2000/01/rdf-schema#label> {GYUMRI_LABEL} <{ns.G_ARTICLE}> .' in text
    assert kg(project, "export-changes").output.startswith("nothing to export")

    fresh = tmp_path / "fresh" / "store"   # the files alone: a new clone, no store, no patch log
    result = kg(project, "build", store=fresh)
    assert result.exit_code == 0, result.output
    assert "4 replayed" in result.output
    assert isomorphic_datasets(data_and_log(fresh), served_data)
    assert kg(project, "build").exit_code == 0    # the served store rebuilt: the exported changes count once
    assert isomorphic_datasets(quads_of(store_of(project)), quads_of(fresh))


def quads_of(store: Path) -> list[ox.Quad]:
    st = ox.Store.read_only(str(store.resolve()))
    try:
        return list(st)
    finally:
        del st


def data_and_log(store: Path) -> list[ox.Quad]:
    """Every quad but the inferences (a write does not infer; a build does)."""
    return [q for q in quads_of(store) if q.graph_name != ox.NamedNode(ns.G_INFERRED)]


def isomorphic_datasets(a: list[ox.Quad], b: list[ox.Quad]) -> bool:
    """The same named graphs, each isomorphic (the shapes' blank nodes are named anew by each build)."""
    def graphs(quads: list[ox.Quad]) -> dict[str, rdflib.Graph]:
        out: dict[str, list[ox.Triple]] = {}
        for q in quads:
            out.setdefault(str(q.graph_name), []).append(ox.Triple(q.subject, q.predicate, q.object))
        return {g: rdflib.Graph().parse(data=ox.serialize(t, format=ox.RdfFormat.N_TRIPLES).decode(), format="nt")
                for g, t in out.items()}

    ga, gb = graphs(a), graphs(b)
    return ga.keys() == gb.keys() and all(isomorphic(ga[g], gb[g]) for g in ga)


def test_a_change_accepted_while_the_build_runs_stops_its_publication(project: Path) -> None:
    from server.build import pipeline

    original = pipeline.write_build

    def write_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        write(project, update(f'INSERT DATA {{ GRAPH <{G}> {{ kg:late-town a kgo:City ; rdfs:label "Late Town"@en }} }}'))
        return original(*args, **kwargs)

    served = store_of(project).resolve()
    pipeline.write_build = write_meanwhile
    try:
        result = kg(project, "build")
    finally:
        pipeline.write_build = original
    assert result.exit_code == 1 and "while the build ran" in result.output
    assert store_of(project).resolve() == served and ask(served.parent.parent / "store", "ASK { kg:late-town ?p ?o }")


@pytest.fixture()
def legacy_store(project: Path) -> Iterator[Path]:
    """A store whose change log holds a change as it was recorded before patches: N-Quads literals."""
    store = store_of(project)
    act, cl, v = f"{ns.ID}change/20250101T000000000000Z-abcdef", ns.G_CHANGELOG, ns.DEFAULT_BASE + "changelog#"
    added = f'<{ns.ID}legacy-town> <http://www.w3.org/2000/01/rdf-schema#label> "Legacy Town"@en <{G}> .\n'
    st = ox.Store(str(store.resolve()))
    st.update(f"""INSERT DATA {{ GRAPH <{G}> {{ <{ns.ID}legacy-town> <http://www.w3.org/2000/01/rdf-schema#label> "Legacy Town"@en }}
      GRAPH <{cl}> {{ <{act}> a <http://www.w3.org/ns/prov#Activity> ; <{v}operation> "sparql-update" ;
        <http://www.w3.org/ns/prov#startedAtTime> "2025-01-01T00:00:00+00:00"^^<http://www.w3.org/2001/XMLSchema#dateTime> ;
        <http://www.w3.org/ns/prov#endedAtTime> "2025-01-01T00:00:01+00:00"^^<http://www.w3.org/2001/XMLSchema#dateTime> ;
        <http://www.w3.org/ns/prov#wasAssociatedWith> <{ns.ID}agent/curator> ; <http://www.w3.org/ns/prov#generated> <{G}> ;
        <{v}addedQuads> {ox.Literal(added)} ; <{v}removedQuads> "" }} }}""")
    st.flush()
    del st
    yield store


def test_a_change_log_of_literal_snapshots_becomes_patches(project: Path, legacy_store: Path) -> None:
    result = kg(project, "build")
    assert result.exit_code == 0, result.output
    assert ask(legacy_store, f'ASK {{ GRAPH <{G}> {{ kg:legacy-town rdfs:label "Legacy Town"@en }} }}')
    assert not ask(legacy_store, f"ASK {{ ?a <{ns.DEFAULT_BASE}changelog#addedQuads> ?q }}")
    assert PatchLog.beside(legacy_store).ids() == ["20250101T000000000000Z-abcdef"]


def test_dump_and_restore_carry_the_patches(project: Path, tmp_path: Path) -> None:
    change = write(project, update(f'INSERT DATA {{ GRAPH <{G}> {{ kg:dumped-town a kgo:City ; rdfs:label "Dumped"@en }} }}'))
    dump = tmp_path / "backup.nq.gz"
    runner = CliRunner()
    assert runner.invoke(kg_main, ["dump", "--gzip", "-o", str(dump), "--store", str(store_of(project))]).exit_code == 0
    restored = tmp_path / "restored" / "store"
    result = runner.invoke(kg_main, ["restore", str(dump), "--store", str(restored)])
    assert result.exit_code == 0, result.output
    assert isomorphic_datasets(quads_of(restored), quads_of(store_of(project)))   # the patches graph stays out
    assert PatchLog.beside(restored).ids() == [change]
    assert kg(project, "build", store=restored).exit_code == 0                    # every change can be replayed
    cur = Curation(load_settings({"store": str(restored)}))
    try:
        cur.write(Change("undo", undo_of=f"{ns.ID}change/{change}"))             # and undone
    finally:
        cur.close()
    assert not ask(restored, "ASK { kg:dumped-town ?p ?o }")
