"""What a person sees of a resource: labels instead of IRIs, facts grouped by property, each value with
the sources that state it and their sentences as quotes, for an event what each source says side by
side, dates for people, a map of places, a timeline of events.

No Flask here: `build_page` turns a `Description` (and a few page-only queries through the same
`select`) into plain data that the Jinja templates render (autoescaped).
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from ..http.security import safe_href
from .describe import DCTERMS, GEO, RDF, RDFS, SKOS, Description, Select, local_path
from .map_labels import place_labels
from .quotes import Quote, quotes_for, rows
from .sources_view import (Attribution, Comparison, Row, Said, SourceInfo, attributions, graph_infos, single_valued,
                           source_order, status_of, chains)

XSD = "http://www.w3.org/2001/XMLSchema#"
_DESCRIPTION_PROPS = (SKOS + "definition", RDFS + "comment", DCTERMS + "description", SKOS + "scopeNote")
_LABEL_PROPS = (RDFS + "label", SKOS + "prefLabel")
_HIDDEN = {RDFS + "label", RDF + "type"}  # shown as title and types, not repeated in the facts
_NOT_COMPARED = {RDF + "type"}             # what the comparison of sources leaves out (besides evidence)
COMPARED_FROM = 2                          # sources stating facts of a resource from which its page compares them


@dataclass
class Value:
    text: str                 # what is shown
    href: str | None = None   # where a link goes (a local path, or an outside IRI)
    iri: str | None = None    # the IRI itself, shown as a tooltip
    note: str = ""            # datatype or language
    inferred: bool = False
    graphs: list[str] = field(default_factory=list)
    key: str = ""             # the term, in N-Triples: the same value from two sources is one value
    sources: list[SourceInfo] = field(default_factory=list)   # who states it (graphs, as people read them)
    said: list[Attribution] = field(default_factory=list)     # each source's words for it
    changes: dict[str, Any] = field(default_factory=dict)  # graph -> the newest change that added the value
                                                            # there, when one did (see curation.history)


@dataclass
class Fact:
    label: str
    predicate: str
    values: list[Value]
    quotes: list[Quote] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.values)


@dataclass
class Point:
    label: str
    lon: float
    lat: float
    href: str | None
    current: bool = False


@dataclass
class TimelineEvent:
    date: str
    label: str
    href: str | None
    current: bool


@dataclass
class Page:
    iri: str
    label: str
    types: list[Value]
    summary: str
    facts: list[Fact]
    incoming: list[Fact]
    quotes: list[Quote]
    points: list[Point]
    timeline: list[TimelineEvent]
    graphs: list[str]
    quote_groups: list[tuple[SourceInfo, list[Quote]]] = field(default_factory=list)
    comparison: Comparison | None = None

    @property
    def asserted_facts(self) -> list[Fact]:
        """Facts the data states (some value outside the inferred graph)."""
        return [f for f in self.facts if not all(v.inferred for v in f.values)]

    @property
    def inferred_facts(self) -> list[Fact]:
        """Facts only the OWL RL closure adds (super-properties, inverse links): shown folded away."""
        return [f for f in self.facts if all(v.inferred for v in f.values)]

    @property
    def map(self) -> dict[str, Any] | None:
        return map_frame(self.points) if self.points else None


# -- labels and values -------------------------------------------------------------------------------

def _local_name(iri: str) -> str:
    return re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri


def labels_of(quads: list[ox.Quad], order: Mapping[str, int] | None = None) -> dict[str, str]:
    """One label per IRI: the project's display name (skos:prefLabel) before the sources' own (rdfs:label);
    English first, then no language, then any; among the sources' names in one language, the one most
    sources give, then the one of the source ranked first in `order` (the earliest published)."""
    graphs: dict[tuple[str, int, int, str], set[str]] = defaultdict(set)
    for q in quads:
        if q.predicate.value in _LABEL_PROPS and isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.Literal):
            lang = q.object.language or ""
            kind = 0 if q.predicate.value == SKOS + "prefLabel" else 1
            rank = 0 if lang.startswith("en") else 1 if not lang else 2
            graph = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
            graphs[(q.subject.value, kind, rank, q.object.value)].add(graph)
    best: dict[str, tuple[Any, ...]] = {}
    for (iri, kind, rank, text), where in graphs.items():
        first = min((order or {}).get(g, len(order or {})) for g in where)
        key = (kind, rank, -len(where), first, text)
        if iri not in best or key < best[iri]:
            best[iri] = key
    return {iri: key[-1] for iri, key in best.items()}


def property_label(iri: str, labels: Mapping[str, str]) -> str:
    """A property's name for people: its label in the graph, else its local name in words, as the
    ontology's own labels are written ("exactMatch" -> "exact match", "asWKT" -> "as WKT")."""
    if iri in labels:
        return labels[iri]
    words = re.findall(r"[A-Z]{2,}(?![a-z])|[A-Z]?[a-z]+|\d+|[A-Z]", _local_name(iri))
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words) or _local_name(iri)


