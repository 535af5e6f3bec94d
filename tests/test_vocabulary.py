"""A closed vocabulary: a kgo: term the ontology does not declare is a Violation, with the nearest
declared term suggested, in `kg build`, `kg validate`, `POST /validate` and writes."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from server import namespaces as ns
from server.build.pipeline import build, project_sources
from server.cli import main as kg_main
from server.errors import BuildError

from .conftest import ROOT, copy_store

TTL = f"""@prefix kgo: <{ns.KGO}> . @prefix kg: <{ns.ID}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""
TYPO_CLASS = TTL + 'kg:typo-person a kgo:Persn ; rdfs:label "Typo Person"@en .\n'
UNDECLARED_CLASS = TTL + 'kg:akhurik a kgo:Village ; rdfs:label "Akhurik"@en .\n'
TYPO_PROPERTY = TTL + 'kg:second-round-technical-talks kgo:partcipant kg:armenia .\n'


def violations(results: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(r["focus"], r["value"], r["message"]) for r in results
            if r["severity"] == "Violation" and r["shape"] == ns.SHAPES + "ClosedVocabularyShape"]


@pytest.mark.parametrize("body, term, hint", [
    (TYPO_CLASS, "Persn", "did you mean kgo:Person?"),
    (UNDECLARED_CLASS, "Village", "kgo:Village is not declared in the ontology"),
    (TYPO_PROPERTY, "partcipant", "did you mean kgo:participant?"),
], ids=["class-typo", "undeclared-class", "property-typo"])
def test_post_validate_names_the_term_and_the_nearest_declared_one(client: Any, body: str, term: str, hint: str) -> None:
    for mode in ("with-graph", "standalone"):
        r = client.post(f"/validate?mode={mode}", data=body, headers={"Content-Type": "text/turtle",
                                                                      "Accept": "application/json"})
        assert r.status_code == 200 and r.json["conforms"] is False, r.text
        found = violations(r.json["results"])
        assert [v for _f, v, _m in found] == [ns.KGO + term], found
        assert hint in found[0][2]


def test_a_write_with_a_typo_is_rejected_with_the_suggestion(make_app: Any, built: Any, tmp_path: Path) -> None:
    app = make_app(store=str(copy_store(built, tmp_path)), write_token="t")
    r = app.test_client().put(f"/rdf-graph-store?graph={ns.GRAPH}typos", data=TYPO_CLASS,
                              headers={"Authorization": "Bearer t", "Content-Type": "text/turtle", "Accept": "application/json"})
    assert r.status_code == 422
    (found,) = violations(r.json["results"])
    assert found[0] == ns.ID + "typo-person" and "did you mean kgo:Person?" in found[2]
    assert app.test_client().get(f"/rdf-graph-store?graph={ns.GRAPH}typos").status_code == 404


def test_kg_validate_files_and_store(tmp_path: Path, built: Any) -> None:
    bad = tmp_path / "typo.ttl"
    bad.write_text(TYPO_PROPERTY, encoding="utf-8")
    result = CliRunner().invoke(kg_main, ["validate", str(bad)])
    assert result.exit_code == 1 and "did you mean kgo:participant?" in result.output
    store = copy_store(built, tmp_path / "copy")
    loaded = tmp_path / "village.ttl"
    loaded.write_text(UNDECLARED_CLASS, encoding="utf-8")
    assert CliRunner().invoke(kg_main, ["load", str(loaded), "--graph", ns.GRAPH + "loaded", "--store", str(store)]).exit_code == 0
    result = CliRunner().invoke(kg_main, ["validate", "--store", str(store)])
    assert result.exit_code == 1 and "kgo:Village is not declared" in result.output


def test_kg_build_refuses_a_file_with_a_typo(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for part in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / part, project / part)
    (project / "data" / "typo.trig").write_text(f"{TTL}<{ns.GRAPH}typos> {{ kg:typo-person a kgo:Persn ; "
                                                f'rdfs:label "Typo Person"@en . }}\n', encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build(tmp_path / "store", sources=project_sources(project))
    assert "did you mean kgo:Person?" in err.value.message

