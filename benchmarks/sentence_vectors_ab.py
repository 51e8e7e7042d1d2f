"""Two kept BEIR index homes of the same documents (e.g. separate vs late sentence vectors), scored query by query.

    SEMSEARCH_SENTENCE_VECTORS=separate python benchmarks/beir_index.py DATA/scifact HOMES/sf-a --limit 1000
    SEMSEARCH_SENTENCE_VECTORS=late python benchmarks/beir_index.py DATA/scifact HOMES/sf-b --limit 1000
    python benchmarks/sentence_vectors_ab.py DATA/scifact HOMES/sf-a HOMES/sf-b --split test

Only questions with a judged document in the homes count (a subset home cannot answer the rest).
Prints nDCG@10 of each home per mode, the mean paired difference (B - A) and its 95% bootstrap interval,
so a difference can be told from the noise of which questions were asked.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from semsearch.embedding import MODEL_NAME, get_embedder
from semsearch.evaluation.retrieval import load_beir, ndcg_at
from semsearch.index import Index
from semsearch.retrieval import Retriever

RESAMPLES = 10_000


def per_query(home: Path, queries: dict[str, str], qrels: dict, mode: str) -> np.ndarray:
    """nDCG@10 of every question on one home."""
    doc_ids = json.loads((home / "docids.json").read_text())
    retriever = Retriever(Index(home, MODEL_NAME), get_embedder())
    scores = []
    for qid, text in queries.items():
        ranking = [doc for article_id, _ in retriever.rank(text, 100, mode) for doc in doc_ids.get(article_id, [])]
        scores.append(ndcg_at(ranking, qrels[qid], 10))
    return np.asarray(scores)


def interval(differences: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of the mean of paired differences."""
    rows = np.random.default_rng(seed).integers(0, len(differences), (RESAMPLES, len(differences)))
    means = differences[rows].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("beir", type=Path)
    parser.add_argument("a", type=Path, help="index home A (beir_index.py)")
    parser.add_argument("b", type=Path, help="index home B, same documents")
    parser.add_argument("--split", default="test")
    parser.add_argument("--modes", default="dense,hybrid")
    args = parser.parse_args()
    data = load_beir(args.beir, args.split)
    held = {doc for ids in json.loads((args.a / "docids.json").read_text()).values() for doc in ids}
    queries = {q: t for q, t in data.queries.items() if held & set(data.qrels[q])}
    print(
        f"{args.beir.name} ({args.split}): {len(queries)} of {len(data.queries)} questions have a judged "
        f"document among the {len(held)} held"
    )
    print("| mode | A nDCG@10 | B nDCG@10 | B - A | 95% interval |")
    print("|---|---|---|---|---|")
    for mode in args.modes.split(","):
        a = per_query(args.a, queries, data.qrels, mode)
        b = per_query(args.b, queries, data.qrels, mode)
        low, high = interval(b - a)
        print(
            f"| {mode} | {a.mean():.4f} | {b.mean():.4f} | {(b - a).mean():+.4f} | {low:+.4f} to {high:+.4f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