def date_for_people(value: str) -> str:
    """A date whose datatype is known only by its shape (2025-11-28, 2023-02, 1993)."""
    kinds = {10: XSD + "date", 7: XSD + "gYearMonth"}
    return human_date(value, kinds.get(len(value), XSD + "dateTime" if "T" in value else XSD + "gYear"))


def human_date(value: str, datatype: str) -> str:
    """xsd dates as people write them: 28 November 2025, November 2025, 1993."""
    try:
        if datatype == XSD + "date":
            return dt.date.fromisoformat(value[:10]).strftime("%-d %B %Y")
        if datatype == XSD + "dateTime":
            moment = dt.datetime.fromisoformat(value)
            return moment.strftime("%-d %B %Y, %H:%M") + (moment.strftime(" (UTC%z)") if moment.tzinfo else "")
        if datatype == XSD + "gYearMonth":
            return dt.date.fromisoformat(value[:7] + "-01").strftime("%B %Y")
    except ValueError:
        return value
    return value


def value_of(term: Any, labels: dict[str, str], base: str) -> Value:
    if isinstance(term, ox.NamedNode):
        href = local_path(base, term.value) or safe_href(term.value)
        return Value(labels.get(term.value) or _local_name(term.value), href, term.value, key=str(term))
    if isinstance(term, ox.BlankNode):
        return Value("(blank node)", None, None, key=str(term))
    assert isinstance(term, ox.Literal)
    dtype = term.datatype.value
    if dtype in (XSD + "date", XSD + "dateTime", XSD + "gYearMonth", XSD + "gYear"):
        return Value(human_date(term.value, dtype), note=_local_name(dtype), key=str(term))
    note = term.language or ("" if dtype in (XSD + "string", RDF + "langString") else _local_name(dtype))
    return Value(term.value, note=note, key=str(term))


# -- map and timeline ----------------------------------------------------------------------------------

_POINT = re.compile(r"POINT\s*\(\s*(-?[\d.]+)\s+(-?[\d.]+)\s*\)", re.I)


def points_query() -> str:
    return f"""PREFIX geo: <{GEO}> PREFIX rdfs: <{RDFS}>
SELECT ?place (SAMPLE(?l) AS ?label) (SAMPLE(?w) AS ?wkt) WHERE {{
  ?place geo:hasGeometry/geo:asWKT ?w . OPTIONAL {{ ?place rdfs:label ?l }}
}} GROUP BY ?place ORDER BY ?place"""


def timeline_query(kgo: str) -> str:
    return f"""PREFIX rdfs: <{RDFS}> PREFIX kgo: <{kgo}>
SELECT ?event (SAMPLE(?l) AS ?label) (MIN(STR(?d)) AS ?date) WHERE {{
  {{ ?event kgo:date ?d }} UNION {{ ?event kgo:startDate ?d . ?event a kgo:Event }}
  OPTIONAL {{ ?event rdfs:label ?l }}
}} GROUP BY ?event ORDER BY ?date"""


def all_points(select: Select, base: str) -> list[Point]:
    out = []
    for r in rows(select(points_query())):
        m = _POINT.search(r.get("wkt", ""))
        if m:
            out.append(Point(r.get("label") or _local_name(r["place"]), float(m.group(1)), float(m.group(2)),
                             local_path(base, r["place"])))
    return out


def all_events(select: Select, kgo: str, base: str, current: str | None = None) -> list[TimelineEvent]:
    return [TimelineEvent(r["date"], r.get("label") or _local_name(r["event"]), local_path(base, r["event"]),
                          r["event"] == current) for r in rows(select(timeline_query(kgo)))]


