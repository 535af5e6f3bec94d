"""What a person sees of a resource: labels instead of IRIs, facts grouped by property, the article's
sentences as quotes, dates for people, a map of places, a timeline of events.

No Flask here: `build_page` turns a `Description` (and a few page-only queries through the same
`select`) into plain data that the Jinja templates render (autoescaped).
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from ..http.security import safe_href
from .describe import DCTERMS, GEO, OA, RDF, RDFS, SKOS, Description, Select, local_path
from .map_labels import place_labels

XSD = "http://www.w3.org/2001/XMLSchema#"
_DESCRIPTION_PROPS = (SKOS + "definition", RDFS + "comment", DCTERMS + "description", SKOS + "scopeNote")
_LABEL_PROPS = (RDFS + "label", SKOS + "prefLabel")
_HIDDEN = {RDFS + "label", RDF + "type"}  # shown as title and types, not repeated in the facts


@dataclass
class Value:
    text: str                 # what is shown
    href: str | None = None   # where a link goes (a local path, or an outside IRI)
    iri: str | None = None    # the IRI itself, shown as a tooltip
    note: str = ""            # datatype or language
    inferred: bool = False
    graphs: list[str] = field(default_factory=list)


@dataclass
class Quote:
    exact: str
    sentence: str
    start: int | None
    about: str = ""

    @property
    def parts(self) -> tuple[str, str, str]:
        """The sentence split around the quoted span, to highlight it."""
        i = self.sentence.find(self.exact)
        if i < 0:
            return "", self.exact, ""
        return self.sentence[:i], self.exact, self.sentence[i + len(self.exact):]


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


def labels_of(quads: list[ox.Quad]) -> dict[str, str]:
    """One label per IRI: English first, then no language, then any."""
    ranked: dict[str, tuple[int, str]] = {}
    for q in quads:
        if q.predicate.value in _LABEL_PROPS and isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.Literal):
            lang = q.object.language or ""
            rank = 0 if lang.startswith("en") else 1 if not lang else 2
            if q.subject.value not in ranked or rank < ranked[q.subject.value][0]:
                ranked[q.subject.value] = (rank, q.object.value)
    return {k: v for k, (_, v) in ranked.items()}


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
        return Value(labels.get(term.value) or _local_name(term.value), href, term.value)
    if isinstance(term, ox.BlankNode):
        return Value("(blank node)", None, None)
    assert isinstance(term, ox.Literal)
    dtype = term.datatype.value
    if dtype in (XSD + "date", XSD + "dateTime", XSD + "gYearMonth", XSD + "gYear"):
        return Value(human_date(term.value, dtype), note=_local_name(dtype))
    note = term.language or ("" if dtype in (XSD + "string", RDF + "langString") else _local_name(dtype))
    return Value(term.value, note=note)


# -- evidence ----------------------------------------------------------------------------------------

_ABBREVIATIONS = {"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
                  "u.s", "u.n", "u.k", "mr", "mrs", "ms", "dr", "st", "no", "gen", "gov", "sen", "rep"}


def _sentence_ends(text: str) -> list[int]:
    """Offsets just past each sentence end: a newline, or . ? ! before a space and a capital or digit,
    unless the word before the period is an abbreviation ("Nov. 28", "U.S. on").
    """
    ends = []
    for i, ch in enumerate(text):
        if ch == "\n":
            ends.append(i)
        elif ch in ".?!" and text[i + 1:i + 2] == " ":
            word = text[:i].rsplit(None, 1)[-1].lower() if text[:i].strip() else ""
            if ch == "." and word.strip("(") in _ABBREVIATIONS:
                continue
            ends.append(i + 1)
    return ends


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence (or caption line) of `text` that holds the span [start, end)."""
    ends = _sentence_ends(text)
    left = max((e for e in ends if e <= start), default=0)
    right = min((e for e in ends if e >= end), default=len(text))
    return text[left:right].strip()


