"""Two index homes of the same articles (e.g. separate vs late sentence vectors): do their sentence vectors make
the same cross-article decisions?

    SEMSEARCH_SENTENCE_VECTORS=separate semsearch eval nuggets ... --work HOMES/nug-a   # or any build
    SEMSEARCH_SENTENCE_VECTORS=late semsearch eval nuggets ... --work HOMES/nug-b
    python benchmarks/sentence_pairs_ab.py HOMES/nug-a HOMES/nug-b

The cutoffs that compare sentences of different articles (the same fact for discrepancies and
corroborations, what a "new since" brief has already seen) were set on home A's kind of vector. For each,
the pairs of sentences from different articles at or above it in A are the reference; the table shows how
well each cutoff on B finds them (precision and recall), so B's equivalent cutoff can be read off.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from semsearch.discrepancies import SAME_FACT_COSINE
from semsearch.embedding import MODEL_NAME
from semsearch.index import Index
from semsearch.novelty import NOVELTY_FLOOR

STEPS = np.arange(-0.1, 0.101, 0.025)


def sentence_vectors(home: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every sentence id of the served version, its article and its stored vector."""
    index = Index(home, MODEL_NAME)
    ids = np.asarray(sorted(index.sentence_ids_of(index.article_ids())))
    return ids, np.asarray(index.sentence_articles(ids)), index.vectors_of(ids)


def cross_article_cosines(home_a: Path, home_b: Path) -> tuple[np.ndarray, np.ndarray]:
    """The cosines of every pair of sentences from different articles, in A and in B (same pairs, same order)."""
    ids_a, articles_a, a = sentence_vectors(home_a)
    ids_b, articles_b, b = sentence_vectors(home_b)
    if not (np.array_equal(ids_a, ids_b) and np.array_equal(articles_a, articles_b)):
        raise SystemExit("the two homes do not hold the same sentences: build both from the same articles")
    upper = np.triu_indices(len(ids_a), 1)
    apart = articles_a[upper[0]] != articles_a[upper[1]]
    return (a @ a.T)[upper][apart], (b @ b.T)[upper][apart]


def agreement(in_a: np.ndarray, in_b: np.ndarray, cutoff: float) -> list[str]:
    """Table rows: each cutoff on B near A's, with the precision and recall of B's pairs against A's."""
    reference = in_a >= cutoff
    rows = []
    for step in STEPS:
        found = in_b >= cutoff + step
        hits = int((found & reference).sum())
        precision = hits / max(1, int(found.sum()))
        recall = hits / max(1, int(reference.sum()))
        rows.append(
            f"| {cutoff:.3f} | {cutoff + step:.3f} | {int(reference.sum()):,} | {precision:.2f} | {recall:.2f} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="index home A: the vectors the cutoffs were set on")
    parser.add_argument("b", type=Path, help="index home B: the same articles, other vectors")
    args = parser.parse_args()
    in_a, in_b = cross_article_cosines(args.a, args.b)
    print(
        f"{len(in_a):,} pairs of sentences from different articles; Pearson r of their cosines "
        f"{np.corrcoef(in_a, in_b)[0, 1]:.3f}"
    )
    print("| cutoff on A | cutoff on B | pairs at or above it on A | precision | recall |")
    print("|---|---|---|---|---|")
    for cutoff in (SAME_FACT_COSINE, NOVELTY_FLOOR):
        print("\n".join(agreement(in_a, in_b, cutoff)))


if __name__ == "__main__":
    main()
