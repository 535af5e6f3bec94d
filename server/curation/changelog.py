"""The change log: every accepted write as a `prov:Activity` in the changelog graph.

Each activity records when it ran, which token name made it, which graphs it touched, how
many triples it added and removed, and both sets of triples as N-Quads literals
(`kgc:addedQuads`, `kgc:removedQuads`) so that it can be undone exactly. The snapshots are
literals, not named graphs, because every named graph is part of the union default graph:
removed facts kept in a graph would still answer queries.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

import pyoxigraph as ox

from .. import namespaces as ns

PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
XSD = "http://www.w3.org/2001/XMLSchema#"


def kgc(base: str) -> str:
    """The change-log vocabulary of this deployment (`{base}changelog#`)."""
    return base + "changelog#"


def rebased(iri: str, base: str) -> str:
    return base + iri[len(ns.DEFAULT_BASE):] if iri.startswith(ns.DEFAULT_BASE) else iri


def new_activity_id(now: datetime) -> str:
    """Sortable and unique: UTC time to the microsecond plus a few random hex digits."""
    return now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


def activity_iri(base: str, activity_id: str) -> str:
    return f"{base}id/change/{activity_id}"


def agent_iri(base: str, name: str) -> str:
    return f"{base}id/agent/{name}"


def nquads(quads: list[ox.Quad]) -> str:
    return ox.serialize(sorted(quads, key=str), format=ox.RdfFormat.N_QUADS).decode("utf-8")


def parse_nquads(text: str) -> list[ox.Quad]:
    return list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_QUADS))


@dataclass
class Activity:
    id: str
    iri: str
    operation: str
    agent: str
    started: datetime
    ended: datetime
    graphs: list[str]
    added: list[ox.Quad]
    removed: list[ox.Quad]
    undoes: str | None = None
    comment: str | None = None

    def quads(self, base: str) -> list[ox.Quad]:
        g = ox.NamedNode(rebased(ns.G_CHANGELOG, base))
        v = kgc(base)
        act, agent = ox.NamedNode(self.iri), ox.NamedNode(agent_iri(base, self.agent))

        def lit(value: object, datatype: str = "string") -> ox.Literal:
            return ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype))

        triples: list[tuple[ox.NamedNode, ox.NamedNode, object]] = [
            (act, RDF_TYPE, ox.NamedNode(PROV + "Activity")),
            (act, RDFS_LABEL, ox.Literal(f"{self.operation} by {self.agent}", language="en")),
            (act, ox.NamedNode(PROV + "startedAtTime"), lit(self.started.isoformat(), "dateTime")),
            (act, ox.NamedNode(PROV + "endedAtTime"), lit(self.ended.isoformat(), "dateTime")),
            (act, ox.NamedNode(PROV + "wasAssociatedWith"), agent),
            (agent, RDF_TYPE, ox.NamedNode(PROV + "Agent")),
            (agent, RDFS_LABEL, ox.Literal(self.agent)),
            (act, ox.NamedNode(v + "operation"), lit(self.operation)),
            (act, ox.NamedNode(v + "triplesAdded"), lit(len(self.added), "integer")),
            (act, ox.NamedNode(v + "triplesRemoved"), lit(len(self.removed), "integer")),
            (act, ox.NamedNode(v + "addedQuads"), lit(nquads(self.added))),
            (act, ox.NamedNode(v + "removedQuads"), lit(nquads(self.removed))),
        ]
        for graph in self.graphs:
            triples.append((act, ox.NamedNode(PROV + "used"), ox.NamedNode(graph)))
            triples.append((act, ox.NamedNode(PROV + "generated"), ox.NamedNode(graph)))
        if self.undoes:
            triples.append((act, ox.NamedNode(v + "undoes"), ox.NamedNode(self.undoes)))
        if self.comment:
            triples.append((act, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment"),
                            ox.Literal(self.comment)))
        return [ox.Quad(s, p, o, g) for s, p, o in triples]  # type: ignore[arg-type]


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def history_query(base: str, limit: int) -> str:
    """The activities, newest first, without their (possibly large) snapshots."""
    v, g = kgc(base), rebased(ns.G_CHANGELOG, base)
    return f"""PREFIX prov: <{PROV}> PREFIX kgc: <{v}>
SELECT ?activity ?operation ?agent ?started ?ended ?added ?removed ?undoes
       (GROUP_CONCAT(DISTINCT STR(?graph); SEPARATOR=" ") AS ?graphs) (SAMPLE(?undone) AS ?undoneBy)
WHERE {{ GRAPH <{g}> {{
  ?activity a prov:Activity ; kgc:operation ?operation ; prov:wasAssociatedWith/<http://www.w3.org/2000/01/rdf-schema#label> ?agent ;
            prov:startedAtTime ?started ; prov:endedAtTime ?ended ; kgc:triplesAdded ?added ;
            kgc:triplesRemoved ?removed .
  OPTIONAL {{ ?activity prov:generated ?graph }}
  OPTIONAL {{ ?activity kgc:undoes ?undoes }}
  OPTIONAL {{ ?undone kgc:undoes ?activity }}
}} }}
GROUP BY ?activity ?operation ?agent ?started ?ended ?added ?removed ?undoes
ORDER BY DESC(?started) LIMIT {int(limit)}"""
