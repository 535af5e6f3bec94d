"""The change log: every accepted change as a `prov:Activity` in the changelog graph.

What the graph holds of a change is its description, a few triples whatever its size: when it
ran, which curator made it (`prov:wasAssociatedWith`), the graphs it wrote (`prov:used`,
`prov:generated`), how many triples it added and removed, the change it follows
(`prov:wasInformedBy`), the change it undoes, and the resources whose triples it changed
(`kgc:changed`, so that a resource's history is one indexed lookup). The quads themselves are
the change's RDF Patch in the patch log (`patches`): kept out of the graph, because every named
graph is part of the union that queries see, and a text copy of every quad made the graph
grow with each write's size (a 229 MB change log for 12k quads of data).

Each description is a pure function of the patch (`activity_quads`), so `kg build` can make the
change log again from the patches it replays. Per graph, `kgc:lastChange` names the newest
change that wrote it: the graph's ETag for conditional writes, read in one lookup.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

import pyoxigraph as ox

from .. import namespaces as ns
from .patches import Patch

PROV = "http://www.w3.org/ns/prov#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode(RDFS + "label")
XSD = "http://www.w3.org/2001/XMLSchema#"


def kgc(base: str) -> str:
    """The change-log vocabulary of this deployment (`{base}changelog#`)."""
    return base + "changelog#"


def rebased(iri: str, base: str) -> str:
    return base + iri[len(ns.DEFAULT_BASE):] if iri.startswith(ns.DEFAULT_BASE) else iri


def changelog_graph(base: str) -> str:
    return rebased(ns.G_CHANGELOG, base)


def new_activity_id(now: datetime) -> str:
    """Sortable and unique: UTC time to the microsecond plus a few random hex digits."""
    return now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


def activity_iri(base: str, activity_id: str) -> str:
    return f"{base}id/change/{activity_id}"


def agent_iri(base: str, name: str) -> str:
    return f"{base}id/agent/{name}"


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def _lit(value: object, datatype: str = "string") -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype))


def changed_resources(patch: Patch) -> list[ox.NamedNode]:
    """The subjects whose triples the change added or removed (IRIs: skolem IRIs included)."""
    seen = {q.subject for q in patch.added + patch.removed if isinstance(q.subject, ox.NamedNode)}
    return sorted(seen, key=lambda n: n.value)  # type: ignore[arg-type,return-value]


def activity_quads(patch: Patch, base: str) -> list[ox.Quad]:
    """The change's description in the changelog graph (a pure function of the patch)."""
    g = ox.NamedNode(changelog_graph(base))
    v = kgc(base)
    act, agent = ox.NamedNode(patch.iri), ox.NamedNode(agent_iri(base, patch.agent))
    triples: list[tuple[ox.NamedNode, ox.NamedNode, object]] = [
        (act, RDF_TYPE, ox.NamedNode(PROV + "Activity")),
        (act, RDFS_LABEL, ox.Literal(f"{patch.operation} by {patch.agent}", language="en")),
        (act, ox.NamedNode(PROV + "startedAtTime"), _lit(patch.started.isoformat(), "dateTime")),
        (act, ox.NamedNode(PROV + "endedAtTime"), _lit(patch.ended.isoformat(), "dateTime")),
        (act, ox.NamedNode(PROV + "wasAssociatedWith"), agent),
        (agent, RDF_TYPE, ox.NamedNode(PROV + "Agent")),
        (agent, RDFS_LABEL, ox.Literal(patch.agent)),
        (act, ox.NamedNode(v + "operation"), _lit(patch.operation)),
        (act, ox.NamedNode(v + "triplesAdded"), _lit(len(patch.added), "integer")),
        (act, ox.NamedNode(v + "triplesRemoved"), _lit(len(patch.removed), "integer")),
    ]
    for graph in patch.graphs:
        triples.append((act, ox.NamedNode(PROV + "used"), ox.NamedNode(graph)))
        triples.append((act, ox.NamedNode(PROV + "generated"), ox.NamedNode(graph)))
    for resource in changed_resources(patch):
        triples.append((act, ox.NamedNode(v + "changed"), resource))
    if patch.previous:
        triples.append((act, ox.NamedNode(PROV + "wasInformedBy"), ox.NamedNode(patch.previous)))
    if patch.undoes:
        triples.append((act, ox.NamedNode(v + "undoes"), ox.NamedNode(patch.undoes)))
    if patch.comment:
        triples.append((act, ox.NamedNode(RDFS + "comment"), ox.Literal(patch.comment)))
    return [ox.Quad(s, p, o, g) for s, p, o in triples]  # type: ignore[arg-type]


