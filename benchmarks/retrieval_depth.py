"""How deep each retrieval leg looks, against quality and query time: fewer candidates, less work per query.

    python benchmarks/retrieval_depth.py DATA/scifact HOMES/scifact --depths 100,50,30
    python benchmarks/retrieval_depth.py DATA/scifact HOMES/scifact --depths 100,50 --timing HOMES/1m --questions 200

Quality: nDCG@10 and MRR@10 of the page the API returns (k=10) over a kept index of the whole SciFact
corpus (`benchmarks/beir_index.py DATA/scifact HOMES/scifact`), train and test. Timing (optional): retrieval,
brief and its annotations in-process on another home, the depths interleaved per question (the order turned
each time), with how many questions got the same articles and brief at every depth.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from semsearch.brief import brief_options, summarize
from semsearch.config import get_settings
from semsearch.discrepancies import annotate
from semsearch.embedding import MODEL_NAME, get_embedder
from semsearch.evaluation.retrieval import load_beir, mrr_at, ndcg_at
from semsearch.index import Index
from semsearch.retrieval import Params, Retriever

WARMUP = 20


def quality(data_dir: Path, home: Path, depths: list[int]) -> None:
    """nDCG@10 and MRR@10 of the k=10 page per depth, train and test split."""
    doc_ids = json.loads((home / "docids.json").read_text())
    index, embedder = Index(home, MODEL_NAME), get_embedder()
    for split in ("train", "test"):
        data = load_beir(data_dir, split)
        vectors = {q: embedder.encode_query(text) for q, text in data.queries.items()}
        for depth in depths:
            retriever = Retriever(index, embedder, Params(depth=depth))
            ndcg = mrr = 0.0
            for qid, text in data.queries.items():
                hits = retriever.retrieve(text, k=10, vector=vectors[qid]).hits
                ranking = [doc for hit in hits for doc in doc_ids.get(hit.article_id, [])]
                ndcg += ndcg_at(ranking, data.qrels[qid], 10)
                mrr += mrr_at(ranking, data.qrels[qid], 10)
            n = len(data.queries)
            print(f"{split:5} depth {depth:4d}: nDCG@10 {ndcg / n:.4f}  MRR@10 {mrr / n:.4f}  ({n} questions)")


def timing(data_dir: Path, home: Path, depths: list[int], questions: int) -> None:
    """Median and p90 in-process query time per depth, interleaved, after a warm-up."""
    texts = list(load_beir(data_dir, "test").queries.values())[: questions + WARMUP]
    index, embedder = Index(home, MODEL_NAME), get_embedder()
    options = brief_options(get_settings(), None, None)
    vectors = {text: embedder.encode_query(text) for text in texts}
    took: dict[int, list[float]] = {d: [] for d in depths}
    same = 0
    for n, text in enumerate(texts):
        answers = set()
        for depth in depths if n % 2 else depths[::-1]:
            started = time.perf_counter()
            retrieval = Retriever(index, embedder, Params(depth=depth)).retrieve(text, k=10, vector=vectors[text])
            brief = summarize(index, retrieval, options)
            annotate(index, brief)
            if n >= WARMUP:
                took[depth].append(time.perf_counter() - started)
            answers.add(repr(([h.article_id for h in retrieval.hits], [s.text for s in brief.sentences])))
        same += len(answers) == 1
    for depth in depths:
        ms = np.array(took[depth]) * 1000
        print(f"depth {depth:4d}: p50 {np.median(ms):.2f} ms  p90 {np.percentile(ms, 90):.2f} ms")
    print(f"the same articles and brief at every depth: {same} of {len(texts)} questions")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("beir", type=Path, help="the SciFact BEIR folder")
    parser.add_argument("home", type=Path, help="kept index of the whole corpus, with docids.json")
    parser.add_argument("--depths", default="100,50,30")
    parser.add_argument("--timing", type=Path, help="an archive-scale home to time the depths on")
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    depths = [int(d) for d in args.depths.split(",")]
    quality(args.beir, args.home, depths)
    if args.timing:
        timing(args.beir, args.timing, depths, args.questions)


if __name__ == "__main__":
    main()
