"""Where a request's time goes, in one process: engine, answer writing, guard, thread hand-off, WSGI.

Runs the same query mix as bench/run.py (same data, same parameter draws) through these layers:

1. pyoxigraph on a read-only store opened here: evaluate and materialise the answer;
2. + writing the answer within the caps (`server.store.embedded_engine.evaluate`, this thread);
3. + the query guard and the negotiation (`server.sparql.queries.query_request`);
4. `EmbeddedEngine.run`: + the fairness rule and the hand-off to a native query thread;
5. the app's WSGI callable, as the server calls it: + protocol reading, headers, metrics and
   the access log (`server.sparql.endpoint`).

The difference between layers is that layer's cost. Then cProfile runs layer 5 and prints the
functions that take the most time.

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
import logging  # noqa: E402
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
from server.settings import load_settings  # noqa: E402
from server.sparql.queries import query_request  # noqa: E402
from server.store.embedded import KGStore  # noqa: E402
from server.store.embedded_engine import evaluate as write_answer  # noqa: E402
from server.store.engine import caps  # noqa: E402


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

    settings = load_settings({"store": str(store_dir), "query_timeout_s": 30.0}, environ={})
    limits = caps(settings)
    accept = {"graph": "application/n-triples", "bindings": "application/sparql-results+json",
              "boolean": "application/sparql-results+json"}
    prepared = {text: query_request(text, settings, accept=accept[kind]) for _n, text, kind in reqs}

    def written(text: str, kind: str) -> None:
        write_answer(store, prepared[text], limits)

    def guarded(text: str, kind: str) -> None:
        write_answer(store, query_request(text, settings, accept=accept[kind]), limits)

    app = create_app(settings)
    engine = app.extensions["kg"].engine
    logging.getLogger("kg.access").handlers = [logging.NullHandler()]  # not 2,000 lines on the terminal

    def via_engine(text: str, kind: str) -> None:
        engine.run(query_request(text, settings, accept=accept[kind]))

    def via_wsgi(text: str, kind: str) -> None:
        body = text.encode()
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/sparql", "QUERY_STRING": "", "SERVER_NAME": "bench",
                   "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "CONTENT_LENGTH": str(len(body)),
                   "CONTENT_TYPE": "application/sparql-query", "HTTP_ACCEPT": accept[kind],
                   "REMOTE_ADDR": "127.0.0.1"}
        status: list[str] = []
        out = app(environ, lambda s, h, e=None: status.append(s))
        b"".join(out)
        getattr(out, "close", lambda: None)()
        assert status[0].startswith("200"), status

    try:
        print("mean time per request:")
        t_eval = timed("1 pyoxigraph: evaluate + materialise", reqs, evaluate)
        t_written = timed("2 + the answer written within the caps", reqs, written)
        t_guard = timed("3 + guard and negotiation", reqs, guarded)
        t_engine = timed("4 EmbeddedEngine.run: + fairness, native thread hand-off", reqs, via_engine)
        t_wsgi = timed("5 WSGI app (/sparql): + protocol, headers, metrics, log", reqs, via_wsgi)
        rows = [("pyoxigraph evaluate + materialise", t_eval), ("writing the answer", t_written - t_eval),
                ("query guard and negotiation", t_guard - t_written),
                ("fairness and the thread hand-off", t_engine - t_guard),
                ("protocol reading, headers, metrics, access log", t_wsgi - t_engine)]
        print("\n| step | ms/request | share |\n|---|---|---|")
        for label, ms in rows:
            print(f"| {label} | {ms:.3f} | {100 * ms / t_wsgi:.0f}% |")
        print(f"| total (WSGI, no HTTP) | {t_wsgi:.3f} | 100% |")

        prof = cProfile.Profile()
        prof.enable()
        for name, text, kind in reqs:
            via_wsgi(text, kind)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime").print_stats(args.top)
        print(f"\n-- cProfile, layer 5 (the WSGI app as the server calls it): top {args.top} by own time --")
        lines = buf.getvalue().splitlines()
        start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), 0)
        print("\n".join(ln for ln in lines[start - 2 if start >= 2 else 0:] if ln.strip()))
    finally:
        engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
