"""What an index version is on disk: its format number, file names, SQLite schema and typed manifest.

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

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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
# What new_version_name makes: UTC time to the microsecond, then one or more random suffixes. Nothing else
# names a version, so CURRENT can never point outside versions/ (no "..", no "/", no absolute path).
VERSION_NAME = re.compile(r"[0-9]{8}T[0-9]{12}(?:-[0-9a-z]{6})+")

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
CREATE TABLE replaced (  -- ids of articles edited since (an id comes from title and text), with their current id
    id TEXT PRIMARY KEY, current_id TEXT NOT NULL
);
"""


class _PublicMessage(Exception):
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

    public_message = "the vector search backend (Milvus) cannot be reached; try again shortly"


class IndexCorrupt(IndexIncompatible):
    """A version's files do not match the checksums in its manifest, or fail when read."""

    public_message = "the index version is damaged; try again shortly"


class BuildLocked(RuntimeError):
    """Another build holds the index home's lock."""


@dataclass(frozen=True, slots=True)
class Counts:
    """How much a version holds."""

    articles: int
    chunks: int
    sentences: int
    stories: int


@dataclass(frozen=True, slots=True)
class MatrixFile:
    """A raw vector file of a version: rows of `shape[1]` values of `dtype`."""

    file: str
    dtype: str
    shape: tuple[int, int]


# The manifest notes that record how a build made its vectors.
SENTENCE_METHOD = "sentence_vectors"
VECTOR_PRECISION = "vector_precision"
# ... and the digest of what it was made from (see Manifest.inputs).
INPUTS = "inputs"


@dataclass(frozen=True, slots=True)
class Manifest:
    """A version's manifest.json: what it holds, how it was built, and the checksum of every file."""

    format_version: int
    model: str
    dimension: int
    version: str
    built_at: str
    counts: Counts
    corpus_fingerprint: str
    vectors: dict[str, Any]  # the vector backend's own entry (semsearch.index.vectors)
    sentence_vectors: MatrixFile
    files: dict[str, str]
    chunk_vectors: MatrixFile | None = None
    sources: list[str] = field(default_factory=list)  # what the build read, for `update`
    chunk_tokens: int | None = None
    notes: dict[str, Any] = field(default_factory=dict)  # what a tool recorded of how it made the version

    @property
    def backend(self) -> str:
        """Where the chunk vectors live: faiss or milvus."""
        return str(self.vectors.get("backend", "faiss"))

    @property
    def ann(self) -> str:
        """The vector index type (IndexFlatIP, IndexIVFFlat, IndexHNSWFlat, HNSW)."""
        return str(self.vectors.get("type", ""))

    @property
    def sentence_method(self) -> str:
        """How the sentence vectors were made: "separate" model passes, or pooled from the chunk pass ("late-centred-
        0.5": centred on the chunk by that share; "late": an older build's, not centred).
        A version that does not say was made before the two could differ, by separate passes."""
        return str(self.notes.get(SENTENCE_METHOD, "separate"))

    @property
    def vector_precision(self) -> str:
        """The weights the build's model passes ran with (fp32 when the version does not say, as above)."""
        return str(self.notes.get(VECTOR_PRECISION, "fp32"))

    @property
    def inputs(self) -> str | None:
        """The digest of everything the build made the version from (articles, sources, the settings that shape
        it), when recorded: a build of the same inputs would make the same version, and publishes none."""
        value = self.notes.get(INPUTS)
        return value if isinstance(value, str) else None

    def made_like(self, chunk_tokens: int, sentence_method: str, vector_precision: str) -> bool:
        """Whether a build of these settings makes the same chunks and vectors as this version's build made,
        so its chunks and vectors may be reused."""
        return (
            self.chunk_tokens == chunk_tokens
            and self.sentence_method == sentence_method
            and self.vector_precision == vector_precision
        )

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Manifest:
        """A manifest from its JSON form; KeyError or TypeError when a required key is missing."""
        chunk_vectors = raw.get("chunk_vectors")
        return cls(
            format_version=raw["format_version"],
            model=raw["model"],
            dimension=raw["dimension"],
            version=raw["version"],
            built_at=raw["built_at"],
            counts=Counts(**raw["counts"]),
            corpus_fingerprint=raw["corpus_fingerprint"],
            vectors=raw["vectors"],
            sentence_vectors=_matrix_file(raw["sentence_vectors"]),
            files=raw["files"],
            chunk_vectors=_matrix_file(chunk_vectors) if chunk_vectors else None,
            sources=list(raw.get("sources", [])),
            chunk_tokens=raw.get("chunk_tokens"),
            notes=raw.get("notes", {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, as written to manifest.json."""
        out = asdict(self)
        if self.chunk_vectors is None:
            del out["chunk_vectors"]
        return out

    def write(self, folder: Path) -> None:
        """Write manifest.json into a version folder."""
        (folder / MANIFEST).write_text(json.dumps(self.to_dict(), indent=2), "utf-8")


def _matrix_file(raw: dict[str, Any]) -> MatrixFile:
    return MatrixFile(file=raw["file"], dtype=raw["dtype"], shape=(int(raw["shape"][0]), int(raw["shape"][1])))


def read_raw_manifest(folder: Path) -> dict[str, Any]:
    """A version's manifest.json as written, whatever its format; OSError or ValueError when unreadable."""
    raw = json.loads((folder / MANIFEST).read_text("utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{MANIFEST} is not a JSON object")
    return raw


def read_manifest(folder: Path, name: str, expected_model: str) -> Manifest:
    """The manifest of a version this semsearch can serve, or IndexIncompatible saying why not."""
    try:
        raw = read_raw_manifest(folder)
    except (OSError, ValueError) as exc:
        raise IndexIncompatible(f"index version {name} has no readable manifest: {exc}") from None
    if raw.get("format_version") != FORMAT_VERSION:
        raise IndexIncompatible(
            f"index at {folder} has format {raw.get('format_version')}, this semsearch reads "
            f"format {FORMAT_VERSION}: rebuild it with `semsearch build`"
        )
    if raw.get("model") != expected_model:
        raise IndexIncompatible(
            f"index at {folder} was built with model {raw.get('model')!r}, this semsearch uses "
            f"{expected_model!r}: rebuild it with `semsearch build`"
        )
    try:
        return Manifest.from_dict(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexIncompatible(f"index version {name} has an incomplete manifest: {exc!r}") from None
