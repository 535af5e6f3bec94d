"""Scale benchmark: loading, querying and validating at 1M (and 10M) triples; the remote store's overhead.

For each size (data from bench/generate.py, cached in bench/data):

1. Load: `kg load FILE --store DIR` against `oxigraph load --location DIR --file FILE`:
   wall time, disk used by the store directory, peak RSS (from wait4's rusage).
2. Queries: the bench query mix (bench/run.py's driver) against three servers, alternating:
   `kg serve` on the embedded store, `oxigraph serve-read-only --union-default-graph` (the
   remote queried directly), and `kg serve` in remote mode pointed at that same Oxigraph server.
   Throughput and p50 come from alternating slices of one client each. The remote store's
   added latency comes from a paired run (`bench.run.paired`): one client sends each query to
   Oxigraph directly and to `kg serve` in remote mode, one right after the other (after one
   unmeasured round, so that both meet Oxigraph's caches warm), and the added latency is
   mean(remote) / mean(direct) - 1 over the same queries. A bare proxy (bench/reference_app.py
   `proxy`, on the gevent workers `kg serve` runs for a remote store) takes part in the paired
   run: what any gunicorn-served Python hop adds.
3. Validation (with --validate-sizes): the project's shapes and ontology loaded beside the
   data, then `kg validate --store DIR` (SHACL core compiled to SPARQL and SHACL-SPARQL, both on
   the store itself), timed with its peak RSS, its time as a multiple of `kg load`'s, and its
   summary line; `--before-kg PATH` also times another checkout's `kg` on the same store (before
   and after a change); `--build-style` adds the `kg build` path (OWL RL inferences, then
   validation of an in-memory copy). Each under a time cap; one that passes it is stopped and
   reported as not finished, with its peak RSS so far.
4. Build (with --build-sizes): `kg build --extra-sources FILE` -- the project's sources plus the
   generated graph, parsed, inferred, validated -- with each step's time (from its output) and
   peak RSS, under a time cap. The generated data does not conform to our shapes, so the build
   refuses to publish after validating (exit 1); the publish step is therefore timed in a second
   run that parses, infers and publishes with the same functions, without validating.

    .venv/bin/python bench/scale.py --sizes 100k,1M --validate-sizes 1M
    .venv/bin/python bench/scale.py --sizes 100k,1M --validate-sizes 100k,1M --no-queries \
        --before-kg ../main/.venv/bin/kg                           # validation only, before/after
    .venv/bin/python bench/scale.py --sizes 10M --no-validate       # ~2 GB of N-Quads
    .venv/bin/python bench/scale.py --sizes 100k,1M --build-only    # only step 4

Writes bench/results/scale.json (sizes merged with earlier runs) and docs/scale.png.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import ensure, parse_size, size_name  # noqa: E402
from bench.queries import load_mix  # noqa: E402
from bench.run import DATA, RESULTS, check_same_answers, compare, free_port, paired, reference_server, start, wait_ready  # noqa: E402

BIN = Path(sys.executable).parent
OUT = RESULTS / "scale.json"
PLOT = ROOT / "docs" / "scale.png"
G_SHAPES = "https://kars-gyumri.example.org/graph/shapes"
G_ONTOLOGY = "https://kars-gyumri.example.org/graph/ontology"
G_INFERRED = "https://kars-gyumri.example.org/graph/inferred"


def measure(argv: list[str], timeout_s: float, env: dict[str, str] | None = None,
            stdout: Path | None = None, stderr_too: bool = False) -> dict[str, Any]:
    """Run a command; its wall time and peak RSS (wait4), or the peak so far when it passes the cap.

    `stderr_too` sends stderr into the `stdout` file as well: a command that writes much there (a
    refused build's report) would stall on a pipe that nobody reads while we wait."""
    started = time.monotonic()
    out = stdout.open("wb") if stdout else subprocess.DEVNULL
    err_to = subprocess.STDOUT if stdout and stderr_too else subprocess.PIPE
    try:
        proc = subprocess.Popen(argv, stdout=out, stderr=err_to, env=env, start_new_session=True)
    finally:
        if stdout:
            out.close()  # type: ignore[union-attr]
    peak_kb = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            err = proc.stderr.read().decode("utf-8", "replace")[-400:] if proc.stderr else ""
            if proc.stderr:
                proc.stderr.close()
            return {"seconds": time.monotonic() - started, "peak_rss_mb": max(usage.ru_maxrss, peak_kb) / 1024,
                    "finished": True, "exit": proc.returncode, "stderr_tail": err}
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kb = max(peak_kb, int(line.split()[1]))
        except OSError:
            pass
        if time.monotonic() - started > timeout_s:
            os.killpg(proc.pid, 9)
            os.wait4(proc.pid, 0)
            if proc.stderr:
                proc.stderr.close()
            return {"seconds": time.monotonic() - started, "peak_rss_mb": peak_kb / 1024, "finished": False,
                    "exit": None, "stderr_tail": f"stopped after the cap of {timeout_s:.0f} s"}
        time.sleep(0.2)


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def bench_load(nq: Path, work: Path) -> tuple[dict[str, Any], Path, Path]:
    ours, theirs = work / "kg-store", work / "ox-store"
    for p in (ours, theirs):
        shutil.rmtree(p, ignore_errors=True)
    kg = measure([str(BIN / "kg"), "load", str(nq), "--store", str(ours)], 7200)
    ox = measure([str(BIN / "oxigraph"), "load", "--location", str(theirs), "--file", str(nq)], 7200)
    kg["disk_mb"], ox["disk_mb"] = disk_mb(ours), disk_mb(theirs)
    return {"kg load": kg, "oxigraph load": ox}, ours, theirs


def bench_queries(ours: Path, theirs: Path, manifest: dict[str, Any], seconds: float, rounds: int,
                  log: Path, paired_seconds: float = 120) -> dict[str, Any]:
    """Embedded kg serve, oxigraph directly, kg serve remote -> the same oxigraph."""
    # Both stores compacted alike before serving: a freshly bulk-loaded store that is not
    # optimized answered 3x slower at 10M, which measured the compaction, not the server.
    subprocess.run([str(BIN / "oxigraph"), "optimize", "--location", str(theirs)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-c", "import sys, pyoxigraph as ox; ox.Store(sys.argv[1]).optimize()", str(ours)],
                   check=True)
    p1, p2, p3 = free_port(), free_port(), free_port()
    lifetime = int(seconds * 3 + 600)
    remote = {"KG_REMOTE_QUERY_URL": f"http://127.0.0.1:{p2}/query", "KG_REMOTE_UNION_PARAM": "union-default-graph"}
    servers = [
        start("ours", [str(BIN / "kg"), "serve", "--store", str(ours), "--host", "127.0.0.1", "--port", str(p1)],
              p1, "/sparql", lifetime, log),
        start("oxigraph", [str(BIN / "oxigraph"), "serve-read-only", "--location", str(theirs),
                           "--bind", f"127.0.0.1:{p2}", "--union-default-graph"], p2, "/query", lifetime, log),
    ]
    old_env = dict(os.environ)
    os.environ.update(remote)
    try:
        servers.append(start("ours-remote", [str(BIN / "kg"), "serve", "--store", str(ours.parent / "unused"),
                                             "--host", "127.0.0.1", "--port", str(p3)], p3, "/sparql", lifetime, log))
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    # The floor for any remote store served by gunicorn: a bare proxy to the same Oxigraph, on the
    # worker class `kg serve` picks for a remote store (gevent).
    proxy = reference_server("proxy", ours, lifetime, log, remote=f"127.0.0.1:{p2}/query?union-default-graph",
                             worker_class="gevent")
    try:
        for s in [*servers, proxy]:
            wait_ready(s)
        mix = load_mix()
        mismatches = check_same_answers(servers, mix, manifest)
        with mp.get_context("fork").Pool(1) as pool:
            runs = compare(servers, 1, seconds, 1_000_000, rounds, 2.0, 1, manifest, pool)
        # Long enough for a few thousand queries at 1M: the mix's slowest queries take 20 ms and
        # vary by several ms, so a short run's mean moves by a few per cent from run to run.
        pairs = paired([*servers, proxy], manifest, requests=50_000, seconds=paired_seconds)
    finally:
        for s in [*servers, proxy]:
            s.stop()
    o, r = runs["oxigraph"], runs["ours-remote"]
    direct = pairs["oxigraph"]["mean_ms"]
    per_query = {q: (r["per_query"][q]["p50_ms"] - v["p50_ms"]) / v["p50_ms"] for q, v in o["per_query"].items()
                 if q in r["per_query"] and v["p50_ms"] > 0}
    return {"mismatches": mismatches,
            "servers": {k: {x: v[x] for x in ("qps", "p50_ms", "p99_ms", "requests", "errors")} for k, v in runs.items()},
            "remote_added_latency_p50": (r["p50_ms"] - o["p50_ms"]) / o["p50_ms"],
            "remote_added_latency_mean": (sum(q["mean_ms"] * q["n"] for q in r["per_query"].values()) /
                                          max(1, sum(q["n"] for q in r["per_query"].values()))) /
                                         (sum(q["mean_ms"] * q["n"] for q in o["per_query"].values()) /
                                          max(1, sum(q["n"] for q in o["per_query"].values()))) - 1,
            "remote_added_latency_p50_per_query": per_query,
            "paired": pairs,
            "remote_added_latency_paired": pairs["ours-remote"]["mean_ms"] / direct - 1,
            "embedded_latency_ratio_paired": pairs["ours"]["mean_ms"] / direct - 1,
            "bare_proxy_added_latency_paired": pairs["wsgi-proxy"]["mean_ms"] / direct - 1}


_BUILD_STYLE = """
import sys, time
import pyoxigraph as ox
from server.build.pipeline import to_rdflib, validation_source
from server.build.inference import materialise
from server.validation.validate import validate
store = ox.Store.read_only(sys.argv[1])
quads = list(store.quads_for_pattern(None, None, None, None))
graphs = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
shapes, inferred = sys.argv[2], sys.argv[4]
t = time.monotonic()
inference = materialise(quads, graphs - {shapes}, inferred)
print(f"OWL RL inferences +{len(inference.quads)} in {time.monotonic() - t:.1f}s", file=sys.stderr, flush=True)
report = validate(validation_source(quads + inference.quads, frozenset({shapes})), shapes=to_rdflib(quads, {shapes}))
print(report.summary(), file=sys.stderr)
"""


def bench_validation(ours: Path, work: Path, cap_s: float, before_kg: str | None, build_style: bool) -> dict[str, Any]:
    """The project's shapes and ontology beside the generated data, then `kg validate` on the store."""
    store = work / "kg-store-validate"
    shutil.rmtree(store, ignore_errors=True)
    shutil.copytree(ours, store)
    for graph, path in ((G_SHAPES, ROOT / "shapes" / "shapes.ttl"), (G_ONTOLOGY, ROOT / "ontology" / "kg.ttl")):
        subprocess.run([str(BIN / "kg"), "load", str(path), "--graph", graph, "--store", str(store)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = [("kg validate", str(BIN / "kg"))] + ([("kg validate (before)", before_kg)] if before_kg else [])
    out: dict[str, Any] = {}
    for name, kg in runs:
        stdout = work / "validate.txt"
        out[name] = measure([kg, "validate", "--store", str(store), "--max-results", "5"], cap_s, stdout=stdout)
        out[name]["summary"] = first_line(stdout) if out[name]["finished"] else ""
    if build_style:
        out["build-style (OWL RL + validation)"] = measure(
            [sys.executable, "-c", _BUILD_STYLE, str(store), G_SHAPES, G_ONTOLOGY, G_INFERRED], cap_s,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
    shutil.rmtree(store, ignore_errors=True)
    return out


def first_line(path: Path) -> str:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return lines[0] if lines else ""


_STEP = re.compile(r"^(parse|infer|validate|publish): (.*) in ([0-9.]+) s$")

_PUBLISH = """
import sys, time
from pathlib import Path
import pyoxigraph as ox
from server import namespaces as ns
from server.build.pipeline import extra_sources, project_sources, publish, read_sources
from server.build.inference import materialise
t = time.perf_counter()
quads = read_sources(project_sources() + extra_sources([Path(sys.argv[2])]))
print(f"parse: {len(quads):,} quads in {time.perf_counter() - t:.1f} s", flush=True)
t = time.perf_counter()
graphs = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)} - {ns.G_SHAPES}
inferred = materialise(quads, graphs, ns.G_INFERRED).quads
print(f"infer: {len(inferred):,} new triples in {time.perf_counter() - t:.1f} s", flush=True)
t = time.perf_counter()
target = publish(Path(sys.argv[1]), quads + inferred)
print(f"publish: {target.name} in {time.perf_counter() - t:.1f} s", flush=True)
"""


def steps_of(output: Path) -> dict[str, dict[str, Any]]:
    """The build's step lines (`infer: 123 new triples in 4.5 s`) as {step: {seconds, what}}."""
    steps: dict[str, dict[str, Any]] = {}
    with output.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = _STEP.match(line.rstrip("\n"))
            if m:
                steps[m.group(1)] = {"seconds": float(m.group(3)), "what": m.group(2)}
    return steps


def bench_build(nq: Path, work: Path, cap_s: float) -> dict[str, Any]:
    """`kg build --extra-sources` on the generated graph; then the publish step on its own (see the docstring)."""
    out: dict[str, Any] = {}
    for name, argv in (("kg build", [str(BIN / "kg"), "build", "--store", str(work / "build-store"),
                                     "--extra-sources", str(nq)]),
                       ("parse + infer + publish", [sys.executable, "-c", _PUBLISH, str(work / "publish-store"),
                                                    str(nq)])):
        output = work / f"{name.split()[0]}-output.txt"
        run = measure(argv, cap_s, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=output, stderr_too=True)
        run["steps"] = steps_of(output)
        run.pop("stderr_tail", None)
        out[name] = run
        print(name, json.dumps(run), flush=True)
    return out


def table(results: dict[str, Any]) -> str:
    """The figures as Markdown (bench/README.md carries the latest; docs/scale.md a summary)."""
    rows = ["| size | quads | N-Quads MB | kg load s / disk MB / peak RSS MB | oxigraph load s / disk MB / peak RSS MB | "
            "q/s kg (embedded) | q/s oxigraph | q/s kg → oxigraph (remote) | p50 ms emb. / ox / remote | "
            "paired mean ms: ox / emb. / remote | remote added latency (paired) | bare proxy's (paired) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    loaded = sorted(((n, s) for n, s in results["sizes"].items() if "load" in s), key=lambda kv: kv[1]["triples"])
    if not loaded:
        return "\n".join(build_table(results))
    for name, s in loaded:
        k, o = s["load"]["kg load"], s["load"]["oxigraph load"]
        q = s.get("queries")
        sv = q["servers"] if q else {}
        cells = [name, f"{s['triples']:,}", f"{s['nquads_mb']:,.0f}",
                 f"{k['seconds']:.1f} / {k['disk_mb']:,.0f} / {k['peak_rss_mb']:,.0f}",
                 f"{o['seconds']:.1f} / {o['disk_mb']:,.0f} / {o['peak_rss_mb']:,.0f}"]
        if q:
            cells += [f"{sv['ours']['qps']:,.0f}", f"{sv['oxigraph']['qps']:,.0f}", f"{sv['ours-remote']['qps']:,.0f}",
                      f"{sv['ours']['p50_ms']:.2f} / {sv['oxigraph']['p50_ms']:.2f} / {sv['ours-remote']['p50_ms']:.2f}",
                      *_paired_cells(q)]
        rows.append("| " + " | ".join(cells) + " |")
    rows += ["", "| size | quads | kg load s | run | time s | × kg load | peak RSS MB | summary |",
             "|---|---|---|---|---|---|---|---|"]
    for name, s in loaded:
        load_s = s["load"]["kg load"]["seconds"]
        for what, v in s.get("validation", {}).items():
            state = f"{v['seconds']:.1f}" if v["finished"] else f"not finished in {v['seconds']:.0f} (stopped)"
            rows.append(f"| {name} | {s['triples']:,} | {load_s:.1f} | {what} | {state} | "
                        f"{v['seconds'] / load_s:.1f} | {v['peak_rss_mb']:,.0f} | {v.get('summary', '')} |")
    return "\n".join(rows + build_table(results))


def _paired_cells(q: dict[str, Any]) -> list[str]:
    """Runs before the paired measurement have only the slices' figures."""
    if "paired" not in q:
        return ["–", f"{q['remote_added_latency_mean']:+.0%} (slices)", "–"]
    p = q["paired"]
    proxy = q.get("bare_proxy_added_latency_paired")
    return [f"{p['oxigraph']['mean_ms']:.2f} / {p['ours']['mean_ms']:.2f} / {p['ours-remote']['mean_ms']:.2f}",
            f"{q['remote_added_latency_paired']:+.0%}", "–" if proxy is None else f"{proxy:+.0%}"]


def build_table(results: dict[str, Any]) -> list[str]:
    """`kg build` per step, as Markdown rows (bench/README.md, Building, carries the latest)."""
    rows = ["", "| size | quads built | parse s | infer s (new triples) | validate s | publish s | total s | "
            "peak RSS MB |", "|---|---|---|---|---|---|---|---|"]
    for name, s in sorted(results["sizes"].items(), key=lambda kv: kv[1]["triples"]):
        if "build" not in s:
            continue
        run, pub = s["build"]["kg build"], s["build"].get("parse + infer + publish", {})
        steps = run["steps"]

        def cell(step: str, where: dict[str, Any] = steps) -> str:
            return f"{where[step]['seconds']:.1f}" if step in where else "—"

        infer = f"{cell('infer')} ({steps['infer']['what'].split()[0]})" if "infer" in steps else "—"
        publish = cell("publish") if "publish" in steps else (
            f"{cell('publish', pub.get('steps', {}))} (without validation, peak RSS {pub['peak_rss_mb']:,.0f} MB)"
            if pub else "—")
        total = f"{run['seconds']:.0f}" + ("" if run["finished"] else " (stopped at the cap)") + \
            (" (exit 1: Violations, not published)" if run["finished"] and run["exit"] == 1 else "")
        quads = steps["parse"]["what"].split()[0] if "parse" in steps else "—"
        rows.append(f"| {name} | {quads} | {cell('parse')} | {infer} | {cell('validate')} | {publish} | {total} | "
                    f"{run['peak_rss_mb']:,.0f} |")
    return rows


def plot(results: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted((s for s in results["sizes"].values() if "load" in s), key=lambda s: s["triples"])
    x = [s["triples"] for s in sizes]
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.2), dpi=90)
    for name, style in (("kg load", "o-"), ("oxigraph load", "s--")):
        a.plot(x, [s["load"][name]["seconds"] for s in sizes], style, label=name)
    a.set(xscale="log", yscale="log", xlabel="quads", ylabel="load time (s)", title="Bulk load")
    a.legend(fontsize=8)
    for name, label, style in (("ours", "kg serve (embedded)", "o-"), ("oxigraph", "oxigraph serve", "s--"),
                               ("ours-remote", "kg serve → oxigraph (remote)", "^-.")):
        pts = [(s["triples"], s["queries"]["servers"][name]["p50_ms"]) for s in sizes if "queries" in s]
        b.plot([p[0] for p in pts], [p[1] for p in pts], style, label=label)
    b.set(xscale="log", xlabel="quads", ylabel="p50 latency (ms)", title="Query mix, 1 client")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(PLOT)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1M", help="comma-separated sizes: 100k, 1M, 10M")
    ap.add_argument("--validate-sizes", default="1M", help="sizes at which validation is measured")
    ap.add_argument("--no-validate", action="store_true")
    ap.add_argument("--seconds", type=float, default=20, help="query-mix time per server")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--paired-seconds", type=float, default=120, help="time of the paired latency run")
    ap.add_argument("--validate-cap-s", type=float, default=900, help="time cap of each validation run")
    ap.add_argument("--before-kg", help="another checkout's kg executable, timed on the same store (before/after)")
    ap.add_argument("--build-style", action="store_true", help="also time the kg build path (OWL RL closure)")
    ap.add_argument("--no-queries", action="store_true", help="load and validation only (keeps earlier query figures)")
    ap.add_argument("--build-sizes", default="100k,1M", help="sizes at which `kg build` is measured")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--build-only", action="store_true", help="measure only `kg build` (no load, queries, validation)")
    ap.add_argument("--build-cap-s", type=float, default=600, help="time cap of each build run")
    ap.add_argument("--plot-only", action="store_true")
    args = ap.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = json.loads(OUT.read_text()) if OUT.exists() else {"sizes": {}}
    if not args.plot_only:
        validate_at = set() if args.no_validate else {parse_size(s) for s in args.validate_sizes.split(",")}
        build_at = set() if args.no_build else {parse_size(s) for s in args.build_sizes.split(",")}
        log = RESULTS / f"scale-{time.strftime('%Y%m%d-%H%M%S')}-servers.log"
        for size in [parse_size(s) for s in args.sizes.split(",")]:
            name = size_name(size)
            t = time.monotonic()
            nq, manifest = ensure(size, 1, DATA)
            print(f"== {name}: {manifest.triples:,} quads, {nq.stat().st_size / 1e6:,.0f} MB "
                  f"(data {time.monotonic() - t:.0f} s)", flush=True)
            work = DATA / f"scale-{name}"
            work.mkdir(exist_ok=True)
            entry: dict[str, Any] = {**results["sizes"].get(name, {}), "triples": manifest.triples,
                                     "nquads_mb": nq.stat().st_size / 1e6, "stamp": time.strftime("%Y-%m-%d %H:%M"),
                                     "machine": f"{os.cpu_count()} cores"}
            if not args.build_only:
                entry["load"], ours, theirs = bench_load(nq, work)
                print(json.dumps(entry["load"], indent=1), flush=True)
                if not args.no_queries:
                    entry["queries"] = bench_queries(ours, theirs, vars(manifest), args.seconds, args.rounds, log,
                                                       args.paired_seconds)
                    print(json.dumps(entry["queries"], indent=1), flush=True)
                if size in validate_at:
                    entry["validation"] = bench_validation(ours, work, args.validate_cap_s, args.before_kg,
                                                           args.build_style)
                    print(json.dumps(entry["validation"], indent=1), flush=True)
            if size in build_at or args.build_only:
                entry["build"] = bench_build(nq, work, args.build_cap_s)
            results["sizes"][name] = entry
            OUT.write_text(json.dumps(results, indent=1))
            shutil.rmtree(work, ignore_errors=True)
    replot = not (args.no_queries or args.build_only)  # the plot is of loads and queries
    if replot:
        plot(results)
    print(table(results))
    print(f"wrote {OUT.relative_to(ROOT)}" + (f" and {PLOT.relative_to(ROOT)}" if replot else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