def head_quads(patch: Patch, base: str) -> list[ox.Quad]:
    """`<graph> kgc:lastChange <change>` for each graph the change wrote."""
    g, last = ox.NamedNode(changelog_graph(base)), ox.NamedNode(kgc(base) + "lastChange")
    return [ox.Quad(ox.NamedNode(graph), last, ox.NamedNode(patch.iri), g) for graph in patch.graphs]


def heads_reset(graphs: list[str], base: str) -> str:
    """SPARQL Update: forget the previous `kgc:lastChange` of these graphs (part of a change's request)."""
    g, last = changelog_graph(base), kgc(base) + "lastChange"
    return " ;\n".join(f"DELETE WHERE {{ GRAPH <{g}> {{ <{graph}> <{last}> ?previous }} }}" for graph in graphs)


def dropped_quad(change_iri: str, reason: str, base: str) -> ox.Quad:
    """Marks a change that `kg build --drop-unapplied-changes` left out (its patch stays in the log)."""
    return ox.Quad(ox.NamedNode(change_iri), ox.NamedNode(kgc(base) + "dropped"), ox.Literal(reason),
                   ox.NamedNode(changelog_graph(base)))


# -- reading the log --------------------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryFilter:
    """Which changes a page of the history shows; `before` is the id of the last change of the previous page."""

    graph: str | None = None
    resource: str | None = None
    curator: str | None = None
    before: str | None = None


def matching_query(base: str, where: HistoryFilter) -> str:
    """The IRIs of the changes a filter selects, in no order (they sort as their ids: by time).
    Oxigraph sorts by spelling each IRI out: sorting is left to the caller, on the strings."""
    v, g = kgc(base), changelog_graph(base)
    conditions = []
    if where.graph:
        conditions.append(f"?activity <{PROV}generated> <{where.graph}> .")
    if where.resource:
        conditions.append(f"?activity <{v}changed> <{where.resource}> .")
    if where.curator:
        conditions.append(f"?activity <{PROV}wasAssociatedWith> <{agent_iri(base, where.curator)}> .")
    return (f"SELECT ?activity WHERE {{ GRAPH <{g}> {{ ?activity a <{PROV}Activity> . {' '.join(conditions)} }} }}")


def chain_query(base: str, start: str | None, steps: int) -> str:
    """From `start` (or the log's head), the changes before it, one `prov:wasInformedBy` step each:
    a page of the whole log read by a fixed number of index lookups."""
    g, last = changelog_graph(base), kgc(base) + "lastChange"
    head = f"<{start}>" if start else "?a0"
    where = [] if start else [f"<{g}> <{last}> ?a0 ."]
    if start:
        where.append(f"BIND({head} AS ?a0)")
    nested = ""
    for i in range(steps, 0, -1):
        nested = f"OPTIONAL {{ ?a{i - 1} <{PROV}wasInformedBy> ?a{i} . {nested}}} "
    names = " ".join(f"?a{i}" for i in range(steps + 1))
    return f"SELECT {names} WHERE {{ GRAPH <{g}> {{ {' '.join(where)} {nested}}} }}"


def older_query(base: str, activity: str) -> str:
    """Is there a change older than this one? (One row or none.)"""
    return (f"SELECT ?activity WHERE {{ GRAPH <{changelog_graph(base)}> {{ ?activity a <{PROV}Activity> }} "
            f'FILTER(STR(?activity) < "{activity}") }} LIMIT 1')


