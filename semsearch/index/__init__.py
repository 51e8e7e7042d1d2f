"""The index: SQLite metadata, the BM25 index, the columnar layout and sentence vectors on disk, chunk vectors
in FAISS or Milvus, in immutable versions published atomically.

This package is the one door to an index: everything else reads through `Index`, writes through
`IndexWriter` and manages versions through the functions of `versions`; nothing outside it runs SQL on a
version or reads a manifest key.

- `format`: the format version, file names, SQLite schema, the typed `Manifest`, the errors
- `versions`: version names, CURRENT, verification, rollback, garbage collection
- `writer`: writing a version in a stream of `add` calls and publishing it
- `reader`: a published version opened for reading; `rows`: the records it hands out
- `layout`: the columnar read model (memory-mapped arrays)
- `lexical`: the BM25 inverted index
- `vectors`: the chunk-vector backends (FAISS files, a Milvus server)
- `pagecache`: reading a version into the OS page cache ahead of questions
"""

from .format import (
    BuildLocked,
    Counts,
    IndexCorrupt,
    IndexIncompatible,
    IndexMissing,
    IndexUnavailable,
    Manifest,
)
from .layout import ranges
from .reader import Index, served_article_ids
from .rows import ArticleLayout, ArticleMeta, SentenceTraits, StoredChunk, StoredSentence
from .vectors import VectorConfig
from .versions import (
    VersionError,
    bad_versions,
    current_version,
    kept_sources,
    no_index,
    pointer_problem,
    recorded_sources,
    rollback_target,
    served_manifest,
    set_current,
    verify,
    version_dir,
    version_names,
)
from .writer import IndexWriter, build_running

__all__ = [
    "ArticleLayout",
    "ArticleMeta",
    "BuildLocked",
    "Counts",
    "Index",
    "IndexCorrupt",
    "IndexIncompatible",
    "IndexMissing",
    "IndexUnavailable",
    "IndexWriter",
    "Manifest",
    "SentenceTraits",
    "StoredChunk",
    "StoredSentence",
    "VectorConfig",
    "VersionError",
    "bad_versions",
    "build_running",
    "current_version",
    "kept_sources",
    "no_index",
    "pointer_problem",
    "ranges",
    "recorded_sources",
    "rollback_target",
    "served_article_ids",
    "served_manifest",
    "set_current",
    "verify",
    "version_dir",
    "version_names",
]
