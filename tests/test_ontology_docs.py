"""The ontology dereferences: pyLODE documentation for people, RDF for machines and owl:imports."""
from __future__ import annotations

from typing import Any

import pytest
import rdflib
from rdflib.namespace import OWL, RDF

from server import namespaces as ns


def test_ontology_html_documents_every_term(client: Any) -> None:
    resp = client.get("/ontology", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/html; charset=utf-8"
    html = resp.get_data(as_text=True)
    assert "Kars–Gyumri knowledge graph ontology" in html
    for term in ("Person", "Publisher", "TechnicalTalks", "evidence"):
        assert f'id="{term}"' in html or f'id="{term.lower()}"' in html, term  # hash IRIs land on a section
    assert 'id="Publisher"' in html  # pyLODE's own anchor is "newspublisher"


@pytest.mark.parametrize("accept, parser", [("text/turtle", "turtle"), ("application/rdf+xml", "xml"),
                                            ("application/ld+json", "json-ld"), ("application/n-triples", "nt")])
def test_ontology_loads_as_owl_imports_would(client: Any, accept: str, parser: str) -> None:
    for path in ("/ontology", "/" + ns.ONTOLOGY_VERSION[len(ns.DEFAULT_BASE):]):
        resp = client.get(path, headers={"Accept": accept})
        assert resp.status_code == 200 and resp.headers["Content-Type"].split(";")[0] == accept
        g = rdflib.Graph().parse(data=resp.data, format=parser)
        onto = rdflib.URIRef(ns.ONTOLOGY)
        assert (onto, RDF.type, OWL.Ontology) in g
        assert g.value(onto, OWL.versionIRI) == rdflib.URIRef(ns.ONTOLOGY_VERSION)
        assert (rdflib.URIRef(ns.KGO + "Person"), RDF.type, OWL.Class) in g


def test_an_rdf_accept_never_gets_html(client: Any) -> None:
    for accept in ("application/rdf+xml, text/html;q=0.9", "text/turtle;q=0.5, */*;q=0.1", "*/*"):
        resp = client.get("/ontology", headers={"Accept": accept})
        assert not resp.headers["Content-Type"].startswith("text/html"), accept
    assert client.get("/ontology/9.9.9").status_code == 404
