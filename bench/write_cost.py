"""What one curated write costs: on the article graph, and with 100k more triples in the store.

    python bench/write_cost.py            # builds a private store under a temp dir; prints a Markdown table

Phases: snapshot (read the store into memory), plan (in-memory copy, apply, diff, validate),
commit (one update request in one transaction, flushed). Validation is local (only the focus
nodes the write can affect) unless --full; the full variant validates the whole post-write graph.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox

from server import namespaces as ns
from server.build.pipeline import build
from server.curation.writes import Change, Curation, Rules
from server.settings import load_settings

KGO, ID = ns.KGO, ns.ID
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


class FullCuration(Curation):
    """The same write path with local validation switched off."""

    def rules(self, target, quads) -> Rules:  # type: ignore[no-untyped-def]
        return replace(super().rules(target, quads), local_ok=False)


def add_synthetic(store_link: Path, n_triples: int) -> None:
    """Cities with a label, a comment and a link to Gyumri: 4 triples each, in their own graph."""
    g = ox.NamedNode(ns.GRAPH + "synthetic")
    quads = []
    for i in range(n_triples // 4):
        s = ox.NamedNode(f"{ID}synthetic-city-{i}")
        quads += [ox.Quad(s, RDF_TYPE, ox.NamedNode(KGO + "City"), g),
                  ox.Quad(s, RDFS_LABEL, ox.Literal(f"City {i}", language="en"), g),
                  ox.Quad(s, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment"), ox.Literal(f"n{i}"), g),
                  ox.Quad(s, ox.NamedNode("http://www.w3.org/2004/02/skos/core#related"), ox.NamedNode(ID + "gyumri"), g)]
    store = ox.Store(str(store_link.resolve()))
    store.bulk_extend(quads)
    store.optimize()
    del store


def measure(cur: Curation, label: str, runs: int) -> dict[str, float]:
    phases: dict[str, list[float]] = {"snapshot": [], "plan": [], "commit": [], "total": []}
    focus = []
    for i in range(runs):
        change = Change("sparql-update", update=(
            f'INSERT DATA {{ GRAPH <{ns.GRAPH}curated> {{ <{ID}bench-town-{label}-{i}> a <{KGO}City> ; '
            f'<http://www.w3.org/2000/01/rdf-schema#label> "Bench town {i}"@en }} }}'))
        t0 = time.perf_counter()
        cur.snapshot()
        t1 = time.perf_counter()
        plan = cur.plan(change)
        t2 = time.perf_counter()
        cur.commit(plan)
        t3 = time.perf_counter()
        phases["snapshot"].append(t1 - t0)
        phases["plan"].append(t2 - t1)
        phases["commit"].append(t3 - t2)
        phases["total"].append(t3 - t1)
        focus.append(plan.focus_nodes)
    out = {k: statistics.median(v) for k, v in phases.items()}
    out["focus"] = statistics.median(focus)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--extra", type=int, default=100_000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        link = Path(tmp) / "store"
        build(link, log=lambda *a: None)
        settings = load_settings({"store": str(link)})
        for name, extra in (("article graph", 0), (f"article + {args.extra:,} triples", args.extra)):
            if extra:
                add_synthetic(link, extra)
            size = len(ox.Store.read_only(str(link.resolve())))
            for mode, cls in (("local", Curation), ("full", FullCuration)):
                m = measure(cls(settings), f"{mode}{extra}", args.runs if mode == "local" else 1)
                rows.append((name, size, mode, m))
    print("| store | quads | validation | focus nodes | snapshot s | plan (copy+apply+validate) s | commit s | write total s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, size, mode, m in rows:
        print(f"| {name} | {size:,} | {mode} | {int(m['focus']) if mode == 'local' else 'all'} | {m['snapshot']:.2f} | "
              f"{m['plan']:.2f} | {m['commit']:.3f} | {m['total']:.2f} |")


if __name__ == "__main__":
    main()
