"""OWL RL materialisation on Oxigraph: the rules our ontology uses, compiled from its axioms.

`kg build` used owlrl's OWL RL closure, which is pure Python and re-applies every rule to every
triple until nothing changes: 2 s on the article, 97 s at 100k triples, not finished at 1M.
Here the ontology (a few hundred axioms) is read once and closed in Python -- every class's
superclasses, every property's superproperties, domains and ranges -- and the instance rules
run as a handful of SPARQL updates on an in-memory Oxigraph store, with those closed tables as
VALUES. Only the rules that can feed each other (sub-, inverse, symmetric and transitive
properties) are iterated, semi-naively: each round reads only the triples the round before
added.

Rules evaluated (names from OWL 2 Profiles, section 4.3): scm-sco, scm-eqc1/2, scm-spo,
scm-eqp1/2, scm-dom1/2, scm-rng1/2 (the ontology's own closure); prp-spo1, prp-eqp1/2,
prp-inv1/2, prp-symp, prp-trp, prp-dom, prp-rng, cax-sco, cax-eqc1/2 (the data's). Clash
checks: cls-nothing2, cax-dw, cax-adc, cls-com, prp-irp, prp-asyp, prp-pdw, prp-adp,
prp-npa1/2, and literals whose lexical form is not in their datatype (owlrl's dt-not-type).

Left out on purpose: triples true of everything (`x a owl:Thing`, `C rdfs:subClassOf C`,
`C rdfs:subClassOf owl:Thing`, `C owl:equivalentClass C`, the same for properties, domains and
ranges of owl:Thing), which owlrl adds and which carry no information. Axioms whose rules this
module does not evaluate (owl:sameAs and what derives it, property chains, keys, class
expressions and restrictions) make `materialise` refuse, naming them, rather than infer less
than the ontology says; none is used by ontology/kg.ttl.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..errors import BuildError

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
BUILTIN = (OWL, RDFS, RDF, XSD)  # vocabularies' own terms: nothing is inferred about them (as before)
_SCRATCH = "urn:kg:inference:"   # graphs of the scratch store that hold each round's new triples

# Axioms whose OWL RL rules are not evaluated here: found in the data, they stop the build.
UNSUPPORTED_PREDICATES = ("sameAs", "differentFrom", "distinctMembers", "propertyChainAxiom", "hasKey",
                          "intersectionOf", "unionOf", "oneOf", "someValuesFrom", "allValuesFrom", "hasValue",
                          "maxCardinality", "maxQualifiedCardinality", "onDatatype", "withRestrictions")
UNSUPPORTED_TYPES = ("FunctionalProperty", "InverseFunctionalProperty", "AllDifferent")

# Datatypes whose lexical forms Oxigraph's casts check (an ill-typed literal does not cast).
CHECKED_DATATYPES = ("boolean", "integer", "decimal", "float", "double", "date", "dateTime", "time", "gYear",
                     "gYearMonth", "gMonth", "gMonthDay", "gDay", "duration", "dayTimeDuration",
                     "yearMonthDuration")


@dataclass
class Schema:
    """The ontology, closed: what each class and property entails, as plain IRI tables."""

    superclasses: dict[str, set[str]] = field(default_factory=dict)     # C -> every D with C ⊑ D, D ≠ C
    superproperties: dict[str, set[str]] = field(default_factory=dict)  # P -> every Q with P ⊑ Q, Q ≠ P
    domains: dict[str, set[str]] = field(default_factory=dict)          # P -> classes its subjects belong to
    ranges: dict[str, set[str]] = field(default_factory=dict)           # P -> classes its objects belong to
    inverses: set[tuple[str, str]] = field(default_factory=set)         # (P, Q): s P o entails o Q s
    transitive: set[str] = field(default_factory=set)


@dataclass
class Inference:
    quads: list[ox.Quad]   # the new triples, in the inferred graph
    clashes: list[str]     # inconsistencies, one sentence each (empty: consistent)
    rounds: int            # rounds the property rules took to reach their fixpoint


def materialise(quads: Iterable[ox.Quad], graphs: set[str], inferred_graph: str) -> Inference:
    """The OWL RL consequences of the triples in `graphs` that none of them states, in `inferred_graph`.

    Raises BuildError when the data uses an axiom whose rules are not evaluated here.
    """
    store = scratch_store(quads, graphs)
    refuse_unsupported(store)
    schema = read_schema(store)
    target = ox.NamedNode(inferred_graph)
    add_schema_closure(store, schema, target)
    rounds = close_properties(store, schema, target)
    add_types(store, schema, target)
    drop_builtin_subjects(store, target)
    return Inference(list(store.quads_for_pattern(None, None, None, target)), clashes(store), rounds)


def scratch_store(quads: Iterable[ox.Quad], graphs: set[str]) -> ox.Store:
    """An in-memory store whose default graph is the union of `graphs`: rules then match one graph,
    and what they add goes into the same default graph (so later rules see it) and into the target."""
    store = ox.Store()
    store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object) for q in quads
                      if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in graphs)
    return store


def refuse_unsupported(store: ox.Store) -> None:
    """Stop rather than infer less than the axioms say (see the module's docstring)."""
    preds = " ".join(f"<{OWL}{p}>" for p in UNSUPPORTED_PREDICATES)
    types = " ".join(f"<{OWL}{t}>" for t in UNSUPPORTED_TYPES)
    rows = store.query(f"""SELECT ?term (SAMPLE(?x) AS ?where) WHERE {{
        {{ VALUES ?term {{ {preds} }} ?x ?term ?y }} UNION {{ VALUES ?term {{ {types} }} ?x a ?term }}
    }} GROUP BY ?term""")
    found = [f"{_short(r['term'].value)} (e.g. on {r['where']})" for r in rows]
    if found:
        raise BuildError("the data uses OWL axioms that `kg build`'s inference does not evaluate: "
                         + "; ".join(sorted(found)) + ". See README, Inference.")


def _short(iri: str) -> str:
    return "owl:" + iri[len(OWL):] if iri.startswith(OWL) else iri


def _pairs(store: ox.Store, predicate: str) -> list[tuple[str, str]]:
    """Subject and object IRIs of every `predicate` triple (blank-node class expressions are refused
    before, so an axiom between blank nodes has nothing left to say)."""
    rows = store.quads_for_pattern(None, ox.NamedNode(predicate), None, None)
    return [(q.subject.value, q.object.value) for q in rows
            if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode)]


