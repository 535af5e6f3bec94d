"""The app: `create_app(settings)` builds the Flask app (imported by `server.create_app`)."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Mapping

from flask import Flask, has_request_context, request

from . import namespaces as ns
from .errors import NotFound
from .http import formats
from .http.responses import register_error_handlers
from .settings import Settings, load_settings
from .sparql.examples import load_examples
from .sparql.queries import graph_query, query_request
from .store.engine import Engine, QueryAnswer, QueryRequest, make_engine


class KG:
    """What the views share: settings, the query engine, prefixes and examples."""

    def __init__(self, settings: Settings, on_runaway: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.engine: Engine = make_engine(settings, on_runaway=on_runaway)
        self.base = settings.base_iri
        self.prefixes = {k: (settings.base_iri + v[len(ns.DEFAULT_BASE):] if v.startswith(ns.DEFAULT_BASE) else v)
                         for k, v in ns.PREFIXES.items()}
        self.dataset_iri = self.base + ns.DATASET[len(ns.DEFAULT_BASE):]
        self.examples = load_examples()

    def data_version(self) -> tuple[str, float]:
        """(opaque version, last-modified epoch seconds) of the served data."""
        return self.engine.data_version()

    def url_for_endpoint(self) -> str:
        """The endpoint's URL: under `public_url` when it is set (a client chooses the Host header,
        and a cache would keep what it chose), else as this request reached it."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/") + "/sparql"
        return request.url_root.rstrip("/") + "/sparql"

    def request(self, query: str, fmt: str = "json", **options: Any) -> QueryRequest:
        """A query of the service itself (pages, history), guarded and limited like a client's, and
        counted against the client whose request it serves."""
        client = (request.remote_addr or "") if has_request_context() else ""
        return query_request(query, self.settings, explicit_format=fmt, client=client, **options)

    def results(self, query: str) -> dict[str, Any]:
        """A SELECT through the engine (time limit, caps), as its SPARQL JSON document."""
        return json.loads(self.engine.run(self.request(query)).body)  # type: ignore[no-any-return]

    def rows(self, query: str) -> list[dict[str, str]]:
        """A SELECT through the engine, as rows of plain values."""
        return [{k: v["value"] for k, v in b.items()} for b in self.results(query)["results"]["bindings"]]

    def read_graph(self, graph: str | None, fmt: formats.Format) -> QueryAnswer:
        """A whole named graph (None: the default graph, the union of the named graphs) in `fmt`,
        read with one query through the engine: within the time limit and the caps (a graph larger
        than them comes cut, and says so). NotFound when there is no such graph."""
        answer = self.engine.run(self.request(graph_query(graph), fmt.name, prefixes=self.prefixes,
                                              into_graph=graph))
        if graph is not None and answer.count == 0 and not self.results(f"ASK {{ GRAPH <{graph}> {{ }} }}")["boolean"]:
            raise NotFound(f"there is no graph <{graph}>")
        return answer

    def graph_sizes(self) -> dict[str, int]:
        rows = self.rows("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        return {r["g"]: int(r["n"]) for r in rows}


def create_app(settings: Settings | Mapping[str, Any] | None = None, *,
               on_runaway: Callable[[], None] | None = None) -> Flask:
    """Build the app for these settings (a Settings, a mapping of overrides, or the environment).
    `on_runaway`: what to do when a query cannot be stopped (the server retires its worker)."""
    if not isinstance(settings, Settings):
        settings = load_settings(settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["kg"] = KG(settings, on_runaway)
    register_error_handlers(app)

    from .http import assets, meta, site
    from .linked_data import home_views, ontology_views, resource_views
    from .search import views as search_views
    from .sparql import endpoint

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

    security.init_app(app)
    endpoint.install(app)
    return app


def register_curation(app: Flask, settings: Settings) -> None:
    """Validation service, guarded writes, Graph Store, change log (see the README, Curating)."""
    from .curation import history_views, write_views
    from .curation.auth import Curators
    from .curation.history import CHAIN_STEPS, History
    from .curation.writes import Curation, WriteRejected
    from .sparql import graph_store
    from .validation import views as validation_views

    app.extensions["curation"] = curation = Curation(settings, app.extensions["kg"].engine)
    app.extensions["history"] = History(app.extensions["kg"].rows, curation.log, settings.base_iri,
                                        app.extensions["kg"].prefixes,
                                        chain_steps=min(CHAIN_STEPS, settings.max_query_depth - 2))
    app.extensions["curators"] = Curators(Path(settings.curators_file) if settings.curators_file else None)
    app.register_error_handler(WriteRejected, validation_views.write_rejected)
    from .workbench import views as workbench_views

    for module in (validation_views, write_views, graph_store, history_views, workbench_views):
        app.register_blueprint(module.bp)
