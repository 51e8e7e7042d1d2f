"""Where one index version's chunk vectors live: a FAISS file beside the metadata, or a Milvus collection.

Both backends sit behind one small interface (add, delete, search with filters, vectors, count,
publish, drop), so the SQLite metadata, the lexical index, the sentence vectors and everything above
the store work the same whichever one runs. A version is written once and then only read: a Milvus
version is its own collection, created, indexed and loaded before the index home's CURRENT pointer
moves to it, which is what makes a rebuild publish atomically on either backend.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from ..config import Settings
from ..records import Filters
from ..text import day_number

log = logging.getLogger(__name__)

BACKENDS = ("faiss", "milvus")
CHUNK_INDEX = "chunks.faiss"
_STAGED = "chunks.f32.staging"


class VectorStoreUnavailable(RuntimeError):
    """The vector backend cannot be reached right now (a server down, a dropped collection)."""


@dataclass(frozen=True, slots=True)
class VectorConfig:
    """Which backend holds chunk vectors and how it indexes them."""

    backend: str = "faiss"
    ann_threshold: int = 20_000
    ann_index: str = "ivf"
    ivf_nprobe: int = 32
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 128
    milvus_uri: str = "http://127.0.0.1:19530"
    milvus_token: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> VectorConfig:
        """The vector backend and its index parameters, from settings."""
        return cls(
            backend=settings.backend,
            ann_threshold=settings.ann_threshold,
            ann_index=settings.ann_index,
            ivf_nprobe=settings.ivf_nprobe,
            hnsw_m=settings.hnsw_m,
            hnsw_ef_construction=settings.hnsw_ef_construction,
            hnsw_ef_search=settings.hnsw_ef_search,
            milvus_uri=settings.milvus_uri,
            milvus_token=settings.milvus_token.get_secret_value() if settings.milvus_token else None,
        )


@dataclass(frozen=True, slots=True)
class ChunkFilterFields:
    """The article fields a vector search can filter on, stored with each chunk vector."""

    article_id: str
    outlet: str | None
    place: str | None
    published: str | None

    @property
    def day(self) -> int:
        """The publication day as YYYYMMDD, or 0 when there is no full date."""
        return day_number(self.published)


class VectorStore(ABC):
    """The chunk vectors of one index version, addressed by chunk id."""

    backend: str

    @abstractmethod
    def add(self, ids: np.ndarray, vectors: np.ndarray, fields: Sequence[ChunkFilterFields]) -> None:
        """Store vectors (unit length, float32) under chunk ids, with the fields filters use."""

    @abstractmethod
    def delete(self, ids: Sequence[int]) -> None:
        """Remove chunk ids before the version is published."""

    @abstractmethod
    def publish(self) -> dict:
        """Make the version durable and searchable; returns its manifest entry."""

    @abstractmethod
    def search(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """The n chunks nearest a query vector that pass the filters, as (chunk id, inner product)."""

    @abstractmethod
    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Stored vectors as float32, rows in the order given."""

    @abstractmethod
    def count(self) -> int:
        """Number of vectors stored."""

    @abstractmethod
    def drop(self) -> None:
        """Delete this version's vectors for good (garbage collection, an abandoned build)."""

    def close(self) -> None:  # noqa: B027 - a backend without connections has nothing to release
        """Release connections; files stay."""


_SEARCH_THREADS = threading.local()


def _one_openmp_thread() -> None:
    """One OpenMP thread per FAISS search: a request is one query, and parallelism comes from concurrent requests."""
    # OpenMP keeps this setting per calling thread, so each thread that searches makes it (once).
    # A second thread costs more to wake than one query's search saves, and takes the core another request needs.
    if not getattr(_SEARCH_THREADS, "single", False):
        faiss.omp_set_num_threads(1)
        _SEARCH_THREADS.single = True


def create(config: VectorConfig, version_dir: Path, version: str, home_key: str, dimension: int) -> VectorStore:
    """An empty store for a version being built."""
    if config.backend == "faiss":
        return FaissStore.create(version_dir, dimension, config)
    if config.backend == "milvus":
        from .milvus import MilvusStore  # pymilvus is the [scale] extra, needed only by this backend

        return MilvusStore.create(config, collection_name(home_key, version), dimension)
    raise ValueError(f"unknown vector backend {config.backend!r}: choose one of {', '.join(BACKENDS)}")


