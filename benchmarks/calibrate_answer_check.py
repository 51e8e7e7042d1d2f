"""Calibrate SEMSEARCH_LLM_MIN_SUPPORT on the tune half of a labelled file of answer sentences.

The labelled file holds hand-written answer sentences with the evidence they cite and whether it
supports them (tests/fixtures/answer_check.jsonl; format in semsearch/evaluation/answer.py). Only the tune
half is read here; `semsearch eval answer --labelled FILE` reports the held-out half. The choice follows
the writer's targets: of the thresholds that keep at least KEEP_TARGET of the supported sentences, the
one that drops the most unsupported ones (the stricter on a tie); with none, the one that keeps most.

    python benchmarks/calibrate_answer_check.py tests/fixtures/answer_check.jsonl --rounds 1-8
    python benchmarks/calibrate_answer_check.py tests/fixtures/answer_check.jsonl --rounds 1-8 --synonyms

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
KEEP_TARGET = 0.90  # the share of honest sentences the writer must keep


def rates(items: list, check: SupportCheck) -> tuple[float, float]:
    """(supported kept, unsupported dropped) by one check."""
    judged = judge_labelled(check, items)
    kept = np.mean([j.kept for j in judged if j.item.supported])
    dropped = np.mean([not j.kept for j in judged if not j.item.supported])
    return float(kept), float(dropped)


def rounds(text: str) -> range:
    """A range of rounds written FIRST-LAST, or one round."""
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def main() -> None:
    """Print the tune half's grid and the chosen threshold."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("labelled", type=Path, help="labelled JSON-lines file")
    parser.add_argument("--synonyms", action="store_true", help="grid the synonym similarity, not the support")
    parser.add_argument("--rounds", type=rounds, help="only these rounds, as FIRST-LAST (default: all)")
    args = parser.parse_args()
    wanted = args.rounds or range(1, 1 << 30)
    items = [i for i in load_labelled(args.labelled) if i.half == "tune" and i.round in wanted]
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
    enough = [(dropped, t) for t, kept, dropped in grid if kept >= KEEP_TARGET]
    chosen = max(enough)[1] if enough else max(grid, key=lambda row: row[1])[0]
    print(f"keeping at least {KEEP_TARGET:.0%}: {len(enough)} of {len(grid)}; chosen {name} {chosen:.2f}")


if __name__ == "__main__":
    main()
