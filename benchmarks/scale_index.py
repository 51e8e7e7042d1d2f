"""Build an archive-scale index (10k, 100k, 1M chunks) from a real embedded index, replicated with perturbed vectors.

Usage: python benchmarks/scale_index.py --source HOMES/scifact1000 --chunks 1000000 --out HOMES/1m
       [--noise 0.015] [--stream-articles 20000]

Replica 0 of every source article is the real article with its real vectors and its own id (so a
kept index's docids.json still maps it); replica r > 0 gets a new id, "(r)" appended to its title (so
lexical statistics are not all ties), the same text and sentence/chunk layout, and every chunk and
sentence vector plus Gaussian noise of the given standard deviation per dimension, re-normalized.
Every article gets an outlet (one of five) and a published date spread over 2015–2024; replicas
0–3, 4–7, … of one source article form one story reported by different outlets a few days apart.
Rows stream in through `semsearch.index.IndexWriter.add` in batches, so memory stays bounded at 1M,
and the result is a normal index home that `semsearch serve` serves; the index type follows
SEMSEARCH_ANN_THRESHOLD / SEMSEARCH_ANN_INDEX / SEMSEARCH_IVF_* / SEMSEARCH_HNSW_* as in a real build.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from semsearch.config import get_settings
from semsearch.embedding import DIMENSION, MODEL_NAME
from semsearch.index import Index, IndexWriter, VectorConfig, version_dir
from semsearch.records import Article, Chunk, Span

OUTLETS = ("Northern Wire", "Harbor Times", "City Ledger", "Valley Post", "Coast Herald")
STORY_SIZE = 4
FIRST_DAY = date(2015, 1, 1)
DAYS = 3650


@dataclass(slots=True)
class SourceArticle:
    """One real article of the source index with its layout and float32 vectors."""

    article: Article
    story_id: str
    spans: list[Span]
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray


@dataclass(slots=True)
class Batch:
    """Replicated articles ready for the writer, vectors already perturbed."""

    articles: list[Article]
    spans: list[list[Span]]
    chunks: list[list[Chunk]]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    story_ids: list[str]


def load_source(home: Path) -> list[SourceArticle]:
    """Every article of the source index in insertion order, with its real vectors."""
    index = Index(home, MODEL_NAME)
    ids = index.article_ids()
    metas, texts, layouts = index.articles(ids), index.texts(ids), index.layouts(ids)
    out = []
    for article_id in ids:
        meta, layout = metas[article_id], layouts.get(article_id)
        if layout is None:
            continue
        article = Article(
            id=article_id,
            title=meta.title,
            text=texts[article_id],
            source_path=meta.source_path,
            url=meta.url,
            place=meta.place,
        )
        out.append(
            SourceArticle(
                article,
                meta.story_id,
                layout.spans,
                layout.chunks,
                np.stack(layout.chunk_vectors).astype(np.float32),
                np.stack(layout.sentence_vectors).astype(np.float32),
            )
        )
    index.close()
    return out


def replica_id(article_id: str, replica: int) -> str:
    """A new 16-hex-digit article id per replica; replica 0 keeps the real id."""
    return article_id if replica == 0 else hashlib.sha256(f"{article_id}/{replica}".encode()).hexdigest()[:16]


def perturb(vectors: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors moved by Gaussian noise per dimension, re-normalized."""
    moved = vectors + rng.standard_normal(vectors.shape, dtype=np.float32) * np.float32(noise)
    return moved / np.linalg.norm(moved, axis=1, keepdims=True)


def plan(source: list[SourceArticle], target_chunks: int) -> list[tuple[int, int]]:
    """(replica, source row) pairs in insertion order until the target chunk count is reached."""
    pairs, total, replica = [], 0, 0
    while total < target_chunks:
        for row, src in enumerate(source):
            pairs.append((replica, row))
            total += len(src.chunks)
            if total >= target_chunks:
                break
        replica += 1
    return pairs


