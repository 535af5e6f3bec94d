"""Where a request's time goes, in one process: engine, serialization, IPC, Flask.

Runs the same query mix as bench/run.py (same data, same parameter draws) through four layers,
each adding one thing to the one before:

1. pyoxigraph on a read-only store opened here: evaluate and materialise the answer;
2. + the project's serializers (server.renderers), i.e. `server.executor.run_query`;
3. `server.engine.QueryEngine.run`: + the query guard, pickling, the pipe to a query process;
4. Flask's test client on `create_app`: + routing, protocol parsing, negotiation, the response.

The difference between consecutive layers is that layer's cost. Then cProfile runs layer 4 and
layer 2 and prints the functions that take the most time on each side of the pipe.

    .venv/bin/python bench/profile.py --size 10k --requests 2000

What is left out is HTTP itself (gunicorn, sockets): compare with bench/run.py's latency at
concurrency 1.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and this module would shadow the
# standard library's `profile`, which cProfile imports: take the folder off before importing it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import itertools  # noqa: E402
import pstats  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from typing import Any, Callable  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from bench.generate import ensure, parse_size  # noqa: E402
from bench.queries import load_mix  # noqa: E402
from bench.run import DATA, store_for  # noqa: E402
from server import create_app  # noqa: E402
from server.engine import QueryRequest  # noqa: E402
from server.executor import run_query  # noqa: E402
from server.query_guard import check_query  # noqa: E402
from server.store import KGStore  # noqa: E402

WIRE = {"graph": "ntriples", "bindings": "json", "boolean": "json"}


def requests_for(manifest: dict[str, Any], n: int, seed: int) -> list[tuple[str, str, str]]:
    """(template name, query text, kind): the same draws for every layer."""
    mix = load_mix()
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        q = mix[rng.randrange(len(mix))]
        out.append((q.name, q.render(rng, manifest), q.kind))
    return out


def timed(label: str, reqs: list[tuple[str, str, str]], fn: Callable[[str, str], Any]) -> float:
    """Mean ms per request of fn over all requests (after one unmeasured pass over the first 200)."""
    for name, text, kind in reqs[:200]:
        fn(text, kind)
    t0 = time.perf_counter()
    for name, text, kind in reqs:
        fn(text, kind)
    ms = (time.perf_counter() - t0) * 1000 / len(reqs)
    print(f"  {label:58s} {ms:7.3f} ms/request", flush=True)
    return ms


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="10k")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--top", type=int, default=18, help="functions to list per profile")
    args = ap.parse_args(argv)

    nq, manifest = ensure(parse_size(args.size), args.seed, DATA)
    store_dir, _ = store_for(nq, "ours")
    reqs = requests_for(vars(manifest), args.requests, args.seed)
    print(f"{args.size}: {manifest.triples:,} quads; {len(reqs)} requests of the mix per layer\n")

    store = KGStore(store_dir, read_only=True)

    def evaluate(text: str, kind: str) -> None:
        result = store.query(text)
        if isinstance(result, ox.QueryBoolean):
            bool(result)
        elif isinstance(result, ox.QuerySolutions):
            n = len(result.variables)
            [tuple(sol[i] for i in range(n)) for sol in itertools.islice(result, 10_001)]
        else:
            list(itertools.islice(result, 10_001))

    def executor(text: str, kind: str) -> None:
        run_query(store, {"query": text, "format": WIRE[kind], "max_rows": 10_000})

    def guard(text: str, kind: str) -> None:
        check_query(text, max_depth=64, allowed_services=frozenset())

    app = create_app({"store": str(store_dir), "query_timeout_s": 30.0})
    app.testing = True
    engine = app.extensions["kg"].engine
    client = app.test_client()
    accept = {"graph": "application/n-triples", "bindings": "application/sparql-results+json",
              "boolean": "application/sparql-results+json"}

    def via_engine(text: str, kind: str) -> None:
        engine.run(QueryRequest(text, accept=accept[kind]))

    def via_flask(text: str, kind: str) -> None:
        resp = client.post("/sparql", data=text.encode(), content_type="application/sparql-query",
                           headers={"Accept": accept[kind]})
        assert resp.status_code == 200, resp.data[:300]
        resp.data  # noqa: B018

    try:
        print("mean time per request, each layer includes the ones above it:")
        t_eval = timed("1 pyoxigraph: evaluate + materialise", reqs, evaluate)
        t_exec = timed("2 + serialize (server.executor.run_query)", reqs, executor)
        t_guard = timed("  (query guard alone: server.query_guard.check_query)", reqs, guard)
        t_engine = timed("3 QueryEngine.run: + guard, pickle, pipe, query process", reqs, via_engine)
        t_flask = timed("4 Flask test client: + routing, protocol, negotiation", reqs, via_flask)
        rows = [("pyoxigraph evaluate + materialise", t_eval), ("serialization (server.renderers)", t_exec - t_eval),
                ("query guard (lexical scan)", t_guard),
                ("IPC: pickle + pipes + hand-off to the query process", t_engine - t_exec - t_guard),
                ("Flask + werkzeug request/response", t_flask - t_engine)]
        print("\n| step | ms/request | share of layer 4 |\n|---|---|---|")
        for label, ms in rows:
            print(f"| {label} | {ms:.3f} | {100 * ms / t_flask:.0f}% |")
        print(f"| total (Flask test client, no HTTP) | {t_flask:.3f} | 100% |")

        for title, fn in (("the server process (Flask test client; the query process's work shows as waiting)",
                           via_flask), ("the query process's work, in-process (server.executor.run_query)", executor)):
            prof = cProfile.Profile()
            prof.enable()
            for name, text, kind in reqs:
                fn(text, kind)
            prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime").print_stats(args.top)
            print(f"\n-- cProfile, {title}: top {args.top} by own time --")
            lines = buf.getvalue().splitlines()
            start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), 0)
            print("\n".join(ln for ln in lines[start - 2 if start >= 2 else 0:] if ln.strip()))
    finally:
        engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
