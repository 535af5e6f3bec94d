"""Endpoint benchmark: our server (`kg serve`) against `oxigraph serve-read-only`, same data, same run.

For each size: generate the graph (cached in bench/data), load one store with pyoxigraph's
bulk loader for our server and one with `oxigraph load` for Oxigraph's server, start both on
free loopback ports, check that they give the same number of rows, then send the same query
mix to each at each concurrency for at most --seconds or --requests per server, in --rounds
alternating slices (so that other load on the machine falls on both alike).

    .venv/bin/python bench/run.py --sizes 10k,100k --seconds 20

Prints a table and writes bench/results/<stamp>.md and .json (and latest.md / latest.json).
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from bench.generate import ensure, parse_size, size_name  # noqa: E402
from bench.queries import QueryTemplate, load_mix  # noqa: E402

DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent


# -- stores -----------------------------------------------------------------------------------
def _load_ours(nq: Path, target: Path) -> float:
    """pyoxigraph bulk load + optimize, in a child process so the store is closed when it ends."""
    code = ("import sys, pyoxigraph as ox; s = ox.Store(sys.argv[1]); "
            "s.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_QUADS); s.optimize(); s.flush()")
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", code, str(target), str(nq)], check=True)
    return time.monotonic() - started


def _load_oxigraph(nq: Path, target: Path) -> float:
    started = time.monotonic()
    subprocess.run([str(BIN / "oxigraph"), "load", "--location", str(target), "--file", str(nq)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([str(BIN / "oxigraph"), "optimize", "--location", str(target)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def store_for(nq: Path, kind: str) -> tuple[Path, float | None]:
    """A loaded store directory next to the data file; reused while the data file is unchanged."""
    target = nq.with_name(nq.stem + f".store-{kind}")
    done = target / ".bench-loaded"
    if done.exists() and done.stat().st_mtime >= nq.stat().st_mtime:
        return target, None
    shutil.rmtree(target, ignore_errors=True)
    seconds = (_load_ours if kind == "ours" else _load_oxigraph)(nq, target)
    done.write_text(f"{seconds:.2f}\n")
    return target, seconds


# -- servers ----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    path: str
    proc: subprocess.Popen[bytes]
    form_post: bool = False   # send queries as an HTML form (Virtuoso 7.2 hangs on application/sparql-query)

    def stop(self) -> None:
        stop_group(self.proc)


def stop_group(proc: subprocess.Popen[bytes], wait_s: float = 15) -> None:
    """End the process group this benchmark started (its own session), politely then firmly."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def start(name: str, argv: list[str], port: int, path: str, lifetime_s: int, log: Path) -> Server:
    """Start a server in its own session under `timeout`, so that it stops by itself in any case."""
    cmd = ["timeout", "-k", "10", str(lifetime_s), *argv]
    with log.open("ab") as fh:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=fh, start_new_session=True)
    return Server(name, port, path, proc)


def wait_ready(server: Server, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode} before answering")
        try:
            status, _ = request(server, "ASK {}", "application/sparql-results+json", timeout=5)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer within {timeout:.0f} s")


def request(server: Server, query: str, accept: str, timeout: float = 60) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        body, ctype = encode_query(query, server.form_post)
        conn.request("POST", server.path, body=body, headers={"Content-Type": ctype, "Accept": accept})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def encode_query(query: str, form_post: bool) -> tuple[bytes, str]:
    if form_post:
        return urllib.parse.urlencode({"query": query}).encode("ascii"), "application/x-www-form-urlencoded"
    return query.encode("utf-8"), "application/sparql-query"



def timed_request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None,
                  headers: dict[str, str]) -> tuple[float, int]:
    """One request on a keep-alive connection: (milliseconds, status); status 0 when it failed."""
    t0 = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        status = resp.status
        if resp.will_close:
            conn.close()
    except (OSError, http.client.HTTPException):
        conn.close()
        status = 0
    return (time.perf_counter() - t0) * 1000, status

