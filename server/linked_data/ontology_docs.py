"""HTML documentation of the ontology: pyLODE's sections for the OWL terms, ours for the SKOS
schemes, both inside the site's layout (templates/ontology.html).

pyLODE takes every `owl:Ontology` *and* `skos:ConceptScheme` of its input for the document
being described: it ran the ontology's title and both schemes' labels together into one
heading, took a scheme's label for the page title, and documented no concept at all. So it is
given the ontology without the schemes and their concepts, and those get sections of their own
here (`concept_schemes`), each concept with its label, notation and definition.

pyLODE runs in a child process (`python -m server.linked_data.ontology_docs < ontology.ttl`):
importing it reconfigures the root logger at DEBUG level (a `logging.basicConfig` at import in
pylode 3.x), which must not happen inside the server. Its output is cut down to its sections
(`pylode_sections`) and cached per data version.

pyLODE anchors each term by its lower-cased label (`#newspublisher`); a term's hash IRI
(`ontology#Publisher`) must land on it, so each section's id becomes the term's local name
(the label anchor is kept inside it), and pyLODE's links to our terms become links within the
page instead of links to the canonical host.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .dumps import cache_root

GENERATE_TIMEOUT_S = 120
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DCTERMS = "http://purl.org/dc/terms/"


# -- the SKOS schemes ---------------------------------------------------------------------------------

@dataclass
class Concept:
    iri: str
    local: str
    label: str = ""
    notation: str = ""
    definition: str = ""


@dataclass
class Scheme(Concept):
    concepts: list[Concept] = field(default_factory=list)


def _text(quads: list[ox.Quad], subject: ox.NamedNode, *predicates: str) -> str:
    """The first English (or untagged) literal of the first predicate that has one."""
    for p in predicates:
        for q in quads:
            if q.subject == subject and q.predicate.value == p and isinstance(q.object, ox.Literal):
                if not q.object.language or q.object.language.startswith("en"):
                    return q.object.value
    return ""


def concept_schemes(quads: list[ox.Quad], namespace: str) -> list[Scheme]:
    """Every concept scheme of the ontology's namespace, with its concepts (by notation)."""
    typed = {(q.subject, q.object.value) for q in quads if q.predicate.value == RDF_TYPE
             and isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(namespace)}

    def term(cls: type[Concept], node: ox.NamedNode) -> Concept:
        return cls(node.value, node.value[len(namespace):],
                   _text(quads, node, SKOS + "prefLabel", RDFS + "label") or node.value[len(namespace):],
                   _text(quads, node, SKOS + "notation"),
                   _text(quads, node, SKOS + "definition", RDFS + "comment", DCTERMS + "description"))

    schemes = {node.value: term(Scheme, node) for node, t in typed if t == SKOS + "ConceptScheme"}
    for node, t in sorted(typed, key=lambda nt: nt[0].value):
        if t != SKOS + "Concept":
            continue
        owners = {q.object.value for q in quads if q.subject == node
                  and q.predicate.value in (SKOS + "inScheme", SKOS + "topConceptOf")}
        for owner in sorted(owners & schemes.keys()):
            schemes[owner].concepts.append(term(Concept, node))  # type: ignore[attr-defined]
    for scheme in schemes.values():
        scheme.concepts.sort(key=lambda c: (c.notation, c.label))  # type: ignore[attr-defined]
    return sorted(schemes.values(), key=lambda s: s.label.lower())  # type: ignore[return-value]


OWL = "http://www.w3.org/2002/07/owl#"
TERM_KINDS = (("Classes", OWL + "Class"), ("Object properties", OWL + "ObjectProperty"),
              ("Datatype properties", OWL + "DatatypeProperty"), ("Annotation properties", OWL + "AnnotationProperty"))


def term_index(quads: list[ox.Quad], namespace: str) -> list[tuple[str, list[Concept]]]:
    """The ontology's own classes and properties by kind, by label: the page's table of contents."""
    groups = []
    for title, kind in TERM_KINDS:
        nodes = sorted({q.subject for q in quads if q.predicate.value == RDF_TYPE and q.object.value == kind
                        and isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(namespace)},
                       key=lambda n: n.value)
        terms = [Concept(n.value, n.value[len(namespace):], _text(quads, n, RDFS + "label") or n.value[len(namespace):])
                 for n in nodes]
        if terms:
            groups.append((title, sorted(terms, key=lambda t: t.label.lower())))
    return groups


def without_schemes(quads: list[ox.Quad], schemes: list[Scheme]) -> list[ox.Quad]:
    """The ontology less the schemes and their concepts: what pyLODE documents."""
    skip = {s.iri for s in schemes} | {c.iri for s in schemes for c in s.concepts}
    return [q for q in quads if not (isinstance(q.subject, ox.NamedNode) and q.subject.value in skip)]


# -- pyLODE's part ------------------------------------------------------------------------------------

_H1 = re.compile(r"<h1>.*?</h1>", re.S)


def pylode_sections(html: str, namespace: str) -> str:
    """pyLODE's page cut to its sections (metadata, classes, properties, namespaces, legend),
    without its heading, table of contents and badge; terms anchored by their local names."""
    start, end = html.find('<div id="content">'), html.find('<div id="pylode">')
    if start < 0 or end < start:
        raise RuntimeError("pyLODE's page has an unknown layout (no content and pylode sections)")
    body = _H1.sub("", html[start + len('<div id="content">'):end], count=1)
    body = body.rstrip()
    if body.endswith("</div>"):
        body = body[:-len("</div>")]   # the content div's own end
    return link_terms_here(add_term_anchors(body, namespace), namespace)


def add_term_anchors(html: str, namespace: str) -> str:
    """Each term's section takes the term's local name as its id; pyLODE's label id stays inside."""
    pattern = re.compile(r'<div class="property entity" id="([^"]*)">((?:(?!<div class="property entity").)*?'
                         r'<th>IRI</th>\s*<td>\s*<code>)' + re.escape(namespace) + r'([^<]+)(</code>)', re.S)

    def anchor(m: re.Match[str]) -> str:
        label_id, local = m.group(1), m.group(3)
        inner = f'<span id="{label_id}"></span>' if label_id != local else ""
        return f'<div class="property entity" id="{local}">{inner}{m.group(2)}{namespace}{local}{m.group(4)}'

    return pattern.sub(anchor, html)


def link_terms_here(html: str, namespace: str) -> str:
    """Links to our terms' IRIs point within this page (the canonical host may not resolve)."""
    return html.replace(f'href="{namespace}', 'href="#')


def ontology_sections(turtle: bytes, *, store: str, version: str, namespace: str) -> str:
    """pyLODE's sections for this data version (generated once, then read from the cache)."""
    path = cache_root(store) / version / "ontology-sections.html"
    if path.exists():
        return path.read_text(encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "server.linked_data.ontology_docs"], input=turtle, capture_output=True,
                          cwd=str(root), timeout=GENERATE_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise RuntimeError("pyLODE failed: " + done.stderr.decode("utf-8", "replace")[-2000:])
    html = pylode_sections(done.stdout.decode("utf-8"), namespace)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ontology-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(html)
    os.replace(tmp, path)
    return html


def _main() -> None:
    import logging

    import rdflib

    graph = rdflib.Graph().parse(data=sys.stdin.buffer.read(), format="turtle")
    from pylode import OntPub  # noqa: E402 — imported here only, in the child process

    logging.disable(logging.INFO)
    sys.stdout.write(OntPub(graph).make_html())


if __name__ == "__main__":
    _main()
