"""The ontology dereferences: pyLODE documentation for people, RDF for machines and owl:imports."""
from __future__ import annotations

from typing import Any

from html.parser import HTMLParser

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from server import namespaces as ns


VOID_ELEMENTS = {"br", "hr", "img", "input", "link", "meta", "source", "wbr", "col", "area", "base", "embed"}


class Sections(HTMLParser):
    """The text inside every element that has an id, the ids of the elements inside it, the
    <title>, and the <h1>s."""

    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, str] = {}
        self.inside: dict[str, set[str]] = {}
        self.h1: list[str] = []
        self.title = ""
        self.links: list[str] = []
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        if tag in VOID_ELEMENTS:
            return
        ident = a.get("id")
        if ident:
            for _tag, outer in self._open:
                if outer:
                    self.inside[outer].add(ident)
            self.text[ident] = ""
            self.inside[ident] = set()
        self._open.append((tag, ident))
        if tag == "h1":
            self.h1.append("")

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for tag, ident in self._open:
            if ident:
                self.text[ident] += data
            if tag == "h1":
                self.h1[-1] += data
            if tag == "title":
                self.title += data


def documentation(client: Any) -> Sections:
    resp = client.get("/ontology", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/html; charset=utf-8"
    page = Sections()
    page.feed(resp.get_data(as_text=True))
    return page


def test_one_heading_and_title_for_the_ontology(client: Any) -> None:
    page = documentation(client)
    assert page.h1 == ["Kars–Gyumri knowledge graph ontology"]
    assert page.title.startswith("Kars–Gyumri knowledge graph ontology — ")


def test_every_term_iri_lands_on_a_section_with_its_label_and_definition(client: Any, ontology: rdflib.Graph) -> None:
    """Classes, properties, schemes and concepts alike: `ontology#Cameo044` shows "Meet at a third location"."""
    page = documentation(client)
    terms = {s for s in ontology.subjects() if isinstance(s, rdflib.URIRef) and str(s).startswith(ns.KGO)}
    assert len(terms) > 100
    for term in sorted(terms):
        local = str(term)[len(ns.KGO):]
        assert local in page.text, f"{local}: no element with this id"
        section = " ".join(page.text[local].split())
        label = ontology.value(term, SKOS.prefLabel) or ontology.value(term, RDFS.label)
        definition = ontology.value(term, SKOS.definition)
        assert label is not None and str(label) in section, f"{local}: its label is not in its section"
        if definition is not None:
            assert " ".join(str(definition).split()) in section, f"{local}: its definition is not in its section"


def test_each_scheme_has_a_section_of_its_own(client: Any, ontology: rdflib.Graph) -> None:
    """A scheme's section holds its own concepts' entries (with their labels), and none of another scheme's."""
    page = documentation(client)
    schemes = set(ontology.subjects(RDF.type, SKOS.ConceptScheme))
    assert len(schemes) >= 2
    for scheme in schemes:
        local = str(scheme)[len(ns.KGO):]
        for concept in ontology.subjects(SKOS.inScheme, scheme):
            assert str(concept)[len(ns.KGO):] in page.inside[local], f"{concept} is not in {local}'s section"
            assert str(ontology.value(concept, SKOS.prefLabel)) in page.text[local]
        for other in schemes - {scheme}:
            for concept in ontology.subjects(SKOS.inScheme, other):
                assert str(concept)[len(ns.KGO):] not in page.inside[local], f"{concept} is listed under {local}"


def test_links_to_terms_stay_on_the_page(client: Any) -> None:
    """The canonical host may not resolve: a term's link goes to its section here."""
    page = documentation(client)
    assert not [h for h in page.links if h.startswith(ns.KGO)]
    assert "#Person" in page.links


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
