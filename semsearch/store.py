"""The index: SQLite metadata + sentence vectors + chunk vectors (FAISS or Milvus), in atomically published versions.

Layout of an index home::

    CURRENT                 name of the version being served (replaced atomically)
    bad/<name>              a version found damaged while serving, with the reason; servers skip it.
                            Kept outside the version so its files stay exactly as built (and checksummed)
    versions/<name>/        manifest.json, meta.sqlite, sentences.f16, chunks.faiss (FAISS) or chunks.f32 (Milvus),
                            the BM25 index (lexicon.sqlite, postings.i32, impacts.f32, toplists.i32),
                            and layout.*.npy (where each article's chunks and sentences are, as arrays)
    versions/.partial-*     a build in progress; removed by the next build if left by a crash
    cache/embeddings.sqlite vectors by content hash, so rebuilds embed only new text

With the Milvus backend a version's chunk vectors are a collection on the server instead of
chunks.faiss; everything else stays on disk, and the version is published the same way.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import json
import logging
import mmap
import os
import re
import shutil
import sqlite3
import threading
import time
import uuid
from functools import lru_cache
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Settings
from .lexical import FILES as LEXICAL_FILES, Lexicon, LexiconWriter, thread_connection
from .models import Article, Chunk, Filters, Span
from .sentences import LEANS, PRONOUN_SHIFT, PRONOUNS, USABLE, analyse
from .vectorstore import (
    ChunkFacts, VectorConfig, VectorStore, VectorStoreUnavailable, collection_name, create, drop_version,
    home_key, open_store,
)

log = logging.getLogger(__name__)

FORMAT_VERSION = 5  # 4: BM25 in semsearch's own inverted index instead of FTS5; 5: the columnar layout
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
META_DB = "meta.sqlite"
SENTENCE_VECTORS = "sentences.f16"
# With a server backend, a local copy of chunk vectors: fusion reads hundreds per query, which a
# memory-mapped file serves in microseconds and a server round trip in tens of milliseconds.
CHUNK_VECTORS = "chunks.f32"
VERIFIED = ".verified"  # stamp of the files as they were when last checked in full
BAD = "bad"  # versions found damaged while serving, one file each (see the module docstring)
# What _version_name makes: UTC time to the microsecond, then one or more random suffixes. Nothing else
# names a version, so CURRENT can never point outside versions/ (no "..", no "/", no absolute path).
VERSION_NAME = re.compile(r"[0-9]{8}T[0-9]{12}(?:-[0-9a-z]{6})+")
# SQLite's primary result codes for a damaged file (a malformed page, not a database, a read error).
_DAMAGE_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_IOERR}
_META_COLUMNS = "id, title, outlet, published, url, place, source_path, extracted_from, duplicate_paths, story_id"

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, outlet TEXT, published TEXT, url TEXT, place TEXT,
    source_path TEXT NOT NULL, extracted_from TEXT, duplicate_paths TEXT NOT NULL, text TEXT NOT NULL,
    story_id TEXT NOT NULL, row INTEGER NOT NULL  -- its row in the layout arrays
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
CREATE INDEX articles_by_outlet ON articles(outlet);
"""


class _PublicMessage:
    """An index error whose str() is for logs and the CLI (paths, library detail), with public_message for
    anyone else: a web client must not learn where the index lives or what reads it."""

    public_message = "the index cannot be served"

    def __init__(self, message: str, public_message: str | None = None) -> None:
        super().__init__(message)
        if public_message is not None:
            self.public_message = public_message


class IndexMissing(_PublicMessage, FileNotFoundError):
    """No published index exists at the given home."""

    public_message = "no index has been built yet"


class IndexIncompatible(_PublicMessage, RuntimeError):
    """The index was built by another model or format version."""

    public_message = "the index was built by another version of semsearch and must be rebuilt"


class IndexUnavailable(IndexMissing):
    """The version exists but its vector backend cannot be reached; worth retrying later."""

    public_message = "the index is unavailable for now; try again shortly"


class IndexCorrupt(IndexIncompatible):
    """A version's files do not match the checksums in its manifest, or fail when read."""

    public_message = "the index version is damaged; try again shortly"


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


# The query path's read model: which chunks and sentences each article has and where they lie, as
# memory-mapped arrays. SQLite holds the same facts for everything else; building hundreds of row objects
# per query from it took ~10 ms at a million chunks, where array lookups take microseconds.
LAYOUT_FILES = {
    "article_ids": "layout.article_ids.npy",  # bytes, by article row (the order articles were added)
    "article_stories": "layout.article_stories.npy",  # int32 story number per article row
    "article_chunks": "layout.article_chunks.npy",  # int64, rows + 1: article r has chunks [b[r], b[r + 1])
    "article_sentences": "layout.article_sentences.npy",  # int64, rows + 1: the same for sentence ids
    "chunk_articles": "layout.chunk_articles.npy",  # int32 article row per chunk id
    "chunk_spans": "layout.chunk_spans.npy",  # int32 (start, end) in the article text per chunk id
    "chunk_sentences": "layout.chunk_sentences.npy",  # int64 (first, last) sentence id per chunk id
    "sentence_spans": "layout.sentence_spans.npy",  # int32 (start, end) in the article text per sentence id
    # What the brief needs of each sentence (semsearch.sentences), found once at build time:
    "sentence_flags": "layout.sentence_flags.npy",  # uint8 per sentence id
    "sentence_words": "layout.sentence_words.npy",  # uint16 word count per sentence id
    "sentence_terms": "layout.sentence_terms.npy",  # uint32 word ids, sentence after sentence
    "sentence_term_bounds": "layout.sentence_term_bounds.npy",  # int64, sentences + 1
    "sentence_figures": "layout.sentence_figures.npy",  # uint32 figure hashes, sentence after sentence
    "sentence_figure_bounds": "layout.sentence_figure_bounds.npy",  # int64, sentences + 1
}
_BOUNDS = ("article_chunks", "article_sentences", "sentence_term_bounds", "sentence_figure_bounds")


