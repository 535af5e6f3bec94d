"""`kg build`: named graphs, inference, idempotence, and refusing to publish bad data."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import rdflib

from server import namespaces as ns
from server.build.pipeline import BuildResult, build, project_sources, publish
from server.errors import BuildError, InputSyntaxError
from server.store.embedded import KGStore

from .conftest import ROOT


def test_every_named_graph_is_built(built: BuildResult) -> None:
    sizes = built.graph_sizes
    for graph in (ns.G_ONTOLOGY, ns.G_SHAPES, ns.G_ARTICLE, ns.G_OUTSIDE, ns.G_EDITORIAL, ns.G_INFERRED):
        assert sizes.get(graph, 0) > 0, f"{graph} is empty"


def test_stored_article_text_is_the_file_byte_for_byte(store_link: Path) -> None:
    store = KGStore(store_link)
    rows = list(store.query(f"SELECT ?text WHERE {{ GRAPH <{ns.G_ARTICLE}> {{ ?a <{ns.KGO}fullText> ?text }} }}"))
    assert len(rows) == 1
    assert rows[0]["text"].value == (ROOT / "data" / "article.txt").read_text(encoding="utf-8")


def test_inferred_graph_holds_only_new_triples(store_link: Path) -> None:
    store = KGStore(store_link)
    overlap = store.query(f"ASK {{ GRAPH <{ns.G_INFERRED}> {{ ?s ?p ?o }} GRAPH ?g {{ ?s ?p ?o }} "
                          f"FILTER(?g != <{ns.G_INFERRED}>) }}")
    assert not bool(overlap)


def _copy_project(tmp: Path) -> Path:
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / part, tmp / part)
    return tmp


def test_rebuild_is_idempotent(tmp_path: Path, built: BuildResult) -> None:
    link = tmp_path / "store"
    first = build(link)
    second = build(link)
    assert first.graph_sizes == second.graph_sizes == built.graph_sizes
    assert link.resolve() == second.store_path.resolve()


def test_syntax_error_stops_the_build_and_keeps_the_store(tmp_path: Path) -> None:
    project = _copy_project(tmp_path / "project")
    link = tmp_path / "store"
    build(link, sources=project_sources(project))
    before = link.resolve()
    article = project / "data" / "article.ttl"
    lines = article.read_text(encoding="utf-8").splitlines()
    lines.insert(5, "this is not turtle .")
    article.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputSyntaxError) as err:
        build(link, sources=project_sources(project))
    assert "article.ttl" in err.value.message and err.value.detail["line"] == 6
    assert link.resolve() == before


def test_violations_stop_the_build_and_keep_the_store(tmp_path: Path) -> None:
    project = _copy_project(tmp_path / "project")
    link = tmp_path / "store"
    build(link, sources=project_sources(project))
    before = link.resolve()
    # An evidence quote that no longer matches the stored text at its offsets.
    g = rdflib.Graph().parse(project / "data" / "article.ttl")
    exact = rdflib.URIRef("http://www.w3.org/ns/oa#exact")
    selector, _, quote = next(iter(g.triples((None, exact, None))))
    g.set((selector, exact, rdflib.Literal(str(quote) + " (altered)")))
    g.serialize(project / "data" / "article.ttl", format="turtle")
    with pytest.raises(BuildError) as err:
        build(link, sources=project_sources(project))
    assert "Violation" in err.value.message
    assert link.resolve() == before


def test_another_base_iri_rebases_every_term(tmp_path: Path) -> None:
    base = "https://news-kg.example.net/"
    result = build(tmp_path / "store", base_iri=base)
    assert result.report.passed, result.report.to_text()   # only the article's Warning: published
    assert set(result.graph_sizes) == {base + g[len(ns.DEFAULT_BASE):] for g in
                                       (ns.G_ONTOLOGY, ns.G_SHAPES, ns.G_ARTICLE, ns.G_OUTSIDE, ns.G_EDITORIAL,
                                        ns.G_INFERRED)}
    store = KGStore(tmp_path / "store")
    old = store.query(f'ASK {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{ns.DEFAULT_BASE}") || '
                      f'STRSTARTS(STR(?o), "{ns.DEFAULT_BASE}")) }}')
    assert not bool(old)
    assert bool(store.query(f"ASK {{ <{base}id/gyumri> ?p ?o }}"))


def _extra_files(folder: Path) -> list[Path]:
    """An N-Quads file with its own graph and a Turtle file of triples, both about the article's events."""
    folder.mkdir(parents=True, exist_ok=True)
    nq = folder / "more.nq"
    nq.write_text(f"<{ns.ID}second-round-meeting-gyumri> <{ns.KGO}followsEvent> "
                  f"<{ns.ID}second-round-meeting-akyaka-akhurik> <{ns.GRAPH}bench-extra> .\n", encoding="utf-8")
    ttl = folder / "more.ttl"
    ttl.write_text(f"<{ns.ID}margara-crossing-upgrade> <{ns.KGO}inResponseTo> <{ns.ID}world-war-i> .\n",
                   encoding="utf-8")
    return [nq, ttl]


