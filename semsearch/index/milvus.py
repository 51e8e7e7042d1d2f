"""The milvus backend: a collection per version on a Milvus server or cluster, HNSW, filters as Milvus expressions."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

import numpy as np

from ..records import Filters
from .vectors import ChunkFilterFields, VectorConfig, VectorStore, VectorStoreUnavailable

log = logging.getLogger(__name__)


class MilvusStore(VectorStore):
    """Vectors in a Milvus collection per version, with outlet, place and day as filterable fields."""

    backend = "milvus"
    _INSERT_ROWS = 2_000  # well under Milvus's 64 MB gRPC message limit at 384 dimensions

    def __init__(self, client, entry: dict, config: VectorConfig) -> None:
        self.client = client
        self.entry = entry
        self.name = entry["collection"]
        self.config = config

    @staticmethod
    def _connect(config: VectorConfig):
        """A client for the configured server or cluster."""
        try:
            from pymilvus import MilvusClient
        except ImportError:
            raise VectorStoreUnavailable("the milvus backend needs pymilvus: pip install 'semsearch[scale]'") from None
        try:
            return MilvusClient(uri=config.milvus_uri, token=config.milvus_token or "", timeout=10)
        except Exception as exc:  # noqa: BLE001 - pymilvus raises its own and gRPC errors alike
            raise VectorStoreUnavailable(f"cannot reach Milvus at {config.milvus_uri}: {exc}") from None

    @classmethod
    def create(cls, config: VectorConfig, name: str, dimension: int) -> MilvusStore:
        """A new, empty collection for a version being built."""
        from pymilvus import DataType, MilvusClient

        client = cls._connect(config)
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        schema.add_field("article_id", DataType.VARCHAR, max_length=64)
        schema.add_field("outlet", DataType.VARCHAR, max_length=512)
        schema.add_field("place", DataType.VARCHAR, max_length=512)
        schema.add_field("day", DataType.INT64)
        if client.has_collection(name):
            client.drop_collection(name)
        client.create_collection(name, schema=schema)
        entry = {
            "backend": "milvus",
            "collection": name,
            "uri": config.milvus_uri,
            "type": "HNSW",
            "metric": "IP",
            "dimension": dimension,
            "M": config.hnsw_m,
            "efConstruction": config.hnsw_ef_construction,
            "efSearch": config.hnsw_ef_search,
        }
        return cls(client, entry, config)

    @classmethod
    def open(cls, config: VectorConfig, entry: dict, load: bool = True) -> MilvusStore:
        """A published version's collection, loaded for search."""
        client = cls._connect(config)
        store = cls(client, entry, config)
        if load:
            try:
                client.load_collection(store.name)
            except Exception as exc:  # noqa: BLE001 - any Milvus client failure means the backend is unavailable
                raise VectorStoreUnavailable(f"Milvus collection {store.name} cannot be loaded: {exc}") from None
        return store

    def add(self, ids: np.ndarray, vectors: np.ndarray, fields: Sequence[ChunkFilterFields]) -> None:
        """Insert rows in batches the server accepts."""
        vectors = np.asarray(vectors, dtype=np.float32)
        for lo in range(0, len(ids), self._INSERT_ROWS):
            rows = [
                {
                    "id": int(i),
                    "vector": v.tolist(),
                    "article_id": f.article_id,
                    "outlet": f.outlet or "",
                    "place": f.place or "",
                    "day": f.day,
                }
                for i, v, f in zip(
                    ids[lo : lo + self._INSERT_ROWS],
                    vectors[lo : lo + self._INSERT_ROWS],
                    fields[lo : lo + self._INSERT_ROWS],
                    strict=True,
                )
            ]
            self.client.insert(self.name, rows)

    def delete(self, ids: Sequence[int]) -> None:
        """Delete rows by primary key."""
        self.client.delete(self.name, ids=[int(i) for i in ids])

    def publish(self) -> dict:
        """Seal the rows, build the HNSW index and load the collection before CURRENT can point at it."""
        self.client.flush(self.name)
        params = self.client.prepare_index_params()
        params.add_index(
            "vector",
            index_type="HNSW",
            metric_type="IP",
            params={"M": self.config.hnsw_m, "efConstruction": self.config.hnsw_ef_construction},
        )
        self.client.create_index(self.name, params)
        self.client.load_collection(self.name)
        return self.entry

    def search(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """HNSW search with the filters as a Milvus boolean expression."""
        if n <= 0:
            return []
        n = min(n, 16_384)  # Milvus's top-k ceiling
        try:
            found = self.client.search(
                self.name,
                data=[np.asarray(vector, dtype=np.float32).tolist()],
                limit=n,
                filter=milvus_expression(filters) if filters is not None else "",
                search_params={"metric_type": "IP", "params": {"ef": max(n, self.entry["efSearch"])}},
                # A published collection is flushed and loaded before CURRENT points at it and never written
                # again, so no search needs Strong consistency's wait for the newest timestamp (~100+ ms).
                consistency_level="Eventually",
            )
        except Exception as exc:  # noqa: BLE001 - any Milvus client failure means the backend is unavailable
            raise VectorStoreUnavailable(f"Milvus search failed: {exc}") from None
        return [(int(hit["id"]), float(hit["distance"])) for hit in found[0]]

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Stored vectors fetched by primary key."""
        if not len(ids):
            return np.zeros((0, self.entry["dimension"]), dtype=np.float32)
        try:
            rows = self.client.get(self.name, ids=[int(i) for i in ids], output_fields=["vector"])
        except Exception as exc:  # noqa: BLE001 - any Milvus client failure means the backend is unavailable
            raise VectorStoreUnavailable(f"Milvus get failed: {exc}") from None
        by_id = {int(r["id"]): r["vector"] for r in rows}
        return np.asarray([by_id[int(i)] for i in ids], dtype=np.float32)

    def count(self) -> int:
        """Rows in the collection."""
        rows = self.client.query(self.name, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def drop(self) -> None:
        """Drop the collection."""
        try:
            self.client.drop_collection(self.name)
        except Exception as exc:  # noqa: BLE001 - any Milvus client failure means the backend is unavailable
            raise VectorStoreUnavailable(f"cannot drop {self.name}: {exc}") from None

    def close(self) -> None:
        """Close the client's channel."""
        self.client.close()


def milvus_expression(filters: Filters) -> str:
    """Filters as a Milvus boolean expression over the outlet, place and day fields."""
    parts: list[str] = []
    for field, values in (("outlet", filters.outlets), ("place", filters.places)):
        if values:
            # JSON string literals are valid Milvus ones, with quotes and backslashes escaped.
            parts.append(f"{field} in [{', '.join(json.dumps(v) for v in values)}]")
    if (days := filters.day_range()) is not None:
        parts.append(f"day > 0 and day >= {days[0]} and day <= {days[1]}")
    return " and ".join(parts)
