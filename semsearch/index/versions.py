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

from .format import BAD, CURRENT, MANIFEST, VERIFIED, VERSION_NAME, IndexMissing, Manifest, read_raw_manifest
from .vectors import VectorConfig, VectorStoreUnavailable, drop_version, open_store


class VersionError(ValueError):
    """A version operation that cannot be done; the message says why, for the operator."""


def version_dir(home: Path, name: str) -> Path:
    """The folder of a version."""
    return Path(home) / "versions" / name


def is_version(home: Path, name: str) -> bool:
    """True when name is a published version of home: a version name, a real folder (a symlink could lead anywhere)."""
    folder = version_dir(home, name)
    return VERSION_NAME.fullmatch(name) is not None and folder.is_dir() and not folder.is_symlink()


def version_names(home: Path) -> list[str]:
    """Names of the published versions on disk, newest first."""
    folder = Path(home) / "versions"
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if is_version(home, p.name)), reverse=True)


def new_version_name(home: Path) -> str:
    """A new version's name: sorts after every existing one (newest-first listing, rollback and GC rely on it)."""
    now = time.time()
    name = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now % 1 * 1e6):06d}-{uuid.uuid4().hex[:6]}"
    existing = version_names(home)
    if existing and name <= existing[0]:  # the clock went back: stay after the newest
        name = existing[0] + "-" + uuid.uuid4().hex[:6]
    return name


def _pointer(home: Path) -> tuple[str | None, str | None]:
    """The version CURRENT names, or None and what is wrong with CURRENT (said without its content or paths)."""
    try:
        name = (Path(home) / CURRENT).read_text("utf-8").strip()
    except FileNotFoundError:
        return None, f"{CURRENT} is missing"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{CURRENT} is unreadable ({exc.__class__.__name__})"
    if not name:
        return None, f"{CURRENT} is empty"
    if not is_version(home, name):
        return None, f"{CURRENT} does not name a version of this index"
    return name, None


def pointer_problem(home: Path) -> str | None:
    """What is wrong with CURRENT (missing, empty, not a version of this home), or None when it can be followed."""
    return _pointer(home)[1]


def current_version(home: Path) -> str | None:
    """Name of the version CURRENT points at, or None when it is missing or names none (see pointer_problem)."""
    return _pointer(home)[0]


def no_index(home: Path) -> IndexMissing:
    """The error for a home with nothing to serve: no build yet, or a CURRENT that cannot be followed."""
    if not version_names(home):
        return IndexMissing(f"no index at {home}: run `semsearch build` first")
    problem = pointer_problem(home) or f"{CURRENT} names no intact version"
    return IndexMissing(
        f"no index to serve at {home}: {problem}; see `semsearch verify`",
        f"the index pointer cannot be followed: {problem}",
    )


def bad_versions(home: Path) -> dict[str, str]:
    """Versions marked damaged while serving, with the reason."""
    folder = Path(home) / BAD
    with contextlib.suppress(OSError):
        return {
            p.name: p.read_text("utf-8", errors="replace").strip()
            for p in folder.iterdir()
            if VERSION_NAME.fullmatch(p.name)
        }
    return {}


def mark_bad(home: Path, name: str, reason: str) -> None:
    """Record that a version was found damaged, so no server picks it again (rollback --to clears it)."""
    folder = Path(home) / BAD
    folder.mkdir(exist_ok=True)
    partial = folder / f".{name}.{uuid.uuid4().hex}.tmp"
    partial.write_text(reason + "\n", "utf-8")
    os.replace(partial, folder / name)


def clear_bad(home: Path, name: str) -> None:
    """Forget a version's damage mark (it was removed, or checked in full again)."""
    with contextlib.suppress(FileNotFoundError):
        (Path(home) / BAD / name).unlink()


def set_current(home: Path, name: str) -> None:
    """Point CURRENT at a version in one atomic rename, durable before it returns."""
    home = Path(home)
    if not is_version(home, name):
        raise VersionError(f"{name!r} is not a version in {home}")
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


def kept_sources(home: Path) -> set[str]:
    """The sources any kept version was built from (a rollback may serve any of them)."""
    found: set[str] = set()
    for name in version_names(home):
        try:
            found.update(read_raw_manifest(version_dir(home, name)).get("sources", []))
        except (OSError, ValueError):
            continue
    return found


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
    """The version a rollback serves: the one given, or the newest intact one older than the current.

    It must pass a full check; one that does is no longer marked bad (a passing read error no longer holds).
    """
    names, current = version_names(home), current_version(home)
    if not names:
        raise VersionError(f"no index at {home}: run `semsearch build` first")
    if target is None:
        bad = bad_versions(home)
        older = [n for n in names if (current is None or n < current) and n not in bad]
        if not older:
            raise VersionError(f"no intact version older than {current} is kept (see SEMSEARCH_KEEP_VERSIONS)")
        target = older[0]
    if target not in names:
        raise VersionError(f"no version {target!r}; kept versions: {', '.join(names)}")
    if problems := verify(version_dir(home, target), vectors):
        raise VersionError(f"version {target} is damaged: {'; '.join(problems)}")
    clear_bad(home, target)
    return target


def remove_version(home: Path, name: str, config: VectorConfig) -> None:
    """Delete a version's folder and whatever its vectors keep on a server."""
    folder = version_dir(home, name)
    with contextlib.suppress(OSError, ValueError, KeyError):
        drop_version(read_raw_manifest(folder)["vectors"], config)
    shutil.rmtree(folder, ignore_errors=True)
    clear_bad(home, name)


def collect_garbage(home: Path, keep: int, served: str, config: VectorConfig) -> None:
    """Keep the newest `keep` versions (the served one always), for rollback."""
    for old in version_names(home)[keep:]:
        if old != served:
            remove_version(home, old, config)