def test_extra_sources_are_built_inferred_and_kept_in_their_graphs(tmp_path: Path) -> None:
    link = tmp_path / "store"
    result = build(link, extra=_extra_files(tmp_path / "extra"))
    assert result.graph_sizes[ns.GRAPH + "bench-extra"] == 1
    assert result.graph_sizes[ns.G_EXTRA] == 1
    store = KGStore(link)
    for s, o in (("second-round-meeting-gyumri", "second-round-meeting-akyaka-akhurik"),
                 ("margara-crossing-upgrade", "world-war-i")):
        assert bool(store.query(f"ASK {{ GRAPH <{ns.G_INFERRED}> {{ <{ns.ID}{s}> <{ns.KGO}after> <{ns.ID}{o}> }} }}"))


def test_a_missing_extra_source_stops_the_build_and_keeps_the_store(tmp_path: Path) -> None:
    link = tmp_path / "store"
    build(link)
    before = link.resolve()
    with pytest.raises(BuildError) as err:
        build(link, extra=[tmp_path / "no-such-file.nq"])
    assert "no-such-file.nq" in err.value.message
    assert link.resolve() == before


def test_a_clash_stops_the_build_and_keeps_the_store(tmp_path: Path) -> None:
    project = _copy_project(tmp_path / "project")
    link = tmp_path / "store"
    build(link, sources=project_sources(project))
    before = link.resolve()
    with (project / "ontology" / "kg.ttl").open("a", encoding="utf-8") as fh:
        fh.write("\nkgo:Agent owl:disjointWith kgo:Place .  # a country is both\n")
    with pytest.raises(BuildError) as err:
        build(link, sources=project_sources(project))
    assert "clashes" in err.value.message
    assert f"is a member of the disjoint classes <{ns.KGO}Agent> and <{ns.KGO}Place>" in err.value.message
    assert link.resolve() == before


def test_a_failed_publish_keeps_the_store_and_leaves_no_half_written_build(tmp_path: Path) -> None:
    link = tmp_path / "store"
    build(link)
    before = link.resolve()
    builds = sorted((tmp_path / "store.builds").iterdir())
    with pytest.raises(TypeError):
        publish(link, ["not a quad"])  # type: ignore[list-item]
    assert link.resolve() == before
    assert sorted((tmp_path / "store.builds").iterdir()) == builds


def test_the_build_reports_what_kg_validate_finds_in_the_published_store(tmp_path: Path) -> None:
    from server.validation.inputs import validate_store

    result = build(tmp_path / "store")
    published = validate_store(tmp_path / "store")
    assert result.report.counts == published.counts
    assert sorted(map(str, result.report.results)) == sorted(map(str, published.results))
    assert result.report.counts.get("Warning") == 1  # the article's own date slip (see README)