def _instances(store: ox.Store, cls: str) -> set[str]:
    rows = store.quads_for_pattern(None, ox.NamedNode(RDF + "type"), ox.NamedNode(cls), None)
    return {q.subject.value for q in rows if isinstance(q.subject, ox.NamedNode)}


def read_schema(store: ox.Store) -> Schema:
    """The class and property hierarchies closed transitively (scm-sco, scm-eqc, scm-spo, scm-eqp),
    then domains and ranges inherited down the properties and up the classes (scm-dom, scm-rng)."""
    classes = _closure(_pairs(store, RDFS + "subClassOf"), _pairs(store, OWL + "equivalentClass"))
    props = _closure(_pairs(store, RDFS + "subPropertyOf"), _pairs(store, OWL + "equivalentProperty"))
    for table in (classes, props):
        for node, ups in table.items():
            ups.discard(node)
            ups.discard(OWL + "Thing")
    inverses = set(_pairs(store, OWL + "inverseOf"))
    inverses |= {(q, p) for p, q in inverses}
    inverses |= {(p, p) for p in _instances(store, OWL + "SymmetricProperty")}
    return Schema(classes, props, _inherited(_pairs(store, RDFS + "domain"), props, classes),
                  _inherited(_pairs(store, RDFS + "range"), props, classes), inverses,
                  _instances(store, OWL + "TransitiveProperty"))


