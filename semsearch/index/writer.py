"""Writing one new index version beside the served one, and publishing it atomically."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

from ..records import Article, Chunk, Span
from .format import (
    CHUNK_VECTORS,
    FORMAT_VERSION,
    INPUTS,
    META_DB,
    SCHEMA,
    SENTENCE_METHOD,
    SENTENCE_VECTORS,
    VECTOR_PRECISION,
    BuildLocked,
    Counts,
    Manifest,
    MatrixFile,
)
from .layout import LayoutWriter
from .lexical import FILES as LEXICAL_FILES
from .lexical import LexiconWriter
from .vectors import (
    ChunkFilterFields,
    VectorConfig,
    VectorStore,
    VectorStoreUnavailable,
    collection_name,
    create,
    drop_version,
    home_key,
)
from .versions import (
    collect_garbage,
    fsync_dir,
    new_version_name,
    set_current,
    sha256,
    write_stamp,
)

log = logging.getLogger(__name__)


BUILD_LOCK = ".build.lock"


def build_running(home: Path) -> bool:
    """Whether a build holds the home's build lock now (another may take it a moment later: a build checks
    again when it starts)."""
    if not (Path(home) / BUILD_LOCK).exists():
        return False
    lock_file = _take_build_lock(Path(home))
    if lock_file is None:
        return True
    fcntl.flock(lock_file, fcntl.LOCK_UN)
    lock_file.close()
    return False


def _take_build_lock(home: Path) -> TextIO | None:
    """The home's build lock file, locked for this process; None when another build holds it."""
    lock_file = (home / BUILD_LOCK).open("a+")
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.close()
        return None
    return lock_file


