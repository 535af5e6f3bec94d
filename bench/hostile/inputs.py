"""Hostile input against a writable `kg serve`: documents that crash a parser, graph IRIs that broke pages.

    .venv/bin/python bench/hostile/inputs.py --seconds 60 --attackers 4 --askers 12

(d) Crash loop: `kg serve` with a write token (one gunicorn worker, as writes require, and two query
    processes). `attackers` clients send, round robin and back to back, JSON-LD nested 4,000 deep
    (220 KB) to POST /validate (no token), N-Triples with triple terms nested 20,000 deep to
    POST /validate, a Graph Store PUT of the JSON-LD with the token, and a query with 10,000 nested
    `<< >>`; meanwhile `askers` clients each send `ASK {}` every 0.5 s on their own connection.
    Expected: every attack 400/415, every ASK 200, no worker restarted, no 500.
(e) Graph IRIs: with the token, PUT a graph whose IRI is 300 characters long; try to create
    `graph/coll?a` and `graph/coll#a` (refused); then GET /, /dataset, /.well-known/void and every
    /dumps/ file twice (the first read makes the dumps of the new data version).

Everything is on loopback, bounded in time and count; the server runs under `timeout` in its own
session. Results: bench/results/hostile-inputs-<stamp>.md|json and hostile-inputs-latest.*.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.hostile.common import KG, RESULTS, process_rss, start, write_results  # noqa: E402
from bench.hostile.common import http as fetch  # noqa: E402
from bench.run import percentile, timed_request  # noqa: E402

BASE = "https://kars-gyumri.example.org/"
TOKEN = "inputs-token-" + os.urandom(6).hex()
EX = "http://ex.example/"
DEEP_JSONLD = ('{"@id": "http://ex.example/a", "http://ex.example/p": ' * 4000 + '"x"' + "}" * 4000).encode()
DEEP_TERMS = (f"<{EX}a> <{EX}p> " + f"<<( <{EX}a> <{EX}p> " * 20000 + f"<{EX}o>" + " )>>" * 20000 + " .\n").encode()
DEEP_QUERY = urllib.parse.urlencode(
    {"query": "SELECT * WHERE { " + "<< " * 10000 + "?s ?p ?o" + " >> ?q ?z" * 10000 + " }"}).encode()
LONG_GRAPH = BASE + "graph/long-" + "x" * (300 - len(BASE + "graph/long-"))
PAIR = (BASE + "graph/coll?a", BASE + "graph/coll#a")
TOWN = (f'<{BASE}id/bench-town> a <{BASE}ontology#City> ; '
        '<http://www.w3.org/2000/01/rdf-schema#label> "Bench town"@en .').encode()


def attacks() -> list[tuple[str, str, str, bytes, dict[str, str]]]:
    """(name, method, path, body, headers) of each crashing document, as a client sends it."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    graph = urllib.parse.quote(BASE + "graph/bench", safe="")
    return [
        ("validate-jsonld-4000", "POST", "/validate", DEEP_JSONLD, {"Content-Type": "application/ld+json"}),
        ("validate-triple-terms-20000", "POST", "/validate?mode=standalone", DEEP_TERMS,
         {"Content-Type": "application/n-triples"}),
        ("graph-store-put-jsonld-4000", "PUT", f"/rdf-graph-store?graph={graph}", DEEP_JSONLD,
         {**auth, "Content-Type": "application/ld+json"}),
        ("query-reifiers-10000", "POST", "/sparql", DEEP_QUERY, {"Content-Type": "application/x-www-form-urlencoded"}),
    ]


def attacker(port: int, first: int, deadline: float, out: list[tuple[str, float, int]]) -> None:
    kinds = attacks()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    i = first
    while time.time() < deadline and len(out) < 100_000:
        name, method, path, body, headers = kinds[i % len(kinds)]
        ms, status = timed_request(conn, method, path, body, {**headers, "Accept": "application/json"})
        out.append((name, ms, status))
        i += 1
    conn.close()


