"""`eval retrieval` over an index kept by benchmarks/sweep_retrieval.py, so a split can be re-scored
without rebuilding: same metrics, same code path (Retriever.rank), default parameters.

    python benchmarks/beir_kept_index.py DATA/scifact HOMES/scifact-index --split test [--modes hybrid]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from semsearch.embedding import MODEL_NAME, get_embedder
from semsearch.evaluation.retrieval import load_beir, run_mode
from semsearch.index import Index
from semsearch.retrieval import Retriever


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("beir", type=Path)
    parser.add_argument("index", type=Path)
    parser.add_argument("--split", default="test")
    parser.add_argument("--modes", default="dense,lexical,hybrid")
    args = parser.parse_args()
    data = load_beir(args.beir, args.split)
    doc_ids = json.loads((args.index / "docids.json").read_text())
    retriever = Retriever(Index(args.index, MODEL_NAME), get_embedder())
    print(f"{args.beir.name} ({args.split}), kept index {args.index}")
    print(f"{'mode':8} {'queries':>7} {'nDCG@10':>8} {'R@100':>7} {'MRR@10':>7} {'seconds':>8}")
    for mode in args.modes.split(","):
        r = run_mode(retriever, data, doc_ids, mode)
        print(
            f"{r.mode:8} {r.queries:7d} {r.ndcg_at_10:8.4f} {r.recall_at_100:7.4f} {r.mrr_at_10:7.4f} {r.seconds:8.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
