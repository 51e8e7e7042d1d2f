"""Median query time with and without the brief, and where the abstain threshold sits, on an index.

    semsearch build && python benchmarks/brief_latency.py [--index index/] [--repeat 5]

The questions are benchmarks/sample_questions.json (answerable from the sample corpus) plus a few
that the sample corpus cannot answer; the best sentence cosine of each shows how far apart the two
kinds are around SEMSEARCH_BRIEF_MIN_SIMILARITY.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from semsearch.brief import brief_options, summarize
from semsearch.config import get_settings
from semsearch.engine import Engine
from semsearch.retrieval import Retriever

UNANSWERABLE = [
    "best recipe for sourdough bread starter",
    "How do I reset my router password?",
    "Which planet has the most moons?",
    "symptoms of vitamin D deficiency",
    "Who painted the Mona Lisa?",
    "how to learn the guitar quickly",
    "What is the capital of Australia?",
    "train a puppy to sit",
]


def main() -> None:
    """Print median ms per query with and without the brief, and best cosines of (un)answerable questions."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings = get_settings()
    if args.index:
        settings = settings.model_copy(update={"index_dir": args.index})
    engine = Engine(settings)
    questions = [q["question"] for q in json.loads(
        (Path(__file__).parent / "sample_questions.json").read_text("utf-8"))]
    engine.search(questions[0])  # load the model and open the index outside the timing
    timings: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.repeat):
        for q in questions:
            for summary in (False, True):
                timings[summary].append(engine.search(q, summary=summary).took_ms)
    without, with_brief = statistics.median(timings[False]), statistics.median(timings[True])
    print(f"{len(questions)} questions x {args.repeat}: median {without:.1f} ms without the brief, "
          f"{with_brief:.1f} ms with it (+{with_brief - without:.1f} ms)")
    # The brief alone, on the same retrievals: wall time, and CPU time (steadier on a shared machine).
    retriever = Retriever(engine.index, engine.embedder)
    retrievals = [retriever.retrieve(q) for q in questions]
    options = brief_options(settings)
    wall, cpu = [], []
    for _ in range(args.repeat):
        for retrieval in retrievals:
            w, c = time.perf_counter(), time.process_time()
            summarize(engine.index, retrieval, options)
            wall.append((time.perf_counter() - w) * 1000)
            cpu.append((time.process_time() - c) * 1000)
    print(f"the brief alone: median {statistics.median(wall):.1f} ms wall, {statistics.median(cpu):.1f} ms CPU")
    for label, qs in (("answerable", questions), ("unanswerable", UNANSWERABLE)):
        best = sorted(_best_cosine(engine, q) for q in qs)
        print(f"best sentence cosine, {label}: min {best[0]:.3f}  median {statistics.median(best):.3f}  "
              f"max {best[-1]:.3f}")


def _best_cosine(engine: Engine, question: str) -> float:
    """The highest question-sentence cosine among the brief's candidates."""
    retrieval = Retriever(engine.index, engine.embedder).retrieve(question)
    top = [r.chunk_id for r in retrieval.chunks[: engine.settings.brief_candidates]]
    ids = [i for c in engine.index.chunks(top).values() for i in range(c.first_sentence, c.last_sentence + 1)]
    return float((engine.index.vectors_of(ids) @ retrieval.query_vector).max()) if ids else -1.0


if __name__ == "__main__":
    main()