def nearby(points: list[Point], lon_span: float = 12.0, lat_span: float = 8.0) -> list[Point]:
    """The highlighted points and the others close to them: a regional frame, not the whole world."""
    current = [p for p in points if p.current]
    return [p for p in points if p.current or any(abs(p.lon - c.lon) <= lon_span and abs(p.lat - c.lat) <= lat_span
                                                  for c in current)]


def map_frame(points: list[Point], width: int = 640, height: int = 320) -> dict[str, Any]:
    """Plot points on an equirectangular frame fitted around them (no tiles: none are reachable),
    scaled for the frame's middle latitude so that distances look as they are."""
    points = nearby(points)
    lons, lats = [p.lon for p in points], [p.lat for p in points]
    pad_lon, pad_lat = max(0.3, (max(lons) - min(lons)) * 0.15), max(0.2, (max(lats) - min(lats)) * 0.2)
    west, east = min(lons) - pad_lon, max(lons) + pad_lon
    south, north = min(lats) - pad_lat, max(lats) + pad_lat
    shrink = max(0.2, math.cos(math.radians((north + south) / 2)))   # a degree of longitude, in degrees of latitude
    if (east - west) * shrink / (north - south) > width / height:    # too wide: show more latitude
        grow = ((east - west) * shrink * height / width - (north - south)) / 2
        south, north = south - grow, north + grow
    else:                                                            # too tall: show more longitude
        grow = ((north - south) * width / height / shrink - (east - west)) / 2
        west, east = west - grow, east + grow
    plotted = [{"x": round((p.lon - west) / (east - west) * width, 1),
                "y": round((north - p.lat) / (north - south) * height, 1), "point": p} for p in points]
    current = next((i for i, p in enumerate(points) if p.current), None)
    for spot, label in zip(plotted, place_labels([(d["x"], d["y"], d["point"].label) for d in plotted],
                                                 width, height, first=current)):
        spot["label"] = label
    return {"width": width, "height": height, "points": plotted,
            "west": round(west, 1), "east": round(east, 1), "south": round(south, 1), "north": round(north, 1)}


# -- the page ----------------------------------------------------------------------------------------

class Display:
    """Names for people: from the description's labels, or looked up once for IRIs it does not name."""

    def __init__(self, select: Select, labels: dict[str, str]) -> None:
        self.select = select
        self.labels = labels

    def __call__(self, iri: str) -> str:
        if iri not in self.labels:
            found = rows(self.select(f"SELECT ?p ?l ?g WHERE {{ GRAPH ?g {{ <{iri}> ?p ?l }} "
                                     f"FILTER(?p IN (<{RDFS}label>, <{SKOS}prefLabel>)) }}"))
            quads = [ox.Quad(ox.NamedNode(iri), ox.NamedNode(r["p"]), ox.Literal(r["l"]), ox.NamedNode(r["g"]))
                     for r in found]
            self.labels[iri] = labels_of(quads).get(iri) or _local_name(iri)
        return self.labels[iri]


def _collect(desc: Description, labels: dict[str, str], base: str, inferred_graph: str, kgo: str
             ) -> tuple[dict[str, dict[str, Value]], dict[str, dict[str, Value]], str]:
    """Values of the resource's triples by property: what it states (labels included) and what points
    to it; and the first description found (for the summary). Statement records and quotes that point
    to it are not links of their own: the page shows them as each value's sources and words."""
    node = ox.NamedNode(desc.iri)
    evidence_types = {ox.NamedNode(kgo + "SourcedStatement"), ox.NamedNode(kgo + "EvidenceQuote")}
    evidence = {q.subject for q in desc.quads if q.predicate.value == RDF + "type" and q.object in evidence_types}
    outgoing: dict[str, dict[str, Value]] = defaultdict(dict)
    incoming: dict[str, dict[str, Value]] = defaultdict(dict)
    summary = ""
    for q in desc.quads:
        graph = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
        if q.subject == node:
            if q.predicate.value in _DESCRIPTION_PROPS and isinstance(q.object, ox.Literal) and not summary:
                summary = q.object.value
            bucket, term = outgoing[q.predicate.value], q.object
        elif q.object == node and q.subject not in evidence:
            bucket, term = incoming[q.predicate.value], q.subject
        else:
            continue
        key = str(term)
        value = bucket.get(key) or value_of(term, labels, base)
        value.graphs.append(graph)
        value.inferred = all(g == inferred_graph for g in value.graphs)
        bucket[key] = value
    return outgoing, incoming, summary


