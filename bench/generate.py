"""Synthetic graphs shaped like the project's: many news articles about border talks and crossings.

One named graph per article (the article, its events, claims and evidence annotations), plus
shared graphs for the actors and places (`graph/outside`) and a small class hierarchy
(`graph/ontology`). Everything is a pure function of (size, seed): the same arguments give
the same file, byte for byte. Output is N-Quads, written line by line (memory stays flat).

    python bench/generate.py --size 100k --seed 1 --out bench/data/kg-100k-s1.nq

A manifest (`<out>.json`) records how many of each kind of node there are, so that the query
templates (bench/queries) can pick parameters that exist.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO

BASE = "https://kars-gyumri.example.org/"
ID = BASE + "id/"
KGO = BASE + "ontology#"
GRAPH = BASE + "graph/"
G_ONTOLOGY = GRAPH + "ontology"
G_OUTSIDE = GRAPH + "outside"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMA = "https://schema.org/"
ORG = "http://www.w3.org/ns/org#"
OA = "http://www.w3.org/ns/oa#"
WGS = "http://www.w3.org/2003/01/geo/wgs84_pos#"

A = f"<{RDF}type>"
LABEL = f"<{RDFS}label>"

# Event classes and the superclass each one has in graph/ontology.
EVENT_CLASSES = {
    "TechnicalTalks": "Meeting",
    "LeadersMeeting": "Meeting",
    "Meeting": "Event",
    "BorderClosure": "Event",
    "HumanitarianTransit": "Transit",
    "Transit": "Event",
}
EVENT_MIX = ["TechnicalTalks", "LeadersMeeting", "Meeting", "Meeting", "BorderClosure", "HumanitarianTransit",
             "HumanitarianTransit", "TechnicalTalks"]
CAMEO = {"TechnicalTalks": "Cameo046", "LeadersMeeting": "Cameo044", "Meeting": "Cameo040",
         "BorderClosure": "Cameo192", "HumanitarianTransit": "Cameo073"}
LANGS = ["tr", "hy", "ru", "fr"]
VERBS = ["said", "According to the ministry", "announced", "told reporters", "The ministry said", "confirmed"]
YEAR_FIRST, YEAR_LAST = 1991, 2025

# Syllables for names that are a pure function of an index (so a query template can rebuild a label).
_ON = ["Ar", "Ka", "Gyu", "Mar", "Ye", "An", "Ta", "Ist", "Ak", "Van", "Dil", "Sev", "Ere", "Kur", "Lo", "Ni"]
_MID = ["ra", "mri", "ga", "re", "ka", "ja", "lan", "ban", "zu", "ho", "ri", "to"]
_END = ["n", "an", "ia", "ur", "ova", "yan", "oglu", "ek", "is", "ad"]
_FIRST = ["Nikol", "Recep", "Ararat", "Hakan", "Serdar", "Ruben", "Anahit", "Elif", "Gohar", "Mehmet",
          "Zeynep", "Tigran", "Armen", "Ayse", "Levon", "Kemal", "Narine", "Emre", "Lilit", "Murat"]


def word(i: int) -> str:
    """A made-up proper name, distinct for every i (a mixed-radix numeral in syllables)."""
    out = _ON[i % len(_ON)]
    i //= len(_ON)
    out += _MID[i % len(_MID)]
    i //= len(_MID)
    out += _END[i % len(_END)]
    i //= len(_END)
    while i:
        out += _MID[i % len(_MID)]
        i //= len(_MID)
    return out


def person_label(i: int) -> str:
    return f"{_FIRST[i % len(_FIRST)]} {word(i // len(_FIRST) + 7 * i)}"


def state_label(i: int) -> str:
    return word(3 * i + 1) + "ia"


def place_label(i: int) -> str:
    return word(5 * i + 2)


@dataclass
class Manifest:
    size: int
    seed: int
    triples: int = 0
    states: int = 0
    ministries: int = 0
    persons: int = 0
    places: int = 0
    crossings: int = 0
    publishers: int = 0
    articles: int = 0
    events: int = 0
    claims: int = 0
    evidence: int = 0
    year_first: int = YEAR_FIRST
    year_last: int = YEAR_LAST


def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * mult)


def size_name(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def _lit(value: str, lang: str | None = None, dt: str | None = None) -> str:
    v = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    if lang:
        return f'"{v}"@{lang}'
    if dt:
        return f'"{v}"^^<{dt}>'
    return f'"{v}"'


class _Writer:
    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.count = 0
        self.graph = ""

    def use(self, graph: str) -> None:
        self.graph = f"<{graph}>"

    def q(self, s: str, p: str, o: str) -> None:
        self.out.write(f"{s} {p} {o} {self.graph} .\n")
        self.count += 1


def _id(local: str) -> str:
    return f"<{ID}{local}>"


def _kgo(local: str) -> str:
    return f"<{KGO}{local}>"


def _skewed(rng: random.Random, n: int) -> int:
    """An index in [0, n) with a long tail: a few actors appear in many events, most in few."""
    return min(n - 1, int(n * rng.random() ** 2.5))


def pools(size: int) -> dict[str, int]:
    """How many shared nodes a graph of this size has (grows slower than the number of articles)."""
    return {
        "states": 40,
        "persons": max(120, size // 400),
        "places": max(80, size // 600),
        "crossings": max(20, size // 3000),
        "publishers": max(5, size // 50_000),
    }


def _ontology(w: _Writer) -> None:
    w.use(G_ONTOLOGY)
    sub = f"<{RDFS}subClassOf>"
    for cls, sup in EVENT_CLASSES.items():
        w.q(_kgo(cls), A, f"<{RDFS}Class>")
        w.q(_kgo(cls), sub, _kgo(sup))
        w.q(_kgo(cls), LABEL, _lit(cls, "en"))
    for cls in ("Event", "Country", "Person", "GovernmentBody", "Place", "City", "BorderCrossing", "Claim",
                "NewsArticle", "EvidenceQuote", "Publisher"):
        w.q(_kgo(cls), A, f"<{RDFS}Class>")
        w.q(_kgo(cls), LABEL, _lit(cls, "en"))
    w.q(_kgo("City"), sub, _kgo("Place"))


def _outside(w: _Writer, rng: random.Random, m: Manifest, sizes: dict[str, int]) -> None:
    w.use(G_OUTSIDE)
    m.states, m.persons, m.places = sizes["states"], sizes["persons"], sizes["places"]
    m.crossings, m.publishers, m.ministries = sizes["crossings"], sizes["publishers"], 3 * sizes["states"]
    for i in range(m.states):
        s = _id(f"state-{i}")
        w.q(s, A, _kgo("Country"))
        w.q(s, LABEL, _lit(state_label(i), "en"))
        for lang in LANGS:
            if rng.random() < 0.6:
                w.q(s, LABEL, _lit(f"{state_label(i)} ({lang})", lang))
        for j in range(3):
            k = 3 * i + j
            mi = _id(f"ministry-{k}")
            w.q(mi, A, _kgo("GovernmentBody"))
            w.q(mi, LABEL, _lit(f"{['Foreign', 'Transport', 'Interior'][j]} Ministry of {state_label(i)}", "en"))
            w.q(mi, f"<{ORG}subOrganizationOf>", s)
    for i in range(m.persons):
        p, post = _id(f"person-{i}"), _id(f"post-{i}")
        w.q(p, A, _kgo("Person"))
        w.q(p, LABEL, _lit(person_label(i), "en"))
        w.q(p, f"<{ORG}holds>", post)
        w.q(post, A, _kgo("Post"))
        w.q(post, LABEL, _lit(rng.choice(["President", "Prime Minister", "Special Envoy", "Deputy Minister"])
                              + f" of {state_label(i % m.states)}", "en"))
        w.q(post, f"<{ORG}postIn>", _id(f"state-{i % m.states}"))
    # Places: the first 'states' places are regions of a state; the others lie in a region or a city,
    # so kgo:locatedIn chains are one to three links long.
    for i in range(m.places):
        pl = _id(f"place-{i}")
        w.q(pl, A, _kgo("City") if i % 3 == 0 else _kgo("Place"))
        w.q(pl, LABEL, _lit(place_label(i), "en"))
        if rng.random() < 0.5:
            w.q(pl, LABEL, _lit(f"{place_label(i)} ({LANGS[i % 4]})", LANGS[i % 4]))
        parent = _id(f"state-{i % m.states}") if i < m.states else _id(f"place-{rng.randrange(i)}")
        w.q(pl, _kgo("locatedIn"), parent)
        w.q(pl, f"<{WGS}lat>", _lit(f"{rng.uniform(36, 44):.4f}", dt=XSD + "decimal"))
        w.q(pl, f"<{WGS}long>", _lit(f"{rng.uniform(26, 50):.4f}", dt=XSD + "decimal"))
    for i in range(m.crossings):
        c = _id(f"crossing-{i}")
        a, b = rng.randrange(m.places), rng.randrange(m.places)
        w.q(c, A, _kgo("BorderCrossing"))
        w.q(c, LABEL, _lit(f"{place_label(a)}–{place_label(b)} border crossing", "en"))
        w.q(c, _kgo("hasSide"), _id(f"place-{a}"))
        w.q(c, _kgo("hasSide"), _id(f"place-{b}"))
        w.q(c, _kgo("locatedIn"), _id(f"place-{a}"))
    for i in range(m.publishers):
        pub = _id(f"publisher-{i}")
        w.q(pub, A, _kgo("Publisher"))
        w.q(pub, LABEL, _lit(f"{word(11 * i + 5)} Today", "en"))


class _Text:
    """A fake article body: evidence selectors point at increasing offsets within it."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pos = rng.randrange(40, 200)

    def quote(self, exact: str) -> tuple[str, str, str, int, int]:
        start = self.pos
        end = start + len(exact)
        self.pos = end + self.rng.randrange(20, 400)
        return exact, "…the officials " + word(start)[:8], word(end)[:10] + " said…", start, end


