"""Soak with writes, then faults: nothing accepted is lost, nothing refused is stored.

    .venv/bin/python bench/hostile/soak.py --seconds 60 --readers 4

(b) Soak: `kg serve` with a write token; one writer applies a known sequence of changes through
    the API (most valid, some refused: a shape Violation, a wrong token, a syntax error, a write to
    the union default graph) while readers run the competency questions and fetch pages. At the
    end every accepted write must be present, every refused one absent, and `/history` must
    count exactly the accepted ones.
(c) Faults: SIGKILL of a gunicorn worker during reads (the master starts another), then SIGKILL
    of the whole server while the writer is writing; restart: the store opens, `kg validate`
    passes, and it holds exactly the writes that were answered 2xx (the one in flight when the
    server died may be either, and is reported).

Everything is on loopback, bounded in time and count; servers run under `timeout` in their own
session. Results: bench/results/hostile-soak-<stamp>.md|json and hostile-soak-latest.*.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.hostile.common import KG, RESULTS, descendants, http, process_rss, start, write_results  # noqa: E402

BASE = "https://kars-gyumri.example.org/"
G = BASE + "graph/soak"
TOKEN = "soak-token-" + os.urandom(6).hex()
PFX = (f"PREFIX kgo: <{BASE}ontology#> PREFIX kg: <{BASE}id/> "
       "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> ")
COMPETENCY = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "competency").glob("*.rq"))]
PAGES = ["/doc/gyumri", "/doc/kars", "/doc/second-round-technical-talks", "/", "/dataset", "/graph/outside"]


def change(i: int) -> tuple[str, dict[str, str], bool]:
    """The i-th change of the known sequence: (update, headers, expected to be accepted)."""
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"}
    kind = i % 10
    if kind == 3:  # a City without a label: a shape Violation, 422
        return PFX + f"INSERT DATA {{ GRAPH <{G}> {{ kg:soak-{i} a kgo:City }} }}", auth, False
    if kind == 5:
        return PFX + f'INSERT DATA {{ GRAPH <{G}> {{ kg:soak-{i} a kgo:City ; rdfs:label "S{i}"@en }} }}', \
            {**auth, "Authorization": f"Bearer {TOKEN}x"}, False
    if kind == 7:
        return PFX + f'INSERT DATA {{ GRAPH <{G}> {{ kg:soak-{i} a kgo:City ; rdfs:label "S{i}"@en  }}', auth, False
    if kind == 9:
        return PFX + f'INSERT DATA {{ kg:soak-{i} a kgo:City ; rdfs:label "S{i}"@en }}', auth, False
    return PFX + f'INSERT DATA {{ GRAPH <{G}> {{ kg:soak-{i} a kgo:City ; rdfs:label "Soak {i}"@en }} }}', auth, True


def writer(url: str, count: int, stop: threading.Event, log: list[dict[str, Any]], pause: float) -> None:
    for i in range(count):
        if stop.is_set():
            return
        text, headers, expected = change(i)
        log.append({"i": i, "expected": expected, "status": None})
        status, _ = http(url + "/sparql", "POST", text.encode(), headers)
        log[-1]["status"] = status
        time.sleep(pause)


def reader(args: tuple[str, int, float]) -> dict[str, int]:
    url, seed, deadline = args
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    n = 0
    while time.time() < deadline and n < 100_000:
        n += 1
        if rng.random() < 0.7:
            q = rng.choice(COMPETENCY)
            status, _ = http(url + "/sparql", "POST", q.encode(), {"Content-Type": "application/sparql-query",
                                                                    "Accept": "application/sparql-results+json"})
        else:
            status, _ = http(url + rng.choice(PAGES), headers={"Accept": "text/html"})
        counts[str(status)] = counts.get(str(status), 0) + 1
    return counts


def present(url: str, i: int) -> bool:
    q = PFX + f"ASK {{ GRAPH <{G}> {{ kg:soak-{i} ?p ?o }} }}"
    status, body = http(url + "/sparql?" + urllib.parse.urlencode({"query": q}),
                        headers={"Accept": "application/sparql-results+json"})
    assert status == 200, status
    return bool(json.loads(body)["boolean"])


def history_count(url: str) -> int:
    q = ("PREFIX prov: <http://www.w3.org/ns/prov#> SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { "
         f"GRAPH <{BASE}graph/changelog> {{ ?a a prov:Activity }} }}")
    status, body = http(url + "/sparql?" + urllib.parse.urlencode({"query": q}),
                        headers={"Accept": "application/sparql-results+json"})
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def history_page_count(url: str) -> int:
    """The changes `/history` lists, following its pages (`Link: <…>; rel="next"`), at most 100 pages."""
    count, page = 0, "/history?limit=100"
    for _ in range(100):
        req = urllib.request.Request(url + page, headers={"Accept": "application/n-triples"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            body, link = resp.read(), resp.headers.get("Link", "")
        count += sum(1 for line in body.decode().splitlines() if "http://www.w3.org/ns/prov#Activity" in line)
        found = re.match(r'<([^>]+)>; rel="next"', link)
        if found is None:
            break
        page = found.group(1)
    return count


def check(url: str, log: list[dict[str, Any]], base_count: int) -> dict[str, Any]:
    accepted = [e["i"] for e in log if e["status"] is not None and 200 <= e["status"] < 300]
    refused = [e["i"] for e in log if e["status"] is not None and e["status"] >= 400]
    unanswered = [e["i"] for e in log if e["status"] in (None, 0)]
    return {
        "accepted": len(accepted), "refused": len(refused), "unanswered": unanswered,
        "unexpected_status": [e for e in log if e["status"] and (200 <= e["status"] < 300) != e["expected"]],
        "accepted_missing": [i for i in accepted if not present(url, i)],
        "refused_present": [i for i in refused if present(url, i)],
        "unanswered_present": [i for i in unanswered if present(url, i)],
        "history_new": history_count(url) - base_count,
        "history_page_new": history_page_count(url),
    }


def kill_a_worker(root: int) -> int | None:
    """SIGKILL one gunicorn worker: a child of the master (`kg serve`, the child of `timeout`)."""
    masters = [c for c in descendants(root) if _ppid(c) == root]
    if not masters:
        return None
    workers = [c for c in descendants(masters[0]) if _ppid(c) == masters[0]]
    if not workers:
        return None
    os.kill(workers[0], signal.SIGKILL)
    return workers[0]


def _ppid(p: int) -> int:
    try:
        return int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--readers", type=int, default=4)
    ap.add_argument("--writes", type=int, default=200)
    args = ap.parse_args(argv)
    work = RESULTS / "soak-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    link = work / "store"
    subprocess.run([KG, "build", "--store", str(link)], check=True, capture_output=True, timeout=300)
    env = {"KG_WRITE_TOKEN": TOKEN, "KG_QUERY_TIMEOUT_S": "10", "KG_QUERY_WORKERS": "2"}
    result: dict[str, Any] = {"seconds": args.seconds, "readers": args.readers}

    # (b) soak -------------------------------------------------------------------------------
    srv = start(link, env, int(args.seconds) + 300, work / "server.log")
    base_count = history_count(srv.url)
    rss_start = process_rss(srv.proc.pid)
    deadline = time.time() + args.seconds
    log: list[dict[str, Any]] = []
    stop = threading.Event()
    pause = max(0.05, args.seconds / args.writes)
    w = threading.Thread(target=writer, args=(srv.url, args.writes, stop, log, pause))
    with mp.get_context("fork").Pool(args.readers) as pool:
        w.start()
        reads = pool.map(reader, [(srv.url, s, deadline) for s in range(args.readers)])
    stop.set()
    w.join(120)
    result["soak"] = check(srv.url, log, base_count)
    result["soak"]["reads"] = {k: sum(r.get(k, 0) for r in reads) for k in {k for r in reads for k in r}}
    result["soak"]["rss_start_kb"], result["soak"]["rss_end_kb"] = rss_start, process_rss(srv.proc.pid)

    # (c1) SIGKILL of a worker during reads ----------------------------------------------------
    deadline = time.time() + 15
    with mp.get_context("fork").Pool(args.readers) as pool:
        pending = pool.map_async(reader, [(srv.url, 100 + s, deadline) for s in range(args.readers)])
        time.sleep(5)
        killed = kill_a_worker(srv.proc.pid)
        reads = pending.get(120)
    result["worker_kill"] = {"killed_pid": killed,
                             "reads": {k: sum(r.get(k, 0) for r in reads) for k in {k for r in reads for k in r}},
                             "after": http(srv.url + "/healthz")[0]}

    # (c2) SIGKILL of the whole server during writes -------------------------------------------
    log2: list[dict[str, Any]] = []
    stop2 = threading.Event()
    first = args.writes + 1000
    w2 = threading.Thread(target=lambda: [writer_step(srv.url, first + i, log2) for i in range(400)
                                          if not stop2.is_set()])
    w2.start()
    time.sleep(random.Random(7).uniform(3, 6))
    os.killpg(srv.proc.pid, signal.SIGKILL)
    srv.proc.wait()
    stop2.set()
    w2.join(60)
    validated = subprocess.run([KG, "validate", "--store", str(link)], capture_output=True, text=True, timeout=600)
    srv2 = start(link, env, 300, work / "server-2.log")
    try:
        result["server_kill"] = check(srv2.url, log2, 0)
        result["server_kill"]["kg_validate_exit"] = validated.returncode
        result["server_kill"]["kg_validate_summary"] = validated.stdout.splitlines()[0] if validated.stdout else \
            validated.stderr[-200:]
        result["server_kill"]["soak_writes_still_present"] = all(present(srv2.url, i) for i in range(args.writes)
                                                                 if change(i)[2] and any(
                                                                     e["i"] == i and e["status"] and 200 <= e["status"] < 300
                                                                     for e in log))
        del result["server_kill"]["history_new"], result["server_kill"]["history_page_new"]
    finally:
        srv2.stop()
    md = markdown(result)
    write_results("hostile-soak", result, md)
    print(md)
    s, k = result["soak"], result["server_kill"]
    ok = (not s["accepted_missing"] and not s["refused_present"] and not s["unexpected_status"]
          and s["history_new"] == s["accepted"] and not k["accepted_missing"] and not k["refused_present"]
          and k["kg_validate_exit"] == 0)
    return 0 if ok else 1


def writer_step(url: str, i: int, log: list[dict[str, Any]]) -> None:
    text, headers, expected = change(i)
    log.append({"i": i, "expected": expected, "status": None})
    log[-1]["status"] = http(url + "/sparql", "POST", text.encode(), headers, timeout=30)[0]


def markdown(r: dict[str, Any]) -> str:
    s, w, k = r["soak"], r["worker_kill"], r["server_kill"]
    return "\n".join([
        f"# Hostile soak and faults ({time.strftime('%Y-%m-%d %H:%M')})", "",
        f"## (b) soak: {r['seconds']:g} s, one writer, {r['readers']} readers", "",
        "| figure | value |", "|---|---|",
        f"| writes accepted / refused | {s['accepted']} / {s['refused']} (unanswered: {len(s['unanswered'])}) |",
        f"| status other than expected | {len(s['unexpected_status'])} |",
        f"| accepted but missing | {s['accepted_missing']} |", f"| refused but present | {s['refused_present']} |",
        f"| new activities in the change log / on /history | {s['history_new']} / {s['history_page_new']} |",
        f"| reads by status | {s['reads']} |",
        f"| RSS start / end (kB) | {s['rss_start_kb']['total']} / {s['rss_end_kb']['total']} |", "",
        "## (c) faults", "", "| fault | result |", "|---|---|",
        f"| SIGKILL of a gunicorn worker during reads | reads by status {w['reads']}; /healthz after: {w['after']} |",
        f"| SIGKILL of the whole server during writes | accepted {k['accepted']}, refused {k['refused']}, "
        f"in flight {k['unanswered']} (present after restart: {k['unanswered_present']}); accepted but missing "
        f"{k['accepted_missing']}; refused but present {k['refused_present']}; `kg validate` exit "
        f"{k['kg_validate_exit']} ({k['kg_validate_summary']}); soak writes still present: "
        f"{k['soak_writes_still_present']} |", ""])


if __name__ == "__main__":
    sys.exit(main())
