"""The store in a notebook: `server.notebook.open_dataset` gives rdflib users the built graph,
read-only, through oxrdflib (Oxigraph answers the queries)."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
import rdflib
from rdflib.compare import isomorphic

from server import namespaces as ns
from server.errors import NotFound
from server.notebook import open_dataset

from .conftest import ROOT, dump_lines


@pytest.fixture(scope="module")
def dataset(store_link: Path) -> rdflib.Dataset:
    return open_dataset(store_link)


def test_a_query_answers_as_the_endpoint_does(dataset: rdflib.Dataset, client: Any) -> None:
    question = ROOT / "tests" / "competency" / "09-gyumri-country.rq"
    ours = [tuple(str(v) for v in row) for row in dataset.query(question.read_text(encoding="utf-8"))]
    served = list(csv.reader(io.StringIO(client.post("/sparql", data={"query": question.read_text(encoding="utf-8")},
                                                     headers={"Accept": "text/csv"}).text)))
    assert ours and sorted(ours) == sorted(tuple(r) for r in served[1:])


def test_prefixes_are_bound_and_queries_see_every_named_graph(dataset: rdflib.Dataset) -> None:
    names = sorted(str(r.name) for r in dataset.query("SELECT ?name WHERE { ?p a kgo:Person ; rdfs:label ?name }"))
    assert names == ["Nikol Pashinyan", "Recep Tayyip Erdogan"]
    assert dataset.query("ASK { kg:gyumri owl:sameAs|skos:exactMatch ?x . "
                         "kg:second-round-technical-talks kgo:roundNumber ?n }").askAnswer


def test_graphs_iterate_as_rdflib_graphs(dataset: rdflib.Dataset, app: Any) -> None:
    sizes = app.extensions["kg"].graph_sizes()
    outside = dataset.get_graph(rdflib.URIRef(ns.G_OUTSIDE))
    assert len(list(outside.triples((None, None, None)))) == sizes[ns.G_OUTSIDE]
    copy = rdflib.Graph().parse(data=outside.serialize(format="turtle"), format="turtle")
    assert isomorphic(copy, outside)
    names = {str(g.identifier) for g in dataset.graphs() if str(g.identifier) in sizes}
    assert names == set(sizes)
    label = rdflib.URIRef("http://www.w3.org/2000/01/rdf-schema#label")
    assert (rdflib.URIRef(ns.ID + "gyumri"), label, rdflib.Literal("Gyumri", lang="en")) in dataset


def test_writes_are_refused_and_the_store_is_unchanged(dataset: rdflib.Dataset, store_link: Path) -> None:
    before = dump_lines(store_link)
    with pytest.raises(PermissionError, match="read-only"):
        dataset.add((rdflib.URIRef(ns.ID + "x"), rdflib.RDFS.label, rdflib.Literal("x"), rdflib.URIRef(ns.GRAPH + "x")))
    with pytest.raises(PermissionError):
        dataset.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    assert dump_lines(store_link) == before


def test_a_missing_store_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="kg build"):
        open_dataset(tmp_path / "nothing")
