"""The example questions of the query UI and the home page: the competency questions in
`tests/competency/*.rq`, each with its `# Question:` and `# Topic:` header lines."""
from __future__ import annotations

from pathlib import Path
from typing import Any

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "tests" / "competency"


def load_examples() -> list[dict[str, Any]]:
    """The competency questions, offered as ready-to-run examples in the query UI."""
    examples: list[dict[str, Any]] = []
    for number, path in enumerate(sorted(EXAMPLES_DIR.glob("*.rq")), start=1):
        text = path.read_text(encoding="utf-8")
        examples.append({"name": path.stem, "number": number, "question": _header(text, "Question") or path.stem,
                         "topic": _header(text, "Topic") or "Other questions", "query": text})
    return examples


def _header(text: str, key: str) -> str | None:
    """A `# Key: value` line at the top of a query file."""
    return next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith(f"# {key}:")), None)


def examples_by_topic(examples: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The examples grouped by their topic, topics in the order of their first question."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for ex in examples:
        groups.setdefault(ex["topic"], []).append(ex)
    return list(groups.items())
