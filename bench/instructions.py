"""Instructions a server's worker process executes per request, counted by valgrind (callgrind).

Why: on a shared machine of two cores, requests a second and CPU time a request move with the
load by more than most changes to the request path (bench/README.md, "Latest figures"). The
instructions a worker executes do not: run again, the count per request is the same within about
1%. So a change to the request path is measured here first, against `bare` and `handoff`
(bench/reference_app.py) and against another checkout, and its effect on requests a second with
bench/run.py after.

Each server runs with one worker under callgrind (about fifty times slower: the figures are
instructions, not times). One client sends requests of the benchmark's mix on one kept-alive
connection, one at a time: warm-up requests, then the measured ones between the counters being
zeroed and written (`callgrind_control`). Counted: user-space instructions of every thread of the
worker (the request path, the query's evaluation, the answer's writing); not the kernel's work
(system calls, scheduling) nor the client's.

    .venv/bin/python bench/instructions.py --requests 300 --compare-checkout ../before

Needs valgrind (Debian: `apt-get install valgrind`).
"""
from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import ensure, parse_size
from bench.profile import requests_for
from bench.run import BIN, DATA, free_port, stop_group, store_for

ACCEPT = {"graph": "application/n-triples"}   # the rest: SPARQL JSON


def servers(store: Path, compare: Path | None) -> dict[str, tuple[list[str], dict[str, str]]]:
    """name -> (argv with {port}, environment additions): one worker each."""
    gunicorn = [str(BIN / "python"), str(BIN / "gunicorn"), "--workers", "1", "--bind", "127.0.0.1:{port}",
                "--error-logfile", "/dev/null", "--no-control-socket"]
    kg = [str(BIN / "python"), str(BIN / "kg"), "serve", "--store", str(store), "--host", "127.0.0.1",
          "--port", "{port}", "--workers", "1"]
    reference = {"KG_BENCH_STORE": str(store), "PYTHONPATH": str(ROOT)}
    found = {
        "ours": (kg, {"PYTHONPATH": str(ROOT)}),
        "bare": ([*gunicorn, "--threads", "4", "--worker-class", "gthread", "bench.reference_app:bare"], reference),
        "handoff": ([*gunicorn, "--worker-class", "server.http.gunicorn_server.Worker", "bench.reference_app:handoff"],
                    reference),
    }
    if compare is not None:
        found["before"] = (kg, {"PYTHONPATH": str(compare)})
    return found


def session_processes(sid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:
                pids.append(int(entry))
    return sorted(pids)


def wait_for(port: int, timeout_s: float = 600) -> None:
    until = time.monotonic() + timeout_s
    while time.monotonic() < until:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=5).connect()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"nothing listens on port {port} after {timeout_s:.0f} s")


def count(name: str, argv: list[str], env: dict[str, str], requests: list[tuple[str, str, str]],
          warmup: int) -> int:
    """Instructions per measured request in the server's worker."""
    out = Path(tempfile.mkdtemp(prefix="kg-instructions-"))
    port = free_port()
    command = ["valgrind", "--tool=callgrind", "--trace-children=yes", f"--callgrind-out-file={out}/cg.%p.out",
               *[a.replace("{port}", str(port)) for a in argv]]
    with open(out / "server.log", "wb") as log:
        proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=log, start_new_session=True)
    try:
        wait_for(port)
        time.sleep(2)   # the worker has started (the master listens first)
        worker = max(p for p in session_processes(proc.pid) if p != proc.pid)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        for i, (_, text, kind) in enumerate(requests):
            if i == warmup:
                subprocess.run(["callgrind_control", "-z", str(worker)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            conn.request("POST", "/sparql", body=text.encode(), headers={
                "Content-Type": "application/sparql-query", "Accept": ACCEPT.get(kind, "application/sparql-results+json")})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise SystemExit(f"{name}: HTTP {resp.status} for {text[:80]!r}")
        subprocess.run(["callgrind_control", "-d", str(worker)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dump = out / f"cg.{worker}.out.1"
        summary = next(line for line in dump.read_text().splitlines() if line.startswith("summary:"))
        return int(summary.split()[1]) // (len(requests) - warmup)
    finally:
        stop_group(proc, 30)
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="10k", help="the data's size (10k, 100k, 1M)")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per server")
    parser.add_argument("--warmup", type=int, default=300, help="requests sent before the counters start")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--servers", default="ours,bare,handoff", help="which to run (and `before`, given a checkout)")
    parser.add_argument("--compare-checkout", type=Path, help="another checkout of this repository, run as `before`")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("bench/instructions.py needs valgrind (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    nq, manifest = ensure(parse_size(args.size), args.seed, DATA)
    store, _ = store_for(nq, "ours")
    requests = requests_for(vars(manifest), args.warmup + args.requests, args.seed)
    known = servers(store, args.compare_checkout)
    wanted = args.servers.split(",") + (["before"] if args.compare_checkout and "before" not in args.servers else [])
    results = {}
    for name in wanted:
        cmd, env = known[name]
        results[name] = count(name, cmd, env, requests, args.warmup)
        print(f"{name:8s} {results[name]:>12,} instructions a request", flush=True)
    if "bare" in results:
        print("relative to bare: " + ", ".join(f"{n} {v / results['bare']:.2f}" for n, v in results.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
