"""The bench query mix against `kg serve` in remote mode (settings from the environment) and the remote directly."""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.generate import ensure, parse_size  # noqa: E402
from bench.queries import load_mix  # noqa: E402
from bench.run import BIN, DATA, RESULTS, Server, check_same_answers, compare, start, wait_ready  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--virtuoso-port", type=int, required=True)
    ap.add_argument("--kg-port", type=int, required=True)
    ap.add_argument("--size", default="10k")
    ap.add_argument("--seconds", type=float, default=12)
    args = ap.parse_args()
    _, manifest = ensure(parse_size(args.size), 1, DATA)
    log = RESULTS / "virtuoso-servers.log"
    RESULTS.mkdir(parents=True, exist_ok=True)
    ours = start("kg-remote", [str(BIN / "kg"), "serve", "--store", "/nonexistent-kg-store", "--host", "127.0.0.1",
                               "--port", str(args.kg_port)], args.kg_port, "/sparql", 900, log)
    # Started by run.sh, which stops it; `stop()` is never called on this one.
    virtuoso = Server("virtuoso", args.virtuoso_port, "/sparql", ours.proc, form_post=True)
    try:
        wait_ready(ours)
        m = vars(manifest)
        mismatches = check_same_answers([ours, virtuoso], load_mix(), m)
        print("row counts:", "same on every checked query" if not mismatches else "; ".join(mismatches))
        with mp.get_context("fork").Pool(1) as pool:
            runs = compare([ours, virtuoso], 1, args.seconds, 1_000_000, 4, 2.0, 1, m, pool)
    finally:
        ours.stop()
    runs = {k: v for k, v in runs.items()}
    for name, r in runs.items():
        print(f"{name:10s} {r['qps']:8.1f} q/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
              f"errors {r['errors']}/{r['requests']}")
    print(json.dumps({k: {x: v[x] for x in ("qps", "p50_ms", "p99_ms", "errors", "requests")} for k, v in runs.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
