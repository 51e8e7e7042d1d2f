"""Reading a version into the OS page cache ahead of the questions that will need it.

Every file of a version is memory-mapped or read on demand; until the kernel has the pages, a first-seen
question waits on disk. The kernel only reads ahead a few megabytes on request (posix_fadvise), so a
background thread reads the files itself, in large blocks, then maps every page of the query's arrays.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def populate(array: np.ndarray) -> None:
    """Map every page of a memory-mapped array into this process now, so no query takes the faults."""
    mapping = _mapping(array)
    if mapping is not None:
        # MADV_POPULATE_READ (Linux 5.14); elsewhere the pages are mapped on first touch, as before.
        with contextlib.suppress(OSError, ValueError):
            mapping.madvise(getattr(mmap, "MADV_POPULATE_READ", 22))


def _mapping(array: np.ndarray) -> mmap.mmap | None:
    """The mmap under an array: np.memmap keeps it as _mmap, on the array or on a view's base."""
    base: object = array
    while base is not None:
        mapping = getattr(base, "_mmap", None)
        if isinstance(mapping, mmap.mmap):
            return mapping
        base = getattr(base, "base", None)
    return None


def available_memory() -> int:
    """Bytes of memory the kernel could give without swapping (MemAvailable), or 0 when unknown."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        line = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemAvailable:"))
        return int(line.split()[1]) * 1024
    return 0


def read_ahead(
    folder: Path, names: Sequence[str], arrays: Sequence[np.ndarray], stop: threading.Event, label: str
) -> threading.Thread:
    """Read a version's files, then map its arrays' pages, in a background thread that ends early on `stop`."""
    size = sum((folder / n).stat().st_size for n in names if (folder / n).is_file())

    def run() -> None:
        if size > available_memory() // 2:  # reading it would only push out what queries use
            log.info("index version %s (%.1f GB) is too large to read ahead", label, size / 1e9)
            return
        block = bytearray(4 << 20)
        for name in names:
            with contextlib.suppress(OSError), (folder / name).open("rb", buffering=0) as fh:
                while not stop.is_set() and fh.readinto(block):
                    pass
        # Pages in the cache still fault on a process's first touch; mapping them now spares the queries.
        for array in arrays:
            if not stop.is_set():
                populate(array)
        if not stop.is_set():
            log.info("index version %s read into the page cache", label)

    thread = threading.Thread(target=run, name=f"read-ahead-{label}", daemon=True)
    thread.start()
    return thread