def evidence_query(iris: list[str], kgo: str) -> str:
    values = " ".join(f"<{i}>" for i in iris)
    return f"""PREFIX oa: <{OA}> PREFIX kgo: <{kgo}>
SELECT ?node ?exact ?start ?end ?source WHERE {{
  VALUES ?node {{ {values} }}
  ?node kgo:evidence ?ev . ?ev oa:hasSource ?source ; oa:hasSelector ?q .
  ?q oa:exact ?exact .
  OPTIONAL {{ ?ev oa:hasSelector ?pos . ?pos oa:start ?start ; oa:end ?end }}
}} ORDER BY ?node ?start"""


def quotes_for(select: Select, iris: list[str], kgo: str) -> dict[str, list[Quote]]:
    """Evidence quotes of these nodes, each widened to the sentence that holds it."""
    if not iris:
        return {}
    rows = _rows(select(evidence_query(iris, kgo)))
    texts: dict[str, str] = {}
    sources = sorted({r["source"] for r in rows})
    if sources:
        values = " ".join(f"<{s}>" for s in sources)
        for r in _rows(select(f"SELECT ?source ?text WHERE {{ VALUES ?source {{ {values} }} "
                              f"?source <{kgo}fullText> ?text }}")):
            texts[r["source"]] = r["text"]
    out: dict[str, list[Quote]] = defaultdict(list)
    seen: set[tuple[str, str, str]] = set()
    for r in rows:
        key = (r["node"], r["exact"], r.get("start", ""))
        if key in seen:
            continue
        seen.add(key)
        text, start = texts.get(r["source"]), r.get("start")
        sentence = r["exact"]
        if text is not None and start is not None:
            s, e = int(start), int(r["end"])
            if text[s:e] == r["exact"]:
                sentence = sentence_around(text, s, e)
        out[r["node"]].append(Quote(r["exact"], sentence, int(start) if start else None))
    return out


def _rows(results: dict[str, Any]) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in b.items()} for b in results["results"]["bindings"]]


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
    for r in _rows(select(points_query())):
        m = _POINT.search(r.get("wkt", ""))
        if m:
            out.append(Point(r.get("label") or _local_name(r["place"]), float(m.group(1)), float(m.group(2)),
                             local_path(base, r["place"])))
    return out


def all_events(select: Select, kgo: str, base: str, current: str | None = None) -> list[TimelineEvent]:
    return [TimelineEvent(r["date"], r.get("label") or _local_name(r["event"]), local_path(base, r["event"]),
                          r["event"] == current) for r in _rows(select(timeline_query(kgo)))]


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

def build_page(desc: Description, select: Select, *, base: str, kgo: str, inferred_graph: str) -> Page:
    node = ox.NamedNode(desc.iri)
    labels = labels_of(desc.quads)
    title = labels.get(desc.iri) or _local_name(desc.iri)

    outgoing: dict[str, dict[str, Value]] = defaultdict(dict)
    incoming: dict[str, dict[str, Value]] = defaultdict(dict)
    summary = ""
    for q in desc.quads:
        graph = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
        if q.subject == node:
            if q.predicate.value in _DESCRIPTION_PROPS and isinstance(q.object, ox.Literal) and not summary:
                summary = q.object.value
            if q.predicate.value in _HIDDEN or q.predicate.value == kgo + "evidence":  # shown as quotes
                continue
            bucket, term = outgoing[q.predicate.value], q.object
        elif q.object == node:
            bucket, term = incoming[q.predicate.value], q.subject
        else:
            continue
        key = str(term)
        value = bucket.get(key) or value_of(term, labels, base)
        value.graphs.append(graph)
        value.inferred = all(g == inferred_graph for g in value.graphs)
        bucket[key] = value

    subjects = [desc.iri] + sorted({v.iri for vals in incoming.values() for v in vals.values() if v.iri})
    quotes = quotes_for(select, subjects, kgo)

    def facts(groups: dict[str, dict[str, Value]], quote_each: bool) -> list[Fact]:
        out = []
        for pred, vals in groups.items():
            values = sorted(vals.values(), key=lambda v: (v.inferred, v.text.lower()))
            fact = Fact(labels.get(pred) or _local_name(pred), pred, values)
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
    graphs = sorted({q.graph_name.value for q in desc.quads if isinstance(q.graph_name, ox.NamedNode)})
    return Page(desc.iri, title, types, summary, facts(outgoing, False), facts(incoming, True),
                quotes.get(desc.iri, []), points, timeline, graphs)
