"""`/static/vendor/<package>/…`: front-end assets from npm packages, served from our own host.

The query UI must work offline and must not make the browser contact another host, so the
YASGUI build that `npm install` (run by `scripts/setup.sh serve`) puts in `node_modules/` is
served by the app itself. Only the packages listed here are reachable, and only files
inside their build folder (`send_from_directory` refuses paths that climb out).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, send_from_directory

from ..errors import NotFound

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"

# name in our URL -> (npm package, folder inside it that holds the built files)
VENDORED: dict[str, tuple[str, str]] = {
    "yasgui": ("@zazuko/yasgui", "build"),
}

bp = Blueprint("assets", __name__)


def _folder(name: str) -> Path:
    package, sub = VENDORED[name]
    return NODE_MODULES / package / sub


@lru_cache(maxsize=None)
def vendor_version(name: str) -> str | None:
    """The installed version of a vendored package (used to bust caches), None if missing."""
    try:
        meta = json.loads((NODE_MODULES / VENDORED[name][0] / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str(meta.get("version"))


def vendor_available(name: str) -> bool:
    return vendor_version(name) is not None and _folder(name).is_dir()


@bp.get("/static/vendor/<name>/<path:filename>")
def vendor_file(name: str, filename: str) -> Response:
    if name not in VENDORED:
        raise NotFound(f"no vendored package {name!r}; offered: {', '.join(VENDORED)}")
    if not vendor_available(name):
        raise NotFound(f"the front-end package {VENDORED[name][0]} is not installed; run `scripts/setup.sh serve`")
    # The version is in the page's URL (?v=), so a year of caching is safe.
    resp = send_from_directory(_folder(name), filename, max_age=365 * 24 * 3600)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp
