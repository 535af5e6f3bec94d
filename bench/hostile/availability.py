"""Who can take the service offline: `ASK {}` latency while clients attack its availability.

    .venv/bin/python bench/hostile/availability.py --seconds 30            # every scenario, both modes
    .venv/bin/python bench/hostile/availability.py --scenario expensive --mode write
    .venv/bin/python bench/hostile/availability.py --scenario heavy-readers-8 --seconds 30

Scenarios (each for --seconds, against a fresh `kg serve` on the 10k generated graph):
- `slow-headers`: N connections that send a request's head a byte every second, reconnecting
  when cut off (N = 4, 8 and 100);
- `slow-body`: N connections that send a body a byte every second;
- `no-read`: N connections that ask for an answer of several MiB and never read it;
- `idle`: 100 connections that connect and say nothing, reconnecting when closed;
- `expensive`: 8 clients, each from an address of its own (127.0.0.10-17: Linux answers the
  whole of 127/8 on loopback), each sending expensive queries back to back (a cartesian
  product, `?s (<p>|!<p>)* ?o`);
- `oversized`: 30 POSTs of a 5 MiB and a 200 MiB body over the 4 MiB limit: does the client
  read the 413, or meet a broken pipe?
Meanwhile one more client (127.0.0.2) sends `ASK {}` every 50 ms on a connection of its own
(reconnecting after each answer: a new client every time) and its latency is the figure: p50,
p99 and the worst, and how many got no answer within 10 s. Modes: `read` (kg serve's defaults)
and `write` (a write token: one worker, the store opened read-write).

Writes bench/results/hostile-availability-<stamp>.md|json (and -latest.*).
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import socket
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import ID, ensure, parse_size  # noqa: E402
from bench.hostile.common import RESULTS, process_rss, serve, write_results  # noqa: E402
from bench.run import DATA, percentile, store_for  # noqa: E402

ASK = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nAccept: application/sparql-results+json\r\n\r\n"
EXPENSIVE = ["SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }",
             "SELECT (COUNT(*) AS ?n) WHERE { ?s (<http://www.w3.org/2000/01/rdf-schema#label>|"
             "!<http://www.w3.org/2000/01/rdf-schema#label>)* ?o }"]
BIG = "SELECT ?s ?p ?o ?a WHERE { ?s ?p ?o . ?a ?b ?c } LIMIT 100000"
# A graph answer under the row cap but tens of MB: every triple carries a 7 KB literal.
HEAVY = ("CONSTRUCT { ?s ?p ?big } WHERE { ?s ?p ?o BIND(\"" + "x" * 7000 + "\" AS ?big) } LIMIT 10000")
SCENARIOS = ["baseline", "slow-headers-4", "slow-headers-8", "slow-headers-100", "slow-body-8", "no-read-8",
             "idle-100", "expensive", "oversized", "heavy-readers-8"]


def probe(port: int, deadline: float) -> list[float | None]:
    """`ASK {}` every 50 ms from 127.0.0.2, a new connection each time: ms, or None (no answer in 10 s)."""
    out: list[float | None] = []
    while time.time() < deadline:
        t0 = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=("127.0.0.2", 0))
        try:
            conn.request("GET", "/sparql?query=ASK%7B%7D", headers={"Accept": "application/sparql-results+json"})
            resp = conn.getresponse()
            ok = resp.status == 200 and json.loads(resp.read())["boolean"] is True
            out.append((time.perf_counter() - t0) * 1000 if ok else None)
        except (OSError, http.client.HTTPException, ValueError):
            out.append(None)
        finally:
            conn.close()
        time.sleep(0.05)
    return out


def slow_sender(args: tuple[int, float, bytes, int]) -> int:
    """Sends `payload` a byte a second on each of `n` connections, reconnecting when one is cut:
    the connections the server closed."""
    port, deadline, payload, n = args
    conns: list[tuple[socket.socket, int]] = []
    closed = 0
    while time.time() < deadline:
        while len(conns) < n:
            try:
                conns.append((socket.create_connection(("127.0.0.1", port), timeout=5), 0))
            except OSError:
                time.sleep(0.1)
                break
        kept = []
        for sock, sent in conns:
            try:
                if sent < len(payload):
                    sock.sendall(payload[sent:sent + 1])
                kept.append((sock, sent + 1))
            except OSError:
                closed += 1
                sock.close()
        conns = kept
        time.sleep(1.0)
    for sock, _ in conns:
        sock.close()
    return closed


def idler(args: tuple[int, float, int]) -> int:
    port, deadline, n = args
    conns: list[socket.socket] = []
    reconnects = 0
    while time.time() < deadline:
        alive = []
        for sock in conns:
            sock.setblocking(False)
            try:
                gone = sock.recv(1) == b""
            except BlockingIOError:
                gone = False
            except OSError:
                gone = True
            if gone:
                sock.close()
                reconnects += 1
            else:
                alive.append(sock)
        conns = alive
        while len(conns) < n:
            try:
                conns.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError:
                break
        time.sleep(0.5)
    for sock in conns:
        sock.close()
    return reconnects


def non_reader(args: tuple[int, float, int]) -> int:
    """`n` connections asking for a large answer and never reading it, renewed when cut."""
    port, deadline, n = args
    request = (f"GET /sparql?{urllib.parse.urlencode({'query': BIG})} HTTP/1.1\r\nHost: x\r\n"
               "Accept: text/tab-separated-values\r\n\r\n").encode()
    conns: list[socket.socket] = []
    renewed = 0
    while time.time() < deadline:
        while len(conns) < n:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            try:
                sock.connect(("127.0.0.1", port))
                sock.sendall(request)
                conns.append(sock)
            except OSError:
                sock.close()
                break
        time.sleep(2.0)
        fresh = []
        for sock in conns:
            sock.setblocking(False)
            try:
                sock.recv(0)
                fresh.append(sock)
            except BlockingIOError:
                fresh.append(sock)
            except OSError:
                sock.close()
                renewed += 1
        conns = fresh
    for sock in conns:
        sock.close()
    return renewed


def expensive_client(args: tuple[int, float, int]) -> list[int]:
    """Expensive queries back to back from 127.0.0.(10+i): the statuses."""
    port, deadline, i = args
    statuses = []
    k = 0
    while time.time() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=(f"127.0.0.{10 + i}", 0))
        try:
            conn.request("POST", "/sparql", body=EXPENSIVE[(i + k) % 2].encode(),
                         headers={"Content-Type": "application/sparql-query", "Accept": "application/json"})
            resp = conn.getresponse()
            resp.read()
            statuses.append(resp.status)
        except (OSError, http.client.HTTPException):
            statuses.append(0)
        finally:
            conn.close()
        k += 1
    return statuses


def heavy_reader(args: tuple[int, float, int]) -> dict[str, Any]:
    """CONSTRUCTs of tens of MB back to back, each read whole: the statuses, the largest answer,
    and how many answers said they were cut (`KG-Result-Truncated`)."""
    port, deadline, i = args
    out: dict[str, Any] = {"answers": 0, "cut": 0, "largest_mb": 0.0, "statuses": {}}
    while time.time() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=(f"127.0.0.{40 + i}", 0))
        try:
            conn.request("POST", "/sparql", body=HEAVY.encode(),
                         headers={"Content-Type": "application/sparql-query", "Accept": "application/n-triples"})
            resp = conn.getresponse()
            size = len(resp.read())
            out["statuses"][resp.status] = out["statuses"].get(resp.status, 0) + 1
            out["answers"] += 1
            out["cut"] += bool(resp.getheader("KG-Result-Truncated"))
            out["largest_mb"] = max(out["largest_mb"], round(size / 2**20, 1))
        except (OSError, http.client.HTTPException):
            out["statuses"][0] = out["statuses"].get(0, 0) + 1
        finally:
            conn.close()
    return out


def oversized(args: tuple[int, int]) -> dict[str, int]:
    """POSTs of `mb` MiB over the limit: how many clients read the 413, how many met a broken pipe."""
    port, mb = args
    body = b"#" * (mb * 1024 * 1024)
    out = {"413 read": 0, "broken pipe or reset": 0, "other": 0}
    for _ in range(15):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
                s.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                          b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
                s.sendall(body)
                answer = s.recv(64)
            out["413 read" if answer.startswith(b"HTTP/1.1 413") else "other"] += 1
        except (BrokenPipeError, ConnectionResetError):
            out["broken pipe or reset"] += 1
    return out


def run_scenario(name: str, port: int, seconds: float, pool: Any) -> dict[str, Any]:
    deadline = time.time() + seconds
    jobs: list[Any] = []
    head = ASK[:-2] + b"X-Slow: " + b"x" * 200 + b"\r\n\r\n"
    body_head = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                 b"Content-Length: 64\r\n\r\n") + b" " * 58 + b"ASK {}"
    if name.startswith("slow-headers"):
        jobs.append(pool.apply_async(slow_sender, ((port, deadline, head, int(name.rsplit("-", 1)[1])),)))
    elif name == "slow-body-8":
        jobs.append(pool.apply_async(slow_sender, ((port, deadline, body_head, 8),)))
    elif name == "no-read-8":
        jobs.append(pool.apply_async(non_reader, ((port, deadline, 8),)))
    elif name == "idle-100":
        jobs.append(pool.apply_async(idler, ((port, deadline, 100),)))
    elif name == "expensive":
        jobs += [pool.apply_async(expensive_client, ((port, deadline, i),)) for i in range(8)]
    elif name == "heavy-readers-8":
        jobs += [pool.apply_async(heavy_reader, ((port, deadline, i),)) for i in range(8)]
    elif name == "oversized":
        jobs += [pool.apply_async(oversized, ((port, mb),)) for mb in (5, 200)]
    time.sleep(min(2.0, seconds / 5))   # let the attack settle in first
    lat = probe(port, deadline)
    attack = [j.get(timeout=seconds + 300) for j in jobs]
    ok = [ms for ms in lat if ms is not None]
    return {"scenario": name, "asks": len(lat), "unanswered": lat.count(None),
            "p50_ms": round(percentile(ok, 50), 1), "p99_ms": round(percentile(ok, 99), 1),
            "max_ms": round(max(ok), 1) if ok else None, "attack": attack}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="10k")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--scenario", default="all", help="one of " + ", ".join(SCENARIOS) + ", or all")
    ap.add_argument("--mode", default="read,write")
    ap.add_argument("--kg-env", default="", help="extra KEY=VALUE settings for kg serve, space-separated")
    args = ap.parse_args(argv)

    nq, _manifest = ensure(parse_size(args.size), 1, DATA)
    store, _ = store_for(nq, "ours")
    scenarios = SCENARIOS if args.scenario == "all" else args.scenario.split(",")
    results = []
    for mode in args.mode.split(","):
        env = {"KG_BASE_IRI": ID[: -len("id/")], **dict(kv.split("=", 1) for kv in args.kg_env.split())}
        if mode == "write":
            # a copy: a server with a write token opens its store read-write
            import shutil
            work = RESULTS / "availability-work" / "store"
            shutil.rmtree(work.parent, ignore_errors=True)
            shutil.copytree(store, work)
            served, env["KG_WRITE_TOKEN"] = work, "bench-token"
        else:
            served = store
        for name in scenarios:
            lifetime = int(args.seconds) + 600
            with serve(served, env, lifetime, RESULTS / "hostile-availability-server.log") as srv:
                rss = process_rss(srv.proc.pid)
                with mp.get_context("fork").Pool(12) as pool:
                    r = run_scenario(name, srv.port, args.seconds, pool)
                r.update(mode=mode, rss_start_kb=rss["total"], rss_end_kb=process_rss(srv.proc.pid)["total"])
            results.append(r)
            print(json.dumps(r), flush=True)
    md = [f"# Availability under attack ({time.strftime('%Y-%m-%d %H:%M')})", "",
          f"{args.size} generated quads; each scenario {args.seconds:g} s; `ASK {{}}` from 127.0.0.2 every 50 ms "
          "on a new connection.", "",
          "| mode | scenario | ASKs | no answer in 10 s | p50 ms | p99 ms | worst ms | attack | RSS start / end MB |",
          "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        attack = r["attack"]
        if r["scenario"] == "expensive":
            flat = [s for part in attack for s in part]
            attack = {str(s): flat.count(s) for s in sorted(set(flat))}
        md.append(f"| {r['mode']} | {r['scenario']} | {r['asks']} | {r['unanswered']} | {r['p50_ms']} | "
                  f"{r['p99_ms']} | {r['max_ms']} | {json.dumps(attack)} | "
                  f"{r['rss_start_kb'] // 1024} / {r['rss_end_kb'] // 1024} |")
    write_results("hostile-availability", {"results": results}, "\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