class _LayoutWriter:
    """Collects the layout arrays while articles are added, in slices, and writes them at the end."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {name: [] for name in LAYOUT_FILES}
        self.story_numbers: dict[str, int] = {}

    def add(self, article_ids: Sequence[str], story_ids: Sequence[str], chunk_counts: Sequence[int],
            sentence_counts: Sequence[int], chunk_spans: Sequence[tuple[int, int]],
            chunk_sentences: Sequence[tuple[int, int]], sentence_spans: Sequence[tuple[int, int]],
            sentence_texts: Sequence[str], first_row: int) -> None:
        """One slice of articles, in the order they were added."""
        parts = self.parts
        facts = analyse(sentence_texts)
        for name, array in (("sentence_flags", facts.flags), ("sentence_words", facts.words),
                            ("sentence_terms", facts.terms), ("sentence_term_bounds", facts.term_counts),
                            ("sentence_figures", facts.figures), ("sentence_figure_bounds", facts.figure_counts)):
            parts[name].append(array)
        parts["article_ids"].append(np.asarray([a.encode() for a in article_ids], dtype=np.bytes_))
        parts["article_stories"].append(np.asarray(
            [self.story_numbers.setdefault(s, len(self.story_numbers)) for s in story_ids], dtype=np.int32))
        parts["article_chunks"].append(np.asarray(chunk_counts, dtype=np.int64))
        parts["article_sentences"].append(np.asarray(sentence_counts, dtype=np.int64))
        rows = np.arange(first_row, first_row + len(article_ids), dtype=np.int32)
        parts["chunk_articles"].append(np.repeat(rows, np.asarray(chunk_counts, dtype=np.int64)))
        parts["chunk_spans"].append(np.asarray(chunk_spans, dtype=np.int32).reshape(-1, 2))
        parts["chunk_sentences"].append(np.asarray(chunk_sentences, dtype=np.int64).reshape(-1, 2))
        parts["sentence_spans"].append(np.asarray(sentence_spans, dtype=np.int32).reshape(-1, 2))

    def write(self, folder: Path) -> list[str]:
        """Write every array as .npy; returns the file names."""
        for name, file in LAYOUT_FILES.items():
            parts = self.parts[name]
            if name in _BOUNDS:  # counts become bounds
                counts = np.concatenate(parts) if parts else np.zeros(0, np.int64)
                array = np.zeros(len(counts) + 1, np.int64)
                np.cumsum(counts, out=array[1:])
            elif parts:
                array = np.concatenate(parts)
            else:
                array = np.zeros((0, 2) if name.endswith(("spans", "chunk_sentences")) else 0,
                                 np.bytes_ if name == "article_ids" else np.int32)
            np.save(folder / file, array)
        return list(LAYOUT_FILES.values())


class Layout:
    """The layout arrays of one version, memory-mapped (see LAYOUT_FILES)."""

    def __init__(self, folder: Path) -> None:
        for name, file in LAYOUT_FILES.items():
            # A plain view of the map: np.memmap's own indexing adds Python work to every lookup.
            setattr(self, name, np.load(folder / file, mmap_mode="r").view(np.ndarray))
        self.article_ids: np.ndarray
        self.article_stories: np.ndarray
        self.article_chunks: np.ndarray
        self.article_sentences: np.ndarray
        self.chunk_articles: np.ndarray
        self.chunk_spans: np.ndarray
        self.chunk_sentences: np.ndarray
        self.sentence_spans: np.ndarray
        self.sentence_flags: np.ndarray
        self.sentence_words: np.ndarray
        self.sentence_terms: np.ndarray
        self.sentence_term_bounds: np.ndarray
        self.sentence_figures: np.ndarray
        self.sentence_figure_bounds: np.ndarray

    def ids(self, rows: np.ndarray) -> list[str]:
        """Article ids of article rows."""
        return [b.decode() for b in self.article_ids[rows].tolist()]

    def sentence_articles(self, sentence_ids: np.ndarray) -> np.ndarray:
        """The article row of each sentence id."""
        return np.searchsorted(self.article_sentences, sentence_ids, side="right") - 1


def ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every integer of the half-open ranges [lo, hi), concatenated, with the range number of each."""
    counts = np.maximum(hi - lo, 0)
    which = np.repeat(np.arange(len(lo)), counts)
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) if len(lo) else lo
    return starts + np.arange(len(which)), which


@dataclass(frozen=True, slots=True)
class SentenceFacts:
    """A stored sentence with what the brief needs of it, as found at build time (semsearch.sentences)."""

    sentence: StoredSentence
    words: int
    usable: bool
    leans: bool
    pronoun: str
    terms: np.ndarray  # word ids, distinct
    figures: tuple[int, ...]


def populate(array: np.ndarray) -> None:
    """Map every page of a memory-mapped array into this process now, so no query takes the faults."""
    base = array
    while base is not None and not isinstance(getattr(base, "_mmap", None), mmap.mmap):
        base = getattr(base, "base", None)
    if base is not None:
        # MADV_POPULATE_READ (Linux 5.14); elsewhere the pages are mapped on first touch, as before.
        with contextlib.suppress(OSError, ValueError):
            base._mmap.madvise(getattr(mmap, "MADV_POPULATE_READ", 22))


def to_float32(half: np.ndarray) -> np.ndarray:
    """float16 rows as float32, converted by the CPU's conversion instructions where ONNX Runtime is present.

    numpy converts float16 one element at a time: 1.8 ms for the ~1,600 sentence vectors of a query,
    where ONNX Runtime's Cast takes 0.1 ms. The values are the same; float16 to float32 is exact.
    """
    cast = _cast_session() if half.size >= 4096 else None
    if cast is None:
        return half.astype(np.float32)
    return cast.run(None, {"half": np.ascontiguousarray(half)})[0]


@lru_cache(maxsize=1)
def _cast_session():
    """An ONNX Runtime session that casts float16 to float32, or None where one cannot be made."""
    try:
        import onnxruntime
        from onnx import TensorProto, helper

        graph = helper.make_graph(
            [helper.make_node("Cast", ["half"], ["full"], to=TensorProto.FLOAT)], "to_float32",
            [helper.make_tensor_value_info("half", TensorProto.FLOAT16, None)],  # any shape
            [helper.make_tensor_value_info("full", TensorProto.FLOAT, None)],
        )
        # IR 8 / opset 17: what every ONNX Runtime the project allows can load, whatever onnx would stamp.
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # memory-bound: a second thread only adds a wake-up
        return onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - ONNX Runtime's own errors derive from Exception alone
        log.info("float16 vectors are converted by numpy (%s)", exc)
        return None


def vector_config(settings: Settings) -> VectorConfig:
    """The vector backend and its index parameters, from settings."""
    return VectorConfig(
        backend=settings.backend, ann_threshold=settings.ann_threshold, ann_index=settings.ann_index,
        ivf_nprobe=settings.ivf_nprobe, hnsw_m=settings.hnsw_m,
        hnsw_ef_construction=settings.hnsw_ef_construction, hnsw_ef_search=settings.hnsw_ef_search,
        milvus_uri=settings.milvus_uri,
        milvus_token=settings.milvus_token.get_secret_value() if settings.milvus_token else None,
    )


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


def _is_version(home: Path, name: str) -> bool:
    """True when name is a published version of home: a version name, a real folder (a symlink could lead anywhere)."""
    folder = Path(home) / "versions" / name
    return VERSION_NAME.fullmatch(name) is not None and folder.is_dir() and not folder.is_symlink()


def versions(home: Path) -> list[str]:
    """Names of the published versions on disk, newest first."""
    folder = Path(home) / "versions"
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if _is_version(home, p.name)), reverse=True)


def set_current(home: Path, name: str) -> None:
    """Point CURRENT at a version in one atomic rename, durable before it returns."""
    home = Path(home)
    if not _is_version(home, name):
        raise ValueError(f"{name!r} is not a version in {home}")
    pointer = home / f".{CURRENT}.{name}.tmp"
    with pointer.open("w", encoding="utf-8") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pointer, home / CURRENT)
    _fsync_dir(home)


def _stamp(version_dir: Path, names: Sequence[str]) -> dict[str, list[int]]:
    """Size, modification time and inode of each file: what any rewrite, copy or truncation changes."""
    out = {}
    for name in names:
        with contextlib.suppress(OSError):
            st = (version_dir / name).stat()
            out[name] = [st.st_size, st.st_mtime_ns, st.st_ino]
    return out


def _write_stamp(version_dir: Path, names: Sequence[str]) -> None:
    """Record that these files were just checked (best effort: a read-only index simply re-checks)."""
    with contextlib.suppress(OSError):
        (version_dir / VERIFIED).write_text(json.dumps(_stamp(version_dir, names)), "utf-8")


