"""Where `kg validate` gets its graphs: the built store, or files with the project's shapes."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import rdflib

from . import namespaces as ns
from .build import project_sources, read_sources, to_rdflib
from .errors import InputSyntaxError, NotFound
from .store import KGStore, format_for_path, open_input, parse_rdf
from .settings import Settings
from .terms import to_rdflib_term
from .validation import Report, validate


def validate_store(store_path: Path, max_results: int | None = None) -> Report:
    """The built graph: every data graph (inferred included) against the stored shapes."""
    if not store_path.exists():
        raise NotFound(f"no store at {store_path}; run `kg build` first or name files to validate")
    store = KGStore(store_path, read_only=True)
    return validate_quads(list(store.ox.quads_for_pattern(None, None, None, None)), max_results)


def validate_remote(settings: Settings, max_results: int | None = None) -> Report:
    """The remote store's graph: every quad read with one SELECT into memory, then as `validate_store`."""
    from .remote import RemoteStore

    remote = RemoteStore(settings)
    try:
        return validate_quads(remote.quads(), max_results)
    finally:
        remote.close()


def validate_quads(quads: list[ox.Quad], max_results: int | None = None) -> Report:
    """Data graphs (inferred included; not the shapes or the change log) against the stored shapes."""
    graphs = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
    shapes_graph = next((g for g in graphs if g.endswith("/graph/shapes")), ns.G_SHAPES)
    ontology_graph = next((g for g in graphs if g.endswith("/graph/ontology")), ns.G_ONTOLOGY)
    data = to_rdflib(quads, graphs - {shapes_graph} - {g for g in graphs if g.endswith("/graph/changelog")})
    return validate(data, shapes=to_rdflib(quads, {shapes_graph}), ontology=to_rdflib(quads, {ontology_graph}),
                    max_results=max_results)


def validate_files(files: list[Path], max_results: int | None = None) -> Report:
    """Files alone (ontology as background), against the project's shapes."""
    data = rdflib.Graph()
    for path in files:
        if not path.exists():
            raise InputSyntaxError(f"{path}: file not found", source=str(path))
        with open_input(path) as fh:
            quads = parse_rdf(fh, format_for_path(path), source=str(path))
        for q in quads:
            data.add(tuple(to_rdflib_term(t) for t in (q.subject, q.predicate, q.object)))  # type: ignore[arg-type]
    project = read_sources([s for s in project_sources() if s.graph in (ns.G_SHAPES, ns.G_ONTOLOGY)])
    return validate(data, shapes=to_rdflib(project, {ns.G_SHAPES}), ontology=to_rdflib(project, {ns.G_ONTOLOGY}),
                    max_results=max_results)
