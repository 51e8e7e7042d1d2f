"""The on-disk index: FAISS vectors + SQLite metadata + manifest, in atomically published versions.

Layout of an index home::

    CURRENT                 name of the version being served (replaced atomically)
    versions/<name>/        manifest.json, meta.sqlite, chunks.faiss, sentences.f16.npy
    versions/.partial-*     a build in progress; removed by the next build if left by a crash
    cache/embeddings.sqlite vectors by content hash, so rebuilds embed only new text
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from .models import Article, Chunk, Span

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
META_DB = "meta.sqlite"
CHUNK_INDEX = "chunks.faiss"
SENTENCE_VECTORS = "sentences.f16.npy"

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, outlet TEXT, published TEXT, url TEXT, place TEXT,
    source_path TEXT NOT NULL, extracted_from TEXT, duplicate_paths TEXT NOT NULL, text TEXT NOT NULL
);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, first_sentence INTEGER NOT NULL, last_sentence INTEGER NOT NULL
);
CREATE INDEX sentences_by_article ON sentences(article_id, ordinal);
CREATE INDEX chunks_by_article ON chunks(article_id, ordinal);
CREATE VIRTUAL TABLE chunk_fts USING fts5(title, body, tokenize='porter unicode61');
"""


class IndexMissing(FileNotFoundError):
    """No published index exists at the given home."""


class IndexIncompatible(RuntimeError):
    """The index was built by another model or format version."""


class BuildLocked(RuntimeError):
    """Another build holds the index home's lock."""


