"""What one curated write costs, on the project graph and with 1M and 10M other quads in the store.

    python bench/write_cost.py --sizes 0,1M,10M --runs 20     # prints a Markdown table

Each size is the built project store, plus (for 1M and 10M) a graph from bench/generate.py
bulk-loaded beside it (`kg load`; its graphs moved under `graph/bench/` so that none of them is
one of ours). Then, through `Curation.write` (the code path of every write: plan, validate,
commit, change log), `--runs` writes of each kind, one after the other:

- *one triple*: an existing event gains a participant, then loses it again (INSERT DATA, then
  DELETE DATA of the same triple): each write validates the event, a real focus node.
- *new node*: a new `kgo:City` with its English label (two triples), as the earlier figures of
  this file measured.

`--full` also times `kg validate` of the whole store (validate_store) and the bulk load itself,
for the "full validation at 1M within 10x the load time" goal.
The script uses only interfaces that the write path had before and after its rework, so the
same file measures both.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate import ensure, parse_size, size_name  # noqa: E402
from server import namespaces as ns  # noqa: E402
from server.build.pipeline import build  # noqa: E402
from server.curation.writes import Change, Curation  # noqa: E402
from server.settings import load_settings  # noqa: E402
from server.store.loader import load_files  # noqa: E402

DATA = ROOT / "bench" / "data"
PFX = f"PREFIX kgo: <{ns.KGO}> PREFIX kg: <{ns.ID}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
CURATED = ns.GRAPH + "curated"
EVENT, AGENT = "kg:second-round-technical-talks", "kg:nikol-pashinyan"


def moved_graphs(size: int) -> Path:
    """The generated N-Quads with every graph IRI moved under `graph/bench/` (made once, cached)."""
    src, _manifest = ensure(size, 1, DATA)
    out = DATA / f"kg-{size_name(size)}-s1.bench.nq"
    if out.exists():
        return out
    tmp = out.with_suffix(".tmp")
    old, new = f"<{ns.GRAPH}", f"<{ns.GRAPH}bench/"
    with src.open(encoding="utf-8") as fin, tmp.open("w", encoding="utf-8", buffering=1 << 20) as fout:
        for line in fin:
            head, sep, graph = line.rpartition(" " + old)
            fout.write(head + " " + new + graph if sep else line)
    tmp.replace(out)
    return out


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def one_triple(i: int) -> str:
    verb = "INSERT" if i % 2 == 0 else "DELETE"
    return PFX + f"{verb} DATA {{ GRAPH <{CURATED}> {{ {EVENT} kgo:participant {AGENT} }} }}"


def new_node(i: int, tag: str) -> str:
    return PFX + (f'INSERT DATA {{ GRAPH <{CURATED}> {{ kg:bench-town-{tag}-{i} a kgo:City ; '
                  f'rdfs:label "Bench town {i}"@en }} }}')


def measure(cur: Curation, make, runs: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Wall-clock and CPU seconds (this process, all its threads) of each write. On a machine
    other jobs share, the wall clock includes waiting for a core; the CPU time does not."""
    wall, cpu = [], []
    for i in range(runs):
        change = Change("sparql-update", update=make(i))
        c = time.process_time()
        wall.append(timed(lambda: cur.write(change)))
        cpu.append(time.process_time() - c)
    return wall, cpu


def p50(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:.0f}"


def p90(xs: list[float]) -> str:
    return f"{sorted(xs)[int(0.9 * (len(xs) - 1))] * 1000:.0f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="0,1M,10M")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--full", action="store_true", help="also time full validation and the bulk load")
    ap.add_argument("--tmp", default=None, help="folder for the stores (default: a temporary one)")
    args = ap.parse_args()
    rows = []
    for size in [parse_size(s) if s != "0" else 0 for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
            link = Path(tmp) / "store"
            build(link, log=lambda *a: None)
            load_s = timed(lambda: load_files(link, [moved_graphs(size)])) if size else 0.0
            settings = load_settings({"store": str(link)})
            cur = Curation(settings)
            first = timed(lambda: cur.write(Change("sparql-update", update=one_triple(0))))
            cur.write(Change("sparql-update", update=one_triple(1)))
            triple = measure(cur, one_triple, args.runs)
            node = measure(cur, lambda i: new_node(i, size_name(size) if size else "0"), args.runs)
            full = ""
            if args.full:
                from server.validation.inputs import validate_store
                close = getattr(cur, "close", None)
                if close:
                    close()
                del cur
                gc.collect()
                full = f"{timed(lambda: validate_store(link)):.1f}"
            rows.append((size_name(size) if size else "project graph only", triple, node, first, load_s, full))
            print(rows[-1][0], "done", file=sys.stderr, flush=True)
    print("| other quads | one triple p50 ms (CPU ms) | p90 ms | new node p50 ms (CPU ms) | p90 ms | first write ms | "
          "load s | full validation s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (triple, triple_cpu), (node, node_cpu), first, load_s, full in rows:
        print(f"| {name} | {p50(triple)} ({p50(triple_cpu)}) | {p90(triple)} | {p50(node)} ({p50(node_cpu)}) | {p90(node)} | "
              f"{first * 1000:.0f} | {load_s:.1f} | {full} |")


if __name__ == "__main__":
    main()
