"""The versions of an index home: naming, the CURRENT pointer, verification, rollback and garbage collection.

Versions are immutable folders under versions/; CURRENT names the one being served and is replaced by one
atomic rename, so a reader sees either the old version or the new one, never a mixture.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .format import CURRENT, MANIFEST, VERIFIED, Manifest, read_raw_manifest
from .vectors import VectorConfig, VectorStoreUnavailable, drop_version, open_store


class VersionError(ValueError):
    """A version operation that cannot be done; the message says why, for the operator."""


def version_dir(home: Path, name: str) -> Path:
    """The folder of a version."""
    return Path(home) / "versions" / name


def version_names(home: Path) -> list[str]:
    """Names of the published versions on disk, newest first."""
    folder = Path(home) / "versions"
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)


def new_version_name(home: Path) -> str:
    """A new version's name: sorts after every existing one (newest-first listing, rollback and GC rely on it)."""
    now = time.time()
    name = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now % 1 * 1e6):06d}-{uuid.uuid4().hex[:6]}"
    existing = version_names(home)
    if existing and name <= existing[0]:  # the clock went back: stay after the newest
        name = existing[0] + "-" + uuid.uuid4().hex[:6]
    return name


def current_version(home: Path) -> str | None:
    """Name of the published version, or None before the first build."""
    try:
        name = (Path(home) / CURRENT).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def set_current(home: Path, name: str) -> None:
    """Point CURRENT at a version in one atomic rename, durable before it returns."""
    home = Path(home)
    pointer = home / f".{CURRENT}.{name}.tmp"
    with pointer.open("w", encoding="utf-8") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pointer, home / CURRENT)
    fsync_dir(home)


def fsync_dir(path: Path) -> None:
    """Make a rename inside path durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recorded_sources(home: Path) -> list[str]:
    """The sources the served version was built from (none before the first build), whatever its format."""
    name = current_version(Path(home))
    if name is None:
        return []
    try:
        return list(read_raw_manifest(version_dir(home, name)).get("sources", []))
    except (OSError, ValueError):
        return []


def served_manifest(home: Path) -> Manifest | None:
    """The served version's manifest without opening the version (None before the first build or if unreadable)."""
    name = current_version(Path(home))
    if name is None:
        return None
    try:
        return Manifest.from_dict(read_raw_manifest(version_dir(home, name)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def sha256(path: Path) -> str:
    """Checksum of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp(folder: Path, names: Sequence[str]) -> dict[str, list[int]]:
    """Size, modification time and inode of each file: what any rewrite, copy or truncation changes."""
    out = {}
    for name in names:
        with contextlib.suppress(OSError):
            st = (folder / name).stat()
            out[name] = [st.st_size, st.st_mtime_ns, st.st_ino]
    return out


def write_stamp(folder: Path, names: Sequence[str]) -> None:
    """Record that these files were just checked (best effort: a read-only index simply re-checks)."""
    with contextlib.suppress(OSError):
        (folder / VERIFIED).write_text(json.dumps(_stamp(folder, names)), "utf-8")


def verify(folder: Path, vectors: VectorConfig | None = None, trust_stamp: bool = False) -> list[str]:
    """Problems in a version's files (checksums) and Milvus collection (row count); empty when intact.

    With trust_stamp, files unchanged (size, mtime, inode) since their last full check are not hashed
    again: a server's cold start at a million chunks would otherwise read every byte of the index.
    """
    try:
        manifest = read_raw_manifest(folder)
    except (OSError, ValueError) as exc:
        return [f"{MANIFEST}: unreadable ({exc})"]
    problems = []
    entry = manifest.get("vectors") or {}
    if vectors is not None and entry.get("backend") == "milvus":
        problems += _collection_problems(folder, entry, manifest["counts"]["chunks"], vectors)
    files = manifest.get("files", {})
    if trust_stamp and files:
        with contextlib.suppress(OSError, json.JSONDecodeError):
            if json.loads((folder / VERIFIED).read_text("utf-8")) == _stamp(folder, list(files)):
                return problems
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256(path) != expected:
            problems.append(f"{name}: checksum mismatch (corrupt or changed)")
    if not problems:
        write_stamp(folder, list(files))
    return problems


def _collection_problems(folder: Path, entry: dict, chunks: int, vectors: VectorConfig) -> list[str]:
    """Whether a version's Milvus collection is reachable and holds all its chunk vectors."""
    try:
        store = open_store(entry, folder, vectors, lambda _: np.zeros(0, dtype=np.int64))
        found = store.count()
        store.close()
    except VectorStoreUnavailable as exc:
        return [f"collection {entry['collection']}: {exc}"]
    if found != chunks:
        return [f"collection {entry['collection']}: {found} vectors, manifest says {chunks}"]
    return []


def rollback_target(home: Path, target: str | None, vectors: VectorConfig) -> str:
    """The version a rollback serves: the one given, or the newest older than the current; it must verify."""
    names, current = version_names(home), current_version(home)
    if not names:
        raise VersionError(f"no index at {home}: run `semsearch build` first")
    if target is None:
        older = [n for n in names if current is None or n < current]
        if not older:
            raise VersionError(f"no version older than {current} is kept (see SEMSEARCH_KEEP_VERSIONS)")
        target = older[0]
    if target not in names:
        raise VersionError(f"no version {target!r}; kept versions: {', '.join(names)}")
    if problems := verify(version_dir(home, target), vectors):
        raise VersionError(f"version {target} is damaged: {'; '.join(problems)}")
    return target


def remove_version(home: Path, name: str, config: VectorConfig) -> None:
    """Delete a version's folder and whatever its vectors keep on a server."""
    folder = version_dir(home, name)
    with contextlib.suppress(OSError, ValueError, KeyError):
        drop_version(read_raw_manifest(folder)["vectors"], config)
    shutil.rmtree(folder, ignore_errors=True)


def collect_garbage(home: Path, keep: int, served: str, config: VectorConfig) -> None:
    """Keep the newest `keep` versions (the served one always), for rollback."""
    for old in version_names(home)[keep:]:
        if old != served:
            remove_version(home, old, config)