def count_answer(body: bytes, kind: str) -> int:
    if kind == "graph":
        return len({line for line in body.decode("utf-8").splitlines() if line.strip()})
    data = json.loads(body)
    if kind == "boolean":
        return int(bool(data["boolean"]))
    return len(data["results"]["bindings"])


def check_same_answers(servers: list[Server], mix: list[QueryTemplate], manifest: dict[str, Any],
                       draws: int = 3) -> list[str]:
    """Each template with a few parameter draws: both servers must give the same number of rows."""
    problems = []
    rng = random.Random(12345)
    for q in mix:
        for _ in range(draws):
            text = q.render(rng, manifest)
            counts = []
            for s in servers:
                status, body = request(s, text, q.accept)
                counts.append(count_answer(body, q.kind) if status == 200 else f"HTTP {status}")
            if len(set(counts)) != 1:
                problems.append(f"{q.name}: " + ", ".join(f"{s.name}={c}" for s, c in zip(servers, counts)))
    return problems


def reference_server(kind: str, store: Path, lifetime_s: int, log: Path, remote: str = "",
                     worker_class: str = "gthread") -> Server:
    """bench/reference_app.py under gunicorn, 2 workers: gunicorn's threaded worker with 4 threads
    each (the app computes on its request threads, in parallel: the fastest plain setup for a
    query computed in the worker), or 2 gevent workers (for the proxy of a remote store)."""
    port = free_port()
    threads = ["--threads", "4"] if worker_class == "gthread" else []
    argv = ["env", f"KG_BENCH_STORE={store}", f"KG_BENCH_REMOTE={remote}", f"PYTHONPATH={ROOT}",
            str(BIN / "gunicorn"), "--workers", "2", *threads, "--worker-class", worker_class,
            "--bind", f"127.0.0.1:{port}", "--error-logfile", "-",
            "--no-control-socket", f"bench.reference_app:{kind}"]
    return start(f"wsgi-{kind}", argv, port, "/sparql", lifetime_s, log)


# -- load driver ------------------------------------------------------------------------------
def _client(args: tuple[int, str, str, int, float, float, int, dict[str, Any], bool]) -> list[tuple[str, float, int]]:
    """One keep-alive connection sending requests back to back until the deadline or its quota."""
    port, path, seed, worker, start_at, deadline, quota, manifest, form_post = args
    mix = load_mix()
    rng = random.Random(f"{seed}-{worker}")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    out: list[tuple[str, float, int]] = []
    pause = start_at - time.time()
    if pause > 0:
        time.sleep(pause)
    while len(out) < quota and time.time() < deadline:
        q = mix[rng.randrange(len(mix))]
        body, ctype = encode_query(q.render(rng, manifest), form_post)
        ms, status = timed_request(conn, "POST", path, body, {"Content-Type": ctype, "Accept": q.accept})
        out.append((q.name, ms, status))
    conn.close()
    return out


