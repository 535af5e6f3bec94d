"""Shape coverage: which resources no shape targets, and which shapes target nothing."""
from __future__ import annotations

from typing import Any, Iterable

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDFS, SH

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def _superclasses(ontology: rdflib.Graph) -> dict[str, set[str]]:
    """Each class and every class above it (rdfs:subClassOf*, reflexive)."""
    parents: dict[str, set[str]] = {}
    for sub, sup in ontology.subject_objects(RDFS.subClassOf):
        if isinstance(sup, rdflib.URIRef):
            parents.setdefault(str(sub), set()).add(str(sup))
    closure: dict[str, set[str]] = {}
    for cls in parents:
        seen, todo = {cls}, [cls]
        while todo:
            for p in parents.get(todo.pop(), ()):
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        closure[cls] = seen
    return closure


def coverage(data: Iterable[ox.Quad], shapes: rdflib.Graph, ontology: rdflib.Graph, base: str) -> dict[str, Any]:
    """Resources under `{base}id/` that no shape targets, and shapes whose targets select nothing."""
    types: dict[str, set[str]] = {}
    subjects_of: dict[str, set[str]] = {}
    objects_of: dict[str, set[str]] = {}
    nodes: set[str] = set()
    for q in data:
        if not isinstance(q.subject, ox.NamedNode):
            continue
        s, p = q.subject.value, q.predicate.value
        nodes.add(s)
        subjects_of.setdefault(p, set()).add(s)
        if isinstance(q.object, ox.NamedNode):
            objects_of.setdefault(p, set()).add(q.object.value)
            if p == RDF_TYPE:
                types.setdefault(s, set()).add(q.object.value)
    supers = _superclasses(ontology)
    instances: dict[str, set[str]] = {}
    for node, direct in types.items():
        for t in direct:
            for c in supers.get(t, {t}):
                instances.setdefault(c, set()).add(node)
    shape_rows = []
    covered: set[str] = set()
    for shape in sorted(set(shapes.subjects(SH.targetClass, None)) | set(shapes.subjects(SH.targetNode, None))
                        | set(shapes.subjects(SH.targetSubjectsOf, None)) | set(shapes.subjects(SH.targetObjectsOf, None)),
                        key=str):
        targeted: set[str] = set()
        targets = []
        for c in shapes.objects(shape, SH.targetClass):
            targets.append(f"class {c}")
            targeted |= instances.get(str(c), set())
        for n in shapes.objects(shape, SH.targetNode):
            targets.append(f"node {n}")
            if str(n) in nodes:
                targeted.add(str(n))
        for p in shapes.objects(shape, SH.targetSubjectsOf):
            targets.append(f"subjects of {p}")
            targeted |= subjects_of.get(str(p), set())
        for p in shapes.objects(shape, SH.targetObjectsOf):
            targets.append(f"objects of {p}")
            targeted |= objects_of.get(str(p), set())
        covered |= targeted
        label = shapes.value(shape, RDFS.label)
        shape_rows.append({"shape": str(shape), "label": str(label) if label else None, "targets": targets,
                           "focus_nodes": len(targeted)})
    resources = sorted(n for n in nodes if n.startswith(base + "id/"))
    untargeted = [{"resource": n, "types": sorted(types.get(n, ()))} for n in resources if n not in covered]
    return {"resources": len(resources), "targeted": len(resources) - len(untargeted),
            "untargeted": untargeted, "shapes": shape_rows,
            "idle_shapes": [r for r in shape_rows if r["focus_nodes"] == 0]}

