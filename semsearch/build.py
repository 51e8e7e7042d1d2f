"""Sources → articles → sentences and chunks → vectors → stories → a new index version, published atomically.

A build reuses the sentences, chunks and vectors of every article the served version already
holds (same id = same content), and the embedding cache covers texts seen in older versions, so
rebuilding an unchanged corpus does no model work.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import source_health
from .chunking import chunk_article
from .config import Settings
from .distributed import RayEmbedder
from .embedding import DIMENSION, MODEL_NAME, Embedder, Occurrence, get_embedder, sentence_method
from .embedding_cache import EmbeddingCache
from .index import (
    ArticleLayout,
    ArticleMeta,
    Index,
    IndexIncompatible,
    IndexMissing,
    IndexWriter,
    VectorConfig,
    bad_versions,
    current_version,
    recorded_sources,
    verify,
)
from .ingest import IngestResult, ingest, recorded_form, source_problem, url_scheme
from .ingest.fetch import redacted
from .ingest.readers import record_file
from .records import Article, BuildReport, Chunk, Skipped, Span
from .revisions import Version, current_ids, shared, still_archived, successors
from .stories import StoryRules, group_stories

log = logging.getLogger(__name__)

EMBED_ON = ("local", "ray")


class NothingToBuild(RuntimeError):
    """No usable article was found; the served index is left as it was."""

    def __init__(self, message: str, skipped: Sequence[Skipped] = ()) -> None:
        super().__init__(message)
        self.skipped = list(skipped)  # why each source gave nothing


def chunk_text_for_embedding(title: str, body: str) -> str:
    """What the model sees for a chunk: the headline gives every chunk its story's context."""
    return f"{title}\n{body}" if title else body


def build(
    sources: Sequence[str | Path],
    settings: Settings,
    progress: bool = False,
    embed_on: str = "local",
    ray_address: str | None = None,
) -> BuildReport:
    """Build an index from exactly these source files, folders and feed URLs, and publish it."""
    started = time.perf_counter()
    read_at = datetime.now(UTC)
    log.info("stage: ingest (%d sources)", len(sources))
    result = ingest(sources, settings)
    for skip in result.skipped:
        log.warning("skipped %s: %s", skip.source, skip.reason)
    reads = [(recorded_form(o.source), o) for o in result.outcomes if not source_problem(o.source)]
    # A run that fails still read its sources, and their health says so.
    with source_health.recording(Path(settings.index_dir), reads, read_at) as run:
        if not result.articles:
            raise NothingToBuild(_nothing_found(result), result.skipped)
        kept = _still_archived(settings, result)
        if kept:
            log.info("keeping %d articles of feeds and of sources not read this time", len(kept))
        report = build_articles(
            result.articles + kept,
            settings,
            progress,
            sources=[s for s, _ in reads],
            embed_on=embed_on,
            ray_address=ray_address,
        )
        run.published = True
    report.skipped = result.skipped + report.skipped
    report.duplicates = result.duplicates
    report.seconds = round(time.perf_counter() - started, 2)
    # Also when nothing was published: a question saved since the last run is asked of the served version.
    run_saved_questions(settings, report.version, report.arrivals)
    return report


def _nothing_found(result: IngestResult) -> str:
    """Why a build has nothing to index: how many files or records were skipped, and which sources gave no article."""
    silent = [redacted(str(o.source)) for o in result.outcomes if not o.error and not o.article_ids]
    named = f"; no article from {', '.join(silent[:3])}" + (" and more" if len(silent) > 3 else "") if silent else ""
    return f"no usable article found ({len(result.skipped)} files or records skipped{named})"


def _still_archived(settings: Settings, result: IngestResult) -> list[Article]:
    """The served version's articles that a feed no longer lists (a feed shows its latest items; the archive keeps
    every one it carried) or that came from a source or file that could not be read this time (a feed down, a
    folder unmounted, an export half written), unless a new article stands for it (revisions.still_archived)."""
    keep = [recorded_form(o.source) for o in result.outcomes if o.error or url_scheme(o.source)]
    keep += [s.source for s in result.skipped if record_file(s.source) == s.source]  # whole files, not records
    served = _served(settings) if keep else None
    if served is None:
        return []
    prefixes = tuple(source.rstrip("/") + "/" for source in keep)
    ids = [
        article_id
        for article_id, (_, path) in served.locators().items()
        if (place := record_file(path)) in keep or place.startswith(prefixes)
    ]
    stored = [article for article, _ in served.stored_articles(ids).values()]
    kept = set(still_archived([_version(a) for a in stored], [_version(a) for a in result.articles]))
    return [article for article in stored if article.id in kept]


def run_saved_questions(settings: Settings, version: str, arrivals: Mapping[str, str | None]) -> None:
    """Ask every saved question of the index home once against the version just published, which brought the
    `arrivals` (never raises)."""
    from .watches import run_safely  # the query side loads only where a build publishes

    run_safely(settings, version, arrivals)


