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

FORMAT_VERSION = 2
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
META_DB = "meta.sqlite"
CHUNK_INDEX = "chunks.faiss"
SENTENCE_VECTORS = "sentences.f16.npy"

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, outlet TEXT, published TEXT, url TEXT, place TEXT,
    source_path TEXT NOT NULL, extracted_from TEXT, duplicate_paths TEXT NOT NULL, text TEXT NOT NULL,
    story_id TEXT NOT NULL
);
CREATE INDEX articles_by_story ON articles(story_id);
CREATE INDEX articles_by_source ON articles(source_path);
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


class IndexCorrupt(IndexIncompatible):
    """A version's files do not match the checksums in its manifest."""


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
    story_id: str


@dataclass(slots=True)
class ArticleLayout:
    """An indexed article's sentence spans, chunks and their vectors."""

    spans: list[Span]
    chunks: list[Chunk]
    chunk_vectors: list[np.ndarray]
    sentence_vectors: list[np.ndarray]


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


def _version_name(home: Path) -> str:
    """A new version's name: sorts after every existing one (newest-first listing, rollback and GC rely on it)."""
    now = time.time()
    name = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now % 1 * 1e6):06d}-{uuid.uuid4().hex[:6]}"
    existing = versions(home)
    if existing and name <= existing[0]:  # the clock went back: stay after the newest
        name = existing[0] + "-" + uuid.uuid4().hex[:6]
    return name


def versions(home: Path) -> list[str]:
    """Names of the published versions on disk, newest first."""
    folder = Path(home) / "versions"
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)


def set_current(home: Path, name: str) -> None:
    """Point CURRENT at a version in one atomic rename, durable before it returns."""
    home = Path(home)
    pointer = home / f".{CURRENT}.{name}.tmp"
    with pointer.open("w", encoding="utf-8") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pointer, home / CURRENT)
    _fsync_dir(home)


