"""Calibrate SEMSEARCH_LLM_MIN_SUPPORT on the tune half of a labelled file of answer sentences.

The labelled file holds hand-written answer sentences with the evidence they cite and whether it
supports them (tests/fixtures/answer_check.jsonl; format in semsearch/evaluation/answer.py). Only the tune
half is read here; `semsearch eval answer --labelled FILE` reports the held-out half. Thresholds whose
balanced accuracy is within half a supported sentence of the best are equally good on this half; the
printed choice is the strictest of them, since the writer's targets ask more of dropping unsupported
sentences than of keeping supported ones.

    python benchmarks/calibrate_answer_check.py tests/fixtures/answer_check.jsonl
    python benchmarks/calibrate_answer_check.py tests/fixtures/answer_check.jsonl --synonyms

The support grid runs at the default SEMSEARCH_LLM_SYNONYM_SIMILARITY; with --synonyms the grid is over
the similarity at the default support instead. Both load the packaged model for the synonyms.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from semsearch.answer import SupportCheck
from semsearch.answer.related import synonyms
from semsearch.config import Settings
from semsearch.evaluation.answer import judge_labelled, load_labelled

SUPPORT_GRID = np.round(np.arange(0.40, 0.96, 0.05), 2)
SIMILARITY_GRID = np.round(np.arange(0.40, 1.01, 0.05), 2)
SUPPORT = Settings.model_fields["llm_min_support"].default
SIMILARITY = Settings.model_fields["llm_synonym_similarity"].default


def rates(items: list, check: SupportCheck) -> tuple[float, float]:
    """(supported kept, unsupported dropped) by one check."""
    judged = judge_labelled(check, items)
    kept = np.mean([j.kept for j in judged if j.item.supported])
    dropped = np.mean([not j.kept for j in judged if not j.item.supported])
    return float(kept), float(dropped)


def main() -> None:
    """Print the tune half's grid and the chosen threshold."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("labelled", type=Path, help="labelled JSON-lines file")
    parser.add_argument("--synonyms", action="store_true", help="grid the synonym similarity, not the support")
    args = parser.parse_args()
    items = [i for i in load_labelled(args.labelled) if i.half == "tune"]
    print(f"tune half: {sum(i.supported for i in items)} supported, {sum(not i.supported for i in items)} unsupported")
    name = "SEMSEARCH_LLM_SYNONYM_SIMILARITY" if args.synonyms else "SEMSEARCH_LLM_MIN_SUPPORT"
    thresholds = [float(t) for t in (SIMILARITY_GRID if args.synonyms else SUPPORT_GRID)]
    checks = [
        SupportCheck(SUPPORT, synonyms(t)) if args.synonyms else SupportCheck(t, synonyms(SIMILARITY))
        for t in thresholds
    ]
    grid = [(t, *rates(items, check)) for t, check in zip(thresholds, checks, strict=True)]
    for t, kept, dropped in grid:
        print(f"{name} {t:.2f}: supported kept {100 * kept:5.1f}%  unsupported dropped {100 * dropped:5.1f}%")
    balanced = [(kept + dropped) / 2 for _, kept, dropped in grid]
    # One supported sentence moves balanced accuracy by 1 / (2 * supported); half of that is noise here.
    margin = 1 / (4 * sum(i.supported for i in items))
    tied = [t for (t, _, _), b in zip(grid, balanced, strict=True) if b >= max(balanced) - margin]
    print(
        f"best balanced accuracy {max(balanced):.4f}; within half a supported sentence of it: "
        f"{', '.join(f'{t:.2f}' for t in tied)}; chosen (the strictest) {name} {max(tied):.2f}"
    )


if __name__ == "__main__":
    main()