def update(
    sources: Sequence[str | Path],
    settings: Settings,
    progress: bool = False,
    embed_on: str = "local",
    ray_address: str | None = None,
) -> BuildReport:
    """Rebuild from the sources the served index was built from plus any new ones."""
    # From the manifest itself: an index that cannot be reused (older format, other chunk size) still
    # says what it was built from, and an update must not forget those sources.
    recorded = recorded_sources(Path(settings.index_dir))
    for source in sources:
        source = recorded_form(source)
        if source not in recorded:
            recorded.append(source)
    if not recorded:
        raise NothingToBuild("no sources recorded in the index and none given")
    return build(recorded, settings, progress, embed_on, ray_address)


def _served(settings: Settings) -> Index | None:
    """The served version, when there is one this semsearch reads."""
    try:
        return Index(Path(settings.index_dir), MODEL_NAME, vectors=VectorConfig.from_settings(settings))
    except (IndexMissing, IndexIncompatible) as exc:
        log.debug("no served version to build on: %s", exc)
        return None


def _occurrences(
    title: str, spans: Sequence[Span], chunks: Sequence[Chunk], first_chunk: int
) -> list[list[Occurrence]]:
    """Where each sentence of an article sits in the texts of its chunks, numbered from first_chunk."""
    head = len(chunk_text_for_embedding(title, ""))
    where: list[list[Occurrence]] = [[] for _ in spans]
    for number, chunk in enumerate(chunks, start=first_chunk):
        for s in range(chunk.first_sentence, chunk.last_sentence + 1):
            start = head + spans[s].start - chunk.start
            where[s].append((number, start, start + spans[s].end - spans[s].start))
    return where


def _embed_separately(
    cache: EmbeddingCache,
    bulk: Embedder | RayEmbedder,
    chunk_texts: list[str],
    sentence_texts: list[str],
    settings: Settings,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Chunk and sentence vectors, each text its own model pass; also the count embedded."""
    if isinstance(bulk, RayEmbedder):
        bulk.prefetch(cache.missing(chunk_texts + sentence_texts), settings.embed_batch_size, progress)
    new_chunks, n1 = cache.embed(bulk, chunk_texts, settings.embed_batch_size, progress)
    new_sentences, n2 = cache.embed(bulk, sentence_texts, settings.embed_batch_size, progress)
    return new_chunks, new_sentences, n1 + n2


def build_articles(
    articles: Sequence[Article],
    settings: Settings,
    progress: bool = False,
    sources: Sequence[str] = (),
    embed_on: str = "local",
    ray_address: str | None = None,
) -> BuildReport:
    """Index already-made articles as a new version and publish it; the previous one serves until then.

    ``embed_on="ray"`` embeds the new texts on a Ray cluster (``ray_address``, else a local Ray instance);
    everything else, and the result, is the same as a local build.
    """
    if embed_on not in EMBED_ON:
        raise ValueError(f"unknown place to embed {embed_on!r}; expected one of {', '.join(EMBED_ON)}")
    started = time.perf_counter()
    home = Path(settings.index_dir)
    embedder = get_embedder(settings=settings)
    # Late chunking needs the token states of the chunk pass, which only the local model hands back.
    late = settings.sentence_vectors == "late" and embed_on == "local"
    method = sentence_method("late" if late else "separate")
    inputs = _inputs(articles, sources, settings, method, embedder.vector_precision)
    served = _served(settings)
    # Ray is reached before the new version is opened, so a cluster that is down costs nothing.
    with (
        _bulk_embedder(embed_on, ray_address, settings, embedder) as bulk,
        IndexWriter(
            home, MODEL_NAME, DIMENSION, settings.keep_versions, VectorConfig.from_settings(settings)
        ) as writer,
    ):
        # Checked under the build lock, so a run beside another build is refused as any build is.
        if served is not None and served.manifest.inputs == inputs and _intact(served, settings):
            return _unchanged(served, started)
        report = BuildReport(index_dir=str(home), version=writer.name)
        log.info("stage: split (%d articles)", len(articles))
        alike = served is not None and served.manifest.made_like(
            settings.chunk_tokens, method, embedder.vector_precision
        )
        previous = served if alike else None  # whose sentences, chunks and vectors this build may reuse
        reused = previous.layouts([a.id for a in articles]) if previous else {}
        split = _split(articles, reused, embedder, settings, report, progress)
        layouts, kept = split.layouts, split.kept

        chunk_vectors, sentence_vectors, embedded = _embed(split, embedder, None if late else bulk, settings, progress)
        story_ids = _stories(kept, layouts, chunk_vectors, settings)
        report.embedded_texts = embedded
        report.articles = len(kept)
        report.chunks = len(chunk_vectors)
        report.sentences = len(sentence_vectors)
        report.stories = len(set(story_ids))
        replaced = _revise(report, served, kept)

        log.info("stage: write")
        writer.add(
            kept,
            [layout.spans for layout in layouts],
            [layout.chunks for layout in layouts],
            chunk_vectors,
            sentence_vectors,
            story_ids,
        )
        writer.replaced(replaced)
        writer.finish(sources, settings.chunk_tokens, made=(method, embedder.vector_precision), inputs=inputs)
        log.info("stage: publish %s", writer.name)
        writer.publish()
    report.seconds = round(time.perf_counter() - started, 2)
    log.info(
        "built %s: %d articles, %d chunks in %.1fs", report.version, report.articles, report.chunks, report.seconds
    )
    return report


@functools.cache
def _code_digest() -> str:
    """The digest of this semsearch's own files: any change to how a version is made changes it."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.is_file() and p.suffix != ".pyc"):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _inputs(
    articles: Sequence[Article], sources: Sequence[str], settings: Settings, method: str, precision: str
) -> str:
    """The digest of what a build makes a version from: its articles in order (every field), its sources, and
    the code, model runtime and settings that shape the version (the vector backend's token left out)."""
    shape = {
        "code": _code_digest(),
        "embed_backend": settings.embed_backend,
        "sources": list(sources),
        "chunk_tokens": settings.chunk_tokens,
        "made": [method, precision],
        "stories": asdict(StoryRules.of(settings)),
        "vectors": asdict(replace(VectorConfig.from_settings(settings), milvus_token=None)),
    }
    digest = hashlib.sha256(json.dumps(shape, sort_keys=True).encode())
    for article in articles:
        digest.update(json.dumps(asdict(article), sort_keys=True).encode())
    return digest.hexdigest()


