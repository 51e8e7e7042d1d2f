"""Int8 against fp32 query weights: SciFact nDCG@10 of dense search and the time of one query pass.

    SEMSEARCH_CACHE_DIR=CACHE python benchmarks/query_precision.py DATA/scifact

The document vectors go to the embedding cache in SEMSEARCH_CACHE_DIR (or --cache DIR); one of the two is required.

Every document is embedded once (title and text, the model's 256 tokens) by the fp32 bulk pass, as a
build stores them; only the questions change precision, so the difference is what the setting
SEMSEARCH_QUERY_PRECISION changes in a served index. Both splits' questions are scored by exact inner
product over the whole corpus.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from semsearch.config import get_settings
from semsearch.embedding import Embedder
from semsearch.embedding_cache import EmbeddingCache
from semsearch.evaluation.retrieval import load_beir, ndcg_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("beir", type=Path)
    parser.add_argument("--splits", default="test,train")
    parser.add_argument("--timed", type=int, default=200, help="questions timed per precision")
    parser.add_argument(
        "--cache", type=Path, default=None, help="embedding cache folder (default: SEMSEARCH_CACHE_DIR)"
    )
    args = parser.parse_args()
    settings = get_settings()
    cache_dir = args.cache or settings.cache_dir
    if cache_dir is None:
        parser.error("set SEMSEARCH_CACHE_DIR or pass --cache DIR")
    embedders = {p: Embedder("onnx", query_precision=p) for p in ("fp32", "int8")}
    first = load_beir(args.beir, "test")
    doc_ids = list(first.corpus)
    cache = EmbeddingCache(Path(cache_dir) / "embeddings.sqlite")
    texts = [f"{title}\n{text}" for title, text in first.corpus.values()]
    started = time.perf_counter()
    docs, fresh = cache.embed(embedders["fp32"], texts, settings.embed_batch_size, progress=True)
    print(f"{len(texts)} documents, {fresh} embedded now, in {time.perf_counter() - started:.0f} s")
    print(
        f"{'split':6} {'questions':>9} {'fp32 nDCG@10':>12} {'int8 nDCG@10':>12} {'difference':>10} "
        f"{'query cosine min / mean':>24}"
    )
    questions: list[str] = []
    for split in args.splits.split(","):
        data = load_beir(args.beir, split)
        vectors = {p: np.stack([e.encode_query(q) for q in data.queries.values()]) for p, e in embedders.items()}
        ndcg = {}
        for precision, queries in vectors.items():
            top = np.argsort(-(queries @ docs.T), axis=1)[:, :10]
            ndcg[precision] = float(
                np.mean(
                    [
                        ndcg_at([doc_ids[i] for i in row], data.qrels[qid], 10)
                        for row, qid in zip(top, data.queries, strict=True)
                    ]
                )
            )
        cosine = (vectors["fp32"] * vectors["int8"]).sum(axis=1)
        print(
            f"{split:6} {len(data.queries):9d} {ndcg['fp32']:12.4f} {ndcg['int8']:12.4f} "
            f"{ndcg['int8'] - ndcg['fp32']:+10.4f} {cosine.min():11.4f} / {cosine.mean():.4f}"
        )
        questions += list(data.queries.values())
    print(f"\none query pass, {args.timed} questions each, alternating (ms)")
    timings: dict[str, list[float]] = {p: [] for p in embedders}
    for question in questions[: args.timed]:
        for precision, embedder in embedders.items():
            t = time.perf_counter()
            embedder.encode_query(question)
            timings[precision].append((time.perf_counter() - t) * 1000)
    for precision, ms in timings.items():
        print(f"{precision}: p50 {np.median(ms):.2f}  p95 {np.percentile(ms, 95):.2f}")
    cache.close()


if __name__ == "__main__":
    main()