@dataclass(frozen=True, slots=True)
class ArticleMeta:
    """Article fields without the text, for result lists."""

    id: str
    title: str
    outlet: str | None
    published: str | None
    url: str | None
    place: str | None
    source_path: str
    extracted_from: str | None
    duplicate_paths: list[str]


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk row: its FAISS id, article and sentence range."""

    id: int
    article_id: str
    start: int
    end: int
    first_sentence: int
    last_sentence: int


@dataclass(frozen=True, slots=True)
class StoredSentence:
    """A sentence row: its vector row, article and offsets."""

    id: int
    article_id: str
    ordinal: int
    start: int
    end: int


def _sha256(path: Path) -> str:
    """Checksum of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    """Make a rename inside path durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_version(home: Path) -> str | None:
    """Name of the published version, or None before the first build."""
    try:
        name = (home / CURRENT).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


class IndexWriter:
    """Writes one new index version beside the served one and publishes it atomically."""

    def __init__(self, home: Path, model_name: str, dimension: int, keep_versions: int = 2) -> None:
        self.home = Path(home)
        self.model_name = model_name
        self.dimension = dimension
        self.keep_versions = keep_versions
        self.name = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        self.versions = self.home / "versions"
        self.partial = self.versions / f".partial-{self.name}"
        self._lock_file = None

    def __enter__(self) -> IndexWriter:
        self.versions.mkdir(parents=True, exist_ok=True)
        self._lock_file = (self.home / ".build.lock").open("a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise BuildLocked(f"another build is running on {self.home}") from None
        for stale in self.versions.glob(".partial-*"):  # left by a crashed or killed build
            log.info("removing partial build %s", stale.name)
            shutil.rmtree(stale, ignore_errors=True)
        self.partial.mkdir()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.partial.exists():
            shutil.rmtree(self.partial, ignore_errors=True)
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()

    def write(
        self,
        articles: Sequence[Article],
        sentences: Sequence[Sequence[Span]],
        chunks: Sequence[Sequence[Chunk]],
        chunk_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        extra: dict | None = None,
    ) -> None:
        """Write every file of the version into the partial directory."""
        db = sqlite3.connect(self.partial / META_DB)
        db.executescript(SCHEMA)
        sentence_base = 0
        chunk_id = 0
        with db:
            for article, spans, article_chunks in zip(articles, sentences, chunks, strict=True):
                db.execute(
                    "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (article.id, article.title, article.outlet, article.published, article.url, article.place,
                     article.source_path, article.extracted_from, json.dumps(article.duplicate_paths), article.text),
                )
                db.executemany(
                    "INSERT INTO sentences VALUES (?,?,?,?,?)",
                    [(sentence_base + i, article.id, i, s.start, s.end) for i, s in enumerate(spans)],
                )
                rows, fts = [], []
                for chunk in article_chunks:
                    rows.append((chunk_id, article.id, chunk.ordinal, chunk.start, chunk.end,
                                 sentence_base + chunk.first_sentence, sentence_base + chunk.last_sentence))
                    fts.append((chunk_id, article.title, article.text[chunk.start : chunk.end]))
                    chunk_id += 1
                db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?)", rows)
                db.executemany("INSERT INTO chunk_fts(rowid, title, body) VALUES (?,?,?)", fts)
                sentence_base += len(spans)
        db.execute("VACUUM")
        db.close()
        if chunk_vectors.shape[0] != chunk_id or sentence_vectors.shape[0] != sentence_base:
            raise ValueError("vector counts do not match the chunks and sentences written")
        index = faiss.IndexFlatIP(self.dimension)
        index.add(np.ascontiguousarray(chunk_vectors, dtype=np.float32))
        faiss.write_index(index, str(self.partial / CHUNK_INDEX))
        np.save(self.partial / SENTENCE_VECTORS, sentence_vectors.astype(np.float16))
        files = {name: _sha256(self.partial / name) for name in (META_DB, CHUNK_INDEX, SENTENCE_VECTORS)}
        manifest = {
            "format_version": FORMAT_VERSION,
            "model": self.model_name,
            "dimension": self.dimension,
            "version": self.name,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "counts": {"articles": len(articles), "chunks": chunk_id, "sentences": sentence_base},
            "corpus_fingerprint": hashlib.sha256("".join(sorted(a.id for a in articles)).encode()).hexdigest(),
            "faiss": {"type": "IndexFlatIP", "metric": "inner_product"},
            "files": files,
            **(extra or {}),
        }
        (self.partial / MANIFEST).write_text(json.dumps(manifest, indent=2), "utf-8")

    def publish(self) -> Path:
        """Move the finished version into place, then switch CURRENT to it in one rename."""
        final = self.versions / self.name
        for path in self.partial.iterdir():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
        os.rename(self.partial, final)
        _fsync_dir(self.versions)
        pointer = self.home / f".{CURRENT}.{self.name}.tmp"
        with pointer.open("w", encoding="utf-8") as fh:
            fh.write(self.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(pointer, self.home / CURRENT)
        _fsync_dir(self.home)
        self._collect_garbage()
        return final

    def _collect_garbage(self) -> None:
        """Keep the newest keep_versions versions (the current one always), for rollback."""
        done = sorted((p for p in self.versions.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
        for old in done[self.keep_versions :]:
            if old.name != self.name:
                shutil.rmtree(old, ignore_errors=True)


class Index:
    """A published index version opened for reading; safe to share between threads."""

    def __init__(self, home: Path, expected_model: str) -> None:
        self.home = Path(home)
        name = current_version(self.home)
        if name is None:
            raise IndexMissing(f"no index at {self.home}: run `semsearch build` first")
        self.path = self.home / "versions" / name
        try:
            self.manifest = json.loads((self.path / MANIFEST).read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise IndexIncompatible(f"index version {name} has no readable manifest: {exc}") from None
        if self.manifest.get("format_version") != FORMAT_VERSION:
            raise IndexIncompatible(
                f"index at {self.path} has format {self.manifest.get('format_version')}, this semsearch reads "
                f"format {FORMAT_VERSION}: rebuild it with `semsearch build`"
            )
        if self.manifest.get("model") != expected_model:
            raise IndexIncompatible(
                f"index at {self.path} was built with model {self.manifest.get('model')!r}, this semsearch uses "
                f"{expected_model!r}: rebuild it with `semsearch build`"
            )
        self.version = name
        self.faiss = faiss.read_index(str(self.path / CHUNK_INDEX))
        self.sentence_vectors = np.load(self.path / SENTENCE_VECTORS, mmap_mode="r")
        self._local = threading.local()

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's read-only connection to the metadata."""
        conn = getattr(self._local, "db", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path / META_DB}?mode=ro", uri=True, check_same_thread=False)
            self._local.db = conn
        return conn

    def search_chunks(self, vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        """The n chunks nearest to a query vector, as (chunk id, cosine)."""
        n = min(n, self.faiss.ntotal)
        if n <= 0:
            return []
        scores, ids = self.faiss.search(vector.reshape(1, -1).astype(np.float32), n)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def search_lexical(self, match: str, n: int) -> list[tuple[int, float]]:
        """The n chunks best matching an FTS5 expression, as (chunk id, BM25 score; higher is better)."""
        rows = self.db.execute(
            "SELECT rowid, -bm25(chunk_fts, 2.0, 1.0) FROM chunk_fts WHERE chunk_fts MATCH ? "
            "ORDER BY bm25(chunk_fts, 2.0, 1.0) LIMIT ?",
            (match, n),
        )
        return [(int(r), float(s)) for r, s in rows]

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        """Chunk rows by id."""
        return {r[0]: StoredChunk(*r) for r in self._in("SELECT id, article_id, start, end, first_sentence, "
                                                         "last_sentence FROM chunks WHERE id IN ({})", ids)}

    def sentences_between(self, ranges: Sequence[tuple[int, int]]) -> list[StoredSentence]:
        """Sentence rows whose ids fall in any of the inclusive ranges, in id order."""
        ids = sorted({i for lo, hi in ranges for i in range(lo, hi + 1)})
        return sorted(
            (StoredSentence(*r) for r in self._in(
                "SELECT id, article_id, ordinal, start, end FROM sentences WHERE id IN ({})", ids)),
            key=lambda s: s.id,
        )

    def article_sentences(self, article_id: str) -> list[StoredSentence]:
        """Every sentence of one article, in order."""
        rows = self.db.execute(
            "SELECT id, article_id, ordinal, start, end FROM sentences WHERE article_id = ? ORDER BY ordinal",
            (article_id,),
        )
        return [StoredSentence(*r) for r in rows]

    def vectors_of(self, sentence_ids: Sequence[int]) -> np.ndarray:
        """Stored sentence vectors as float32, rows in the order given."""
        return np.asarray(self.sentence_vectors[np.asarray(sentence_ids, dtype=np.int64)], dtype=np.float32)

    def articles(self, ids: Sequence[str]) -> dict[str, ArticleMeta]:
        """Article metadata by id."""
        return {
            r[0]: ArticleMeta(*r[:8], json.loads(r[8]))
            for r in self._in("SELECT id, title, outlet, published, url, place, source_path, extracted_from, "
                              "duplicate_paths FROM articles WHERE id IN ({})", list(ids))
        }

    def article_text(self, article_id: str) -> str | None:
        """The cleaned text of one article, which every offset refers to."""
        row = self.db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def texts(self, ids: Sequence[str]) -> dict[str, str]:
        """Cleaned texts by article id."""
        return dict(self._in("SELECT id, text FROM articles WHERE id IN ({})", list(ids)))

    def outlets(self) -> list[tuple[str, int]]:
        """Outlets with their article counts, most first."""
        return list(self.db.execute(
            "SELECT outlet, COUNT(*) FROM articles WHERE outlet IS NOT NULL GROUP BY outlet ORDER BY 2 DESC, 1"))

    def _in(self, sql: str, values: Sequence) -> Iterator[tuple]:
        """Run a query with an IN (...) list, in batches under SQLite's variable limit."""
        values = list(values)
        for i in range(0, len(values), 900):
            batch = values[i : i + 900]
            yield from self.db.execute(sql.format(",".join("?" * len(batch))), batch)

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        conn = getattr(self._local, "db", None)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
