"""Where `kg validate` gets its graphs: the built store, or files with the project's shapes or with
shapes files of their own (`--shapes`). Files are read with their literals as written (`fidelity`)
and relative IRIs resolved against each file's `file:` URL (as rdflib and pySHACL do)."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import rdflib

from .. import namespaces as ns
from ..build.pipeline import project_sources, read_sources, to_rdflib
from ..errors import InputSyntaxError, NotFound
from ..settings import Settings
from ..store.embedded import KGStore, format_for_path, open_input, parse_rdf
from ..store.terms import to_rdflib_term
from .validate import Report, Source, validate, written_terms
from .vocabulary import Vocabulary


def validate_store(store_path: Path, max_results: int | None = None, *, allow_warnings: bool = True) -> Report:
    """The built graph: every data graph (inferred included) against the stored shapes, validated on
    the store itself (opened read-only; nothing is copied, memory grows with the results)."""
    if not store_path.exists():
        raise NotFound(f"no store at {store_path}; run `kg build` first or name files to validate")
    store = KGStore(store_path, read_only=True)
    return validate_on(store.ox, max_results, allow_warnings=allow_warnings)


def validate_remote(settings: Settings, max_results: int | None = None, *, allow_warnings: bool = True) -> Report:
    """The remote store's graph: every quad read with one SELECT into an in-memory Oxigraph store,
    then as `validate_store`."""
    from ..store.remote import memory_copy

    return validate_on(memory_copy(settings), max_results, allow_warnings=allow_warnings)


def validate_on(store: ox.Store, max_results: int | None = None, *, allow_warnings: bool = True) -> Report:
    """Data graphs (inferred and ontology included; not the shapes or the change log) against the stored
    shapes, and the closed vocabulary of the stored ontology."""
    graphs = {g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)}
    shapes_graph = next((g for g in graphs if g.endswith("/graph/shapes")), ns.G_SHAPES)
    ontology_graph = next((g for g in graphs if g.endswith("/graph/ontology")), ns.G_ONTOLOGY)
    shapes = graph_of(store, shapes_graph)
    exclude = frozenset({shapes_graph} | {g for g in graphs if g.endswith("/graph/changelog")})
    vocabulary = Vocabulary.of(graph_of(store, ontology_graph), shapes_graph[:-len("graph/shapes")] + "shapes#")
    return validate(Source(store, exclude), shapes=shapes, max_results=max_results, allow_warnings=allow_warnings,
                    vocabulary=vocabulary)


def graph_of(store: ox.Store, graph: str) -> rdflib.Graph:
    """One named graph of the store in rdflib (the shapes: small)."""
    g = rdflib.Graph()
    for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
        g.add(tuple(to_rdflib_term(t) for t in (q.subject, q.predicate, q.object)))  # type: ignore[arg-type]
    return g


def read_files(files: list[Path]) -> rdflib.Graph:
    """The triples of these files (quads lose their graph), literals as written."""
    quads: list[ox.Quad] = []
    for path in files:
        if not path.exists():
            raise InputSyntaxError(f"{path}: file not found", source=str(path))
        with open_input(path) as fh:
            quads += parse_rdf(fh, format_for_path(path), source=str(path), base_iri=path.resolve().as_uri())
    return written_terms(quads)


def validate_files(files: list[Path], max_results: int | None = None, *, shapes: list[Path] | None = None,
                   allow_warnings: bool = True) -> Report:
    """Files alone against shapes files, or (no `shapes`) against the project's shapes with its
    ontology as background."""
    data = read_files(files)
    if shapes:
        return validate(data, shapes=read_files(shapes), max_results=max_results, allow_warnings=allow_warnings)
    project = read_sources([s for s in project_sources() if s.graph in (ns.G_SHAPES, ns.G_ONTOLOGY)])
    ontology = to_rdflib(project, {ns.G_ONTOLOGY})
    return validate(data, shapes=to_rdflib(project, {ns.G_SHAPES}), ontology=ontology, max_results=max_results,
                    allow_warnings=allow_warnings, vocabulary=Vocabulary.of(ontology, ns.SHAPES))