def asker(port: int, deadline: float, out: list[tuple[float, int]]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while time.time() < deadline and len(out) < 100_000:
        out.append(timed_request(conn, "GET", "/sparql?query=ASK%7B%7D", None,
                                 {"Accept": "application/sparql-results+json"}))
        time.sleep(0.5)
    conn.close()


def sample_rss(pid: int, stop: threading.Event, peak: dict[str, int]) -> None:
    while not stop.is_set():
        now = process_rss(pid)
        if now["total"] > peak.get("total", 0):
            peak.update(now)
        stop.wait(0.5)


def worker_restarts(log: Path) -> dict[str, int]:
    """From gunicorn's log: workers started (1 at start), and workers that died (not the final SIGTERM)."""
    text = log.read_text(encoding="utf-8", errors="replace")
    return {"workers_booted": text.count("Booting worker"), "sigsegv": text.count("SIGSEGV"),
            "worker_exits": len(re.findall(r"exited with code|was sent SIG(?!TERM)", text))}


def crash_loop(port: int, pid: int, seconds: float, attackers: int, askers: int) -> dict[str, Any]:
    deadline = time.time() + seconds
    attack_log: list[tuple[str, float, int]] = []
    ask_log: list[tuple[float, int]] = []
    stop, peak = threading.Event(), {}
    rss = threading.Thread(target=sample_rss, args=(pid, stop, peak))
    rss.start()
    threads = ([threading.Thread(target=attacker, args=(port, i, deadline, attack_log)) for i in range(attackers)]
               + [threading.Thread(target=asker, args=(port, deadline, ask_log)) for _ in range(askers)])
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 300)
    stop.set()
    rss.join()
    by_attack: dict[str, dict[str, int]] = {}
    for name, _, status in attack_log:
        by_attack.setdefault(name, {}).setdefault(str(status), 0)
        by_attack[name][str(status)] += 1
    ask_ok = [ms for ms, status in ask_log if status == 200]
    ask_status: dict[str, int] = {}
    for _, status in ask_log:
        ask_status[str(status)] = ask_status.get(str(status), 0) + 1
    return {"attacks": by_attack, "attack_requests": len(attack_log),
            "attack_500": sum(1 for *_, s in attack_log if s == 500),
            "attack_p50_ms": round(percentile([ms for _, ms, _ in attack_log], 50), 1),
            "ask_requests": len(ask_log), "ask_status": ask_status,
            "ask_p50_ms": round(percentile(ask_ok, 50), 1), "ask_p99_ms": round(percentile(ask_ok, 99), 1),
            "ask_max_ms": round(max(ask_ok), 1) if ask_ok else None, "rss_peak_kb": peak}