def _attach_sources(groups: list[dict[str, dict[str, Value]]], infos: dict[str, SourceInfo],
                    order: dict[str, int], said: dict[tuple[str, str, str], Attribution]) -> None:
    """Each value learns who states it, and each source's words for it."""
    for group in groups:
        for pred, values in group.items():
            for v in values.values():
                v.sources = sorted({infos[g].graph: infos[g] for g in v.graphs if g in infos}.values(),
                                   key=lambda s: order.get(s.graph, 0))
                v.said = [said[(pred, v.key, s.graph)] for s in v.sources if (pred, v.key, s.graph) in said]


def _claims_row(select: Select, iri: str, kgo: str, base: str, sources: list[SourceInfo],
                display: Display) -> Row | None:
    """The statements the sources attribute to someone about this node, each with who made it and when
    they made it: "Türkiye said Thursday" is the date of a statement, not of the event."""
    found = rows(select(f"""PREFIX kgo: <{kgo}>
SELECT ?g ?claim ?date ?written WHERE {{ GRAPH ?g {{ ?claim kgo:claimsAbout <{iri}> .
  OPTIONAL {{ ?claim kgo:statementDate ?date }} OPTIONAL {{ ?claim kgo:dateAsWritten ?written }} }} }}
ORDER BY ?claim"""))
    if not found:
        return None
    via = chains(select, (r["claim"] for r in found), kgo, display)
    cells: list[list[Said]] = [[] for _ in sources]
    column = {s.graph: i for i, s in enumerate(sources)}
    for r in found:
        if r["g"] not in column:
            continue
        when = ""
        if "written" in r:
            when = f"; said “{r['written']}”" + (f", that is {date_for_people(r['date'])}" if "date" in r else "")
        value = Value(display(r["claim"]), local_path(base, r["claim"]), r["claim"], key=f"<{r['claim']}>")
        cells[column[r["g"]]].append(Said(value, note=via.get(r["claim"], "") + when))
    return Row("statements reported", kgo + "claimsAbout", "", cells)


def compare(stated: dict[str, dict[str, Value]], sources: list[SourceInfo], labels: dict[str, str],
            singles: set[str], kgo: str) -> list[Row]:
    """Per property, each source's values (with its words), and whether the sources agree."""
    out = []
    for pred, values in stated.items():
        if pred in _NOT_COMPARED or pred == kgo + "evidence":
            continue
        ordered = sorted(values.values(), key=lambda v: v.text.lower())
        cells = [[Said(v, next((a for a in v.said if a.source.graph == s.graph), None))
                  for v in ordered if s.graph in v.graphs] for s in sources]
        if any(cells):
            label = "name" if pred == RDFS + "label" else property_label(pred, labels)
            out.append(Row(label, pred, status_of(pred, cells, singles), cells))
    return sorted(out, key=lambda r: (r.predicate != RDFS + "label", r.label.lower()))


