"""Files an index home keeps beside its versions (saved questions, source health): one writer at a time under a
lock file, every write to a temporary file renamed into place, so a reader sees the old or the new file whole."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def locked(home: Path, lock_name: str) -> Iterator[None]:
    """Hold the home's lock file of that name (created with the home if need be) until leaving."""
    Path(home).mkdir(parents=True, exist_ok=True)
    with (Path(home) / lock_name).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def write_json(path: Path, body: dict) -> None:
    """Write JSON atomically and durably: a temporary file beside it, fsynced, renamed over the old one."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with partial.open("w", encoding="utf-8") as fh:
            json.dump(body, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)  # only left when the write failed half-way
