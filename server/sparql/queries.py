"""From a query text to what the engine evaluates: the guard's verdict and the negotiated format.

Every query, from `/sparql`, the Linked Data pages or `kg query`, is judged by the guard before
any parser sees it, and its answer format is chosen before it is evaluated (so a 406 costs no
evaluation, and the engine writes the answer once, in that format).
"""
from __future__ import annotations

from collections.abc import Sequence

from werkzeug.datastructures import MIMEAccept

from ..http import formats
from ..settings import Settings
from ..store.engine import QueryRequest
from ..store.terms import checked_iri
from .guard import check_query
from .projection import star_order


def query_request(text: str, settings: Settings, *, accept: MIMEAccept | str | None = None,
                  explicit_format: str | None = None, default_graph_uris: Sequence[str] = (),
                  named_graph_uris: Sequence[str] = (), base_iri: str | None = None,
                  prefixes: dict[str, str] | None = None, into_graph: str | None = None,
                  client: str = "") -> QueryRequest:
    """Guard the text (size, nesting, SERVICE), negotiate the answer's format for its query form,
    and return the request for the engine. Raises the guard's 4xx, or 406. `base_iri`: what its
    relative IRIs resolve against (the request's URL)."""
    shape = check_query(text, max_depth=settings.max_query_depth, allowed_services=settings.allowed_services,
                        max_kb=settings.max_query_kb, base_iri=base_iri)
    fmt = formats.negotiate(accept, formats.answer_kinds(shape.form), explicit_format)
    return QueryRequest(text, fmt, shape.form, shape.has_dataset_clause, tuple(default_graph_uris),
                        tuple(named_graph_uris), base_iri=base_iri, prefixes=prefixes, into_graph=into_graph,
                        client=client, star=star_order(text, shape.form_end) if shape.form == "SELECT" else None)


def graph_query(graph: str | None) -> str:
    """The triples of one named graph (its IRI checked here), or of the default graph for None."""
    if graph is None:
        return "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    return f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{checked_iri(graph, 'the graph')}> {{ ?s ?p ?o }} }}"
