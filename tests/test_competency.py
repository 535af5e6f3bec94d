"""The competency questions: each SPARQL file's answer equals its expected CSV, row for row.

They run through the app's query engine (Oxigraph, the union of named graphs as default
graph), exactly as a researcher's query does -- on the embedded store and on a remote
`oxigraph serve` (the `app` fixture below is parametrised over both). The questions in
`competency/sources/` ask what each of two sources says: they run on the store with the second
report of the talks added through POST /sources (the `two_sources` fixture).
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask

from .conftest import ROOT, TwoSources, parse_expectations


@pytest.fixture(scope="session")
def app(any_store_app: Flask) -> Flask:
    return any_store_app


CQ_DIR = ROOT / "tests" / "competency"
QUESTIONS = sorted(CQ_DIR.glob("*.rq"))
SOURCE_QUESTIONS = sorted((CQ_DIR / "sources").glob("*.rq"))


@pytest.fixture(scope="module")
def two_source_app(make_app, two_sources: TwoSources) -> Flask:  # type: ignore[no-untyped-def]
    return make_app(store=str(two_sources.store))


def rows_of(csv_text: str) -> tuple[list[str], Counter[tuple[str, ...]]]:
    reader = csv.reader(io.StringIO(csv_text))
    lines = [row for row in reader if row]
    header, body = lines[0], lines[1:]
    return header, Counter(tuple(r) for r in body)


def test_there_are_enough_questions() -> None:
    assert len(QUESTIONS) >= 40


def test_there_are_questions_about_several_sources() -> None:
    assert len(SOURCE_QUESTIONS) >= 8


@pytest.mark.parametrize("path", QUESTIONS, ids=[p.stem for p in QUESTIONS])
def test_competency_question(app: Flask, path: Path) -> None:
    answers_as_expected(app, path)


@pytest.mark.parametrize("path", SOURCE_QUESTIONS, ids=[p.stem for p in SOURCE_QUESTIONS])
def test_competency_question_with_two_sources(two_source_app: Flask, path: Path) -> None:
    answers_as_expected(two_source_app, path)


def answers_as_expected(app: Flask, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    meta = parse_expectations(text, ("question", "answer", "covers"))
    assert meta.get("question") and meta.get("answer"), f"{path.name} must say its question and answer in words"
    expected_header, expected = rows_of(path.with_suffix(".csv").read_text(encoding="utf-8"))
    client = app.test_client()
    resp = client.post("/sparql", data=text.encode("utf-8"),
                       headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "text/csv"
    got_header, got = rows_of(resp.get_data(as_text=True))
    if expected_header == ["ask"]:
        assert got_header == ["_askResult"]
    else:
        assert got_header == expected_header
    assert got == expected


def test_every_paragraph_and_caption_is_covered() -> None:
    covers = " ".join(parse_expectations(p.read_text(encoding="utf-8"), ("covers",)).get("covers", "")
                      for p in QUESTIONS)
    for part in ("caption 1", "caption 2", "caption 3"):
        assert part in covers, f"no competency question covers {part}"
    assert sum(f"¶{n}" in covers for n in range(1, 13)) >= 10, "most body paragraphs need a question"
