"""The W3C SHACL test suite (core/ and sparql/), every entry through `kg validate DATA --shapes SHAPES`,
the report compared as the suite's index.html says (tests/w3c_shacl.py). A test that fails
must be listed in tests/w3c/known_failures.toml with its reason, and even then it may not miss a
result the suite expects (a missed violation is never a known failure)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from server.cli import main as kg_main

from .w3c_shacl import Entry, entries, missing, parse, same
from .w3c_suites import known_failures, require, suites_root

ROOT = suites_root()
ENTRIES = entries(ROOT / "shacl") if ROOT is not None and (ROOT / "shacl").is_dir() else []
KNOWN = known_failures("shacl")


def test_the_suite_is_all_there() -> None:
    """The manifests list 120 tests (98 in core/); a run that found fewer would prove less."""
    require("shacl")
    assert len(ENTRIES) == 120
    assert sum(e.name.startswith("core/") for e in ENTRIES) == 98
    assert set(KNOWN) <= {e.name for e in ENTRIES}, "known_failures.toml names a test the suite does not have"


@pytest.mark.parametrize("entry", ENTRIES or [None], ids=[e.name for e in ENTRIES] or ["suite-absent"])
def test_shacl_suite(entry: Entry | None) -> None:
    if entry is None:
        require("shacl")
        return
    result = CliRunner().invoke(kg_main, ["validate", str(entry.data), "--shapes", str(entry.shapes),
                                          "--format", "turtle"])
    assert "Traceback" not in result.output
    if entry.expected is None:  # sht:Failure: the processor must report a failure, not a report
        passed = result.exit_code == 2 and result.output.startswith("kg: error: ")
        assert passed or entry.name in KNOWN, result.output
    else:
        assert result.exit_code in (0, 1), result.output
        report = parse(text=result.output)
        passed = same(report, entry)
        lost = missing(report, entry)
        assert not lost, f"results the suite expects are missing (a missed violation): {lost}"
        assert passed or entry.name in KNOWN, result.output
    if entry.name in KNOWN:
        assert not passed, f"{entry.name} passes now: take it off tests/w3c/known_failures.toml"
        pytest.xfail(KNOWN[entry.name])