def _evidence(w: _Writer, m: Manifest, node: str, article: str, key: str, text: _Text, exact: str) -> None:
    ev = f"ev-{key}"
    m.evidence += 1
    w.q(node, _kgo("evidence"), _id(ev))
    e = _id(ev)
    w.q(e, A, _kgo("EvidenceQuote"))
    w.q(e, A, f"<{OA}SpecificResource>")
    w.q(e, f"<{OA}hasSource>", article)
    quote, pos = _id(ev + "-quote"), _id(ev + "-position")
    w.q(e, f"<{OA}hasSelector>", quote)
    w.q(e, f"<{OA}hasSelector>", pos)
    exact, prefix, suffix, start, end = text.quote(exact)
    w.q(quote, A, f"<{OA}TextQuoteSelector>")
    w.q(quote, f"<{OA}exact>", _lit(exact))
    w.q(quote, f"<{OA}prefix>", _lit(prefix))
    w.q(quote, f"<{OA}suffix>", _lit(suffix))
    w.q(pos, A, f"<{OA}TextPositionSelector>")
    w.q(pos, f"<{OA}start>", _lit(str(start), dt=XSD + "nonNegativeInteger"))
    w.q(pos, f"<{OA}end>", _lit(str(end), dt=XSD + "nonNegativeInteger"))


