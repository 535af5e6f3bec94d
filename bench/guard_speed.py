"""What the query guard costs per query of the researcher mix (bench/queries), in microseconds.

The guard (`server.sparql.guard.check_query`) runs on every query before the engine sees it, so
its cost is paid on every request. Each template is drawn once with fixed parameters (no data or
store needed) and timed in batches of 20 calls; the figure is the fastest batch (on a shared
machine the others measure the neighbours). `--against REV` times the guard of another git
revision too, batch for batch in turn with this one, so that both see the same machine.

    .venv/bin/python bench/guard_speed.py [--batches 300] [--against REV]
"""
from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.queries import load_mix  # noqa: E402
from server.sparql.guard import check_query  # noqa: E402

# Sizes of a generated graph, enough to draw each template's parameters.
MANIFEST = {"persons": 1000, "states": 20, "ministries": 60, "places": 500, "articles": 2000,
            "year_first": 2015, "year_last": 2025}
Guard = Callable[..., object]


def guard_of(rev: str) -> Guard:
    """`check_query` as it is at git revision `rev` (loaded from a temporary copy of its module)."""
    source = subprocess.run(["git", "show", f"{rev}:server/sparql/guard.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
    name = "server.sparql._guard_" + rev.replace("~", "_").replace("^", "_")
    spec = importlib.util.spec_from_file_location(name, f.name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "server.sparql"
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.check_query  # type: ignore[no-any-return]


def batch_us(guard: Guard, text: str) -> float:
    allowed: frozenset[str] = frozenset()
    started = time.perf_counter()
    for _ in range(20):
        guard(text, max_depth=64, allowed_services=allowed)
    return (time.perf_counter() - started) / 20 * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=300, help="batches of 20 calls per template")
    parser.add_argument("--against", help="a git revision whose guard is timed beside this one")
    args = parser.parse_args()
    guards: dict[str, Guard] = {"this": check_query}
    if args.against:
        guards[args.against] = guard_of(args.against)
    rng = random.Random(1)
    best: dict[str, list[float]] = {name: [] for name in guards}
    print(f"{'template':28} {'chars':>5}  " + "  ".join(f"{name:>10}" for name in guards) + "   (us per query)")
    for template in load_mix():
        text = template.render(rng, MANIFEST)
        times: dict[str, list[float]] = {name: [] for name in guards}
        for _ in range(args.batches):
            for name, guard in guards.items():
                times[name].append(batch_us(guard, text))
        for name in guards:
            best[name].append(min(times[name]))
        print(f"{template.name:28} {len(text):5}  " + "  ".join(f"{best[n][-1]:10.1f}" for n in guards))
    print(f"{'mean':28} {'':5}  " + "  ".join(f"{statistics.mean(best[n]):10.1f}" for n in guards))


if __name__ == "__main__":
    main()
