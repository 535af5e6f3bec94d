"""Where the W3C SPARQL 1.1 and SHACL test suites are found at run time (they are never copied
into the project).

Looked up in this order: the `KG_W3C_SUITES` environment variable (the folder that holds
`sparql11/` and `shacl/`), then a `shared/w3c/` folder beside the project's checkout or beside
any folder above it. Tests that need a suite that is not there are skipped with a reason that
says how to point at it (`pytest -ra` lists it), never passed.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = "KG_W3C_SUITES"
KNOWN_FAILURES = Path(__file__).resolve().parent / "w3c" / "known_failures.toml"


def suites_root() -> Path | None:
    """The folder holding `sparql11/` and `shacl/`, or None when it cannot be found."""
    if os.environ.get(ENV):
        folder = Path(os.environ[ENV])
        return folder if folder.is_dir() else None
    for parent in ROOT.parents:
        candidate = parent / "shared" / "w3c"
        if (candidate / "sparql11").is_dir() and (candidate / "shacl").is_dir():
            return candidate
    return None


def require(suite: str) -> Path:
    """The folder of one suite (`sparql11` or `shacl`); skips the calling test when it is absent."""
    root = suites_root()
    if root is None or not (root / suite).is_dir():
        pytest.skip(f"the W3C {suite} test suite was not found: set {ENV} to the folder that holds "
                    "sparql11/ and shacl/ (a shared/w3c/ folder beside the checkout is found by itself)")
    return root / suite


def known_failures(table: str) -> dict[str, str]:
    """One table (`sparql`, `shacl`) of the one file of known failures: test id -> reason."""
    with KNOWN_FAILURES.open("rb") as f:
        return dict(tomllib.load(f).get(table, {}))
