"""Paired A/B of two versions of semsearch over HTTP: the same questions to both servers, one after the other.

Usage: python benchmarks/ab_http.py --index /work/cache/scale/1m --a /path/to/old/checkout [--b .]
       [--requests 200] [--summary true|false]

This machine's speed drifts 15-20% between runs, more than most single changes are worth, so two runs of
scale_query.py cannot tell them apart. Here both servers (A: the semsearch package under --a, B: under --b)
serve the same index at once, and each block of questions goes to both, in alternating order, one client
at a time, with a pause between blocks; the table gives each side's percentiles and the median of the per-question differences (B - A).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import httpx
from scale_query import launch, load_questions, percentiles, settle, stop, warm_page_cache

from semsearch.store import current_version


def main() -> None:
    """Print both sides' p50/p95/p99 and the paired difference."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--a", type=Path, required=True, help="folder holding the semsearch package of side A")
    parser.add_argument("--b", type=Path, default=Path(__file__).parent.parent, help="side B (default: this checkout)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--summary", default="true", choices=["true", "false"])
    parser.add_argument("--block", type=int, default=20, help="questions asked back to back of one side")
    parser.add_argument("--gap", type=float, default=0.3,
                        help="seconds between blocks, so one side's idle threads (OpenBLAS spins ~0.1 s) "
                             "have stopped before the other side's block")
    args = parser.parse_args()
    questions = load_questions("scifact")
    sides = {}
    for name, code in (("A", args.a), ("B", args.b)):
        server, url, _ = launch(args.index, False, questions[0], code.resolve())
        sides[name] = (server, url)
    try:
        for server, _ in sides.values():
            settle(server)
        warm_page_cache(args.index / "versions" / current_version(args.index))
        took: dict[str, list[float]] = {"A": [], "B": []}
        asked = questions[1 : 1 + args.warmup + args.requests]
        with httpx.Client(timeout=120) as http:
            for block, start in enumerate(range(0, len(asked), args.block)):
                for name in ("AB" if block % 2 else "BA"):
                    time.sleep(args.gap)
                    for i in range(start, min(start + args.block, len(asked))):
                        started = time.perf_counter()
                        http.get(f"{sides[name][1]}/api/search",
                                 params={"q": asked[i], "summary": args.summary}).raise_for_status()
                        if i >= args.warmup:
                            took[name].append((time.perf_counter() - started) * 1000)
    finally:
        for server, _ in sides.values():
            stop(server)
    print(f"{args.requests} questions to each side in blocks of {args.block}, 1 client, summary={args.summary}; A = {args.a}, B = {args.b}")
    for name in "AB":
        p50, p95, p99 = percentiles(took[name])
        print(f"{name}: p50 {p50:6.2f}  p95 {p95:6.2f}  p99 {p99:6.2f} ms")
    differences = [b - a for a, b in zip(took["A"], took["B"])]
    print(f"B - A per question: median {statistics.median(differences):+.2f} ms, "
          f"B faster on {sum(d < 0 for d in differences)} of {len(differences)}")


if __name__ == "__main__":
    main()
