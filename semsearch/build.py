"""Sources → articles → sentences and chunks → vectors → a new index version, published atomically."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from .chunking import chunk_article
from .config import Settings
from .embedding import MODEL_NAME, DIMENSION, EmbeddingCache, get_embedder
from .ingest import ingest
from .models import Article, BuildReport, Chunk, Span
from .store import IndexWriter

log = logging.getLogger(__name__)


class NothingToBuild(RuntimeError):
    """No usable article was found; the served index is left as it was."""


def chunk_text_for_embedding(title: str, body: str) -> str:
    """What the model sees for a chunk: the headline gives every chunk its story's context."""
    return f"{title}\n{body}" if title else body


def build(sources: Sequence[Path], settings: Settings, progress: bool = False) -> BuildReport:
    """Build a full index from source files and folders and publish it."""
    started = time.perf_counter()
    result = ingest(sources, int(settings.max_file_mb * 1e6))
    for skip in result.skipped:
        log.warning("skipped %s: %s", skip.source, skip.reason)
    if not result.articles:
        raise NothingToBuild(f"no usable article found ({len(result.skipped)} sources skipped)")
    report = build_articles(result.articles, settings, progress)
    report.skipped = result.skipped
    report.duplicates = result.duplicates
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def build_articles(articles: Sequence[Article], settings: Settings, progress: bool = False) -> BuildReport:
    """Index already-made articles as a new version and publish it; the previous one serves until then."""
    started = time.perf_counter()
    home = Path(settings.index_dir)
    embedder = get_embedder()
    with IndexWriter(home, MODEL_NAME, DIMENSION, settings.keep_versions) as writer:
        report = BuildReport(index_dir=str(home), version=writer.name)
        all_spans: list[list[Span]] = []
        all_chunks: list[list[Chunk]] = []
        chunk_texts: list[str] = []
        sentence_texts: list[str] = []
        for article in tqdm(articles, desc="chunking", unit="article", disable=not progress):
            budget = settings.chunk_tokens - embedder.count_tokens([article.title])[0]
            spans, chunks = chunk_article(article.id, article.text, embedder.count_tokens, max(budget, 32))
            all_spans.append(spans)
            all_chunks.append(chunks)
            sentence_texts.extend(article.text[s.start : s.end] for s in spans)
            chunk_texts.extend(
                chunk_text_for_embedding(article.title, article.text[c.start : c.end]) for c in chunks
            )

        cache = EmbeddingCache(Path(settings.cache_dir or home / "cache") / "embeddings.sqlite")
        try:
            if progress:
                print(f"embedding {len(chunk_texts)} chunks and {len(sentence_texts)} sentences")
            chunk_vectors, n1 = cache.embed(embedder, chunk_texts, settings.embed_batch_size, progress)
            sentence_vectors, n2 = cache.embed(embedder, sentence_texts, settings.embed_batch_size, progress)
        finally:
            cache.close()
        report.embedded_texts = n1 + n2
        report.articles = len(articles)
        report.chunks = len(chunk_texts)
        report.sentences = len(sentence_texts)

        writer.write(articles, all_spans, all_chunks, chunk_vectors, sentence_vectors)
        writer.publish()
    report.seconds = round(time.perf_counter() - started, 2)
    log.info("built %s: %d articles, %d chunks in %.1fs", report.version, report.articles, report.chunks,
             report.seconds)
    return report
