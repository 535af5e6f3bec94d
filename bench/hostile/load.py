"""Load under a hostile neighbour: the researcher query mix and `/doc/…` pages at concurrency 16,
with a cartesian-product query every few seconds that can only end at the time limit.

    .venv/bin/python bench/hostile/load.py --size 100k --seconds 60 --concurrency 16

Expected: zero errors other than the announced 503 timeouts of the cartesian queries; figures:
p50/p99 of normal requests, throughput, the RSS of the server's processes at start and end.
Writes bench/results/hostile-load-<stamp>.md|json (and hostile-load-latest.*). Everything runs
on loopback; the server runs under `timeout` in its own session and stops by itself.
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import random
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import ID, ensure, parse_size, size_name  # noqa: E402
from bench.hostile.common import RESULTS, process_rss, serve, write_results  # noqa: E402
from bench.queries import load_mix  # noqa: E402
from bench.run import DATA, percentile, store_for, timed_request  # noqa: E402

CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def doc_path(rng: random.Random, m: dict[str, Any]) -> str:
    kind = rng.choice(["person", "state", "place", "event"])
    if kind == "event":
        return f"/doc/event-a{rng.randrange(m['articles'])}-{rng.randrange(3)}"
    n = {"person": m["persons"], "state": m["states"], "place": m["places"]}[kind]
    return f"/doc/{kind}-{rng.randrange(n)}"


def client(args: tuple[int, int, float, dict[str, Any], float]) -> list[tuple[str, float, int]]:
    """One keep-alive connection: 4 queries of the mix for every page, until the deadline."""
    port, worker, deadline, manifest, doc_share = args
    mix = load_mix()
    rng = random.Random(f"hostile-{worker}")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    out: list[tuple[str, float, int]] = []
    while time.time() < deadline and len(out) < 200_000:
        if rng.random() < doc_share:
            name, method, path, body, headers = "doc-page", "GET", doc_path(rng, manifest), None, {"Accept": "text/html"}
        else:
            q = mix[rng.randrange(len(mix))]
            name, method, path = q.name, "POST", "/sparql"
            body = q.render(rng, manifest).encode("utf-8")
            headers = {"Content-Type": "application/sparql-query", "Accept": q.accept}
        ms, status = timed_request(conn, method, path, body, headers)
        out.append((name, ms, status))
    conn.close()
    return out


def attacker(args: tuple[int, float, float]) -> list[tuple[str, float, int]]:
    """A cartesian product every `every` seconds, on a connection of its own."""
    port, deadline, every = args
    out = []
    while time.time() + every < deadline:
        time.sleep(every)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)  # connects inside the timing
        ms, status = timed_request(conn, "POST", "/sparql", CARTESIAN.encode(),
                                   {"Content-Type": "application/sparql-query", "Accept": "application/json"})
        conn.close()
        out.append(("cartesian", ms, status))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="100k")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--cartesian-every", type=float, default=5.0)
    ap.add_argument("--query-timeout-s", type=float, default=5.0)
    ap.add_argument("--doc-share", type=float, default=0.2)
    args = ap.parse_args(argv)

    size = parse_size(args.size)
    nq, manifest_obj = ensure(size, 1, DATA)
    manifest = vars(manifest_obj)
    store, _ = store_for(nq, "ours")
    env = {"KG_QUERY_TIMEOUT_S": str(args.query_timeout_s), "KG_BASE_IRI": ID[: -len("id/")]}
    lifetime = int(args.seconds) + 180
    with serve(store, env, lifetime, RESULTS / "hostile-load-server.log") as srv:
        rss_start = process_rss(srv.proc.pid)
        deadline = time.time() + args.seconds
        ctx = mp.get_context("fork")
        with ctx.Pool(args.concurrency + 1) as pool:
            attack = pool.apply_async(attacker, ((srv.port, deadline, args.cartesian_every),))
            runs = pool.map(client, [(srv.port, i, deadline, manifest, args.doc_share) for i in range(args.concurrency)])
            attacks = attack.get()
        rss_end = process_rss(srv.proc.pid)
    normal = [s for run in runs for s in run]
    by_status: dict[str, int] = {}
    for _, _, st in normal:
        by_status[str(st)] = by_status.get(str(st), 0) + 1
    ok = [ms for name, ms, st in normal if st == 200]
    pages = [ms for name, ms, st in normal if st == 200 and name == "doc-page"]
    queries = [ms for name, ms, st in normal if st == 200 and name != "doc-page"]
    result = {
        "size": size_name(size), "seconds": args.seconds, "concurrency": args.concurrency,
        "query_timeout_s": args.query_timeout_s, "cartesian_every_s": args.cartesian_every,
        "requests": len(normal), "per_second": round(len(normal) / args.seconds, 1), "status": by_status,
        "errors": sum(n for s, n in by_status.items() if s != "200" and s != "404"),
        "not_found_pages": by_status.get("404", 0),
        "p50_ms": round(percentile(ok, 50), 1), "p99_ms": round(percentile(ok, 99), 1),
        "query_p50_ms": round(percentile(queries, 50), 1), "query_p99_ms": round(percentile(queries, 99), 1),
        "page_p50_ms": round(percentile(pages, 50), 1), "page_p99_ms": round(percentile(pages, 99), 1),
        "cartesian": [{"status": st, "ms": round(ms)} for _, ms, st in attacks],
        "rss_start_kb": rss_start, "rss_end_kb": rss_end,
    }
    md = [f"# Hostile load ({time.strftime('%Y-%m-%d %H:%M')})", "",
          f"{result['size']} quads, {args.concurrency} clients for {args.seconds:g} s (one page for every four "
          f"queries), a cartesian product every {args.cartesian_every:g} s, query_timeout_s={args.query_timeout_s:g}.",
          "", "| figure | value |", "|---|---|",
          f"| requests (normal) | {result['requests']} ({result['per_second']}/s) |",
          f"| statuses | {', '.join(f'{k}: {v}' for k, v in sorted(by_status.items()))} |",
          f"| errors (not 200/404) | {result['errors']} |",
          f"| p50 / p99 all normal (ms) | {result['p50_ms']} / {result['p99_ms']} |",
          f"| p50 / p99 queries (ms) | {result['query_p50_ms']} / {result['query_p99_ms']} |",
          f"| p50 / p99 /doc pages (ms) | {result['page_p50_ms']} / {result['page_p99_ms']} |",
          f"| cartesian queries | {len(attacks)}: statuses {sorted({a['status'] for a in result['cartesian']})}, "
          f"ms {[a['ms'] for a in result['cartesian']]} |",
          f"| RSS start (kB) | {json.dumps(rss_start)} |", f"| RSS end (kB) | {json.dumps(rss_end)} |"]
    write_results("hostile-load", result, "\n".join(md) + "\n")
    print("\n".join(md))
    return 0 if result["errors"] == 0 and all(a["status"] == 503 for a in result["cartesian"]) else 1


if __name__ == "__main__":
    sys.exit(main())

