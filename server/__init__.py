"""The knowledge-graph service. `create_app(settings)` builds the Flask app (see `server.app`);
the import is deferred so that the `kg` commands that serve nothing do not load Flask."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:
    from flask import Flask

    from .settings import Settings

__version__ = "0.1.0"


def create_app(settings: "Settings | Mapping[str, Any] | None" = None, *,
               on_runaway: Callable[[], None] | None = None) -> "Flask":
    from .app import create_app as _create_app

    return _create_app(settings, on_runaway=on_runaway)
