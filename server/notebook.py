"""The built store as an rdflib `Dataset`, for notebooks and scripts: no server, no copy.

    from server.notebook import open_dataset
    ds = open_dataset()                      # var/store, read-only
    for row in ds.query("SELECT ?name WHERE { ?p a kgo:Person ; rdfs:label ?name }"):
        print(row.name)

The Dataset reads Oxigraph's store directly through oxrdflib: a query string goes to Oxigraph's
own engine (fast), triples and quads are iterated from its indexes, and every graph is an
rdflib `Graph` for libraries that take one. Queries see the union of the named graphs, as on
the endpoint; the project's prefixes (`kgo:`, `kg:` …) are bound. Writes are refused: the store
changes through `kg build`, `kg load` or the service's guarded writes (docs/curation.md).

Open it beside a running `kg serve` that only reads (the default), not beside one that writes or
a `kg load`: Oxigraph does not support reading a store while another process writes it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn

import pyoxigraph as ox
import rdflib
from oxrdflib import OxigraphStore
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from . import namespaces as ns
from .errors import NotFound

__all__ = ["open_dataset"]


class ReadOnlyStore(OxigraphStore):
    """oxrdflib's store over a read-only Oxigraph store: a write says why it is refused."""

    def _refuse(self, *_args: Any, **_kwargs: Any) -> NoReturn:
        raise PermissionError("this Dataset is read-only: change the graph with `kg build`, `kg load` or the "
                              "service's guarded writes (docs/curation.md)")

    add = addN = remove = remove_graph = update = _refuse  # type: ignore[assignment]

    def add_graph(self, graph: rdflib.Graph) -> None:
        """rdflib "adds" the default graph and every graph it hands out: for graphs that exist
        that changes nothing, and is allowed."""
        name = graph.identifier
        if name == DATASET_DEFAULT_GRAPH_ID or self._inner.contains_named_graph(ox.NamedNode(str(name))):
            return
        self._refuse()


def open_dataset(store: str | os.PathLike[str] = "var/store", *, base_iri: str = ns.DEFAULT_BASE) -> rdflib.Dataset:
    """The store `kg build` made (the `store` link, or a store directory) as a read-only Dataset.

    `base_iri` is the base the store was built with (setting `base_iri`), for the bound prefixes.
    """
    path = Path(store)
    if not path.exists():
        raise NotFound(f"no store at {path}; build one with `.venv/bin/kg build` (or pass the store's path)")
    dataset = rdflib.Dataset(store=ReadOnlyStore(store=ox.Store.read_only(str(path.resolve()))), default_union=True)
    for prefix, iri in ns.PREFIXES.items():
        dataset.bind(prefix, base_iri + iri[len(ns.DEFAULT_BASE):] if iri.startswith(ns.DEFAULT_BASE) else iri)
    return dataset