def open_store(
    entry: dict, version_dir: Path, config: VectorConfig, allowed_ids: Callable[[Filters], np.ndarray]
) -> VectorStore:
    """The store a published version's manifest entry describes, opened for reading."""
    if entry.get("backend", "faiss") == "faiss":
        return FaissStore.open(version_dir, entry, allowed_ids)
    if entry["backend"] == "milvus":
        from .milvus import MilvusStore

        return MilvusStore.open(config, entry)
    raise ValueError(f"index uses unknown vector backend {entry['backend']!r}")


def drop_version(entry: dict, config: VectorConfig) -> None:
    """Drop what a removed version kept outside its directory (a Milvus collection); files go with the folder."""
    if entry.get("backend") == "milvus":
        from .milvus import MilvusStore

        try:
            MilvusStore.open(config, entry, load=False).drop()
        except VectorStoreUnavailable as exc:
            log.warning("could not drop collection %s: %s", entry.get("collection"), exc)


def collection_name(home_key: str, version: str) -> str:
    """A Milvus collection name for one version of one index home (letters, digits and underscores)."""
    return f"semsearch_{home_key}_{re.sub(r'[^0-9A-Za-z]', '_', version)}"


class FaissStore(VectorStore):
    """Vectors in a FAISS file: exact inner product while that is fast, HNSW above a size threshold."""

    backend = "faiss"

    def __init__(self, index: faiss.Index | None, entry: dict, allowed_ids: Callable[[Filters], np.ndarray] | None):
        self.index = index
        self.entry = entry
        self._allowed_ids = allowed_ids
        self._staging: Path | None = None
        self._staged_ids: list[np.ndarray] = []
        self._deleted: set[int] = set()
        self._config: VectorConfig | None = None
        self._dimension = index.d if index is not None else 0

    @classmethod
    def create(cls, version_dir: Path, dimension: int, config: VectorConfig) -> FaissStore:
        """A writer that stages vectors on disk, so the index type can follow the final count."""
        store = cls(None, {}, None)
        store._staging = version_dir / _STAGED
        store._staging.write_bytes(b"")
        store._config = config
        store._dimension = dimension
        return store

    @classmethod
    def open(cls, version_dir: Path, entry: dict, allowed_ids: Callable[[Filters], np.ndarray]) -> FaissStore:
        """The published index, memory-mapped so a cold start reads only the pages a search touches."""
        # MMAP_IFC maps flat and HNSW vector storage too (plain MMAP copies it into anonymous memory).
        index = faiss.read_index(str(version_dir / CHUNK_INDEX), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        return cls(index, entry, allowed_ids)

    def _building(self) -> tuple[Path, VectorConfig]:
        """The staging file and configuration, which only a store from create() has (until it publishes)."""
        if self._staging is None or self._config is None:
            raise RuntimeError("this FAISS store was opened for reading; only a store from create() takes vectors")
        return self._staging, self._config

    def _searchable(self) -> faiss.Index:
        """The index, which a store has once opened or published."""
        if self.index is None:
            raise RuntimeError("this FAISS store has not been published yet; search it after publish()")
        return self.index

    def _filtered_ids(self, filters: Filters) -> np.ndarray:
        """The chunk ids that pass the filters, which only a store opened with the metadata can resolve."""
        if self._allowed_ids is None:
            raise RuntimeError("a FAISS store from create() cannot resolve filters; search the opened version")
        return self._allowed_ids(filters)

    def add(self, ids: np.ndarray, vectors: np.ndarray, fields: Sequence[ChunkFilterFields]) -> None:
        """Append to the staging file; the index is built at publish."""
        staging, _ = self._building()
        with staging.open("ab") as fh:
            fh.write(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
        self._staged_ids.append(np.asarray(ids, dtype=np.int64))

    def delete(self, ids: Sequence[int]) -> None:
        """Leave these ids out of the index built at publish."""
        self._deleted.update(int(i) for i in ids)

    def publish(self) -> dict:
        """Build the index from the staged vectors and write it beside the metadata."""
        staging, config = self._building()
        ids = np.concatenate(self._staged_ids) if self._staged_ids else np.zeros(0, dtype=np.int64)
        staged = np.memmap(staging, dtype=np.float32, mode="r", shape=(len(ids), self._dimension))
        keep = np.ones(len(ids), dtype=bool) if not self._deleted else ~np.isin(ids, list(self._deleted))
        n = int(keep.sum())
        inner: faiss.Index
        ivf: faiss.IndexIVFFlat | None = None
        entry: dict[str, object]
        if n < config.ann_threshold:
            inner = faiss.IndexFlatIP(self._dimension)
            entry = {"backend": "faiss", "type": "IndexFlatIP", "metric": "inner_product"}
        elif config.ann_index == "ivf":
            ivf, entry = self._ivf(staged, keep, n, config)
            inner = ivf
        else:
            hnsw = faiss.IndexHNSWFlat(self._dimension, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = config.hnsw_ef_construction
            inner = hnsw
            entry = {
                "backend": "faiss",
                "type": "IndexHNSWFlat",
                "metric": "inner_product",
                "M": config.hnsw_m,
                "efConstruction": config.hnsw_ef_construction,
                "efSearch": config.hnsw_ef_search,
            }
        # Ids are row positions unless some were deleted; only then is an id map worth its cost.
        positional = bool(np.array_equal(ids[keep], np.arange(n)))
        index = inner if positional else faiss.IndexIDMap2(inner)
        step = 65_536
        for lo in range(0, len(ids), step):
            rows = np.flatnonzero(keep[lo : lo + step]) + lo
            if len(rows):
                block = np.ascontiguousarray(staged[rows])
                index.add(block) if positional else index.add_with_ids(block, ids[rows])
        del staged
        if ivf is not None:
            ivf.make_direct_map()  # chunk vectors are read back by id (fusion, layouts of the next build)
        faiss.write_index(index, str(staging.parent / CHUNK_INDEX))
        staging.unlink()
        self.index, self.entry = index, {**entry, "file": CHUNK_INDEX, "id_map": not positional}
        return self.entry

    def _ivf(
        self, staged: np.ndarray, keep: np.ndarray, n: int, config: VectorConfig
    ) -> tuple[faiss.IndexIVFFlat, dict[str, object]]:
        """An inverted-file index trained on a sample: about 4·√n cells, of which a search visits nprobe."""
        nlist = max(1, min(int(4 * n**0.5), n // 39))  # FAISS wants 39+ training points per cell
        rows = np.flatnonzero(keep)
        sample = np.sort(np.random.default_rng(0).choice(rows, min(len(rows), 64 * nlist), replace=False))
        index = faiss.IndexIVFFlat(
            faiss.IndexFlatIP(self._dimension), self._dimension, nlist, faiss.METRIC_INNER_PRODUCT
        )
        index.train(np.ascontiguousarray(staged[sample]))
        return index, {
            "backend": "faiss",
            "type": "IndexIVFFlat",
            "metric": "inner_product",
            "nlist": nlist,
            "nprobe": config.ivf_nprobe,
        }

    def search(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """Exact, IVF or HNSW search; filters become an id selector resolved from the metadata."""
        _one_openmp_thread()
        index = self._searchable()
        selector = None
        limit = index.ntotal
        if filters is not None and filters.active:
            allowed = self._filtered_ids(filters)
            selector, limit = faiss.IDSelectorBatch(allowed), len(allowed)
        n = min(n, limit)
        if n <= 0:
            return []
        kind = self.entry.get("type")
        if kind == "IndexHNSWFlat":
            # The beam must be at least as wide as the number of results asked for.
            # faiss's generated stubs lack SearchParametersHNSW, and give every SearchParameters class a
            # no-argument __init__, though faiss's wrapper takes the fields as keywords (and keeps sel alive).
            params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                sel=selector, efSearch=max(n, self.entry["efSearch"])
            )
        elif kind == "IndexIVFFlat":
            # A filter leaves fewer rows per cell, so visit proportionally more cells to still find n.
            share = limit / max(index.ntotal, 1)
            nprobe = min(self.entry["nlist"], int(np.ceil(self.entry["nprobe"] / max(share, 1e-6))))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)  # type: ignore[call-arg]
        else:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, ids = index.search(vector.reshape(1, -1).astype(np.float32), n, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Vectors reconstructed from the index (exact for flat and HNSW storage)."""
        _one_openmp_thread()  # reconstruct_batch runs in parallel above 1,000 ids
        index = self._searchable()
        if not len(ids):
            return np.zeros((0, index.d), dtype=np.float32)
        return index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def count(self) -> int:
        """Vectors in the index (or staged, while building)."""
        if self.index is not None:
            return int(self.index.ntotal)
        return sum(len(i) for i in self._staged_ids) - len(self._deleted)

    def drop(self) -> None:
        """Files are removed with the version folder; nothing else to do."""
        if self._staging is not None and self._staging.exists():
            self._staging.unlink()


def home_key(home: Path) -> str:
    """A short stable key of an index home, so homes sharing one Milvus server never share collections."""
    return hashlib.sha256(os.fsencode(Path(home).resolve())).hexdigest()[:10]