def verify(version_dir: Path, vectors: VectorConfig | None = None, trust_stamp: bool = False) -> list[str]:
    """Problems in a version's files (checksums) and Milvus collection (row count); empty when intact.

    With trust_stamp, files unchanged (size, mtime, inode) since their last full check are not hashed
    again: a server's cold start at a million chunks would otherwise read every byte of the index.
    """
    try:
        manifest = json.loads((version_dir / MANIFEST).read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return [f"{MANIFEST}: unreadable ({exc})"]
    problems = []
    entry = manifest.get("vectors") or {}
    if vectors is not None and entry.get("backend") == "milvus":
        try:
            store = open_store(entry, version_dir, vectors, lambda _: np.zeros(0, dtype=np.int64))
            if (found := store.count()) != manifest["counts"]["chunks"]:
                problems.append(f"collection {entry['collection']}: {found} vectors, manifest says "
                                f"{manifest['counts']['chunks']}")
            store.close()
        except VectorStoreUnavailable as exc:
            problems.append(f"collection {entry['collection']}: {exc}")
    files = manifest.get("files", {})
    if trust_stamp and files:
        with contextlib.suppress(OSError, json.JSONDecodeError):
            if json.loads((version_dir / VERIFIED).read_text("utf-8")) == _stamp(version_dir, list(files)):
                return problems
    for name, expected in files.items():
        path = version_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif _sha256(path) != expected:
            problems.append(f"{name}: checksum mismatch (corrupt or changed)")
    if not problems:
        _write_stamp(version_dir, list(files))
    return problems


def _pointer(home: Path) -> tuple[str | None, str | None]:
    """The version CURRENT names, or None and what is wrong with CURRENT (said without its content or paths)."""
    try:
        name = (Path(home) / CURRENT).read_text("utf-8").strip()
    except FileNotFoundError:
        return None, f"{CURRENT} is missing"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{CURRENT} is unreadable ({exc.__class__.__name__})"
    if not name:
        return None, f"{CURRENT} is empty"
    if not _is_version(home, name):
        return None, f"{CURRENT} does not name a version of this index"
    return name, None


def pointer_problem(home: Path) -> str | None:
    """What is wrong with CURRENT (missing, empty, not a version of this home), or None when it can be followed."""
    return _pointer(home)[1]


def current_version(home: Path) -> str | None:
    """Name of the version CURRENT points at, or None when it is missing or names none (see pointer_problem)."""
    return _pointer(home)[0]


def bad_versions(home: Path) -> dict[str, str]:
    """Versions marked damaged while serving, with the reason."""
    folder = Path(home) / BAD
    with contextlib.suppress(OSError):
        return {p.name: p.read_text("utf-8", errors="replace").strip() for p in folder.iterdir()
                if VERSION_NAME.fullmatch(p.name)}
    return {}


def mark_bad(home: Path, name: str, reason: str) -> None:
    """Record that a version was found damaged, so no server picks it again (rollback --to clears it)."""
    folder = Path(home) / BAD
    folder.mkdir(exist_ok=True)
    partial = folder / f".{name}.{uuid.uuid4().hex}.tmp"
    partial.write_text(reason + "\n", "utf-8")
    os.replace(partial, folder / name)


def clear_bad(home: Path, name: str) -> None:
    """Forget a version's damage mark (it was removed, or checked in full again)."""
    with contextlib.suppress(FileNotFoundError):
        (Path(home) / BAD / name).unlink()


def is_damage(exc: BaseException) -> bool:
    """True for an error that means a version's files are damaged, rather than a bug or a passing condition."""
    if isinstance(exc, IndexCorrupt):
        return True
    if isinstance(exc, sqlite3.DatabaseError):
        return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _DAMAGE_CODES
    return isinstance(exc, OSError) and exc.errno == errno.EIO


def served_manifest(home: Path) -> dict | None:
    """The served version's manifest as written, whatever its format (None before the first build)."""
    name = current_version(Path(home))
    if name is None:
        return None
    try:
        return json.loads((Path(home) / "versions" / name / MANIFEST).read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


class IndexWriter:
    """Writes one new index version beside the served one and publishes it atomically.

    Articles go in with `add` as many times as needed (ids continue), so an archive never has to
    fit in memory; `finish` writes the manifest and `publish` switches CURRENT to the new version.
    """

    def __init__(self, home: Path, model_name: str, dimension: int, keep_versions: int = 2,
                 vectors: VectorConfig | None = None) -> None:
        self.home = Path(home)
        self.model_name = model_name
        self.dimension = dimension
        self.keep_versions = keep_versions
        self.config = vectors or VectorConfig()
        self.name = _version_name(self.home)
        self.versions = self.home / "versions"
        self.partial = self.versions / f".partial-{self.name}"
        self._lock_file = None
        self._store: VectorStore | None = None
        self._lexicon = LexiconWriter()
        self._layout = _LayoutWriter()
        self._db: sqlite3.Connection | None = None
        self._published = False
        self._chunks = self._sentences = self._articles = 0
        self._article_ids: list[str] = []

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
            if self.config.backend == "milvus":
                drop_version({"backend": "milvus", "collection": collection_name(
                    home_key(self.home), stale.name.removeprefix(".partial-"))}, self.config)
        self.partial.mkdir()
        self._store = create(self.config, self.partial, self.name, home_key(self.home), self.dimension)
        self._db = sqlite3.connect(self.partial / META_DB)
        self._db.executescript(SCHEMA)
        return self

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
        db = self._db
        chunk_base, sentence_base = self._chunks, self._sentences
        facts: list[ChunkFacts] = []
        lexical: list[str] = []
        every_chunk: list[tuple] = []  # the chunk rows of all these articles
        with db:
            for row, (article, spans, article_chunks, story_id) in enumerate(
                    zip(articles, sentences, chunks, story_ids, strict=True), start=self._articles):
                db.execute(
                    "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (article.id, article.title, article.outlet, article.published, article.url, article.place,
                     article.source_path, article.extracted_from, json.dumps(article.duplicate_paths), article.text,
                     story_id, row),
                )
                db.executemany(
                    "INSERT INTO sentences VALUES (?,?,?,?,?)",
                    [(sentence_base + i, article.id, i, s.start, s.end) for i, s in enumerate(spans)],
                )
                chunk_rows = []
                fact = ChunkFacts(article.id, article.outlet, article.place, article.published)
                for chunk in article_chunks:
                    chunk_rows.append((chunk_base, article.id, chunk.ordinal, chunk.start, chunk.end,
                                       sentence_base + chunk.first_sentence, sentence_base + chunk.last_sentence))
                    lexical.append(f"{article.title}\n{article.text[chunk.start : chunk.end]}")
                    facts.append(fact)
                    chunk_base += 1
                db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?)", chunk_rows)
                every_chunk.extend(chunk_rows)
                sentence_base += len(spans)
                self._article_ids.append(article.id)
        self._lexicon.add(lexical)
        self._layout.add([a.id for a in articles], story_ids, [len(c) for c in chunks], [len(s) for s in sentences],
                         [r[3:5] for r in every_chunk], [r[5:7] for r in every_chunk],
                         [(s.start, s.end) for spans in sentences for s in spans],
                         [a.text[s.start : s.end] for a, spans in zip(articles, sentences) for s in spans], self._articles)
        self._store.add(np.arange(self._chunks, chunk_base, dtype=np.int64), chunk_vectors, facts)
        with (self.partial / SENTENCE_VECTORS).open("ab") as fh:
            fh.write(np.ascontiguousarray(sentence_vectors, dtype=np.float16).tobytes())
        if self.config.backend != "faiss":
            with (self.partial / CHUNK_VECTORS).open("ab") as fh:
                fh.write(np.ascontiguousarray(chunk_vectors, dtype=np.float32).tobytes())
        self._chunks, self._sentences = chunk_base, sentence_base
        self._articles += len(articles)

    def finish(self, extra: dict | None = None) -> None:
        """Compact the metadata, build the vector index and write the manifest."""
        db, self._db = self._db, None
        db.commit()
        db.execute("VACUUM")
        db.close()
        self._lexicon.write(self.partial)
        self._lexicon = LexiconWriter()  # its postings take gigabytes at a million chunks
        layout_files = self._layout.write(self.partial)
        (self.partial / SENTENCE_VECTORS).touch()
        entry = self._store.publish()
        local_chunks = self.config.backend != "faiss"
        if local_chunks:
            (self.partial / CHUNK_VECTORS).touch()
        files = ([META_DB, SENTENCE_VECTORS, *LEXICAL_FILES, *layout_files] + ([entry["file"]] if "file" in entry else [])
                 + ([CHUNK_VECTORS] if local_chunks else []))
        manifest = {
            "format_version": FORMAT_VERSION,
            "model": self.model_name,
            "dimension": self.dimension,
            "version": self.name,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "counts": {"articles": self._articles, "chunks": self._chunks, "sentences": self._sentences,
                       "stories": len(self._layout.story_numbers)},
            "corpus_fingerprint": hashlib.sha256("".join(sorted(self._article_ids)).encode()).hexdigest(),
            "vectors": entry,
            "sentence_vectors": {"file": SENTENCE_VECTORS, "dtype": "float16",
                                 "shape": [self._sentences, self.dimension]},
            **({"chunk_vectors": {"file": CHUNK_VECTORS, "dtype": "float32", "shape": [self._chunks, self.dimension]}}
               if local_chunks else {}),
            "files": {name: _sha256(self.partial / name) for name in files},
            **(extra or {}),
        }
        (self.partial / MANIFEST).write_text(json.dumps(manifest, indent=2), "utf-8")
        _write_stamp(self.partial, files)  # the checksums were just computed from these very files

    def publish(self) -> Path:
        """Move the finished version into place, then switch CURRENT to it in one rename."""
        final = self.versions / self.name
        for path in self.partial.iterdir():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
        os.rename(self.partial, final)
        _fsync_dir(self.versions)
        set_current(self.home, self.name)
        self._published = True
        self._collect_garbage()
        return final

    def _collect_garbage(self) -> None:
        """Keep the newest keep_versions versions (the current one always), for rollback."""
        for old in versions(self.home)[self.keep_versions :]:
            if old != self.name:
                remove_version(self.home, old, self.config)