class IndexWriter:
    """Writes one new index version beside the served one and publishes it atomically.

    Articles go in with `add` as many times as needed (ids continue), so an archive never has to
    fit in memory; `finish` writes the manifest and `publish` switches CURRENT to the new version.
    """

    def __init__(
        self, home: Path, model_name: str, dimension: int, keep_versions: int = 2, vectors: VectorConfig | None = None
    ) -> None:
        self.home = Path(home)
        self.model_name = model_name
        self.dimension = dimension
        self.keep_versions = keep_versions
        self.config = vectors or VectorConfig()
        self.name = new_version_name(self.home)
        self.versions = self.home / "versions"
        self.partial = self.versions / f".partial-{self.name}"
        self._lock_file: TextIO | None = None
        self._store: VectorStore | None = None
        self._lexicon = LexiconWriter()
        self._layout = LayoutWriter()
        self._db: sqlite3.Connection | None = None
        self._published = False
        self._chunks = self._sentences = self._articles = 0
        self._article_ids: list[str] = []

    def __enter__(self) -> IndexWriter:
        self.versions.mkdir(parents=True, exist_ok=True)
        lock_file = _take_build_lock(self.home)
        if lock_file is None:
            raise BuildLocked(f"another build is running on {self.home}")
        self._lock_file = lock_file
        for stale in self.versions.glob(".partial-*"):  # left by a crashed or killed build
            log.info("removing partial build %s", stale.name)
            shutil.rmtree(stale, ignore_errors=True)
            if self.config.backend == "milvus":
                drop_version(
                    {
                        "backend": "milvus",
                        "collection": collection_name(home_key(self.home), stale.name.removeprefix(".partial-")),
                    },
                    self.config,
                )
        self.partial.mkdir()
        self._store = create(self.config, self.partial, self.name, home_key(self.home), self.dimension)
        self._db = sqlite3.connect(self.partial / META_DB)
        self._db.executescript(SCHEMA)
        return self

    def _open_db(self) -> sqlite3.Connection:
        """The new version's metadata database, open from __enter__ until finish."""
        if self._db is None:
            raise RuntimeError("IndexWriter takes articles only inside its with block and before finish()")
        return self._db

    def _open_store(self) -> VectorStore:
        """The new version's vector store, created in __enter__."""
        if self._store is None:
            raise RuntimeError("IndexWriter has no vector store outside its with block")
        return self._store

    def __exit__(self, *exc_info: object) -> None:
        if self._db is not None:
            self._db.close()
        if not self._published and self._store is not None:
            with contextlib.suppress(VectorStoreUnavailable):
                self._store.drop()
        if self._store is not None:
            self._store.close()
        if self.partial.exists():
            shutil.rmtree(self.partial, ignore_errors=True)
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()

    def add(
        self,
        articles: Sequence[Article],
        sentences: Sequence[Sequence[Span]],
        chunks: Sequence[Sequence[Chunk]],
        chunk_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        story_ids: Sequence[str],
    ) -> None:
        """Append articles with their sentences, chunks and vectors (rows in article order)."""
        n_chunks, n_sentences = sum(map(len, chunks)), sum(map(len, sentences))
        if len(chunk_vectors) != n_chunks or len(sentence_vectors) != n_sentences:
            raise ValueError("vector counts do not match the chunks and sentences given")
        db, store = self._open_db(), self._open_store()
        chunk_base, sentence_base = self._chunks, self._sentences
        filter_fields: list[ChunkFilterFields] = []
        lexical: list[str] = []
        every_chunk: list[tuple] = []  # the chunk rows of all these articles
        with db:
            for row, (article, spans, article_chunks, story_id) in enumerate(
                zip(articles, sentences, chunks, story_ids, strict=True), start=self._articles
            ):
                db.execute(
                    "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        article.id,
                        article.title,
                        article.outlet,
                        article.published,
                        article.url,
                        article.place,
                        article.source_path,
                        article.extracted_from,
                        json.dumps(article.duplicate_paths),
                        article.text,
                        story_id,
                        row,
                    ),
                )
                db.executemany(
                    "INSERT INTO sentences VALUES (?,?,?,?,?)",
                    [(sentence_base + i, article.id, i, s.start, s.end) for i, s in enumerate(spans)],
                )
                chunk_rows = []
                fields = ChunkFilterFields(article.id, article.outlet, article.place, article.published)
                for chunk in article_chunks:
                    chunk_rows.append(
                        (
                            chunk_base,
                            article.id,
                            chunk.ordinal,
                            chunk.start,
                            chunk.end,
                            sentence_base + chunk.first_sentence,
                            sentence_base + chunk.last_sentence,
                        )
                    )
                    lexical.append(f"{article.title}\n{article.text[chunk.start : chunk.end]}")
                    filter_fields.append(fields)
                    chunk_base += 1
                db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?)", chunk_rows)
                every_chunk.extend(chunk_rows)
                sentence_base += len(spans)
                self._article_ids.append(article.id)
        self._lexicon.add(lexical)
        self._layout.add(
            [a.id for a in articles],
            story_ids,
            [len(c) for c in chunks],
            [len(s) for s in sentences],
            [r[3:5] for r in every_chunk],
            [r[5:7] for r in every_chunk],
            [(s.start, s.end) for spans in sentences for s in spans],
            [a.text[s.start : s.end] for a, spans in zip(articles, sentences, strict=True) for s in spans],
            self._articles,
        )
        store.add(np.arange(self._chunks, chunk_base, dtype=np.int64), chunk_vectors, filter_fields)
        with (self.partial / SENTENCE_VECTORS).open("ab") as fh:
            fh.write(np.ascontiguousarray(sentence_vectors, dtype=np.float16).tobytes())
        if self.config.backend != "faiss":
            with (self.partial / CHUNK_VECTORS).open("ab") as fh:
                fh.write(np.ascontiguousarray(chunk_vectors, dtype=np.float32).tobytes())
        self._chunks, self._sentences = chunk_base, sentence_base
        self._articles += len(articles)

    def replaced(self, current_ids: Mapping[str, str]) -> None:
        """Record the earlier ids of edited articles with the id of each one's current version."""
        with self._open_db() as db:
            db.executemany("INSERT INTO replaced VALUES (?, ?)", sorted(current_ids.items()))

    def finish(
        self,
        sources: Sequence[str],
        chunk_tokens: int | None,
        made: tuple[str, str] | None = None,
        notes: dict | None = None,
        inputs: str | None = None,
    ) -> None:
        """Compact the metadata, build the vector index and write the manifest; `made` is how the build made its
        vectors (sentence method and vector precision), `inputs` the digest of what it was made from, `notes`
        anything else a tool records of the version."""
        db, store = self._open_db(), self._open_store()
        self._db = None
        db.commit()
        db.execute("VACUUM")
        db.close()
        self._lexicon.write(self.partial)
        self._lexicon = LexiconWriter()  # its postings take gigabytes at a million chunks
        layout_files = self._layout.write(self.partial)
        (self.partial / SENTENCE_VECTORS).touch()
        entry = store.publish()
        local_chunks = self.config.backend != "faiss"
        if local_chunks:
            (self.partial / CHUNK_VECTORS).touch()
        files = (
            [META_DB, SENTENCE_VECTORS, *LEXICAL_FILES, *layout_files]
            + ([entry["file"]] if "file" in entry else [])
            + ([CHUNK_VECTORS] if local_chunks else [])
        )
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            model=self.model_name,
            dimension=self.dimension,
            version=self.name,
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            counts=Counts(
                articles=self._articles,
                chunks=self._chunks,
                sentences=self._sentences,
                stories=len(self._layout.story_numbers),
            ),
            corpus_fingerprint=hashlib.sha256("".join(sorted(self._article_ids)).encode()).hexdigest(),
            vectors=entry,
            sentence_vectors=MatrixFile(SENTENCE_VECTORS, "float16", (self._sentences, self.dimension)),
            chunk_vectors=MatrixFile(CHUNK_VECTORS, "float32", (self._chunks, self.dimension))
            if local_chunks
            else None,
            files={name: sha256(self.partial / name) for name in files},
            sources=list(sources),
            chunk_tokens=chunk_tokens,
            notes=(notes or {})
            | ({SENTENCE_METHOD: made[0], VECTOR_PRECISION: made[1]} if made else {})
            | ({INPUTS: inputs} if inputs else {}),
        )
        manifest.write(self.partial)
        write_stamp(self.partial, files)  # the checksums were just computed from these very files

    def publish(self) -> Path:
        """Move the finished version into place, then switch CURRENT to it in one rename."""
        final = self.versions / self.name
        for path in self.partial.iterdir():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
        os.rename(self.partial, final)
        fsync_dir(self.versions)
        set_current(self.home, self.name)
        self._published = True
        collect_garbage(self.home, self.keep_versions, self.name, self.config)
        return final
