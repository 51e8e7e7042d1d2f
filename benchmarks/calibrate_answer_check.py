"""Calibrate SEMSEARCH_LLM_MIN_SIMILARITY on scripted supported / unsupported answer sentences.

For every sample question the brief is built from the sample index; its sentences are the evidence.
Supported pairs: each evidence sentence lightly reworded (tests/scripted_llm.py `reword`) citing itself,
the same cut at its first comma (when six words or more remain), and two neighbouring ones joined into
one sentence citing both. Unsupported pairs: each reworded
sentence citing another evidence sentence of the same brief (same topic, other claim: the hard case),
and an off-topic invented claim citing each one. The printed threshold maximises balanced accuracy;
ties go to the lowest such value, so looser paraphrases by a real model are not dropped.

    python benchmarks/calibrate_answer_check.py [--index index]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from semsearch.brief import BriefOptions, summarize  # noqa: E402
from semsearch.config import Settings  # noqa: E402
from semsearch.service import SearchService  # noqa: E402
from semsearch.retrieval import Retriever  # noqa: E402
from semsearch.answer import Checker  # noqa: E402
from tests.scripted_llm import INVENTED_CLAIM, reword  # noqa: E402


def shorten(text: str) -> str:
    """A sentence cut at its first comma, as a model compressing it might ("..., officials said" gone)."""
    return text.split(",")[0]


def pairs(checker: Checker) -> tuple[list[float], list[float]]:
    """Similarities of the supported and of the unsupported scripted pairs over one brief."""
    evidence = [s.text for s in checker.brief.sentences]
    n = len(evidence)
    good = [(reword(e), [i + 1]) for i, e in enumerate(evidence)]
    good += [(f"{reword(evidence[i])}; {reword(evidence[i + 1])}", [i + 1, i + 2]) for i in range(n - 1)]
    good += [(short, [i + 1]) for i, e in enumerate(evidence) if len((short := shorten(reword(e))).split()) >= 6]
    bad = [(reword(evidence[i]), [j + 1]) for i in range(n) for j in range(n) if i != j]
    bad += [(INVENTED_CLAIM, [i + 1]) for i in range(n)]
    vectors = checker.embedder.encode([t for t, _ in good + bad])
    sims = [checker.similarity(v, nums) for v, (_, nums) in zip(vectors, good + bad)]
    return sims[: len(good)], sims[len(good):]


def main() -> None:
    """Print the similarity distributions and the calibrated threshold."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    args = parser.parse_args()
    service = SearchService(Settings(index_dir=args.index))
    questions = [q["question"] for q in json.loads((ROOT / "benchmarks/sample_questions.json").read_text())]
    good: list[float] = []
    bad: list[float] = []
    for question in questions:
        retrieval = Retriever(service.index, service.embedder).retrieve(question, k=10)
        brief = summarize(service.index, retrieval, BriefOptions())
        if len(brief.sentences) < 2:
            continue
        g, b = pairs(Checker(brief, service.index, service.embedder, 0.0))
        good += g
        bad += b
    good_a, bad_a = np.array(good), np.array(bad)
    grid = np.round(np.arange(0.30, 0.96, 0.01), 2)
    accuracy = [((good_a >= t).mean() + (bad_a < t).mean()) / 2 for t in grid]
    best = grid[int(np.argmax(accuracy))]
    print(f"supported pairs:   {len(good)}  min {good_a.min():.3f}  p5 {np.percentile(good_a, 5):.3f}  "
          f"median {np.median(good_a):.3f}")
    print(f"unsupported pairs: {len(bad)}  median {np.median(bad_a):.3f}  p95 {np.percentile(bad_a, 95):.3f}  "
          f"max {bad_a.max():.3f}")
    for t in (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, float(best)):
        print(f"threshold {t:.2f}: keeps {100 * (good_a >= t).mean():5.1f}% of supported, "
              f"drops {100 * (bad_a < t).mean():5.1f}% of unsupported")
    print(f"best balanced accuracy {max(accuracy):.3f} at threshold {best:.2f}")


if __name__ == "__main__":
    main()