def _intact(served: Index, settings: Settings) -> bool:
    """Whether the served version is the one CURRENT names, not marked damaged, and its files check out: a
    rebuild of the same inputs must still replace a version that is not."""
    home = Path(settings.index_dir)
    if served.version != current_version(home) or served.version in bad_versions(home):
        return False
    return not verify(served.path, VectorConfig.from_settings(settings), trust_stamp=True)


def _unchanged(served: Index, started: float) -> BuildReport:
    """The report of a build whose inputs made the served version: nothing is published, so the versions kept
    for rollback stay those that differ."""
    counts = served.manifest.counts
    log.info("unchanged: version %s was made from the same articles and settings; nothing published", served.version)
    return BuildReport(
        index_dir=str(served.home),
        version=served.version,
        articles=counts.articles,
        chunks=counts.chunks,
        sentences=counts.sentences,
        stories=counts.stories,
        unchanged=counts.articles,
        published=False,
        seconds=round(time.perf_counter() - started, 2),
    )


@dataclass(slots=True)
class _Split:
    """The articles a build keeps, each one's sentences and chunks, and the texts of those not reused to embed."""

    layouts: list[ArticleLayout] = field(default_factory=list)
    kept: list[Article] = field(default_factory=list)
    chunk_texts: list[str] = field(default_factory=list)
    sentence_texts: list[str] = field(default_factory=list)
    occurrences: list[list[Occurrence]] = field(default_factory=list)


def _split(
    articles: Sequence[Article],
    reused: dict[str, ArticleLayout],
    embedder: Embedder,
    settings: Settings,
    report: BuildReport,
    progress: bool,
) -> _Split:
    """Split each article not reused from the served version into sentences and chunks (an article without a
    sentence is skipped with its reason)."""
    split = _Split()
    for article in tqdm(articles, desc="splitting", unit="article", disable=not progress):
        layout = reused.get(article.id)
        if layout is None:
            budget = settings.chunk_tokens - embedder.count_tokens([article.title])[0]
            spans, chunks = chunk_article(article.id, article.text, embedder.count_tokens, max(budget, 32))
            if not spans:
                report.skipped.append(Skipped(article.source_path, "no sentences in the cleaned text"))
                continue
            layout = ArticleLayout(spans, chunks, [], [])
            split.sentence_texts.extend(article.text[s.start : s.end] for s in spans)
            split.occurrences.extend(_occurrences(article.title, spans, chunks, len(split.chunk_texts)))
            split.chunk_texts.extend(
                chunk_text_for_embedding(article.title, article.text[c.start : c.end]) for c in chunks
            )
        split.layouts.append(layout)
        split.kept.append(article)
    return split


