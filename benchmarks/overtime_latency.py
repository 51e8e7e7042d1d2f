"""What "new since" and the brief's discrepancy/copy step add to a query, and what a story timeline costs.

Usage: python benchmarks/overtime_latency.py INDEX_HOME [--new-since YYYY-MM-DD] [--rounds N]
Asks each sample question (benchmarks/sample_questions.json) once to warm up, then `rounds` times each way, and
prints the median milliseconds of plain queries, queries with new_since, the annotation step, and story timelines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from semsearch.config import Settings
from semsearch.contract import SearchRequest
from semsearch.discrepancies import annotate
from semsearch.service import SearchService


def median_ms(calls) -> float:
    times = []
    for call in calls:
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("home")
    parser.add_argument("--new-since", default="2025-03-15")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    questions = json.loads((Path(__file__).parent / "sample_questions.json").read_text())
    questions = [q["question"] for q in questions]
    service = SearchService(Settings(index_dir=args.home))
    plain = [SearchRequest(q=q) for q in questions]
    since = [SearchRequest(q=q, new_since=args.new_since) for q in questions]
    for request in plain + since:
        service.search(request)
    briefs = [service.search(r).summary for r in plain]
    stories = [h.story_id for r in plain[:20] for h in service.search(r).results[:1] if h.story_id]
    rows = {
        "query": median_ms(lambda r=r: service.search(r) for _ in range(args.rounds) for r in plain),
        "query, new_since": median_ms(lambda r=r: service.search(r) for _ in range(args.rounds) for r in since),
        "annotate (discrepancies, copies)": median_ms(
            lambda b=b: annotate(service.index, b) for _ in range(args.rounds) for b in briefs if b
        ),
        "story timeline": median_ms(lambda s=s: service.story(s) for _ in range(args.rounds) for s in stories),
    }
    for name, ms in rows.items():
        print(f"| {name} | {ms:.1f} |")


if __name__ == "__main__":
    main()
