"""Choose the fusion parameters on a BEIR split (use train, report on test): the evidence of every query is
gathered once over a kept index, then every fusion setting is scored from it.

    SEMSEARCH_CACHE_DIR=CACHE python benchmarks/sweep_retrieval.py DATA/scifact HOMES/scifact-index --split train
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from semsearch.config import get_settings
from semsearch.embedding import MODEL_NAME, get_embedder
from semsearch.evaluation.retrieval import build_beir_index, load_beir, ndcg_at
from semsearch.index import Index, current_version
from semsearch.retrieval import Filters, Params, Retriever


def main() -> None:
    """Print nDCG@10 for each fusion setting, best last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("beir", type=Path)
    parser.add_argument("index", type=Path, help="kept index home (built on first use)")
    parser.add_argument("--split", default="train")
    args = parser.parse_args()
    data = load_beir(args.beir, args.split)
    mapping = args.index / "docids.json"
    if current_version(args.index) is None or not mapping.exists():
        settings = get_settings().model_copy(update={"index_dir": args.index})
        mapping.parent.mkdir(parents=True, exist_ok=True)
        mapping.write_text(json.dumps(build_beir_index(data, settings, progress=True)))
    doc_ids = json.loads(mapping.read_text())
    index = Index(args.index, MODEL_NAME)
    embedder = get_embedder()
    results = []
    retriever = Retriever(index, embedder, Params(depth=100))
    gathered = []
    for qid, text in data.queries.items():
        vector = embedder.encode_query(text)
        gathered.append((qid, retriever.evidence(text, vector, "hybrid", Filters(), 100)))
    grid = [
        ("weighted", lex, ch, 1.0 - lex - ch)
        for lex, ch in itertools.product(np.arange(0.0, 1.01, 0.1), np.arange(0.0, 1.01, 0.1))
        if lex + ch <= 1.0001
    ]
    grid += [("rrf", 1.0, 1.0, 1.0), ("rrf", 1.0, 1.0, 0.0)]
    for fusion, lex, ch, sent in grid:
        scorer = Retriever(
            index, embedder, replace(retriever.params, fusion=fusion, lexical=lex, chunk=ch, sentence=max(sent, 0.0))
        )
        total = 0.0
        for qid, evidence in gathered:
            scores = scorer.score(evidence, "hybrid")
            ranking = [
                d for i in np.argsort(-scores, kind="stable")[:10] for d in doc_ids.get(evidence.article_ids[i], [])
            ]
            total += ndcg_at(ranking, data.qrels[qid])
        results.append((total / len(gathered), fusion, round(lex, 2), round(ch, 2), round(max(sent, 0.0), 2)))
    for row in sorted(results)[-15:]:
        print("nDCG@10 {:.4f}  {}  lexical {:.1f} chunk {:.1f} sentence {:.1f}".format(*row))


if __name__ == "__main__":
    main()
