"""What the brief adds to a query (median and p95 ms), and where the abstain threshold sits, on an index.

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
from semsearch.contract import SearchRequest
from semsearch.retrieval import Retriever
from semsearch.service import SearchService

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
    """Print what the brief adds per query (median, p95 ms; first pass, later passes) and the best cosines."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings = get_settings()
    if args.index:
        settings = settings.model_copy(update={"index_dir": args.index})
    service = SearchService(settings)
    questions = [
        q["question"] for q in json.loads((Path(__file__).parent / "sample_questions.json").read_text("utf-8"))
    ]
    # Load the model and open the index outside the timing, without asking for any brief yet.
    service.search(SearchRequest(q=questions[0], summary=False))
    took: dict[bool, list[float]] = {False: [], True: []}
    added: list[list[float]] = []  # the service's own timing of the brief stage, one list per pass
    for _ in range(args.repeat):
        added.append([])
        for q in questions:
            for summary in (False, True):
                response = service.search(SearchRequest(q=q, summary=summary, debug=True))
                took[summary].append(response.took_ms)
                if summary:
                    added[-1].append(response.timings["brief"])
    warm = [ms for run in added[1:] for ms in run]
    print(
        f"{len(questions)} questions x {args.repeat}: the brief adds median {_ms(added[0])} on the first pass "
        f"(each question's first time in this process), median {_ms(warm)} afterwards"
    )
    without, with_brief = statistics.median(took[False]), statistics.median(took[True])
    print(
        f"whole query: median {without:.1f} ms without the brief, {with_brief:.1f} ms with it "
        f"(difference of medians {with_brief - without:+.1f} ms)"
    )
    # The brief alone, on the same retrievals: wall time, and CPU time (steadier on a shared machine).
    retriever = Retriever(service.index, service.embedder)
    retrievals = [retriever.retrieve(q) for q in questions]
    options = brief_options(settings)
    wall, cpu = [], []
    for _ in range(args.repeat):
        for retrieval in retrievals:
            w, c = time.perf_counter(), time.process_time()
            summarize(service.index, retrieval, options)
            wall.append((time.perf_counter() - w) * 1000)
            cpu.append((time.process_time() - c) * 1000)
    print(f"the brief alone: median {statistics.median(wall):.1f} ms wall, {statistics.median(cpu):.1f} ms CPU")
    for label, qs in (("answerable", questions), ("unanswerable", UNANSWERABLE)):
        best = sorted(_best_cosine(service, q) for q in qs)
        print(
            f"best sentence cosine, {label}: min {best[0]:.3f}  median {statistics.median(best):.3f}  "
            f"max {best[-1]:.3f}"
        )


def _ms(values: list[float]) -> str:
    """Median and 95th percentile of milliseconds."""
    if not values:
        return "n/a"
    p95 = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
    return f"{statistics.median(values):.1f} ms (p95 {p95:.1f} ms)"


def _best_cosine(service: SearchService, question: str) -> float:
    """The highest question-sentence cosine among the brief's candidates."""
    retrieval = Retriever(service.index, service.embedder).retrieve(question)
    top = retrieval.chunks[: service.settings.brief_candidates].tolist()
    ids = [i for c in service.index.chunks(top).values() for i in range(c.first_sentence, c.last_sentence + 1)]
    return float((service.index.vectors_of(ids) @ retrieval.query_vector).max()) if ids else -1.0


if __name__ == "__main__":
    main()
