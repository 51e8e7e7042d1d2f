"""Build throughput against the raw encode rate of the same texts, and an unchanged rebuild against a full one.

Usage: python benchmarks/build_throughput.py SOURCE [SOURCE ...]    (e.g. index/sample)

1. A full build of the sources into a fresh index with an empty embedding cache (model already loaded).
2. The raw rate: the same chunk and sentence texts that build embedded, encoded directly by the model.
3. The same build again (nothing changed), which reuses every article.
Prints chunks/s and sentences/s, the share of build time spent outside the model, and both ratios.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from semsearch.build import build, chunk_text_for_embedding
from semsearch.config import get_settings
from semsearch.embedding import MODEL_NAME, get_embedder
from semsearch.index import Index


def main(sources: list[str]) -> None:
    embedder = get_embedder()
    embedder.encode(["warm up"])
    with tempfile.TemporaryDirectory() as tmp:
        settings = get_settings().model_copy(update={"index_dir": Path(tmp) / "idx", "cache_dir": Path(tmp) / "c"})
        full = build(sources, settings)
        index = Index(settings.index_dir, MODEL_NAME)
        texts = dict(index.db.execute("SELECT id, text FROM articles"))
        titles = dict(index.db.execute("SELECT id, title FROM articles"))
        chunks = [chunk_text_for_embedding(titles[a], texts[a][s:e])
                  for a, s, e in index.db.execute("SELECT article_id, start, end FROM chunks ORDER BY id")]
        sentences = [texts[a][s:e] for a, s, e in index.db.execute("SELECT article_id, start, end FROM sentences")]
        started = time.perf_counter()
        embedder.encode(chunks, batch_size=settings.embed_batch_size)
        embedder.encode(sentences, batch_size=settings.embed_batch_size)
        raw = time.perf_counter() - started
        again = build(sources, settings)
    print(f"backend {embedder.backend}: {full.articles} articles, {full.chunks} chunks, {full.sentences} sentences")
    print(f"full build      {full.seconds:8.1f} s  ({full.chunks / full.seconds:6.1f} chunks/s, "
          f"{full.sentences / full.seconds:6.1f} sentences/s)")
    print(f"raw encode      {raw:8.1f} s  (same texts, same model)")
    print(f"build / raw rate ratio: {raw / full.seconds:.2f}  (time outside the model: "
          f"{100 * (full.seconds - raw) / full.seconds:.0f}%)")
    print(f"unchanged rebuild {again.seconds:6.2f} s = {100 * again.seconds / full.seconds:.1f}% of the full build, "
          f"{again.embedded_texts} texts embedded")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", help="files or folders to build from (e.g. index/sample)")
    main(parser.parse_args().sources)