def _actor(rng: random.Random, m: Manifest, kind: str | None = None) -> str:
    kind = kind or rng.choice(["person", "person", "state", "ministry"])
    n = {"person": m.persons, "state": m.states, "ministry": m.ministries}[kind]
    return _id(f"{kind}-{_skewed(rng, n)}")


def _article(w: _Writer, rng: random.Random, m: Manifest, n: int) -> None:
    slug = f"a{n}"
    w.use(f"{GRAPH}article/{slug}")
    m.articles += 1
    art = _id(f"article-{slug}")
    published = date(YEAR_FIRST, 1, 1) + timedelta(days=rng.randrange((YEAR_LAST - YEAR_FIRST + 1) * 365))
    text = _Text(rng)
    headline = f"{state_label(rng.randrange(m.states))} and {state_label(rng.randrange(m.states))} " \
               f"hold talks on reopening the {place_label(rng.randrange(m.places))} railway"
    w.q(art, A, _kgo("NewsArticle"))
    w.q(art, LABEL, _lit(headline, "en"))
    w.q(art, f"<{SCHEMA}headline>", _lit(headline, "en"))
    w.q(art, f"<{SCHEMA}publisher>", _id(f"publisher-{rng.randrange(m.publishers)}"))
    w.q(art, f"<{SCHEMA}datePublished>", _lit(f"{published.isoformat()}T{rng.randrange(7, 22):02d}:"
                                              f"{rng.randrange(60):02d}:00+03:00", dt=XSD + "dateTime"))
    w.q(art, f"<{SCHEMA}inLanguage>", _lit("en"))
    _evidence(w, m, art, art, f"{slug}-headline", text, headline)
    events = []
    for j in range(rng.randrange(3, 8)):
        cls = rng.choice(EVENT_MIX)
        e = _id(f"event-{slug}-{j}")
        events.append(e)
        m.events += 1
        when = published - timedelta(days=rng.randrange(0, 60))
        place = _id(f"crossing-{rng.randrange(m.crossings)}") if cls in ("HumanitarianTransit", "BorderClosure") \
            or rng.random() < 0.3 else _id(f"place-{_skewed(rng, m.places)}")
        label = f"{cls} {j + 1} reported in {slug}"
        w.q(e, A, _kgo(cls))
        w.q(e, LABEL, _lit(label, "en"))
        if rng.random() < 0.3:
            w.q(e, LABEL, _lit(f"{label} ({LANGS[j % 4]})", LANGS[j % 4]))
        w.q(e, _kgo("eventType"), _kgo(CAMEO[cls]))
        w.q(e, _kgo("date"), _lit(when.isoformat(), dt=XSD + "date"))
        w.q(e, _kgo("dateAsWritten"), _lit(when.strftime("%b. %d")))
        w.q(e, _kgo("location"), place)
        if cls == "LeadersMeeting":
            host, guest = _actor(rng, m, "person"), _actor(rng, m, "person")
            w.q(e, _kgo("host"), host)
            w.q(e, _kgo("guest"), guest)
            parts = {host, guest}
        elif cls == "BorderClosure":
            parts = {_actor(rng, m, "state")}
            w.q(e, _kgo("affects"), _id(f"crossing-{rng.randrange(m.crossings)}"))
        elif cls == "HumanitarianTransit":
            parts = {_actor(rng, m, "state")}
            w.q(e, _kgo("throughCrossing"), place)
            w.q(e, _kgo("destination"), _id(f"state-{rng.randrange(m.states)}"))
            w.q(e, _kgo("cargoAsWritten"), _lit(rng.choice(["aid trucks", "humanitarian shipments", "fuel"]), "en"))
        else:
            parts = {_actor(rng, m) for _ in range(rng.randrange(2, 5))}
            w.q(e, _kgo("roundNumber"), _lit(str(rng.randrange(1, 6)), dt=XSD + "integer"))
        for p in sorted(parts):
            w.q(e, _kgo("participant"), p)
        if j:
            w.q(events[j - 1], _kgo("followedBy"), e)
        _evidence(w, m, e, art, f"{slug}-{j}", text, label)
    w.q(art, f"<{SCHEMA}about>", events[0])
    for k in range(rng.randrange(1, 4)):
        c = _id(f"claim-{slug}-{k}")
        m.claims += 1
        claimant = _actor(rng, m, rng.choice(["ministry", "state", "person"]))
        w.q(c, A, _kgo("Claim"))
        w.q(c, LABEL, _lit(f"statement {k + 1} in {slug}", "en"))
        w.q(c, _kgo("claimant"), claimant)
        w.q(c, _kgo("claimSource"), art)
        for e in rng.sample(events, min(len(events), rng.randrange(1, 3))):
            w.q(c, _kgo("claimsAbout"), e)
        verb = rng.choice(VERBS)
        w.q(c, _kgo("reportingVerbAsWritten"), _lit(verb))
        w.q(c, _kgo("statementDate"), _lit(published.isoformat(), dt=XSD + "date"))
        _evidence(w, m, c, art, f"{slug}-c{k}", text, verb)