def _closure(edges: list[tuple[str, str]], both_ways: list[tuple[str, str]]) -> dict[str, set[str]]:
    """Every node's reachable nodes; `both_ways` edges (equivalences) count in both directions."""
    out: dict[str, set[str]] = {}
    for a, b in edges + both_ways + [(b, a) for a, b in both_ways]:
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set())
    for start in out:
        seen: set[str] = set()
        todo = list(out[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(out.get(node, ()))
        out[start] = seen
    return out


def _inherited(declared: list[tuple[str, str]], props: dict[str, set[str]],
               classes: dict[str, set[str]]) -> dict[str, set[str]]:
    """A property's domain (or range): its own and its superproperties', with their superclasses."""
    direct: dict[str, set[str]] = {}
    for prop, cls in declared:
        direct.setdefault(prop, set()).update({cls} | classes.get(cls, set()))
    out: dict[str, set[str]] = {}
    for prop in set(direct) | set(props):
        found = set().union(*(direct.get(p, set()) for p in {prop} | props.get(prop, set())))
        found.discard(OWL + "Thing")
        if found:
            out[prop] = found
    return out


def _values(rows: Iterable[tuple[str, ...]]) -> str:
    return " ".join("(" + " ".join(f"<{x}>" for x in row) + ")" for row in sorted(rows))


def _one_of(variable: str, iris: Iterable[str]) -> str:
    return f"VALUES {variable} {{ {' '.join(f'<{x}>' for x in sorted(iris))} }}"


def _builtin(iri: str) -> bool:
    return iri.startswith(BUILTIN)


def add_schema_closure(store: ox.Store, schema: Schema, target: ox.NamedNode) -> None:
    """The ontology's own consequences: transitive sub-class and sub-property links, equivalences
    that follow from links both ways, and the domains and ranges each property inherits."""
    rows: list[tuple[str, str, str]] = []
    for table, sub, eq in ((schema.superclasses, RDFS + "subClassOf", OWL + "equivalentClass"),
                           (schema.superproperties, RDFS + "subPropertyOf", OWL + "equivalentProperty")):
        for node, ups in table.items():
            rows += [(node, sub, up) for up in ups]
            rows += [(node, eq, up) for up in ups if node in table.get(up, ())]
    rows += [(p, RDFS + "domain", c) for p, cs in schema.domains.items() for c in cs]
    rows += [(p, RDFS + "range", c) for p, cs in schema.ranges.items() for c in cs]
    rows = [r for r in rows if not _builtin(r[0])]
    if rows:
        values = f"VALUES (?s ?p ?o) {{ {_values(rows)} }}"
        _derive(store, target, "?s ?p ?o", values, among=values)


def _derive(store: ox.Store, target: ox.NamedNode, template: str, where: str, among: str = "",
            delta: ox.NamedNode | None = None) -> None:
    """Add the template's triples that are not there yet, to the default graph and to `target`
    (and to `delta`, the next round's input, when given).

    "Not there yet" is a MINUS (one hash anti-join), not FILTER NOT EXISTS (one lookup per
    candidate, 4x slower for types at 1M triples); `among` (a VALUES clause) narrows the
    triples the MINUS reads to those the template could produce."""
    also = f"GRAPH <{delta.value}> {{ {template} }}" if delta is not None else ""
    variables = " ".join(dict.fromkeys(re.findall(r"\?\w+", template)))
    store.update(f"INSERT {{ {template} GRAPH <{target.value}> {{ {template} }} {also} }} WHERE {{ "
                 f"{{ SELECT DISTINCT {variables} WHERE {{ {where} }} }} MINUS {{ {among} {template} }} }}")


def close_properties(store: ox.Store, schema: Schema, target: ox.NamedNode) -> int:
    """prp-spo1, prp-eqp, prp-inv, prp-symp and prp-trp to their fixpoint, semi-naively: round 1 reads
    every triple, each later round only the triples the round before added. Returns the rounds run."""
    spo = [(p, q) for p, qs in schema.superproperties.items() for q in qs]
    if not (spo or schema.inverses or schema.transitive):
        return 0
    rounds, source = 0, None
    while True:
        rounds += 1
        delta = ox.NamedNode(f"{_SCRATCH}round-{rounds}")
        _property_round(store, schema, spo, target, source, delta)
        if source is not None:
            store.remove_graph(source)
        if not store.query(f"ASK {{ GRAPH <{delta.value}> {{ ?s ?p ?o }} }}"):
            return rounds
        source = delta


def _property_round(store: ox.Store, schema: Schema, spo: list[tuple[str, str]], target: ox.NamedNode,
                    source: ox.NamedNode | None, delta: ox.NamedNode) -> None:
    """One application of every property rule to the `source` triples (all triples when None)."""
    def new(pattern: str) -> str:
        return pattern if source is None else f"GRAPH <{source.value}> {{ {pattern} }}"

    for pairs, template, where in ((spo, "?s ?q ?o", new("?s ?p ?o")),
                                   (schema.inverses, "?o ?q ?s", f"{new('?s ?p ?o')} FILTER(!isLiteral(?o))")):
        if pairs:
            _derive(store, target, template, f"VALUES (?p ?q) {{ {_values(pairs)} }} {where}",
                    among=_one_of("?q", {q for _p, q in pairs}), delta=delta)
    for t in sorted(schema.transitive):
        T = f"<{t}>"
        where = f"?s {T} ?m . ?m {T} ?o" if source is None else \
            f"{{ {new(f'?s {T} ?m')} ?m {T} ?o }} UNION {{ ?s {T} ?m . {new(f'?m {T} ?o')} }}"
        _derive(store, target, f"?s {T} ?o", where, delta=delta)


def add_types(store: ox.Store, schema: Schema, target: ox.NamedNode) -> None:
    """prp-dom, prp-rng, then cax-sco/cax-eqc. Run once, after the properties are closed: domains
    and ranges are already closed upwards, and the superclass table is transitive, so one pass
    over the types reaches every class (nothing here makes new property triples)."""
    a = f"<{RDF}type>"
    for table, subject in ((schema.domains, "?s"), (schema.ranges, "?o")):
        rows = [(p, c) for p, cs in table.items() for c in cs]
        if rows:
            _derive(store, target, f"{subject} {a} ?c",
                    f"VALUES (?p ?c) {{ {_values(rows)} }} ?s ?p ?o FILTER(!isLiteral({subject}))")
    rows = [(c, d) for c, ds in schema.superclasses.items() for d in ds]
    if rows:
        _derive(store, target, f"?s {a} ?d", f"VALUES (?c ?d) {{ {_values(rows)} }} ?s {a} ?c",
                among=_one_of("?d", {d for _c, d in rows}))


def drop_builtin_subjects(store: ox.Store, target: ox.NamedNode) -> None:
    """Nothing is inferred about the RDF, RDFS, OWL and XSD vocabularies' own terms."""
    starts = " || ".join(f'STRSTARTS(STR(?s), "{ns}")' for ns in BUILTIN)
    store.update(f"DELETE {{ GRAPH <{target.value}> {{ ?s ?p ?o }} }} "
                 f"WHERE {{ GRAPH <{target.value}> {{ ?s ?p ?o }} FILTER(isIRI(?s) && ({starts})) }}")


# Each clash check: a SELECT of ?x ?y ?z and a sentence with {x} {y} {z}.
_LIST = f"<{RDF}rest>*/<{RDF}first>"
CLASH_CHECKS: tuple[tuple[str, str], ...] = (
    (f"?x a <{OWL}Nothing>", "{x} is a member of owl:Nothing"),
    (f"?y <{OWL}disjointWith> ?z . ?x a ?y , ?z", "{x} is a member of the disjoint classes {y} and {z}"),
    (f"?d a <{OWL}AllDisjointClasses> ; <{OWL}members> ?l . ?l {_LIST} ?y . ?l {_LIST} ?z . "
     f"FILTER(STR(?y) < STR(?z)) ?x a ?y , ?z", "{x} is a member of the disjoint classes {y} and {z}"),
    (f"?y <{OWL}complementOf> ?z . ?x a ?y , ?z", "{x} is a member of {y} and of its complement {z}"),
    (f"?y a <{OWL}IrreflexiveProperty> . ?x ?y ?x", "{x} is related to itself by the irreflexive {y}"),
    (f"?y a <{OWL}AsymmetricProperty> . ?x ?y ?z . ?z ?y ?x FILTER(STR(?x) <= STR(?z))",
     "{x} and {z} are related both ways by the asymmetric {y}"),
    (f"?p <{OWL}propertyDisjointWith> ?q . ?x ?p ?z . ?x ?q ?z BIND(?p AS ?y)",
     "{x} and {z} are related by {y} and by a property disjoint with it"),
    (f"?d a <{OWL}AllDisjointProperties> ; <{OWL}members> ?l . ?l {_LIST} ?y . ?l {_LIST} ?q . "
     f"FILTER(STR(?y) < STR(?q)) ?x ?y ?z . ?x ?q ?z",
     "{x} and {z} are related by {y} and by a property disjoint with it"),
    (f"?n <{OWL}sourceIndividual> ?x ; <{OWL}assertionProperty> ?y . "
     f"{{ ?n <{OWL}targetIndividual> ?z }} UNION {{ ?n <{OWL}targetValue> ?z }} ?x ?y ?z",
     "{x} {y} {z} is stated, and also negated"),
)


def clashes(store: ox.Store, limit: int = 10) -> list[str]:
    """Inconsistencies of the closed graph, at most `limit` per kind (an empty list: consistent)."""
    found: list[str] = []
    for where, sentence in CLASH_CHECKS:
        for row in store.query(f"SELECT DISTINCT ?x ?y ?z WHERE {{ {where} }} LIMIT {limit}"):
            found.append(sentence.format(**{v: _term(row[v]) for v in "xyz"}))
    return found + ill_typed_literals(store, limit)


def _term(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    return "" if term is None else str(term)


def ill_typed_literals(store: ox.Store, limit: int = 10) -> list[str]:
    """Literals whose lexical form is not a value of their datatype ("2025-13-45"^^xsd:date):
    Oxigraph's cast to the datatype fails on them (owlrl's dt-not-type)."""
    cast = "?none"
    for name in CHECKED_DATATYPES:
        cast = f"IF(?d = <{XSD}{name}>, <{XSD}{name}>(STR(?o)), {cast})"
    types = ", ".join(f"<{XSD}{name}>" for name in CHECKED_DATATYPES)
    rows = store.query(f"SELECT DISTINCT ?o WHERE {{ ?s ?p ?o FILTER(isLiteral(?o)) BIND(DATATYPE(?o) AS ?d) "
                       f"FILTER(?d IN ({types})) BIND({cast} AS ?v) FILTER(!BOUND(?v)) }} LIMIT {limit}")
    return [f"the literal {row['o']} is not a valid value of its datatype" for row in rows]