def build_page(desc: Description, select: Select, *, base: str, kgo: str, inferred_graph: str) -> Page:
    node = ox.NamedNode(desc.iri)
    graphs = sorted({q.graph_name.value for q in desc.quads if isinstance(q.graph_name, ox.NamedNode)})
    display = Display(select, labels_of(desc.quads))
    infos = graph_infos(select, graphs, base=base, kgo=kgo, inferred_graph=inferred_graph, display=display)
    order = source_order(infos)
    labels = labels_of(desc.quads, order)
    display.labels.update(labels)
    title = labels.get(desc.iri) or _local_name(desc.iri)

    outgoing, incoming, summary = _collect(desc, labels, base, inferred_graph, kgo)
    said = attributions(select, desc.iri, kgo=kgo, base=base, infos=infos, display=display)
    _attach_sources([outgoing, incoming], infos, order, said)

    subjects = [desc.iri] + sorted({v.iri for vals in incoming.values() for v in vals.values() if v.iri})
    quotes = quotes_for(select, subjects, kgo)
    for qs in quotes.values():
        for qt in qs:
            qt.by = infos[qt.graph].label if qt.graph in infos else ""

    def facts(groups: dict[str, dict[str, Value]], quote_each: bool) -> list[Fact]:
        out = []
        for pred, vals in groups.items():
            if groups is outgoing and (pred in _HIDDEN or pred == kgo + "evidence"):  # title, types, quotes
                continue
            values = sorted(vals.values(), key=lambda v: (v.inferred, v.text.lower()))
            fact = Fact(property_label(pred, labels), pred, values)
            if quote_each:
                fact.quotes = [qt for v in values if v.iri for qt in quotes.get(v.iri, [])][:6]
            out.append(fact)
        return sorted(out, key=lambda f: (all(v.inferred for v in f.values), f.label.lower()))

    asserted_types = desc.types(exclude_graph=inferred_graph) or desc.types()
    types = [value_of(ox.NamedNode(t), labels, base) for t in asserted_types]
    if not summary:
        # Worded like a Wikidata description ("city in Armenia"): no article to get wrong for
        # a plural type ("technical talks") or one that starts with a vowel ("agreement").
        kinds = " and ".join(t.text for t in types) or "resource"
        summary = f"{kinds} in the Kars–Gyumri knowledge graph"

    points: list[Point] = []
    if any(q.subject == node and q.predicate.value == GEO + "hasGeometry" for q in desc.quads) or any(
            q.subject == node and q.predicate.value == kgo + "location" for q in desc.quads):
        here = {desc.iri} | {str(q.object.value) for q in desc.quads
                             if q.subject == node and q.predicate.value == kgo + "location"}
        points = all_points(select, base)
        for p in points:
            p.current = bool(p.href) and any(local_path(base, h) == p.href for h in here)
        if not any(p.current for p in points):
            points = []
    timeline: list[TimelineEvent] = []
    is_event = any(t == kgo + "Event" for t in desc.types()) or any(
        q.subject == node and q.predicate.value in (kgo + "date", kgo + "startDate") for q in desc.quads)
    if is_event:
        timeline = all_events(select, kgo, base, desc.iri)
        if not any(e.current for e in timeline):
            timeline = []
    comparison = None
    sources = stating_sources(outgoing, infos, order)
    if len(sources) >= COMPARED_FROM:
        rows_ = compare(outgoing, sources, labels, single_valued(select, kgo), kgo)
        claims = _claims_row(select, desc.iri, kgo, base, sources, display)
        comparison = Comparison(sources, rows_ + ([claims] if claims else []))
    quote_groups = source_groups(quotes.get(desc.iri, []), said, infos, order)
    return Page(desc.iri, title, types, summary, facts(outgoing, False), facts(incoming, True),
                quotes.get(desc.iri, []), points, timeline, graphs, quote_groups, comparison)


def stating_sources(stated: dict[str, dict[str, Value]], infos: dict[str, SourceInfo],
                    order: dict[str, int]) -> list[SourceInfo]:
    """The sources (reports, not other graphs) that state facts of the resource, earliest first."""
    found = {infos[g].graph: infos[g] for pred, vals in stated.items() if pred not in _NOT_COMPARED
             for v in vals.values() for g in v.graphs if g in infos and infos[g].is_source}
    return sorted(found.values(), key=lambda s: order[s.graph])


def source_groups(naming: list[Quote], said: dict[tuple[str, str, str], Attribution], infos: dict[str, SourceInfo],
                  order: dict[str, int]) -> list[tuple[SourceInfo, list[Quote]]]:
    """Per source that names the resource or states a fact of it, the sentences where it does, in the
    order of its text and each once: a report whose statements were added one by one (with no quote of
    its own naming the resource) is listed as the report that named it is."""
    by_graph: dict[str, dict[str, Quote]] = defaultdict(dict)
    for qt in naming + [qt for a in said.values() for qt in a.quotes]:   # a sentence marks the name first
        if qt.graph in infos:
            by_graph[qt.graph].setdefault(qt.sentence, qt)
    return [(infos[g], sorted(kept.values(), key=lambda q: -1 if q.start is None else q.start))
            for g, kept in sorted(by_graph.items(), key=lambda kv: order.get(kv[0], 0))]
