"""`kg load`: bulk loading with progress, parse errors with position, all-or-nothing per file."""
from __future__ import annotations

import gzip
import io
from pathlib import Path

from click.testing import CliRunner

from server.cli import main
from server.store.embedded import KGStore
from server.store.loader import Progress, load_files


def _nt(n: int, start: int = 0) -> str:
    return "".join(f'<http://example.org/s{i}> <http://example.org/p> "{i}" .\n' for i in range(start, start + n))


def _count(store_path: Path, graph: str | None = None) -> int:
    store = KGStore(store_path)
    where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "{ ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } }"
    return int(next(iter(store.ox.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")))["n"].value)


def test_load_ntriples_and_gzip_turtle_into_graphs(tmp_path: Path) -> None:
    nt = tmp_path / "a.nt"
    nt.write_text(_nt(1000), encoding="utf-8")
    ttl = tmp_path / "b.ttl.gz"
    ttl.write_bytes(gzip.compress(b"@prefix ex: <http://example.org/> .\nex:x ex:p 1, 2, 3 .\n"))
    store = tmp_path / "store"
    stats = load_files(store, [nt], graph="http://example.org/g1")
    assert stats.triples == 1000 and stats.exact
    load_files(store, [ttl], graph="http://example.org/g2")
    assert _count(store, "http://example.org/g1") == 1000
    assert _count(store, "http://example.org/g2") == 3


def test_progress_lines_when_not_a_terminal(tmp_path: Path) -> None:
    nt = tmp_path / "a.nt"
    nt.write_text(_nt(5000), encoding="utf-8")
    out = io.StringIO()
    load_files(tmp_path / "store", [nt], progress=Progress(stream=out, every_s=0.0, tty=False))
    lines = out.getvalue().splitlines()
    assert lines and lines[-1].startswith("load: a.nt: 100% 5,000 triples")
    assert "triples/s" in lines[-1] and "elapsed" in lines[-1]


def test_progress_of_a_gzip_file_counts_its_own_bytes(tmp_path: Path) -> None:
    """The percentage is of the file as it lies on disk: a compressed file (here about a tenth of
    what it holds) never shows more than 100 %, and ends at 100 % with every triple counted."""
    nt = tmp_path / "a.nt.gz"
    nt.write_bytes(gzip.compress(_nt(50_000).encode()))
    out = io.StringIO()
    load_files(tmp_path / "store", [nt], progress=Progress(stream=out, every_s=0.0, tty=False))
    lines = out.getvalue().splitlines()
    percents = [int(line.split(": ")[2].split("%")[0]) for line in lines]
    assert percents and max(percents) == 100 and percents == sorted(percents), lines
    assert lines[-1].startswith("load: a.nt.gz: 100% 50,000 triples"), lines[-1]


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    nt = tmp_path / "a.nt"
    nt.write_text(_nt(100), encoding="utf-8")
    out = io.StringIO()
    load_files(tmp_path / "store", [nt], progress=Progress(stream=out, tty=True))
    assert "\r" in out.getvalue() and "[######" in out.getvalue()


def test_syntax_error_names_line_and_loads_nothing_of_that_file(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.nt", tmp_path / "bad.nt"
    good.write_text(_nt(10), encoding="utf-8")
    bad.write_text(_nt(500, 100) + "not a triple .\n" + _nt(500, 600), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["load", str(good), str(bad), "--store", str(tmp_path / "store")])
    assert result.exit_code == 2
    assert "bad.nt" in result.output and "line 501" in result.output
    assert "Traceback" not in result.output
    assert _count(tmp_path / "store") == 10  # the good file stays; nothing of the bad one


def test_cli_summary(tmp_path: Path) -> None:
    nt = tmp_path / "a.nt"
    nt.write_text(_nt(42), encoding="utf-8")
    result = CliRunner().invoke(main, ["load", str(nt), "--store", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    assert "loaded 42 triples from 1 file(s)" in result.output


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "data.csv"
    f.write_text("a,b\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["load", str(f), "--store", str(tmp_path / "store")])
    assert result.exit_code == 2 and "unknown RDF file extension" in result.output
