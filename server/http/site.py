"""What every page of the site shares: the section a page belongs to (highlighted in the
navigation), cache-busting URLs for our own static files, and the search text to show again
in the header's search box.

Pages extend `templates/base.html`; this module gives that template what it needs, so that no
view passes layout details itself.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, request

STATIC = Path(__file__).resolve().parents[1] / "static"

# (path prefix, section): the first match names the page's place in the navigation.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("/search", "search"),
    ("/sparql", "query"),
    ("/ontology", "ontology"),
    ("/validate", "validation"),
    ("/history", "history"),
    ("/workbench", "workbench"),
    ("/dataset", "dataset"),
    ("/dumps", "dataset"),
    ("/shapes", "validation"),
)

# The navigation, in order: (section, path, label).
NAVIGATION: tuple[tuple[str, str, str], ...] = (
    ("home", "/", "Browse"),
    ("query", "/sparql", "Query"),
    ("ontology", "/ontology", "Ontology"),
    ("validation", "/validate", "Validation"),
    ("history", "/history", "History"),
    ("workbench", "/workbench", "Workbench"),
    ("dataset", "/dataset", "Data"),
)


def section_of(path: str) -> str:
    for prefix, section in SECTIONS:
        if path == prefix or path.startswith(prefix + "/") or path.startswith(prefix + "."):
            return section
    return "home" if path == "/" else ""


@lru_cache(maxsize=None)
def _digest(filename: str) -> str:
    """A short hash of a static file: its URL changes when its content does, so it can be cached long."""
    try:
        return hashlib.sha256((STATIC / filename).read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def static_url(filename: str) -> str:
    return f"/static/{filename}?v={_digest(filename)}"


def _layout_context() -> dict[str, Any]:
    return {"section": section_of(request.path), "navigation": NAVIGATION, "static_url": static_url,
            "search_text": request.args.get("q", "") if request.path == "/search" else ""}


def init_app(app: Flask) -> None:
    app.context_processor(_layout_context)
    # Our own files change only with a release; their URLs carry a content hash (static_url).
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