def generate(size: int, seed: int, out: IO[str]) -> Manifest:
    """Write about `size` quads (stops after the first article that reaches it)."""
    m = Manifest(size=size, seed=seed)
    w = _Writer(out)
    rng = random.Random(seed)
    _ontology(w)
    _outside(w, rng, m, pools(size))
    n = 0
    while w.count < size:
        _article(w, random.Random(f"{seed}-{n}"), m, n)
        n += 1
    m.triples = w.count
    return m


def ensure(size: int, seed: int, folder: Path) -> tuple[Path, Manifest]:
    """The data file for (size, seed) in `folder`, generated unless it is already there."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"kg-{size_name(size)}-s{seed}.nq"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return path, Manifest(**json.loads(meta.read_text()))
    tmp = path.with_suffix(".nq.tmp")
    with tmp.open("w", encoding="utf-8", buffering=1 << 20) as fh:
        m = generate(size, seed, fh)
    tmp.replace(path)
    meta.write_text(json.dumps(asdict(m), indent=1))
    return path, m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="10k", help="target number of quads: 10k, 100k, 1M, ...")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="output .nq file (default: stdout); a manifest is written next to it")
    args = ap.parse_args(argv)
    size = parse_size(args.size)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", buffering=1 << 20) as fh:
            m = generate(size, args.seed, fh)
        out.with_suffix(".json").write_text(json.dumps(asdict(m), indent=1))
    else:
        m = generate(size, args.seed, sys.stdout)
    print(json.dumps(asdict(m)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
