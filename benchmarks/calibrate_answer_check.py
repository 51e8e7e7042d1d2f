"""Calibrate the writer's check (SEMSEARCH_LLM_MIN_SUPPORT and the synonym cosine) on a labelled file's tune half.

The labelled file holds hand-written answer sentences with the evidence they cite and whether it
supports them (tests/fixtures/answer_check.jsonl; format in semsearch/eval_answer.py). Only the tune
half is read here; `semsearch eval answer --labelled FILE` reports the held-out half. For every synonym
cosine on the grid, the support thresholds with the best balanced accuracy form a range; the printed
choice is the synonym cosine whose range is widest, and the middle of that range, so that neither a
slightly looser paraphrase nor a slightly bolder claim tips the verdict (ties: the strictest synonym cosine).

    python benchmarks/calibrate_answer_check.py tests/fixtures/answer_check.jsonl
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from semsearch.embedding import get_embedder  # noqa: E402
from semsearch.eval_answer import judge_labelled, load_labelled  # noqa: E402
from semsearch.writer import SupportCheck  # noqa: E402

SUPPORT_GRID = np.round(np.arange(0.40, 0.96, 0.05), 2)
SYNONYM_GRID = [0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 1.01]  # 1.01: no synonyms at all


def scores(check: SupportCheck, items: list) -> list[tuple[float, float, float]]:
    """(support threshold, supported kept, unsupported dropped) over the grid, for one synonym cosine."""
    out = []
    for threshold in SUPPORT_GRID:
        check.min_support = float(threshold)
        judged = judge_labelled(check, items)
        good = [j.kept for j in judged if j.item.supported]
        bad = [not j.kept for j in judged if not j.item.supported]
        out.append((float(threshold), float(np.mean(good)), float(np.mean(bad))))
    return out


def main() -> None:
    """Print the tune half's grid and the chosen setting."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("labelled", type=Path, help="labelled JSON-lines file")
    args = parser.parse_args()
    items = [i for i in load_labelled(args.labelled) if i.half == "tune"]
    print(f"tune half: {sum(i.supported for i in items)} supported, {sum(not i.supported for i in items)} unsupported")
    embedder = get_embedder()
    best: tuple[float, int, float, float] = (-1.0, 0, 0.0, 0.0)
    for cosine in SYNONYM_GRID:
        rows = scores(SupportCheck(embedder, 0.0, cosine), items)
        balanced = [(kept + dropped) / 2 for _, kept, dropped in rows]
        top = max(balanced)
        tied = [t for (t, _, _), b in zip(rows, balanced) if b == top]
        print(f"synonym cosine {cosine:.2f}: best balanced accuracy {top:.3f} for support {tied[0]:.2f}-{tied[-1]:.2f}")
        for t, kept, dropped in rows:
            print(f"    support {t:.2f}: supported kept {100 * kept:5.1f}%  unsupported dropped {100 * dropped:5.1f}%")
        middle = float(np.round(np.median(tied) / 0.05) * 0.05)
        best = max(best, (top, len(tied), cosine, middle))
    top, _, cosine, middle = best
    print(f"chosen: synonym cosine {cosine:.2f}, SEMSEARCH_LLM_MIN_SUPPORT {middle:.2f} "
          f"(balanced accuracy {top:.3f} on the tune half)")


if __name__ == "__main__":
    main()