def paired(servers: list[Server], manifest: dict[str, Any], requests: int, seconds: float,
           seed: int = 7) -> dict[str, dict[str, float]]:
    """One client sends each drawn query to every server in turn (order reversed every other
    query), so each server answers the same queries at the same moment: a latency difference
    between servers is then not drift on a shared machine. Mean and p50 per server, in ms.

    Each query is first sent once to every server unmeasured. Servers that share one engine (a
    remote store and the engine asked directly) would otherwise not be measured alike: the one
    asked first in a round meets the engine's caches cold for that query, the later ones warm."""
    mix = load_mix()
    rng = random.Random(seed)
    conns = [http.client.HTTPConnection("127.0.0.1", s.port, timeout=120) for s in servers]
    latency: list[list[float]] = [[] for _ in servers]
    used = [time.monotonic()] * len(servers)
    deadline = time.monotonic() + seconds
    try:
        for i in range(requests):
            if time.monotonic() > deadline:
                break
            q = mix[rng.randrange(len(mix))]
            text = q.render(rng, manifest)
            done: set[int] = set()   # the first request to each server is the warm-up, unmeasured
            for j in [*range(len(servers)), *list(range(len(servers)))[:: -1 if i % 2 else 1]]:
                measured = j in done
                body, ctype = encode_query(text, servers[j].form_post)
                if time.monotonic() - used[j] > 1.0:
                    # gunicorn closes a kept-alive connection idle for 2 s (at 10M the other
                    # servers' turns take that long): reconnect before the clock starts.
                    conns[j].close()
                    conns[j].connect()
                ms, status = timed_request(conns[j], "POST", servers[j].path, body,
                                           {"Content-Type": ctype, "Accept": q.accept})
                used[j] = time.monotonic()
                if status != 200:
                    raise RuntimeError(f"{servers[j].name} answered {q.name} with {status or 'no answer'}")
                if measured:
                    latency[j].append(ms)
                done.add(j)
    finally:
        for c in conns:
            c.close()
    return {s.name: {"n": len(lat), "mean_ms": statistics.fmean(lat), "p50_ms": percentile(lat, 50)}
            for s, lat in zip(servers, latency) if lat}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def cpu_seconds(proc: subprocess.Popen[bytes] | None) -> float:
    """CPU time (user + system) used so far by every live process of a server's session."""
    if proc is None:
        return 0.0
    try:
        session = os.getsid(proc.pid)
    except OSError:
        return 0.0
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:   # fields after the name: state, ppid, pgrp, session, ...
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def drive(server: Server, concurrency: int, seconds: float, requests: int, seed: str,
          manifest: dict[str, Any], pool: Any) -> tuple[list[tuple[str, float, int]], float, float]:
    """One slice: `concurrency` clients for at most `seconds` or `requests`; the samples, the wall
    time and the CPU seconds the server's processes used meanwhile."""
    start_at = time.time() + 0.2
    deadline = start_at + seconds
    quota = max(1, requests // concurrency)
    jobs = [(server.port, server.path, seed, w, start_at, deadline, quota, manifest, server.form_post)
            for w in range(concurrency)]
    cpu0 = cpu_seconds(server.proc)
    samples = [s for part in pool.map(_client, jobs) for s in part]
    return samples, max(1e-9, min(time.time(), deadline) - start_at), cpu_seconds(server.proc) - cpu0


def summarize(name: str, concurrency: int, samples: list[tuple[str, float, int]], wall: float,
              cpu_s: float = float("nan")) -> dict[str, Any]:
    ok = [s for s in samples if s[2] == 200]
    per_query: dict[str, dict[str, float]] = {}
    for q in sorted({s[0] for s in samples}):
        lat = [s[1] for s in ok if s[0] == q]
        per_query[q] = {"n": len(lat), "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
                        "mean_ms": statistics.fmean(lat) if lat else float("nan")}
    lat = [s[1] for s in ok]
    return {"server": name, "concurrency": concurrency, "requests": len(samples), "errors": len(samples) - len(ok),
            "seconds": wall, "qps": len(ok) / wall, "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
            "cpu_ms_per_request": cpu_s * 1000 / max(1, len(samples)), "per_query": per_query}


def compare(servers: list[Server], concurrency: int, seconds: float, requests: int, rounds: int, warmup: float,
            seed: int, manifest: dict[str, Any], pool: Any) -> dict[str, dict[str, Any]]:
    """Alternate the servers in `rounds` slices (order flipped each round), so that background load on a
    shared machine falls on both alike; each slice of a round sends both the same requests."""
    for s in servers:
        drive(s, 1, warmup, 10_000, f"warmup-{seed}", manifest, pool)
    samples: dict[str, list[tuple[str, float, int]]] = {s.name: [] for s in servers}
    wall = {s.name: 0.0 for s in servers}
    cpu = {s.name: 0.0 for s in servers}
    for r in range(rounds):
        for s in (servers if r % 2 == 0 else servers[::-1]):
            got, took, used = drive(s, concurrency, seconds / rounds, max(1, requests // rounds), f"{seed}-{r}",
                                    manifest, pool)
            samples[s.name] += got
            wall[s.name] += took
            cpu[s.name] += used
    return {s.name: summarize(s.name, concurrency, samples[s.name], wall[s.name], cpu[s.name]) for s in servers}


# -- report -----------------------------------------------------------------------------------
def markdown(results: dict[str, Any]) -> str:
    out = [f"Benchmark {results['stamp']} on {results['machine']}; {results['seconds']:g} s or "
           f"{results['requests']} requests per server and concurrency, in {results['rounds']} alternating slices; "
           f"our server: `kg serve {results['kg_args']}`.".rstrip(), ""]
    out += ["| size | triples | conc. | ours q/s | oxigraph q/s | ours/oxigraph | ours p50 / p99 ms | "
            "oxigraph p50 / p99 ms | errors (ours/ox) |", "|---|---|---|---|---|---|---|---|---|"]
    for size in results["sizes"]:
        for c, pair in size["runs"].items():
            o, x = pair["ours"], pair["oxigraph"]
            out.append(f"| {size['size']} | {size['triples']:,} | {c} | {o['qps']:,.0f} | {x['qps']:,.0f} | "
                       f"{o['qps'] / x['qps']:.2f} | {o['p50_ms']:.2f} / {o['p99_ms']:.2f} | "
                       f"{x['p50_ms']:.2f} / {x['p99_ms']:.2f} | {o['errors']}/{x['errors']} |")
    out += ["", "Every server in the run, with the CPU time its processes used per request (2 cores are shared "
            "with the load driver):", "", "| size | conc. | server | q/s | / oxigraph | p50 / p99 ms | CPU ms per request |",
            "|---|---|---|---|---|---|---|"]
    for size in results["sizes"]:
        for c, pair in size["runs"].items():
            for name, r in pair.items():
                out.append(f"| {size['size']} | {c} | {name} | {r['qps']:,.0f} | {r['qps'] / pair['oxigraph']['qps']:.2f} | "
                           f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f} | {r.get('cpu_ms_per_request', float('nan')):.2f} |")
    for size in results["sizes"]:
        for c, pair in size["runs"].items():
            o, x = pair["ours"], pair["oxigraph"]
            out += ["", f"### {size['size']}, concurrency {c}: latency per query (ms)", "",
                    "| query | n ours | ours p50 | ours p99 | oxigraph p50 | oxigraph p99 | p50 ours/ox |",
                    "|---|---|---|---|---|---|---|"]
            for name, qo in o["per_query"].items():
                qx = x["per_query"].get(name, {"p50_ms": float("nan"), "p99_ms": float("nan")})
                out.append(f"| {name} | {qo['n']} | {qo['p50_ms']:.2f} | {qo['p99_ms']:.2f} | {qx['p50_ms']:.2f} | "
                           f"{qx['p99_ms']:.2f} | {qo['p50_ms'] / qx['p50_ms']:.1f} |")
    for size in results["sizes"]:
        if size["mismatches"]:
            out += ["", f"Row-count mismatches at {size['size']}: " + "; ".join(size["mismatches"])]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10k,100k", help="comma-separated target sizes (10k, 100k, 1M)")
    ap.add_argument("--seconds", type=float, default=20, help="length of one run (one server, one concurrency)")
    ap.add_argument("--requests", type=int, default=100_000, help="most requests in one run")
    ap.add_argument("--concurrency", default="1,4", help="comma-separated numbers of client connections")
    ap.add_argument("--rounds", type=int, default=4,
                    help="slices each run is cut into, alternating the two servers (evens out background load)")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured requests before each server")
    ap.add_argument("--seed", type=int, default=1, help="seed of the data and of the parameter draws")
    ap.add_argument("--kg-args", default="", help="extra arguments for `kg serve`, e.g. '--workers 1 --query-threads 4'")
    ap.add_argument("--references", action="store_true",
                    help="also run bench/reference_app.py's `hello` and `bare` apps (gunicorn's threaded worker) and "
                         "`handoff` (gevent's worker, the query on a native thread, as `kg serve` runs it)")
    ap.add_argument("--compare-checkout", default="",
                    help="also run `kg serve` from another checkout of this repository (a directory, e.g. one made "
                         "with `git worktree add`), as server `before`: the same run measures both versions")
    args = ap.parse_args(argv)

    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    levels = [int(c) for c in args.concurrency.split(",")]
    mix = load_mix()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    log = RESULTS / f"{stamp}-servers.log"
    per_size = args.warmup + len(levels) * 5 * (args.seconds + 5) + 120
    results: dict[str, Any] = {
        "stamp": stamp, "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "pyoxigraph": ox.__version__ if hasattr(ox, "__version__") else "?", "seconds": args.seconds,
        "requests": args.requests, "rounds": args.rounds, "concurrency": levels, "kg_args": args.kg_args, "queries": [q.name for q in mix],
        "sizes": []}
    ctx = mp.get_context("fork")
    with ctx.Pool(max(levels)) as pool:
        for size in sizes:
            t0 = time.monotonic()
            nq, manifest = ensure(size, args.seed, DATA)
            gen_s = time.monotonic() - t0
            m = vars(manifest)
            ours_dir, ours_load = store_for(nq, "ours")
            ox_dir, ox_load = store_for(nq, "oxigraph")
            print(f"\n== {size_name(size)}: {manifest.triples:,} quads, {manifest.articles} articles "
                  f"(data {gen_s:.1f} s; load ours {ours_load or 0:.1f} s, oxigraph {ox_load or 0:.1f} s; 0 = cached)",
                  flush=True)
            p1, p2 = free_port(), free_port()
            lifetime = int(per_size)
            servers = [
                start("ours", [str(BIN / "kg"), "serve", "--store", str(ours_dir), "--host", "127.0.0.1",
                               "--port", str(p1), *args.kg_args.split()], p1, "/sparql", lifetime, log),
                start("oxigraph", [str(BIN / "oxigraph"), "serve-read-only", "--location", str(ox_dir),
                                   "--bind", f"127.0.0.1:{p2}", "--union-default-graph"], p2, "/query", lifetime, log),
            ]
            if args.compare_checkout:
                p3 = free_port()
                servers.append(start("before", ["env", f"PYTHONPATH={Path(args.compare_checkout).resolve()}",
                                                str(BIN / "kg"), "serve", "--store", str(ours_dir), "--host",
                                                "127.0.0.1", "--port", str(p3), *args.kg_args.split()],
                                     p3, "/sparql", lifetime, log))
            if args.references:
                servers += [reference_server(kind, ours_dir, lifetime, log) for kind in ("hello", "bare")]
                servers.append(reference_server("handoff", ours_dir, lifetime, log, worker_class="gevent_pywsgi"))
            try:
                for s in servers:
                    wait_ready(s)
                mismatches = check_same_answers([s for s in servers if s.name != "wsgi-hello"], mix, m)
                print("same row counts on every checked query" if not mismatches else
                      "ROW-COUNT MISMATCHES: " + "; ".join(mismatches), flush=True)
                runs: dict[str, dict[str, Any]] = {}
                for c in levels:
                    runs[str(c)] = compare(servers, c, args.seconds, args.requests, args.rounds, args.warmup,
                                           args.seed, m, pool)
                    for r in runs[str(c)].values():
                        print(f"  {r['server']:9s} c={c}: {r['qps']:8.1f} q/s  p50 {r['p50_ms']:7.2f} ms  "
                              f"p99 {r['p99_ms']:8.2f} ms  ({r['requests']} requests, {r['errors']} errors)",
                              flush=True)
                    o, x = runs[str(c)]["ours"]["qps"], runs[str(c)]["oxigraph"]["qps"]
                    print(f"  ours/oxigraph at c={c}: {o / x:.2f}", flush=True)
            finally:
                for s in servers:
                    s.stop()
            results["sizes"].append({"size": size_name(size), "triples": manifest.triples, "manifest": m,
                                     "load_s": {"ours": ours_load, "oxigraph": ox_load},
                                     "mismatches": mismatches, "runs": runs})
    text = markdown(results)
    print("\n" + text)
    for name in (stamp, "latest"):
        (RESULTS / f"{name}.md").write_text(text, encoding="utf-8")
        (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}/{stamp}.md and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
