"""The embedding cache's file: vectors of embedded texts by content key and model name, in one SQLite table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from .sqlite import select_in


class VectorCacheFile:
    """A SQLite file of float32 vectors keyed by (content key, model name); several builds may share it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A build waiting on another's write (or on the one-time copy below) waits rather than failing.
        self.db = sqlite3.connect(path, timeout=600)
        self.db.execute("PRAGMA journal_mode=WAL")
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (key BLOB, model TEXT, v BLOB, PRIMARY KEY (key, model))"
            )
            # A file of the older layout (table "vec") is copied into this one once, so no vector is lost.
            if self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vec'").fetchone():
                self.db.execute("INSERT OR IGNORE INTO vectors SELECT key, model, v FROM vec")
                self.db.execute("DROP TABLE vec")

    def found(self, keys: list[bytes], model: str) -> dict[bytes, np.ndarray]:
        """The vectors this file holds for keys under a model name."""
        rows = select_in(self.db, "SELECT key, v FROM vectors WHERE model = ? AND key IN ({})", keys, [model])
        return {k: np.frombuffer(v, dtype=np.float32) for k, v in rows}

    def held(self, keys: list[bytes], model: str) -> set[bytes]:
        """Which of the keys this file holds a vector for under a model name."""
        rows = select_in(self.db, "SELECT key FROM vectors WHERE model = ? AND key IN ({})", keys, [model])
        return {key for (key,) in rows}

    def store(self, vectors: dict[bytes, np.ndarray], model: str) -> None:
        """Keep vectors under a model name, in one transaction."""
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", [(k, model, v.tobytes()) for k, v in vectors.items()]
            )

    def close(self) -> None:
        """Release the file."""
        self.db.close()
