"""The app: `create_app(settings)` builds the Flask app (imported by `server.create_app`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from flask import Flask, request

from . import namespaces as ns
from .http.responses import register_error_handlers
from .settings import Settings, load_settings
from .sparql.examples import load_examples
from .store.engine import QueryRequest, make_engine


class KG:
    """What the views share: settings, the query engine, prefixes and examples."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        self.base = settings.base_iri
        self.prefixes = {k: (settings.base_iri + v[len(ns.DEFAULT_BASE):] if v.startswith(ns.DEFAULT_BASE) else v)
                         for k, v in ns.PREFIXES.items()}
        self.dataset_iri = self.base + ns.DATASET[len(ns.DEFAULT_BASE):]
        self.examples = load_examples()

    def data_version(self) -> tuple[str, float]:
        """(opaque version, last-modified epoch seconds) of the served data."""
        return self.engine.data_version()

    def url_for_endpoint(self) -> str:
        return request.url_root.rstrip("/") + "/sparql"

    def select(self, query: str) -> list[dict[str, Any]]:
        """Run a SELECT through the engine (with its limits) and return plain rows."""
        answer = self.engine.run(QueryRequest(query, format="json"))
        data = json.loads(answer.body)
        return [{k: v["value"] for k, v in b.items()} for b in data["results"]["bindings"]]

    def graph_sizes(self) -> dict[str, int]:
        rows = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        return {r["g"]: int(r["n"]) for r in rows}


def create_app(settings: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the app for these settings (a Settings, a mapping of overrides, or the environment)."""
    if not isinstance(settings, Settings):
        settings = load_settings(settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["kg"] = KG(settings)
    register_error_handlers(app)

    from .http import assets, meta, site
    from .linked_data import home_views, ontology_views, resource_views
    from .search import views as search_views
    from .sparql import endpoint

    app.register_blueprint(endpoint.bp)
    app.register_blueprint(assets.bp)
    app.register_blueprint(meta.bp)
    app.register_blueprint(resource_views.bp)
    app.register_blueprint(ontology_views.bp)
    app.register_blueprint(home_views.bp)
    app.register_blueprint(search_views.bp)
    site.init_app(app)
    register_curation(app, settings)

    from .http import observability

    observability.init_app(app)

    from .http import security
    from .sparql import fast_path

    security.init_app(app)
    fast_path.install(app)
    return app


def register_curation(app: Flask, settings: Settings) -> None:
    """Validation service, guarded writes, Graph Store, change log (see the README, Curating)."""
    from .curation import history_views, write_views
    from .curation.auth import Curators
    from .curation.history import History
    from .curation.writes import Curation, WriteRejected
    from .sparql import graph_store
    from .validation import views as validation_views

    app.extensions["curation"] = curation = Curation(settings, app.extensions["kg"].engine)
    app.extensions["history"] = History(app.extensions["kg"].select, curation.log, settings.base_iri,
                                        app.extensions["kg"].prefixes)
    app.extensions["curators"] = Curators(Path(settings.curators_file) if settings.curators_file else None)
    app.register_error_handler(WriteRejected, validation_views.write_rejected)
    from .workbench import views as workbench_views

    for module in (validation_views, write_views, graph_store, history_views, workbench_views):
        app.register_blueprint(module.bp)
