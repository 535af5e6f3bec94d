"""The `kg` commands: help, exit codes and one-line errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import main

from .conftest import ROOT

CASES = ROOT / "tests" / "shape_cases"


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("command", [[], ["build"], ["validate"], ["query"], ["serve"], ["evidence"]])
def test_every_command_has_help(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_serve_help_names_every_setting_and_its_variable(runner: CliRunner) -> None:
    from server.settings import SETTINGS

    out = runner.invoke(main, ["serve", "--help"]).output
    for s in SETTINGS:
        assert s.flag in out and s.env in out


def test_validate_built_store_passes_with_its_warning(runner: CliRunner, store_link: Path) -> None:
    """The article's one Warning: the report does not conform, `kg validate` passes unless asked not to."""
    result = runner.invoke(main, ["validate", "--store", str(store_link)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Does not conform: 0 Violations, 1 Warning, 0 Infos; passes")
    strict = runner.invoke(main, ["validate", "--store", str(store_link), "--no-allow-warnings"])
    assert strict.exit_code == 1 and strict.output.startswith("Does not conform: 0 Violations, 1 Warning, 0 Infos.")
    by_env = runner.invoke(main, ["validate", "--store", str(store_link)], env={"KG_ALLOW_WARNINGS": "false"})
    assert by_env.exit_code == 1


def test_validate_files_that_conform(runner: CliRunner) -> None:
    files = [str(ROOT / "ontology" / "kg.ttl"), str(ROOT / "data" / "article.ttl"), str(ROOT / "data" / "outside.ttl")]
    result = runner.invoke(main, ["validate", *files, "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["passed"] is True and report["counts"]["Violation"] == 0
    assert report["conforms"] is (report["total"] == 0)


def test_validate_a_file_that_does_not_conform(runner: CliRunner) -> None:
    case = sorted(CASES.glob("*.ttl"))[0]
    result = runner.invoke(main, ["validate", str(case)])
    assert result.exit_code == 1
    assert "Violation" in result.output or "Warning" in result.output


def test_validate_report_as_turtle_is_a_shacl_report(runner: CliRunner) -> None:
    import rdflib

    case = sorted(CASES.glob("*.ttl"))[0]
    result = runner.invoke(main, ["validate", str(case), "--format", "turtle"])
    g = rdflib.Graph().parse(data=result.output, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert (None, rdflib.RDF.type, sh.ValidationReport) in g


def test_validate_unreadable_file_exits_2_with_line_and_column(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n", encoding="utf-8")
    result = runner.invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "bad.ttl" in result.output and "line 2" in result.output
    assert "Traceback" not in result.output


def test_validate_missing_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["validate", str(tmp_path / "nope.ttl")])
    assert result.exit_code == 2
    assert "not found" in result.output


def test_unknown_flag_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["build", "--no-such-flag"])
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_query_prints_table_json_and_csv(runner: CliRunner, store_link: Path) -> None:
    q = "SELECT ?g WHERE { GRAPH ?g {} } ORDER BY ?g"
    table = runner.invoke(main, ["query", q, "--store", str(store_link)])
    assert table.exit_code == 0, table.output
    assert table.output.splitlines()[0].strip() == "g" and "rows)" in table.output
    as_json = runner.invoke(main, ["query", q, "--format", "json", "--store", str(store_link)])
    assert len(json.loads(as_json.output)["results"]["bindings"]) >= 5
    as_csv = runner.invoke(main, ["query", q, "--format", "csv", "--store", str(store_link)])
    assert as_csv.output.splitlines()[0] == "g"


def test_query_from_file(runner: CliRunner, store_link: Path, tmp_path: Path) -> None:
    f = tmp_path / "q.rq"
    f.write_text("ASK { ?s ?p ?o }", encoding="utf-8")
    result = runner.invoke(main, ["query", "-f", str(f), "--store", str(store_link)])
    assert result.exit_code == 0 and result.output.strip() == "true"


def test_query_resolves_relative_iris_against_the_graphs_base(runner: CliRunner, store_link: Path) -> None:
    """A relative IRI is the graph's own resource (as a request URL is the base at /sparql); --base
    names another base, and a BASE in the query wins over both."""
    q = "SELECT ?t WHERE { <id/second-round-technical-talks> a ?t } LIMIT 1"
    found = runner.invoke(main, ["query", q, "--format", "json", "--store", str(store_link)])
    assert found.exit_code == 0, found.output
    assert len(json.loads(found.output)["results"]["bindings"]) == 1
    other = runner.invoke(main, ["query", q, "--format", "json", "--base", "http://x.example/", "--store",
                                 str(store_link)])
    assert other.exit_code == 0 and json.loads(other.output)["results"]["bindings"] == []
    based = runner.invoke(main, ["query", "BASE <http://x.example/> ASK { <id/second-round-technical-talks> ?p ?o }",
                                 "--store", str(store_link)])
    assert based.exit_code == 0 and based.output.strip() == "false"
    bad = runner.invoke(main, ["query", q, "--base", "not an iri", "--store", str(store_link)])
    assert bad.exit_code == 2 and "--base" in bad.output


def test_query_syntax_error_is_one_line_exit_2(runner: CliRunner, store_link: Path) -> None:
    result = runner.invoke(main, ["query", "SELECT * WHERE {", "--store", str(store_link)])
    assert result.exit_code == 2
    assert result.output.startswith("kg: error: syntax error at line 1")
    assert len(result.output.strip().splitlines()) == 1


def test_query_without_store_says_build_first(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["query", "ASK {}", "--store", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "kg build" in result.output


def test_build_takes_extra_sources_from_the_flag_or_the_environment(runner: CliRunner, tmp_path: Path) -> None:
    extra = tmp_path / "extra.ttl"
    extra.write_text("<https://kars-gyumri.example.org/id/margara-crossing-upgrade> "
                     "<https://kars-gyumri.example.org/ontology#inResponseTo> "
                     "<https://kars-gyumri.example.org/id/world-war-i> .\n", encoding="utf-8")
    by_flag = runner.invoke(main, ["build", "--store", str(tmp_path / "a"), "--extra-sources", str(extra)])
    by_env = runner.invoke(main, ["build", "--store", str(tmp_path / "b")], env={"KG_EXTRA_SOURCES": str(extra)})
    for result in (by_flag, by_env):
        assert result.exit_code == 0, result.output
        assert "https://kars-gyumri.example.org/graph/extra\n" in result.output
    missing = runner.invoke(main, ["build", "--store", str(tmp_path / "c"),
                                   "--extra-sources", str(tmp_path / "nope.nq")])
    assert missing.exit_code == 1 and "nope.nq: file not found" in missing.output
    assert not (tmp_path / "c").exists()