def verify(version_dir: Path) -> list[str]:
    """Problems found in a version's files against its manifest checksums; empty when intact."""
    try:
        manifest = json.loads((version_dir / MANIFEST).read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return [f"{MANIFEST}: unreadable ({exc})"]
    problems = []
    for name, expected in manifest.get("files", {}).items():
        path = version_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif _sha256(path) != expected:
            problems.append(f"{name}: checksum mismatch (corrupt or changed)")
    return problems


def current_version(home: Path) -> str | None:
    """Name of the published version, or None before the first build."""
    try:
        name = (home / CURRENT).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


class IndexWriter:
    """Writes one new index version beside the served one and publishes it atomically."""

    def __init__(
        self, home: Path, model_name: str, dimension: int, keep_versions: int = 2,
        hnsw_threshold: int = 200_000, hnsw_ef_search: int = 128,
    ) -> None:
        self.home = Path(home)
        self.hnsw_threshold = hnsw_threshold
        self.hnsw_ef_search = hnsw_ef_search
        self.model_name = model_name
        self.dimension = dimension
        self.keep_versions = keep_versions
        self.name = _version_name(self.home)
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
        story_ids: Sequence[str],
        extra: dict | None = None,
    ) -> None:
        """Write every file of the version into the partial directory."""
        db = sqlite3.connect(self.partial / META_DB)
        db.executescript(SCHEMA)
        sentence_base = 0
        chunk_id = 0
        with db:
            for article, spans, article_chunks, story_id in zip(articles, sentences, chunks, story_ids, strict=True):
                db.execute(
                    "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (article.id, article.title, article.outlet, article.published, article.url, article.place,
                     article.source_path, article.extracted_from, json.dumps(article.duplicate_paths), article.text,
                     story_id),
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
        index, ann = self._ann_index(len(chunk_vectors))
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
            "counts": {"articles": len(articles), "chunks": chunk_id, "sentences": sentence_base,
                       "stories": len(set(story_ids))},
            "corpus_fingerprint": hashlib.sha256("".join(sorted(a.id for a in articles)).encode()).hexdigest(),
            "faiss": ann,
            "files": files,
            **(extra or {}),
        }
        (self.partial / MANIFEST).write_text(json.dumps(manifest, indent=2), "utf-8")

    def _ann_index(self, n: int) -> tuple[faiss.Index, dict]:
        """Exact search while it is fast enough; HNSW graphs above the threshold."""
        if n < self.hnsw_threshold:
            return faiss.IndexFlatIP(self.dimension), {"type": "IndexFlatIP", "metric": "inner_product"}
        index = faiss.IndexHNSWFlat(self.dimension, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        return index, {"type": "IndexHNSWFlat", "metric": "inner_product", "M": 32, "efConstruction": 80,
                       "efSearch": self.hnsw_ef_search}

    def publish(self) -> Path:
        """Move the finished version into place, then switch CURRENT to it in one rename."""
        final = self.versions / self.name
        for path in self.partial.iterdir():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
        os.rename(self.partial, final)
        _fsync_dir(self.versions)
        set_current(self.home, self.name)
        self._collect_garbage()
        return final

    def _collect_garbage(self) -> None:
        """Keep the newest keep_versions versions (the current one always), for rollback."""
        for old in versions(self.home)[self.keep_versions :]:
            if old != self.name:
                shutil.rmtree(self.versions / old, ignore_errors=True)


class Index:
    """A published index version opened for reading; safe to share between threads."""

    def __init__(self, home: Path, expected_model: str, version: str | None = None, check: bool = False) -> None:
        self.home = Path(home)
        name = version or current_version(self.home)
        if name is None:
            raise IndexMissing(f"no index at {self.home}: run `semsearch build` first")
        self.path = self.home / "versions" / name
        if check and (problems := verify(self.path)):
            raise IndexCorrupt(f"index version {name} failed verification: {'; '.join(problems)}")
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
        try:
            # Memory-mapped: a cold start reads only the pages a search touches.
            self.faiss = faiss.read_index(str(self.path / CHUNK_INDEX), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
            self.sentence_vectors = np.load(self.path / SENTENCE_VECTORS, mmap_mode="r")
        except (OSError, RuntimeError, ValueError) as exc:
            raise IndexCorrupt(f"index version {name} cannot be loaded: {exc}") from None
        self._local = threading.local()

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's read-only connection to the metadata."""
        conn = getattr(self._local, "db", None)
        if conn is None:
            # Published versions never change, so readers skip SQLite's locking altogether.
            conn = sqlite3.connect(f"file:{self.path / META_DB}?mode=ro&immutable=1", uri=True,
                                   check_same_thread=False)
            self._local.db = conn
        return conn

    def search_chunks(self, vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        """The n chunks nearest to a query vector, as (chunk id, cosine)."""
        n = min(n, self.faiss.ntotal)
        if n <= 0:
            return []
        scores, ids = self.faiss.search(vector.reshape(1, -1).astype(np.float32), n, params=self.search_params(n))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def search_params(self, n: int, selector: faiss.IDSelector | None = None) -> faiss.SearchParameters:
        """Search parameters for this index type: the HNSW beam must be at least as wide as n."""
        if self.manifest["faiss"]["type"] == "IndexHNSWFlat":
            return faiss.SearchParametersHNSW(sel=selector, efSearch=max(n, self.manifest["faiss"]["efSearch"]))
        return faiss.SearchParameters(sel=selector)

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
            r[0]: ArticleMeta(*r[:8], json.loads(r[8]), r[9])
            for r in self._in("SELECT id, title, outlet, published, url, place, source_path, extracted_from, "
                              "duplicate_paths, story_id FROM articles WHERE id IN ({})", list(ids))
        }

    def story_members(self, story_ids: Sequence[str]) -> dict[str, list[str]]:
        """Article ids of each story, oldest first."""
        members: dict[str, list[str]] = {}
        rows = self._in("SELECT story_id, id FROM articles WHERE story_id IN ({}) ORDER BY published, id",
                        list(story_ids))
        for story_id, article_id in rows:
            members.setdefault(story_id, []).append(article_id)
        return members

    def sources(self) -> dict[str, set[str]]:
        """Article ids by the source path they were read from."""
        out: dict[str, set[str]] = {}
        for path, article_id in self.db.execute("SELECT source_path, id FROM articles"):
            out.setdefault(path, set()).add(article_id)
        return out

    def layouts(self, article_ids: Sequence[str]) -> dict[str, ArticleLayout]:
        """Sentences, chunks and vectors of articles already indexed, for reuse by the next build."""
        layouts: dict[str, ArticleLayout] = {}
        sentence_rows = list(self._in(
            "SELECT article_id, id, start, end FROM sentences WHERE article_id IN ({}) ORDER BY id", article_ids))
        chunk_rows = list(self._in(
            "SELECT article_id, id, ordinal, start, end, first_sentence, last_sentence FROM chunks "
            "WHERE article_id IN ({}) ORDER BY id", article_ids))
        if not sentence_rows or not chunk_rows:
            return layouts
        chunk_vectors = self.faiss.reconstruct_batch(np.array([r[1] for r in chunk_rows], dtype=np.int64))
        sentence_vectors = self.vectors_of([r[1] for r in sentence_rows])
        first_sentence: dict[str, int] = {}
        for row_no, (article_id, sid, start, end) in enumerate(sentence_rows):
            layout = layouts.setdefault(article_id, ArticleLayout([], [], [], []))
            first_sentence.setdefault(article_id, sid)
            layout.spans.append(Span(start, end))
            layout.sentence_vectors.append(sentence_vectors[row_no])
        for row_no, (article_id, _, ordinal, start, end, first, last) in enumerate(chunk_rows):
            base = first_sentence[article_id]
            layouts[article_id].chunks.append(Chunk(article_id, ordinal, start, end, first - base, last - base))
            layouts[article_id].chunk_vectors.append(chunk_vectors[row_no])
        return layouts

    def article_text(self, article_id: str) -> str | None:
        """The cleaned text of one article, which every offset refers to."""
        row = self.db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def texts(self, ids: Sequence[str]) -> dict[str, str]:
        """Cleaned texts by article id."""
        return dict(self._in("SELECT id, text FROM articles WHERE id IN ({})", list(ids)))

    def article_ids(self) -> list[str]:
        """Ids of every stored article."""
        return [r[0] for r in self.db.execute("SELECT id FROM articles")]

    def outlets(self) -> list[tuple[str, int]]:
        """Outlets with their article counts, most first."""
        return list(self.db.execute(
            "SELECT outlet, COUNT(*) FROM articles WHERE outlet IS NOT NULL GROUP BY outlet ORDER BY 2 DESC, 1"))

    def filtered_chunk_ids(self, where: str, params: Sequence) -> np.ndarray:
        """Ids of the chunks whose article satisfies a SQL condition on `articles a`."""
        rows = self.db.execute(f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {where}",
                               list(params))
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def search_chunks_within(self, vector: np.ndarray, n: int, allowed: np.ndarray) -> list[tuple[int, float]]:
        """The n chunks nearest to a query vector among the allowed chunk ids, as (chunk id, cosine)."""
        n = min(n, len(allowed))
        if n <= 0:
            return []
        params = self.search_params(n, faiss.IDSelectorBatch(allowed))
        scores, ids = self.faiss.search(vector.reshape(1, -1).astype(np.float32), n, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def chunk_vectors(self, ids: Sequence[int]) -> np.ndarray:
        """Stored chunk vectors, rows in the order given."""
        if not len(ids):
            return np.zeros((0, self.faiss.d), dtype=np.float32)
        return self.faiss.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def search_lexical_where(
        self, match: str, n: int, title_weight: float, where: str = "1", params: Sequence = ()
    ) -> list[tuple[int, float]]:
        """The n chunks best matching an FTS5 expression whose article satisfies `where` on `articles a`."""
        rows = self.db.execute(
            "SELECT chunk_fts.rowid, -bm25(chunk_fts, ?, 1.0) AS s FROM chunk_fts "
            "JOIN chunks c ON c.id = chunk_fts.rowid JOIN articles a ON a.id = c.article_id "
            f"WHERE chunk_fts MATCH ? AND ({where}) ORDER BY s DESC LIMIT ?",
            [title_weight, match, *params, n],
        )
        return [(int(r), float(s)) for r, s in rows]

    def lexical_scores(self, match: str, chunk_ids: Sequence[int], title_weight: float) -> dict[int, float]:
        """BM25 scores (higher is better) of the given chunks for an FTS5 expression; non-matching ones are absent."""
        rows = self._matching(match, chunk_ids, "-bm25(chunk_fts, ?, 1.0)", [title_weight])
        return {int(r): float(s) for r, s in rows}

    def highlighted_bodies(self, match: str, chunk_ids: Sequence[int]) -> list[tuple[int, str]]:
        """Chunk bodies with every token the FTS5 expression matched wrapped in \\x02 … \\x03."""
        rows = self._matching(match, chunk_ids, "highlight(chunk_fts, 1, char(2), char(3))", [])
        return [(int(r), str(b)) for r, b in rows]

    def _matching(self, match: str, chunk_ids: Sequence[int], column: str, column_params: list) -> Iterator[tuple]:
        """(rowid, column) of the given chunks that match an FTS5 expression, in batches."""
        ids = list(chunk_ids)
        for i in range(0, len(ids), 900):
            batch = ids[i : i + 900]
            yield from self.db.execute(
                f"SELECT rowid, {column} FROM chunk_fts WHERE chunk_fts MATCH ? "
                f"AND rowid IN ({','.join('?' * len(batch))})",
                [*column_params, match, *batch],
            )

    def article_chunks(self, article_ids: Sequence[str]) -> list[StoredChunk]:
        """Every chunk of the given articles."""
        return [StoredChunk(*r) for r in self._in(
            "SELECT id, article_id, start, end, first_sentence, last_sentence FROM chunks WHERE article_id IN ({})",
            list(article_ids))]

    def sentences_of(self, article_ids: Sequence[str]) -> list[StoredSentence]:
        """Every sentence of the given articles, in id order."""
        return sorted((StoredSentence(*r) for r in self._in(
            "SELECT id, article_id, ordinal, start, end FROM sentences WHERE article_id IN ({})", list(article_ids))),
            key=lambda s: s.id)

    def newest_published(self) -> str | None:
        """The latest full YYYY-MM-DD publication date in the index."""
        return self.db.execute(
            "SELECT MAX(substr(published, 1, 10)) FROM articles WHERE published GLOB '[0-9][0-9][0-9][0-9]-*'"
        ).fetchone()[0]

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
