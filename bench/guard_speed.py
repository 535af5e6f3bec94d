"""What the query guard costs per query of the researcher mix (bench/queries), in microseconds.

The guard (`server.sparql.guard.check_query`) runs on every query before the engine sees it, so
its cost is paid on every request; this prints the median of many runs of each template, drawn
once with fixed parameters (no data or store needed).

    .venv/bin/python bench/guard_speed.py [--runs 20000]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.queries import load_mix  # noqa: E402
from server.sparql.guard import check_query  # noqa: E402

# Sizes of a generated graph, enough to draw each template's parameters.
MANIFEST = {"persons": 1000, "states": 20, "ministries": 60, "places": 500, "articles": 2000,
            "year_first": 2015, "year_last": 2025}


def per_query_us(text: str, runs: int) -> float:
    """Median over batches of 100 calls, in microseconds per call."""
    allowed: frozenset[str] = frozenset()
    batches = []
    for _ in range(max(1, runs // 100)):
        started = time.perf_counter()
        for _ in range(100):
            check_query(text, max_depth=64, allowed_services=allowed)
        batches.append((time.perf_counter() - started) / 100 * 1e6)
    return statistics.median(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20000, help="calls per template")
    args = parser.parse_args()
    rng = random.Random(1)
    figures = []
    for template in load_mix():
        text = template.render(rng, MANIFEST)
        figures.append(per_query_us(text, args.runs))
        print(f"{template.name:28} {len(text):5} chars  {figures[-1]:6.1f} us")
    print(f"{'mean':28} {'':5}        {statistics.mean(figures):6.1f} us")


if __name__ == "__main__":
    main()
