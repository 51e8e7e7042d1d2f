"""Recall@10 and latency of the FAISS IVF index semsearch builds, against exact search, on an index's own vectors.

The IVF is built by the product's own code (`FaissStore.create` → `add` → `publish`) from the chunk
vectors of an existing index home, so the numbers are those a build of that size would serve::

    python benchmarks/ivf_recall.py HOMES/1m --out HOMES/ivf-1m --queries DATA/scifact/queries.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import faiss
import numpy as np

from semsearch.embedding import MODEL_NAME, get_embedder
from semsearch.index import Index
from semsearch.index.vectors import FaissStore, VectorConfig


def main() -> None:
    """Build the IVF, then compare it with exact search for several nprobe values."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path, help="an index home whose chunk vectors to use")
    parser.add_argument("--out", type=Path, required=True, help="scratch folder for the IVF file")
    parser.add_argument("--queries", type=Path, required=True, help="a BEIR queries.jsonl (SciFact's)")
    parser.add_argument("--n-queries", type=int, default=100)
    args = parser.parse_args()

    source = Index(args.index, MODEL_NAME)
    n = source.vectors.count()
    vectors = source.chunk_vectors(np.arange(n))
    questions = [json.loads(line)["text"] for line in args.queries.open()][: args.n_queries]
    queries = get_embedder().encode(questions)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, 10)

    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    started = time.perf_counter()
    store = FaissStore.create(args.out, vectors.shape[1], VectorConfig(ann_threshold=1, ann_index="ivf"))
    store.add(np.arange(n), vectors, [])
    entry = store.publish()
    build_s = time.perf_counter() - started
    print(
        f"{args.index}: {n:,} vectors; IVF nlist {entry['nlist']} built in {build_s:.0f} s "
        f"(train + add, {os.cpu_count()} cores); {len(questions)} queries; loadavg {os.getloadavg()[0]:.2f}"
    )
    served = FaissStore.open(args.out, entry, lambda _: np.zeros(0, dtype=np.int64))
    faiss.omp_set_num_threads(1)
    print("\n| nprobe | recall@10 | p50 ms | p99 ms |\n|---|---|---|---|")
    for nprobe in (8, 16, 32, 64, 128):
        served.entry = {**entry, "nprobe": nprobe}
        latencies, recalls = [], []
        for query, expected in zip(queries, truth, strict=True):
            t = time.perf_counter()
            found = served.search(query, 10)
            latencies.append((time.perf_counter() - t) * 1000)
            recalls.append(len({i for i, _ in found} & set(expected.tolist())) / 10)
        print(
            f"| {nprobe} | {np.mean(recalls):.3f} | {np.percentile(latencies, 50):.2f} | "
            f"{np.percentile(latencies, 99):.2f} |"
        )


if __name__ == "__main__":
    main()