def batches(
    source: list[SourceArticle], pairs: list[tuple[int, int]], size: int, noise: float, seed: int
) -> Iterator[Batch]:
    """The planned replicas in batches of `size` articles, each with its perturbed vectors."""
    rng = np.random.default_rng(seed)
    for start in range(0, len(pairs), size):
        part = pairs[start : start + size]
        articles, stories, chunk_rows, sentence_rows = [], [], [], []
        for replica, row in part:
            src = source[row]
            day_rng = np.random.default_rng(hash((seed, row, replica // STORY_SIZE)) & 0xFFFFFFFF)
            story_day = FIRST_DAY + timedelta(days=int(day_rng.integers(DAYS)))
            published = (story_day + timedelta(days=replica % STORY_SIZE)).isoformat()
            title = src.article.title if replica == 0 else f"{src.article.title} ({replica})"
            articles.append(
                Article(
                    id=replica_id(src.article.id, replica),
                    title=title,
                    text=src.article.text,
                    source_path=f"{src.article.source_path}#r{replica}",
                    outlet=OUTLETS[(row + replica) % len(OUTLETS)],
                    published=published,
                    url=src.article.url,
                    place=src.article.place,
                )
            )
            stories.append(f"{src.story_id}-{replica // STORY_SIZE}")
            if replica == 0:
                chunk_rows.append(src.chunk_vectors)
                sentence_rows.append(src.sentence_vectors.astype(np.float16))
            else:
                chunk_rows.append(perturb(src.chunk_vectors, noise, rng))
                # float16 at once (as stored): at 1M chunks a float32 copy of 3M sentence vectors is 5 GB
                sentence_rows.append(perturb(src.sentence_vectors, noise, rng).astype(np.float16))
        yield Batch(
            articles,
            [source[r].spans for _, r in part],
            [source[r].chunks for _, r in part],
            np.concatenate(chunk_rows),
            np.concatenate(sentence_rows),
            stories,
        )


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="a kept index home (benchmarks/beir_index.py)")
    parser.add_argument("--chunks", type=int, required=True, help="target chunk count (stops at an article end)")
    parser.add_argument("--out", type=Path, required=True, help="index home to create (keep it outside the repo)")
    parser.add_argument("--noise", type=float, default=0.015, help="Gaussian noise per dimension of replica vectors")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stream-articles", type=int, default=20000, help="articles per writer.add call")
    args = parser.parse_args()
    settings = get_settings()
    started = time.perf_counter()
    source = load_source(args.source)
    pairs = plan(source, args.chunks)
    loaded = time.perf_counter()
    extra = {
        "synthetic": {
            "source": str(args.source),
            "noise": args.noise,
            "seed": args.seed,
            "replicas": max(r for r, _ in pairs) + 1,
            "story_size": STORY_SIZE,
        }
    }
    with IndexWriter(args.out, MODEL_NAME, DIMENSION, 1, VectorConfig.from_settings(settings)) as w:
        for batch in batches(source, pairs, args.stream_articles, args.noise, args.seed):
            w.add(
                batch.articles, batch.spans, batch.chunks, batch.chunk_vectors, batch.sentence_vectors, batch.story_ids
            )
            print(
                f"  added {len(batch.articles)} articles, {time.perf_counter() - loaded:.0f} s, "
                f"peak RSS {peak_rss_gb():.1f} GB",
                flush=True,
            )
        added = time.perf_counter()
        w.finish([], None, notes=extra)
        written = time.perf_counter()
        w.publish()
    done = time.perf_counter()
    manifest = Index(args.out, MODEL_NAME).manifest
    size = sum(p.stat().st_size for p in version_dir(args.out, manifest.version).iterdir())
    load = os.getloadavg()
    print(
        json.dumps(
            {
                "out": str(args.out),
                "counts": asdict(manifest.counts),
                "vectors": manifest.vectors,
                "replicas": extra["synthetic"]["replicas"],
                "source_load_s": round(loaded - started, 1),
                "add_s": round(added - loaded, 1),
                "finish_s": round(written - added, 1),
                "publish_s": round(done - written, 1),
                "total_s": round(done - started, 1),
                "disk_gb": round(size / 1e9, 2),
                "peak_rss_gb": round(peak_rss_gb(), 2),
                "loadavg": [round(x, 2) for x in load],
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