def _embed(
    split: _Split, embedder: Embedder, bulk: Embedder | RayEmbedder | None, settings: Settings, progress: bool
) -> tuple[np.ndarray, np.ndarray, int]:
    """Every kept article's chunk and sentence vectors (reused, cached or embedded now) and how many texts were
    embedded now: by `bulk` in separate passes or, without one, sentence vectors pooled from the chunk pass."""
    log.info(
        "stage: embed (%d chunks, %d sentences not seen before)", len(split.chunk_texts), len(split.sentence_texts)
    )
    cache_file = Path(settings.cache_dir or Path(settings.index_dir) / "cache") / "embeddings.sqlite"
    cache = EmbeddingCache(cache_file, embedder.vector_precision)
    try:
        if bulk is None:
            new_chunks, new_sentences, embedded = cache.embed_late(
                embedder, split.chunk_texts, split.occurrences, settings.embed_batch_size, progress
            )
        else:
            new_chunks, new_sentences, embedded = _embed_separately(
                cache, bulk, split.chunk_texts, split.sentence_texts, settings, progress
            )
    finally:
        cache.close()
    chunk_vectors, sentence_vectors = _assemble(split.layouts, new_chunks, new_sentences)
    return chunk_vectors, sentence_vectors, embedded


def _stories(
    kept: list[Article], layouts: list[ArticleLayout], chunk_vectors: np.ndarray, settings: Settings
) -> list[str]:
    """Each kept article's story id, from its text, date, outlet and the vector of its first chunk."""
    lead_rows = np.cumsum([0] + [len(layout.chunks) for layout in layouts[:-1]])
    return group_stories(
        [a.id for a in kept],
        [a.text for a in kept],
        chunk_vectors[lead_rows],
        [a.published for a in kept],
        StoryRules.of(settings),
        outlets=[a.outlet for a in kept],
    )


def _bulk_embedder(
    embed_on: str, ray_address: str | None, settings: Settings, embedder: Embedder
) -> AbstractContextManager[Embedder | RayEmbedder]:
    """What embeds the build's new texts: the local model, or a pool of model workers on Ray."""
    if embed_on == "ray":
        return RayEmbedder(ray_address, settings.embed_backend, precision=embedder.vector_precision)
    return nullcontext(embedder)


def _assemble(layouts: list[ArticleLayout], new_chunks: np.ndarray, new_sentences: np.ndarray):
    """Chunk and sentence vector matrices in article order, from reused and fresh vectors."""
    chunk_rows: list[np.ndarray] = []
    sentence_rows: list[np.ndarray] = []
    c = s = 0
    for layout in layouts:
        if layout.chunk_vectors:
            chunk_rows.extend(layout.chunk_vectors)
            sentence_rows.extend(layout.sentence_vectors)
        else:
            chunk_rows.extend(new_chunks[c : c + len(layout.chunks)])
            sentence_rows.extend(new_sentences[s : s + len(layout.spans)])
            c += len(layout.chunks)
            s += len(layout.spans)
    empty = np.zeros((0, DIMENSION), dtype=np.float32)
    return (
        np.stack(chunk_rows).astype(np.float32) if chunk_rows else empty,
        np.stack(sentence_rows).astype(np.float32) if sentence_rows else empty,
    )


def _revise(report: BuildReport, served: Index | None, articles: Sequence[Article]) -> dict[str, str]:
    """Count the articles added, changed, removed and unchanged against the served version, and give every
    earlier id of an edited article with the id of its current version (an edit changes an article's id)."""
    if served is None:
        report.added = len(articles)  # no arrivals: with nothing served to compare, none can be told apart
        return {}
    stored = served.locators()
    new_ids = {a.id for a in articles}
    fresh = [a for a in articles if a.id not in stored]
    report.arrivals = {a.id: a.published for a in fresh}
    gone = [i for i in stored if i not in new_ids]
    shared_urls = shared(url for url, _ in stored.values()) | shared(a.url for a in articles)
    edits = successors(_stored_versions(served, gone), [_version(a) for a in fresh], shared_urls)
    # The id covers title and text only, so a corrected outlet or date keeps it: compare those fields too.
    metas = served.articles([a.id for a in articles if a.id in stored])
    for article in articles:
        if (meta := metas.get(article.id)) is not None:
            if _metadata(meta) == _metadata(article):
                report.unchanged += 1
            else:
                report.changed += 1
    report.changed += len(edits)
    report.added += len(fresh) - len(edits)
    report.removed += len(gone) - len(edits)
    return current_ids(served.replaced(), edits, new_ids)


def _version(article: Article) -> Version:
    return Version(article.id, article.title, article.text, article.url, article.source_path, article.extracted_from)


def _stored_versions(served: Index, ids: Sequence[str]) -> list[Version]:
    """The served version's articles of the given ids, as pairing reads them."""
    texts = served.texts(ids)
    return [
        Version(m.id, m.title, texts[m.id], m.url, m.source_path, m.extracted_from)
        for m in served.articles(ids).values()
    ]


def _metadata(article: Article | ArticleMeta) -> tuple:
    """The metadata a source may correct without changing an article's id."""
    return article.outlet, article.published, article.url, article.place