def remove_version(home: Path, name: str, config: VectorConfig) -> None:
    """Delete a version's folder and whatever its vectors keep on a server."""
    folder = Path(home) / "versions" / name
    with contextlib.suppress(OSError, json.JSONDecodeError, KeyError):
        drop_version(json.loads((folder / MANIFEST).read_text("utf-8"))["vectors"], config)
    shutil.rmtree(folder, ignore_errors=True)
    clear_bad(home, name)


def _available_memory() -> int:
    """Bytes of memory the kernel could give without swapping (MemAvailable), or 0 when unknown."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        line = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemAvailable:"))
        return int(line.split()[1]) * 1024
    return 0


def no_index(home: Path) -> IndexMissing:
    """The error for a home with nothing to serve: no build yet, or a CURRENT that cannot be followed."""
    if not versions(home):
        return IndexMissing(f"no index at {home}: run `semsearch build` first")
    problem = pointer_problem(home) or f"{CURRENT} names no intact version"
    return IndexMissing(f"no index to serve at {home}: {problem}; see `semsearch verify`",
                        f"the index pointer cannot be followed: {problem}")


def _guarded(method: Callable) -> Callable:
    """An Index method whose damaged-file errors mark the version bad and become IndexCorrupt."""

    @functools.wraps(method)
    def read(self: Index, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.DatabaseError, OSError) as exc:
            if not is_damage(exc):
                raise
            self.damaged(f"{method.__name__}: {exc}")
            raise IndexCorrupt(f"index version {self.version} at {self.path} is damaged: {exc}",
                               f"index version {self.version} is damaged; try again shortly") from exc

    return read


class Index:
    """A published index version opened for reading; safe to share between threads."""

    def __init__(self, home: Path, expected_model: str, version: str | None = None, check: bool = False,
                 vectors: VectorConfig | None = None) -> None:
        self.home = Path(home)
        name = version or current_version(self.home)
        if name is None:
            raise no_index(self.home)
        self.path = self.home / "versions" / name
        if not _is_version(self.home, name):
            raise IndexMissing(f"no index version {name!r} in {self.home}", f"no index version {name!r}")
        if check and (problems := verify(self.path, trust_stamp=True)):
            raise IndexCorrupt(f"index version {name} failed verification: {'; '.join(problems)}",
                               f"index version {name} is damaged")
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
        self._local = threading.local()
        self._stop_reading = threading.Event()
        # A filtered query needs its chunk ids twice (the vector search and the lexical leg); a version never
        # changes, so recent answers are kept.
        self.filtered_chunk_ids = lru_cache(maxsize=8)(self._filtered_chunk_ids)
        entry = self.manifest.get("vectors") or {"backend": "faiss", **self.manifest["faiss"]}
        try:
            # Memory-mapped: a cold start reads only the pages a search touches.
            self.sentence_vectors = self._matrix("sentence_vectors")
            self._chunk_matrix = self._matrix("chunk_vectors") if "chunk_vectors" in self.manifest else None
            self.lexicon = Lexicon(self.path)
            self.layout = Layout(self.path)
            _cast_session()  # built now (~0.1 s) rather than inside the first query
            self.vectors = open_store(entry, self.path, vectors or VectorConfig(), self.filtered_chunk_ids)
        except VectorStoreUnavailable as exc:
            raise IndexUnavailable(f"index version {name}: {exc}") from None
        except (OSError, RuntimeError, ValueError, KeyError, sqlite3.Error) as exc:
            raise IndexCorrupt(f"index version {name} cannot be loaded: {exc}",
                               f"index version {name} cannot be loaded") from None
        self.damage: str | None = None  # why this version was found damaged while serving, once it was

    def damaged(self, reason: str) -> None:
        """Take note that this version's files failed when read, here and in the home's bad marks."""
        if self.damage is not None:
            return
        self.damage = reason
        log.error("index version %s is damaged (%s); marking it bad", self.version, reason)
        try:
            mark_bad(self.home, self.version, reason)
        except OSError as exc:  # a read-only home: this process still stops serving it
            log.warning("could not mark index version %s bad: %s", self.version, exc)

    def read_ahead(self) -> threading.Thread:
        """Read this version's files once in a background thread, so the OS page cache holds them.

        Every file is memory-mapped or read on demand; until the kernel has the pages, a first-seen
        question waits on disk (four times slower at a million chunks). The kernel only reads ahead a
        few megabytes on request (posix_fadvise), so the thread reads the files itself, in large blocks.
        """
        names = list(self.manifest.get("files", {}))
        size = sum((self.path / n).stat().st_size for n in names if (self.path / n).is_file())

        def run() -> None:
            if size > _available_memory() // 2:  # reading it would only push out what queries use
                log.info("index version %s (%.1f GB) is too large to read ahead", self.version, size / 1e9)
                return
            block = bytearray(4 << 20)
            for name in names:
                with contextlib.suppress(OSError), (self.path / name).open("rb", buffering=0) as fh:
                    while not self._stop_reading.is_set() and fh.readinto(block):
                        pass
            # Pages in the cache still fault on a process's first touch: 1,600 sentence vectors of fresh
            # questions took 2.4 ms that way at a million chunks, and 0.4 ms once mapped.
            for array in self._mapped():
                if not self._stop_reading.is_set():
                    populate(array)
            if not self._stop_reading.is_set():
                log.info("index version %s read into the page cache", self.version)

        thread = threading.Thread(target=run, name=f"read-ahead-{self.version}", daemon=True)
        thread.start()
        return thread

    def _mapped(self) -> list[np.ndarray]:
        """The memory-mapped arrays queries read."""
        lexicon = [self.lexicon.postings, self.lexicon.impacts, self.lexicon.top_lists]
        return [self.sentence_vectors, *lexicon, *vars(self.layout).values()] + (
            [self._chunk_matrix] if self._chunk_matrix is not None else [])

    def stop_read_ahead(self) -> None:
        """End a read-ahead in progress (a newer version is being served)."""
        self._stop_reading.set()

    @property
    def backend(self) -> str:
        """Which vector backend serves this version."""
        return self.vectors.backend

    def _matrix(self, key: str) -> np.ndarray:
        """A vector file named in the manifest, memory-mapped."""
        spec = self.manifest[key]
        if spec["shape"][0] == 0:  # numpy cannot map an empty file
            return np.zeros(spec["shape"], dtype=spec["dtype"])
        return np.memmap(self.path / spec["file"], dtype=spec["dtype"], mode="r",
                         shape=tuple(spec["shape"])).view(np.ndarray)

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's read-only connection to the metadata."""
        return thread_connection(self._local, self.path / META_DB)

    @_guarded
    def search_chunks(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """The n chunks nearest to a query vector among those passing the filters, as (chunk id, cosine)."""
        try:
            return self.vectors.search(vector, n, filters)
        except VectorStoreUnavailable as exc:
            raise IndexUnavailable(str(exc)) from None

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        """Chunk rows by id."""
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        layout = self.layout
        rows = layout.chunk_articles[ids]
        names = dict(zip(rows.tolist(), layout.ids(rows)))
        return {cid: StoredChunk(cid, names[row], start, end, first, last) for cid, row, (start, end), (first, last)
                in zip(ids.tolist(), rows.tolist(), layout.chunk_spans[ids].tolist(),
                       layout.chunk_sentences[ids].tolist())}

    def _sentences(self, ids: np.ndarray) -> list[StoredSentence]:
        """Sentence rows of stored sentence ids, in the order given."""
        layout = self.layout
        rows = layout.sentence_articles(ids)
        names = dict(zip(rows.tolist(), layout.ids(rows)))
        ordinals = ids - layout.article_sentences[rows]
        return [StoredSentence(i, names[row], ordinal, start, end) for i, row, ordinal, (start, end)
                in zip(ids.tolist(), rows.tolist(), ordinals.tolist(), layout.sentence_spans[ids].tolist())]

    def sentence_facts(self, ids: Iterable[int]) -> dict[int, SentenceFacts]:
        """Stored sentences among ids with their build-time facts, by id."""
        layout = self.layout
        ids = np.unique(np.fromiter(ids, dtype=np.int64))
        ids = ids[(ids >= 0) & (ids < len(layout.sentence_spans))]
        flags = layout.sentence_flags[ids].tolist()

        def ragged(values: np.ndarray, bounds: np.ndarray) -> list[np.ndarray]:
            lo, hi = bounds[ids], bounds[ids + 1]
            picked, _ = ranges(lo, hi)
            flat, ends = values[picked], np.cumsum(hi - lo).tolist()
            return [flat[a:b] for a, b in zip([0, *ends], ends)]  # np.split costs ~10 µs a piece

        return {
            s.id: SentenceFacts(s, words, bool(f & USABLE), bool(f & LEANS), PRONOUNS[f >> PRONOUN_SHIFT], terms,
                                tuple(figures.tolist()))
            for s, f, words, terms, figures in zip(
                self._sentences(ids), flags, layout.sentence_words[ids].tolist(),
                ragged(layout.sentence_terms, layout.sentence_term_bounds),
                ragged(layout.sentence_figures, layout.sentence_figure_bounds))
        }

    def sentence_spans(self, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """(start, end) of sentences by id."""
        ids = np.asarray(ids, dtype=np.int64)
        return dict(zip(ids.tolist(), map(tuple, self.layout.sentence_spans[ids].tolist())))

    @_guarded
    def article_sentences(self, article_id: str) -> list[StoredSentence]:
        """Every sentence of one article, in order."""
        rows = self.db.execute(
            "SELECT id, article_id, ordinal, start, end FROM sentences WHERE article_id = ? ORDER BY ordinal",
            (article_id,),
        )
        return [StoredSentence(*r) for r in rows]

    def vectors_of(self, sentence_ids: Sequence[int]) -> np.ndarray:
        """Stored sentence vectors as float32, rows in the order given."""
        return to_float32(self.sentence_vectors[np.asarray(sentence_ids, dtype=np.int64)])

    @_guarded
    def articles(self, ids: Sequence[str]) -> dict[str, ArticleMeta]:
        """Article metadata by id."""
        return {r[0]: ArticleMeta(*r[:8], json.loads(r[8]), r[9])
                for r in self._in(f"SELECT {_META_COLUMNS} FROM articles WHERE id IN ({{}})", list(ids))}

    @_guarded
    def stories_of(self, ids: Sequence[str]) -> dict[str, list[ArticleMeta]]:
        """Every article of the given articles' stories (themselves included), by story id, oldest first."""
        # One read for what took three (the articles, their stories' member ids, the members' metadata).
        stories: dict[str, dict[str, ArticleMeta]] = {}
        for r in self._in(f"SELECT {_META_COLUMNS} FROM articles WHERE story_id IN "
                          "(SELECT story_id FROM articles WHERE id IN ({})) ORDER BY published, id", list(ids)):
            stories.setdefault(r[9], {}).setdefault(r[0], ArticleMeta(*r[:8], json.loads(r[8]), r[9]))
        return {story: list(members.values()) for story, members in stories.items()}

    @_guarded
    def sources(self) -> dict[str, set[str]]:
        """Article ids by the source path they were read from."""
        out: dict[str, set[str]] = {}
        for path, article_id in self.db.execute("SELECT source_path, id FROM articles"):
            out.setdefault(path, set()).add(article_id)
        return out

    @_guarded
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
        chunk_vectors = self.chunk_vectors([r[1] for r in chunk_rows])
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

    @_guarded
    def article_text(self, article_id: str) -> str | None:
        """The cleaned text of one article, which every offset refers to."""
        row = self.db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    @_guarded
    def texts(self, ids: Sequence[str]) -> dict[str, str]:
        """Cleaned texts by article id."""
        return dict(self._in("SELECT id, text FROM articles WHERE id IN ({})", list(ids)))

    @_guarded
    def article_ids(self) -> list[str]:
        """Ids of every stored article."""
        return [r[0] for r in self.db.execute("SELECT id FROM articles")]

    @_guarded
    def outlets(self) -> list[tuple[str, int]]:
        """Outlets with their article counts, most first."""
        return list(self.db.execute(
            "SELECT outlet, COUNT(*) FROM articles WHERE outlet IS NOT NULL GROUP BY outlet ORDER BY 2 DESC, 1"))

    def _filtered_chunk_ids(self, filters: Filters) -> np.ndarray:
        """Ids of the chunks whose article passes the filters, ascending (read-only: callers share the array)."""
        where, params = filters.sql()
        rows = self.db.execute(f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {where}",
                               params)
        ids = np.sort(np.fromiter((r[0] for r in rows), dtype=np.int64))
        ids.setflags(write=False)
        return ids

    def chunk_vectors(self, ids: Sequence[int]) -> np.ndarray:
        """Stored chunk vectors, rows in the order given."""
        if self._chunk_matrix is not None:
            return np.asarray(self._chunk_matrix[np.asarray(ids, dtype=np.int64)], dtype=np.float32)
        try:
            return self.vectors.vectors(ids)
        except VectorStoreUnavailable as exc:
            raise IndexUnavailable(str(exc)) from None

    @_guarded
    def lexical_top(self, terms: Sequence[str], n: int, filters: Filters | None = None,
                    required: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray]:
        """The n chunks with the highest BM25 for the OR of the index terms (every required one present)."""
        allowed = self.filtered_chunk_ids(filters) if filters is not None and filters.active else None
        return self.lexicon.top(terms, n, allowed, required)

    @_guarded
    def lexical_scores(self, terms: Sequence[str], chunk_ids: Sequence[int]) -> np.ndarray:
        """BM25 of the given chunks for the OR of the index terms (0 where none occurs), in the order given."""
        return self.lexicon.scores(terms, chunk_ids)

    @_guarded
    def sentence_ids_of(self, article_ids: Sequence[str]) -> list[int]:
        """Ids of every sentence of the given articles, ascending."""
        rows = np.fromiter((r[0] for r in self._in("SELECT row FROM articles WHERE id IN ({})", list(article_ids))),
                           np.int64)
        ids, _ = ranges(self.layout.article_sentences[rows], self.layout.article_sentences[rows + 1])
        return np.sort(ids).tolist()

    @_guarded
    def newest_published(self) -> str | None:
        """The latest full YYYY-MM-DD publication date in the index."""
        return self.db.execute(
            "SELECT MAX(substr(published, 1, 10)) FROM articles WHERE published GLOB '[0-9][0-9][0-9][0-9]-*'"
        ).fetchone()[0]

    @_guarded
    def published_range(self) -> tuple[str | None, str | None]:
        """The earliest and latest publication dates that start with a year."""
        return self.db.execute(
            "SELECT MIN(published), MAX(published) FROM articles WHERE published GLOB '[0-9][0-9][0-9][0-9]-*'"
        ).fetchone()

    @_guarded
    def widest_stories(self, n: int) -> list[str]:
        """A headline of each of the n stories most articles report, newest first among equals."""
        rows = self.db.execute(
            "SELECT MIN(title), COUNT(*) FROM articles GROUP BY story_id ORDER BY 2 DESC, MAX(published) DESC "
            "LIMIT ?", (n,))
        return [title for title, _ in rows]

    def _in(self, sql: str, values: Sequence) -> Iterator[tuple]:
        """Run a query with an IN (...) list, in batches under SQLite's variable limit."""
        values = list(values)
        for i in range(0, len(values), 900):
            batch = values[i : i + 900]
            yield from self.db.execute(sql.format(",".join("?" * len(batch))), batch).fetchall()

    def close(self) -> None:
        """Close this thread's connection (others close with their threads) and the vector backend's."""
        self._stop_reading.set()
        self.vectors.close()
        conn = getattr(self._local, "db", None)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
