"""`kg dump` and `kg restore`: the round trip keeps every named graph (isomorphic, graph by graph)."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from rdflib.compare import isomorphic

from server.cli import main as kg_main


def graphs_of(store: Path) -> dict[str, rdflib.Graph]:
    st = ox.Store.read_only(str(store.resolve()))
    try:
        data = st.dump(format=ox.RdfFormat.N_QUADS)
    finally:
        del st
    ds = rdflib.Dataset()
    ds.parse(data=data.decode("utf-8"), format="nquads")
    out = {}
    for ctx in ds.contexts():
        g = rdflib.Graph()
        for t in ctx:
            g.add(t)
        if len(g):
            out[str(ctx.identifier)] = g
    return out


@pytest.mark.parametrize("fmt, gz, name", [("nquads", True, "dump.nq.gz"), ("trig", False, "dump.trig")])
def test_dump_then_restore_is_isomorphic_graph_by_graph(store_link: Path, tmp_path: Path, fmt, gz, name) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    out = tmp_path / name
    args = ["dump", "--format", fmt, "-o", str(out), "--store", str(store_link)] + (["--gzip"] if gz else [])
    result = runner.invoke(kg_main, args)
    assert result.exit_code == 0, result.output
    restored = tmp_path / "restored" / "store"
    restored.parent.mkdir()
    result = runner.invoke(kg_main, ["restore", str(out), "--store", str(restored)])
    assert result.exit_code == 0, result.output
    original, copy = graphs_of(store_link), graphs_of(restored)
    assert sorted(original) == sorted(copy)
    for name_ in original:
        assert isomorphic(original[name_], copy[name_]), name_
    # a second restore into the now non-empty store is refused
    again = runner.invoke(kg_main, ["restore", str(out), "--store", str(restored)])
    assert again.exit_code == 1 and "not empty" in again.output


def test_restore_of_a_broken_dump_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.nq"
    bad.write_text('<a:b> <a:c> <a:d> <a:g> .\n<a:b> <a:c> "unterminated .\n', encoding="utf-8")
    result = CliRunner().invoke(kg_main, ["restore", str(bad), "--store", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "line 2" in result.output


def test_dump_refuses_when_the_service_uses_a_remote_store(store_link: Path, tmp_path: Path) -> None:
    """Its files are the embedded store's: with a remote store configured, a dump of them would be
    a copy of something else, so it is refused, and says what to do instead."""
    out = tmp_path / "d.nq"
    result = CliRunner().invoke(kg_main, ["dump", "--store", str(store_link), "-o", str(out)],
                                env={"KG_REMOTE_QUERY_URL": "http://127.0.0.1:9/query"})
    assert result.exit_code == 2
    assert "remote store" in result.output and "KG_REMOTE_QUERY_URL" in result.output
    assert not out.exists()
