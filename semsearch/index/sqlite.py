"""Two SQLite idioms every SQLite file of semsearch needs: batched IN lists and per-thread read-only connections."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

# SQLite's smallest build-time limit on bound variables is 999; batches stay under it with room for others.
BATCH = 900


def select_in(db: sqlite3.Connection, sql: str, values: Sequence, before: Sequence = ()) -> Iterator[tuple]:
    """Rows of a query whose `{}` is an IN list of values, run in batches; `before` binds the ?s ahead of it."""
    values = list(values)
    for i in range(0, len(values), BATCH):
        batch = values[i : i + BATCH]
        yield from db.execute(sql.format(",".join("?" * len(batch))), [*before, *batch]).fetchall()


def thread_connection(local: threading.local, path: Path) -> sqlite3.Connection:
    """The calling thread's read-only connection to a published SQLite file, opened on first use."""
    conn = getattr(local, "db", None)
    if conn is None:
        # Published versions never change, so readers skip SQLite's locking altogether.
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        local.db = conn
    return conn
