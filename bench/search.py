"""Search benchmark: building the full-text index and answering `/search` at 100k to 1M quads.

For each size (data from bench/generate.py, cached in bench/data):

1. A store is published from the generated N-Quads with the same function `kg build` uses
   (`publish`), which writes the search index beside it; the index's build time and size are
   taken from a second, separate build of the index alone (`build_for_store`).
2. A query mix of what people type, drawn from the generated names (a full person's name, a
   surname, a place, the start of a name, two words, a common word, a word that is nowhere),
   each asked `--rounds` times:
   - in process (`server.search.search`: the index alone), and
   - over HTTP from `kg serve` (`GET /search?q=…&format=json`, one client, keep-alive),
   reporting p50, p95 and the slowest per kind of query and over the whole mix.

    .venv/bin/python bench/search.py --sizes 100k,1M --rounds 30

Writes bench/results/search.json and prints a Markdown table (bench/README.md has the latest).
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from bench.generate import _FIRST, Manifest, ensure, parse_size, person_label, place_label, size_name  # noqa: E402
from bench.run import DATA, RESULTS, free_port  # noqa: E402
from server.build.pipeline import publish  # noqa: E402
from server.search import build_for_store, search  # noqa: E402
from server.search.index import index_file  # noqa: E402

KG = str(Path(sys.executable).with_name("kg"))


def query_mix(m: Manifest, seed: int) -> list[tuple[str, str]]:
    """(kind, text) pairs: what a person types into the box, with names that exist in the data."""
    rng = random.Random(seed)
    mix: list[tuple[str, str]] = []
    for _ in range(4):
        person = person_label(rng.randrange(m.persons))
        place = place_label(rng.randrange(m.places))
        mix += [("full name", person), ("surname", person.split()[-1]), ("place", place),
                ("prefix (3 letters)", place[:3].lower()), ("two words", f"{place} border"),
                ("first name (common)", rng.choice(_FIRST)), ("miss", f"zq{rng.randrange(10**6)}x")]
    mix += [("common word", "talks"), ("common word", "reported"), ("common word", "ministry")]
    return mix


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    out = {kind: {"p50": statistics.median(ts), "p95": percentile(ts, 0.95), "max": max(ts), "n": len(ts)}
           for kind, ts in times.items()}
    every = [t for ts in times.values() for t in ts]
    out["whole mix"] = {"p50": statistics.median(every), "p95": percentile(every, 0.95), "max": max(every),
                        "n": len(every)}
    return out


def in_process(index: Path, mix: list[tuple[str, str]], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for q in [q for _, q in mix]:
        search(index, q, limit=20)   # one unmeasured round: the page cache warm, as a server's is
    for _ in range(rounds):
        for kind, q in mix:
            t = time.perf_counter()
            search(index, q, limit=20)
            times.setdefault(kind, []).append((time.perf_counter() - t) * 1000)
    return times


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kg serve exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("kg serve did not start listening")


def over_http(store: Path, mix: list[tuple[str, str]], rounds: int) -> dict[str, list[float]]:
    port = free_port()
    proc = subprocess.Popen([KG, "serve", "--store", str(store), "--port", str(port), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_listening(port, proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        times: dict[str, list[float]] = {}

        def ask(q: str) -> None:
            conn.request("GET", "/search?" + urllib.parse.urlencode({"q": q, "format": "json"}))
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200, body[:200]

        for _, q in mix:
            ask(q)
        for _ in range(rounds):
            for kind, q in mix:
                t = time.perf_counter()
                ask(q)
                times.setdefault(kind, []).append((time.perf_counter() - t) * 1000)
        conn.close()
        return times
    finally:
        proc.terminate()
        proc.wait(30)


def bench_size(size: int, seed: int, rounds: int) -> dict[str, Any]:
    path, m = ensure(size, seed, DATA)
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        link = Path(tmp) / "store"
        quads = list(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))
        t = time.perf_counter()
        target = publish(link, quads)
        published_s = time.perf_counter() - t
        del quads
        t = time.perf_counter()
        entries = build_for_store(target, "https://kars-gyumri.example.org/")
        index_s = time.perf_counter() - t
        index = index_file(target)
        mix = query_mix(m, seed)
        result = {"size": size_name(size), "quads": m.triples, "entries": entries, "publish_s": round(published_s, 1),
                  "index_build_s": round(index_s, 2), "index_mb": round(index.stat().st_size / 2**20, 1),
                  "in_process_ms": summary(in_process(index, mix, rounds)),
                  "http_ms": summary(over_http(link, mix, rounds))}
    return result


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| size | things indexed | index build | index size | in process p50 / p95 | HTTP p50 / p95 |",
             "|---|---|---|---|---|---|"]
    for r in results:
        a, b = r["in_process_ms"]["whole mix"], r["http_ms"]["whole mix"]
        lines.append(f"| {r['size']} ({r['quads']:,} quads) | {r['entries']:,} | {r['index_build_s']} s | "
                     f"{r['index_mb']} MB | {a['p50']:.2f} / {a['p95']:.2f} ms | {b['p50']:.2f} / {b['p95']:.2f} ms |")
    lines += ["", "| kind of query (largest size) | in process p50 / max | HTTP p50 / max |", "|---|---|---|"]
    last = results[-1]
    for kind, a in last["in_process_ms"].items():
        b = last["http_ms"][kind]
        lines.append(f"| {kind} | {a['p50']:.2f} / {a['max']:.2f} ms | {b['p50']:.2f} / {b['max']:.2f} ms |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100k,1M")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args(argv)
    results = [bench_size(parse_size(s), args.seed, args.rounds) for s in args.sizes.split(",")]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "search.json").write_text(json.dumps(results, indent=1))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
