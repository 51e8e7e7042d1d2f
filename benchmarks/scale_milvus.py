"""Copy a FAISS-backed index home into a Milvus-backed one through the store's own API, and time it.

The copy has the same articles, sentences, chunks and vectors; only where chunk vectors live
differs, so `benchmarks/scale_query.py` run on both homes compares the two backends on equal terms.

Milvus binds every interface, so run the server and everything that talks to it in one private
network namespace::

    unshare -n sh -c 'ip link set lo up && milvus-server --data HOMES/milvus-data' &
    P=MILVUS_SERVER_PID   # the pid of that milvus-server process
    nsenter -t $P -n python benchmarks/scale_milvus.py --source HOMES/100k --out HOMES/100k-milvus
    nsenter -t $P -n python benchmarks/scale_query.py --index HOMES/100k-milvus --scifact DATA/scifact
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from semsearch.embedding import DIMENSION, MODEL_NAME
from semsearch.index import Index, IndexWriter
from semsearch.index.vectors import VectorConfig


def copy(source: Path, out: Path, uri: str, batch: int) -> dict:
    """Stream every article of the source's served version into a new Milvus-backed version of `out`."""
    index = Index(source, MODEL_NAME)
    ids = index.article_ids()
    spec = index.manifest.vectors
    config = VectorConfig(
        backend="milvus",
        milvus_uri=uri,
        hnsw_m=spec.get("M", 32),
        hnsw_ef_construction=spec.get("efConstruction", 80),
        hnsw_ef_search=spec.get("efSearch", 128),
    )
    started = time.perf_counter()
    with IndexWriter(out, MODEL_NAME, DIMENSION, 1, config) as writer:
        for lo in tqdm(range(0, len(ids), batch), desc="copying", unit="batch"):
            part = ids[lo : lo + batch]
            layouts = index.layouts(part)
            stored = index.stored_articles(part)
            articles = [stored[i][0] for i in part]
            writer.add(
                articles,
                [layouts[i].spans for i in part],
                [layouts[i].chunks for i in part],
                _stack([v for i in part for v in layouts[i].chunk_vectors]),
                _stack([v for i in part for v in layouts[i].sentence_vectors]),
                [stored[i][1] for i in part],
            )
        inserted = time.perf_counter() - started
        writer.finish(
            index.manifest.sources,
            index.manifest.chunk_tokens,
            made=(index.manifest.sentence_method, index.manifest.vector_precision),
            notes={"copied_from": str(source)},
        )
        writer.publish()
    return {
        "chunks": index.manifest.counts.chunks,
        "insert_s": round(inserted, 1),
        "finish_s": round(time.perf_counter() - started - inserted, 1),
    }


def _stack(rows: list) -> np.ndarray:
    """Rows as one float32 matrix."""
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, DIMENSION), dtype=np.float32)


def main() -> None:
    """Parse arguments, copy, print what it cost."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="a FAISS-backed index home")
    parser.add_argument("--out", type=Path, required=True, help="the Milvus-backed index home to create")
    parser.add_argument("--uri", default="http://127.0.0.1:19530")
    parser.add_argument("--batch", type=int, default=2000, help="articles per add()")
    args = parser.parse_args()
    result = copy(args.source, args.out, args.uri, args.batch)
    print(
        f"| chunks | insert rows (s) | finish: SQLite compaction + Milvus flush, HNSW, load (s) |\n|---|---|---|\n"
        f"| {result['chunks']:,} | {result['insert_s']} | {result['finish_s']} |"
    )


if __name__ == "__main__":
    main()
