"""Operational pages: health and settings."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from ..settings import SETTINGS

bp = Blueprint("meta", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Healthy when the store answers a query through the engine."""
    kg = current_app.extensions["kg"]
    sizes = kg.graph_sizes()
    return jsonify({"status": "ok", "graphs": len(sizes), "triples": sum(sizes.values())})


@bp.get("/settings.json")
def settings_json() -> Response:
    """The settings in force (the write token is never shown): what runs, e.g. one worker when
    writes are enabled whatever `workers` asked for."""
    kg = current_app.extensions["kg"]
    values = {s.name: getattr(kg.settings, s.name) for s in SETTINGS}
    values["workers"] = kg.settings.worker_processes
    values["write_token"] = "(set)" if values["write_token"] else ""
    values["remote_password"] = "(set)" if values["remote_password"] else ""
    return jsonify(values)
