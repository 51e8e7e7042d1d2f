"""Recall@10 of an index home's served FAISS index against exact inner-product search, with per-query latency.

Usage: python benchmarks/hnsw_recall.py --index HOMES/1m --scifact DATA/scifact [--ef 16,32,64,128,256] [--queries 300]
       [--threads 1]

Queries are real: the SciFact test questions embedded with the project's model (SEMSEARCH_EMBED_BACKEND).
Ground truth is an exact IndexFlatIP over the same vectors, reconstructed from the served file.
Each efSearch is timed one query at a time (as the server asks), k=10; the "as served" row asks for
k=100 with efSearch = max(100, manifest efSearch) as `FaissStore.search` does, and scores its first 10.
Exact search is also timed one query at a time with 1 and 2 FAISS threads, for the threshold choice.
On a home made by scale_index.py, "source recall@10" also counts a replica as its real source chunk
(chunk id modulo the source's chunk count): its ~70 near-identical copies at 1M make exact top-10 ids
a near-tie that plain recall punishes even when the right passages are found.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import faiss
import numpy as np

from semsearch.embedding import get_embedder
from semsearch.index import Manifest, served_manifest, version_dir

DEPTH = 100  # Params.depth: the dense leg's candidate count


def query_texts(scifact: Path) -> list[str]:
    """The judged SciFact test questions."""
    judged = {line.split("\t")[0] for line in (scifact / "qrels" / "test.tsv").read_text().splitlines()[1:]}
    rows = [json.loads(line) for line in (scifact / "queries.jsonl").read_text().splitlines() if line.strip()]
    return [r["text"] for r in rows if str(r["_id"]) in judged]


def timed_search(index: faiss.Index, queries: np.ndarray, k: int, params: faiss.SearchParameters | None):
    """Ids of one-at-a-time searches and the per-query latencies in ms."""
    ids, ms = [], []
    for q in queries:
        started = time.perf_counter()
        _, found = index.search(q.reshape(1, -1), k, params=params)
        ms.append((time.perf_counter() - started) * 1000)
        ids.append(found[0])
    return np.stack(ids), ms


def recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Mean share of the exact top-k that the approximate top-k holds."""
    return float(np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth, strict=True)]))


def source_recall(found: np.ndarray, truth: np.ndarray, period: int) -> float:
    """Mean share of the exact top-10's distinct source chunks that the approximate top-10 holds."""
    shares = []
    for f, t in zip(found, truth, strict=True):
        wanted = {int(i) % period for i in t[:10]}
        shares.append(len(wanted & {int(i) % period for i in f[:10]}) / len(wanted))
    return float(np.mean(shares))


def source_chunks(manifest: Manifest) -> int | None:
    """Chunk count of the real index a synthetic home replicates (ids repeat with this period), else None."""
    if "synthetic" not in manifest.notes:
        return None
    source = served_manifest(Path(manifest.notes["synthetic"]["source"]))
    return source.counts.chunks if source else None


def p(ms: list[float], q: float) -> float:
    """A percentile of latencies."""
    return float(np.percentile(ms, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--scifact", type=Path, required=True, help="the SciFact BEIR folder (its test questions)")
    parser.add_argument("--ef", default="16,32,64,128,256")
    parser.add_argument("--queries", type=int, default=300, help="how many of the SciFact test questions")
    parser.add_argument("--threads", type=int, default=1, help="FAISS OpenMP threads for the timed searches")
    args = parser.parse_args()
    manifest = served_manifest(args.index)
    if manifest is None:
        parser.error(f"no readable index at {args.index}")
    version = version_dir(args.index, manifest.version)
    entry = manifest.vectors
    index = faiss.read_index(str(version / "chunks.faiss"))
    texts = query_texts(args.scifact)[: args.queries]
    queries = get_embedder().encode(texts, batch_size=32)
    vectors = index.reconstruct_n(0, index.ntotal)
    exact = faiss.IndexFlatIP(index.d)
    exact.add(vectors)
    del vectors
    _, truth = exact.search(queries, DEPTH)
    params = {k: v for k, v in entry.items() if k in ("M", "efConstruction", "efSearch")}
    print(
        f"{args.index}: {index.ntotal:,} vectors, served {entry['type']} {params}; "
        f"{len(texts)} SciFact test queries; loadavg {os.getloadavg()}"
    )
    period = source_chunks(manifest)
    print(
        f"\n{'search':30} {'threads':>7} {'recall@10':>9} {'recall@100':>10} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'source recall@10':>16}"
    )
    for threads in (1, 2):
        faiss.omp_set_num_threads(threads)
        _, ms = timed_search(exact, queries, DEPTH, None)
        print(
            f"{'exact IndexFlatIP, k=100':30} {threads:7d} {1.0:9.3f} {1.0:10.3f} {p(ms, 50):7.2f} {p(ms, 95):7.2f} "
            f"{p(ms, 99):7.2f}",
            flush=True,
        )
    if entry["type"] != "IndexHNSWFlat":
        return
    faiss.omp_set_num_threads(args.threads)
    for ef in (int(x) for x in args.ef.split(",")):
        found, ms = timed_search(index, queries, 10, faiss.SearchParametersHNSW(efSearch=ef))
        by_source = f"{source_recall(found, truth, period):16.3f}" if period else ""
        print(
            f"{f'HNSW efSearch={ef}, k=10':30} {args.threads:7d} {recall(found, truth, 10):9.3f} {'':>10} "
            f"{p(ms, 50):7.2f} {p(ms, 95):7.2f} {p(ms, 99):7.2f} {by_source}",
            flush=True,
        )
    ef = max(DEPTH, entry["efSearch"])
    found, ms = timed_search(index, queries, DEPTH, faiss.SearchParametersHNSW(efSearch=ef))
    by_source = f"{source_recall(found, truth, period):16.3f}" if period else ""
    print(
        f"{f'as served: k=100, efSearch={ef}':30} {args.threads:7d} {recall(found, truth, 10):9.3f} "
        f"{recall(found, truth, DEPTH):10.3f} {p(ms, 50):7.2f} {p(ms, 95):7.2f} {p(ms, 99):7.2f} {by_source}"
    )
    print(f"loadavg at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