def details_query(base: str, activities: list[str]) -> str:
    """What the history shows of each of these changes (one row each).

    Each IRI is written into a branch of its own rather than bound by `VALUES`: Oxigraph 0.5
    does not push a VALUES binding into the graph pattern, and read every change of the log
    (seconds at 10,000 changes) for a page of twenty."""
    v, g = kgc(base), changelog_graph(base)

    def branch(a: str) -> str:
        return f"""{{ BIND(<{a}> AS ?activity)
    GRAPH <{g}> {{
      <{a}> kgc:operation ?operation ; prov:wasAssociatedWith/rdfs:label ?agent ;
            prov:startedAtTime ?started ; prov:endedAtTime ?ended ; kgc:triplesAdded ?added ;
            kgc:triplesRemoved ?removed .
      OPTIONAL {{ <{a}> prov:generated ?graph }}
      OPTIONAL {{ <{a}> kgc:undoes ?undoes }}
      OPTIONAL {{ <{a}> rdfs:comment ?comment }}
      OPTIONAL {{ <{a}> kgc:dropped ?dropped }}
      OPTIONAL {{ ?undone kgc:undoes <{a}> }} }} }}"""

    return f"""PREFIX prov: <{PROV}> PREFIX kgc: <{v}> PREFIX rdfs: <{RDFS}>
SELECT ?activity ?operation ?agent ?started ?ended ?added ?removed ?undoes ?comment ?dropped
       (GROUP_CONCAT(DISTINCT STR(?graph); SEPARATOR=" ") AS ?graphs) (SAMPLE(?undone) AS ?undoneBy)
WHERE {{
  {" UNION ".join(branch(a) for a in activities)}
}}
GROUP BY ?activity ?operation ?agent ?started ?ended ?added ?removed ?undoes ?comment ?dropped"""


def activities_query(base: str) -> str:
    """Every change of the log, oldest first, with whether a build dropped it (for `kg build`)."""
    v, g = kgc(base), changelog_graph(base)
    return f"""SELECT ?activity ?dropped ?legacy WHERE {{ GRAPH <{g}> {{
  ?activity a <{PROV}Activity> .
  OPTIONAL {{ ?activity <{v}dropped> ?dropped }}
  OPTIONAL {{ ?activity <{v}addedQuads> ?legacy }} }} }} ORDER BY STR(?activity)"""


def legacy_patch(store: ox.Store, activity: str, base: str) -> Patch | None:
    """A change recorded before patches existed (its quads as N-Quads literals in the graph), as a patch."""
    v, g = kgc(base), ox.NamedNode(changelog_graph(base))
    act = ox.NamedNode(activity)

    def value(p: str) -> str | None:
        found = list(store.quads_for_pattern(act, ox.NamedNode(p), None, g))
        return found[0].object.value if found else None

    added = value(v + "addedQuads")
    if added is None:
        return None
    agent = next((q.object for q in store.quads_for_pattern(act, ox.NamedNode(PROV + "wasAssociatedWith"), None, g)),
                 None)
    name = agent.value.rsplit("/", 1)[-1] if isinstance(agent, ox.NamedNode) else "curator"

    def parse(text: str | None) -> list[ox.Quad]:
        return list(ox.parse((text or "").encode("utf-8"), format=ox.RdfFormat.N_QUADS))

    graphs = sorted(q.object.value for q in store.quads_for_pattern(act, ox.NamedNode(PROV + "generated"), None, g)
                    if isinstance(q.object, ox.NamedNode))
    return Patch(id=activity.rsplit("/", 1)[-1], iri=activity, operation=value(v + "operation") or "change",
                 agent=name, started=datetime.fromisoformat(value(PROV + "startedAtTime") or ""),
                 ended=datetime.fromisoformat(value(PROV + "endedAtTime") or ""), graphs=graphs,
                 removed=parse(value(v + "removedQuads")), added=parse(added), undoes=value(v + "undoes"),
                 comment=value(RDFS + "comment"))