def timed(port: int, method: str, path: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> dict[str, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)   # connects inside the timing
    ms, status = timed_request(conn, method, path, body, headers or {})
    conn.close()
    return {"status": status, "ms": round(ms)}


def graph_iris(port: int) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/turtle"}
    writes = {name: timed(port, "PUT", "/rdf-graph-store?graph=" + urllib.parse.quote(graph, safe=""), TOWN, auth)
              for name, graph in [("long-300", LONG_GRAPH), ("coll?a", PAIR[0]), ("coll#a", PAIR[1])]}
    rounds = []
    for _ in range(2):
        pages = {path: timed(port, "GET", path, headers={"Accept": "text/html"})
                 for path in ("/", "/dataset", "/.well-known/void")}
        _, nt = fetch(f"http://127.0.0.1:{port}/dataset", headers={"Accept": "application/n-triples"})
        names = sorted({line.split()[2].strip("<>").rsplit("/dumps/", 1)[1] for line in nt.decode().splitlines()
                        if "http://www.w3.org/ns/dcat#downloadURL" in line})
        rounds.append({"pages": pages, "dumps": {name: timed(port, "GET", "/dumps/" + name) for name in names}})
    return {"writes": writes, "rounds": rounds}


def markdown(result: dict[str, Any], args: argparse.Namespace) -> str:
    d, e = result["crash_loop"], result["graph_iris"]
    rss = d["rss_peak_kb"]
    lines = [f"# Hostile input ({time.strftime('%Y-%m-%d %H:%M')})", "",
             f"(d) {args.attackers} attackers for {args.seconds:g} s, {args.askers} clients sending ASK {{}} every "
             "0.5 s; kg serve with a write token (1 worker × 4 threads, 2 query processes).", "",
             "| figure | value |", "|---|---|",
             f"| attack requests | {d['attack_requests']}: "
             + "; ".join(f"{k} {v}" for k, v in sorted(d["attacks"].items())) + " |",
             f"| 500s | {d['attack_500']} |",
             f"| worker restarts (log) | booted {result['workers']['workers_booted']} (1 at start), SIGSEGV "
             f"{result['workers']['sigsegv']}, worker exits {result['workers']['worker_exits']} |",
             f"| ASK {{}} | {d['ask_requests']}: {d['ask_status']}; p50 {d['ask_p50_ms']} ms, p99 {d['ask_p99_ms']} ms, "
             f"max {d['ask_max_ms']} ms |",
             f"| RSS peak | {rss.get('total', 0) // 1024} MB (gunicorn's master and workers) |",
             "", "(e) graph IRIs", "", "| request | first | again |", "|---|---|---|"]
    for name, w in e["writes"].items():
        lines.append(f"| PUT graph {name} | {w['status']} in {w['ms']} ms | |")
    first, again = e["rounds"]
    for path in first["pages"]:
        a, b = first["pages"][path], again["pages"][path]
        lines.append(f"| GET {path} | {a['status']} in {a['ms']} ms | {b['status']} in {b['ms']} ms |")
    cells = [f"statuses {sorted({v['status'] for v in r['dumps'].values()})}, max "
             f"{max((v['ms'] for v in r['dumps'].values()), default=0)} ms" for r in (first, again)]
    lines.append(f"| GET /dumps/* (as /dataset lists them: {len(first['dumps'])} files) | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--attackers", type=int, default=4)
    ap.add_argument("--askers", type=int, default=12)
    args = ap.parse_args(argv)

    work = RESULTS / "inputs-work"
    subprocess.run(["rm", "-rf", str(work)], check=True)
    work.mkdir(parents=True)
    link = work / "store"
    subprocess.run([KG, "build", "--store", str(link)], check=True, capture_output=True, timeout=600)
    env = {"KG_WRITE_TOKEN": TOKEN, "KG_QUERY_TIMEOUT_S": "10", "KG_QUERY_WORKERS": "2"}
    log = work / "server.log"
    srv = start(link, env, int(args.seconds) + 600, log)
    try:
        result: dict[str, Any] = {"seconds": args.seconds, "attackers": args.attackers, "askers": args.askers}
        result["crash_loop"] = crash_loop(srv.port, srv.proc.pid, args.seconds, args.attackers, args.askers)
        result["graph_iris"] = graph_iris(srv.port)
    finally:
        srv.stop()
    result["workers"] = worker_restarts(log)
    md = markdown(result, args)
    write_results("hostile-inputs", result, md)
    print(md)
    d, e = result["crash_loop"], result["graph_iris"]
    expected = (d["attack_500"] == 0 and set(d["ask_status"]) == {"200"}
                and all(set(v) <= {"400", "415"} for v in d["attacks"].values())
                and result["workers"]["workers_booted"] == 1 and result["workers"]["worker_exits"] == 0
                and all(v["status"] == 200 for r in e["rounds"] for part in r.values() for v in part.values()))
    print(json.dumps({"met_expectations": expected}))
    return 0 if expected else 1


if __name__ == "__main__":
    sys.exit(main())
