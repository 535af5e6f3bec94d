"""The write paths against Virtuoso: `kg build` publishing through the Graph Store Protocol, `kg load
--graph`, and a guarded write through `kg serve` in remote mode. Each is reported as works / fails
with the reason. Started by run.sh after the query mix (Virtuoso already running on loopback).
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.generate import ensure, parse_size  # noqa: E402
from bench.run import stop_group  # noqa: E402
from server import namespaces as ns  # noqa: E402

KG = str(ROOT / ".venv" / "bin" / "kg")
SIZE_LINE = re.compile(r"^\s+(\d+)\s+(\S+)$")
CURATED = ns.GRAPH + "curated"
LOADED = ns.GRAPH + "bench-load"
PFX = f"PREFIX kgo: <{ns.KGO}> PREFIX kg: <{ns.ID}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
KGC = "https://kars-gyumri.example.org/changelog#"


@dataclass
class Outcome:
    name: str
    works: bool
    detail: str

    def line(self) -> str:
        return f"{self.name}: {'works' if self.works else 'FAILS'} -- {self.detail}"


class Virtuoso:
    """Direct SPARQL reads of the Virtuoso under test (what it reports, not what we think we sent)."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/sparql"

    def select(self, query: str) -> list[dict[str, str]]:
        r = httpx.post(self.url, data={"query": query}, headers={"Accept": "application/sparql-results+json"},
                       timeout=60)
        r.raise_for_status()
        return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]

    def count(self, graph: str) -> int:
        return int(self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")[0]["n"])


def run_kg(args: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    """Run `kg`, returning exit code, stdout+stderr and wall seconds."""
    t = time.perf_counter()
    p = subprocess.run([KG, *args], env=env, capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout + p.stderr, time.perf_counter() - t


def sizes_printed(output: str) -> dict[str, int]:
    """The graph sizes `kg build` prints (on a remote: as the remote reports them after publishing)."""
    return {m.group(2): int(m.group(1)) for m in map(SIZE_LINE.match, output.splitlines()) if m}


def check_build(env: dict[str, str], work: Path) -> Outcome:
    code, out, _ = run_kg(["build", "--store", str(work / "embedded")], {**env, **_local()})
    if code != 0:
        return Outcome("kg build (embedded, reference)", False, out.strip().splitlines()[-1])
    embedded = sizes_printed(out)
    code, out, seconds = run_kg(["build"], env)
    if code != 0:
        return Outcome("kg build -> Virtuoso (GSP)", False, f"exit {code}: " + " | ".join(out.strip().splitlines()[-3:]))
    remote = sizes_printed(out)
    ours = {g: n for g, n in remote.items() if g.startswith(ns.GRAPH)}
    diff = {g: (embedded.get(g), ours.get(g)) for g in set(embedded) | set(ours) if embedded.get(g) != ours.get(g)}
    publish = re.search(r"publish: \S+ in ([\d.]+) s", out)
    detail = (f"{len(embedded)} graphs, {sum(embedded.values()):,} triples; kg build {seconds:.1f} s wall, "
              f"publish {publish.group(1) if publish else '?'} s")
    if diff:
        return Outcome("kg build -> Virtuoso (GSP)", False, f"graph sizes differ (embedded, Virtuoso): {diff}; {detail}")
    return Outcome("kg build -> Virtuoso (GSP)", True, "graph sizes Virtuoso reports = the embedded build's: " + detail)


def _local() -> dict[str, str]:
    """Settings that switch the remote off (the embedded reference build)."""
    return {"KG_REMOTE_QUERY_URL": "", "KG_REMOTE_UPDATE_URL": "", "KG_REMOTE_GSP_URL": ""}


def check_load(env: dict[str, str], work: Path, size: str, virtuoso: Virtuoso) -> Outcome:
    nq, _ = ensure(parse_size(size), 1, ROOT / "bench" / "data")
    triples = {ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(path=str(nq), format=ox.RdfFormat.N_QUADS)}
    nt = work / "load.nt"
    nt.write_bytes(ox.serialize(sorted(triples, key=str), format=ox.RdfFormat.N_TRIPLES))
    code, out, seconds = run_kg(["load", "--graph", LOADED, str(nt)], env)
    if code != 0:
        return Outcome("kg load --graph -> Virtuoso", False, f"exit {code}: {out.strip().splitlines()[-1]}")
    stored = virtuoso.count(LOADED)
    detail = f"{len(triples):,} triples ({nt.stat().st_size / 1e6:.1f} MB N-Triples) in {seconds:.1f} s wall"
    if stored != len(triples):
        return Outcome("kg load --graph -> Virtuoso", False, f"Virtuoso holds {stored:,} in the graph; sent {detail}")
    return Outcome("kg load --graph -> Virtuoso", True, f"Virtuoso counts the same: {detail}")


def start_serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """`kg serve` in its own session under `timeout`, so that it stops by itself in any case."""
    with log.open("ab") as fh:
        proc = subprocess.Popen(["timeout", "-k", "10", "600", KG, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=fh, stderr=fh, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kg serve exited with {proc.returncode}; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/sparql", params={"query": "ASK {}"}, timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop(proc)
    raise RuntimeError("kg serve did not answer within 90 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    stop_group(proc, wait_s=20)


def check_guarded_writes(env: dict[str, str], port: int, work: Path, virtuoso: Virtuoso) -> list[Outcome]:
    token = secrets.token_hex(16)
    proc = start_serve({**env, "KG_WRITE_TOKEN": token, "KG_WRITE_TOKEN_NAME": "bench"}, port, work / "serve.log")
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        return [_update(base, auth, virtuoso), _put(base, auth, virtuoso)]
    finally:
        stop(proc)


def _logged(virtuoso: Virtuoso, change: str) -> str | None:
    """The change log's record of a change on Virtuoso, or None."""
    rows = virtuoso.select(f"SELECT ?op ?added ?who WHERE {{ GRAPH <{ns.G_CHANGELOG}> {{ <{change}> <{KGC}operation> ?op ; "
                           f"<{KGC}triplesAdded> ?added ; <http://www.w3.org/ns/prov#wasAssociatedWith> ?who }} }}")
    return f"{rows[0]['op']}, {rows[0]['added']} added, by {rows[0]['who']}" if rows else None


def _update(base: str, auth: dict[str, str], virtuoso: Virtuoso) -> Outcome:
    name = "guarded SPARQL Update through kg serve -> Virtuoso"
    update = PFX + f'INSERT DATA {{ GRAPH <{CURATED}> {{ kg:bench-village a kgo:Village ; rdfs:label "Bench Village"@en }} }}'
    t = time.perf_counter()
    r = httpx.post(base + "/sparql", content=update.encode(), timeout=120,
                   headers={**auth, "Content-Type": "application/sparql-update", "Accept": "text/plain"})
    seconds = time.perf_counter() - t
    if r.status_code != 200:
        return Outcome(name, False, f"{r.status_code}: {r.text.strip()[:300]}; {not_round_tripping(virtuoso)}")
    change = r.headers.get("KG-Change", "")
    stored = virtuoso.select(PFX + f"SELECT ?l WHERE {{ GRAPH <{CURATED}> {{ kg:bench-village a kgo:Village ; rdfs:label ?l }} }}")
    logged = _logged(virtuoso, change)
    history = httpx.get(base + "/history", headers={"Accept": "application/n-triples"}, timeout=60).text
    if not stored or not logged or change not in history:
        return Outcome(name, False, f"200 but stored={stored}, change log={logged}, in /history={change in history}")
    return Outcome(name, True, f"200 in {seconds:.2f} s, KG-Triples-Added {r.headers.get('KG-Triples-Added')}; "
                               f"Virtuoso holds the triples; change log: {logged}; listed by /history")


def not_round_tripping(virtuoso: Virtuoso) -> str:
    """How many of Virtuoso's quads an in-memory Oxigraph store gives back changed (the write planner
    diffs the store read from the remote against such a store, so each one looks like part of the change)."""
    from server.settings import load_settings
    from server.store.remote import RemoteStore

    remote = RemoteStore(load_settings({"remote_query_url": virtuoso.url}))
    try:
        quads = remote.quads()
    finally:
        remote.close()
    mem = ox.Store()
    mem.extend(quads)
    changed = set(quads) - set(mem)
    by_graph = Counter(q.graph_name.value for q in changed)   # type: ignore[union-attr]
    kinds = Counter(q.object.datatype.value.rsplit("#", 1)[-1] for q in changed if isinstance(q.object, ox.Literal))
    return (f"{len(changed):,} of Virtuoso's {len(quads):,} quads do not round-trip through an Oxigraph store "
            f"(datatypes {dict(kinds)}; graphs {dict(by_graph)})")


def _put(base: str, auth: dict[str, str], virtuoso: Virtuoso) -> Outcome:
    name = "guarded Graph Store PUT through kg serve, then undo"
    body = (f"<{ns.ID}bench-village> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{ns.KGO}Village> .\n"
            f"<{ns.ID}bench-village> <http://www.w3.org/2000/01/rdf-schema#label> \"Bench Village East\"@en .\n")
    labels_of = f"SELECT ?l WHERE {{ GRAPH <{CURATED}> {{ ?s ?p ?l FILTER isLiteral(?l) }} }}"
    before = [row["l"] for row in virtuoso.select(labels_of)]
    r = httpx.put(base + "/rdf-graph-store", params={"graph": CURATED}, content=body.encode(), timeout=120,
                  headers={**auth, "Content-Type": "application/n-triples", "Accept": "text/plain"})
    if r.status_code not in (200, 201):
        return Outcome(name, False, f"PUT {r.status_code}: {r.text.strip()[:300]}")
    labels = [row["l"] for row in virtuoso.select(labels_of)]
    change = r.headers.get("KG-Change", "")
    undo = httpx.post(f"{base}/history/{change.rsplit('/', 1)[-1]}/undo", headers=auth, timeout=120)
    after = [row["l"] for row in virtuoso.select(labels_of)]
    if labels != ["Bench Village East"] or undo.status_code != 200 or after != before or not _logged(virtuoso, change):
        return Outcome(name, False, f"PUT {r.status_code}, labels after PUT {labels}, undo {undo.status_code}, "
                                    f"labels after undo {after} (before the PUT {before})")
    return Outcome(name, True, f"PUT {r.status_code} replaced the graph; undo 200 restored it ({before}); both in the change log")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--virtuoso-port", type=int, required=True)
    ap.add_argument("--kg-port", type=int, required=True)
    ap.add_argument("--work", type=Path, required=True, help="a scratch directory (removed by run.sh)")
    ap.add_argument("--size", default="10k")
    args = ap.parse_args()
    url = f"http://127.0.0.1:{args.virtuoso_port}"
    env = {**os.environ, "KG_REMOTE_QUERY_URL": url + "/sparql", "KG_REMOTE_UPDATE_URL": url + "/sparql",
           "KG_REMOTE_GSP_URL": url + "/sparql-graph-crud", "KG_REMOTE_UNION_PARAM": "",
           "KG_STORE": str(args.work / "kg-cache")}
    virtuoso = Virtuoso(args.virtuoso_port)
    outcomes = [check_build(env, args.work), check_load(env, args.work, args.size, virtuoso)]
    try:
        outcomes += check_guarded_writes(env, args.kg_port, args.work, virtuoso)
    except RuntimeError as exc:
        outcomes.append(Outcome("kg serve with writes -> Virtuoso", False, str(exc)))
    for o in outcomes:
        print(o.line(), flush=True)
    return 0 if all(o.works for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
