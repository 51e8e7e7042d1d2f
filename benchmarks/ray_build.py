"""Build throughput: local, Ray with one local node, Ray with two local nodes, on the same articles.

Usage (Ray binds every interface and probes outside addresses, so run it in a private network namespace):

    unshare -n sh -c 'ip link set lo up && python benchmarks/ray_build.py "PATH/News Articles" --limit 200'

PATH is a folder of article files (e.g. BBC News `News Articles/<category>/NNN.txt`); --limit takes that
many, round-robin over its subfolders. Every run builds a fresh index with a fresh embedding cache. The
Ray clusters (`ray start --head` with 2 CPUs; `ray start --head` + a second `ray start` with 1 CPU each)
run on 127.0.0.1 with token auth, all their files in a temp folder, and are stopped by PID. The local
model is loaded before timing; a Ray run's time includes starting its model workers, which is part of
what a Ray build costs. Every Ray result is checked against the local one.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from itertools import chain, zip_longest
from pathlib import Path

import numpy as np


def articles(folder: Path, limit: int) -> list[Path]:
    """Up to limit article files, taken in turn from each subfolder so every category is represented."""
    groups = [sorted(p for p in d.rglob("*.txt")) for d in sorted(folder.iterdir()) if d.is_dir()]
    groups = groups or [sorted(folder.glob("*.txt"))]
    return [p for p in chain.from_iterable(zip_longest(*groups)) if p is not None][:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rb-") as tmp:
        run(args.folder, args.limit, Path(tmp))


def run(folder: Path, limit: int, work: Path) -> None:
    """The three builds into folders under work, then the table."""
    token = work / "auth_token"
    token.write_text(secrets.token_hex(32))
    # Set before Ray is first imported: it reads the auth mode once, at import.
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token), RAY_USAGE_STATS_ENABLED="0")
    os.environ.pop("RAY_ADDRESS", None)

    from semsearch.build import build
    from semsearch.config import get_settings
    from semsearch.distributed import LocalCluster
    from semsearch.embedding import MODEL_NAME, get_embedder
    from semsearch.index import Index

    files = articles(folder, limit)
    get_embedder().encode(["warm up"])
    rows, reference = [], None
    for name, cpus in (("local", []), ("Ray, 1 local node", [2]), ("Ray, 2 local nodes", [1, 1])):
        home = work / f"n{len(cpus)}"  # short: Ray's socket paths under it must stay within 107 bytes
        settings = get_settings().model_copy(update={"index_dir": home / "index", "cache_dir": home / "cache"})
        cluster, started = LocalCluster(home / "ray", cpus) if cpus else None, time.perf_counter()
        try:
            if cluster:
                cluster.start()
            cluster_seconds = time.perf_counter() - started
            report = build(
                files,
                settings,
                embed_on="ray" if cluster else "local",
                ray_address=cluster.address if cluster else None,
            )
        finally:
            if cluster:
                cluster.stop(grace=10)
        index = Index(settings.index_dir, MODEL_NAME)
        ids = [i for (i,) in index.db.execute("SELECT id FROM chunks ORDER BY id")]
        vectors = index.chunk_vectors(ids)
        reference = vectors if reference is None else reference
        rows.append((name, "+".join(map(str, cpus)) or "-", cluster_seconds, report, np.abs(vectors - reference).max()))
        print(f"{name}: {report.seconds:.1f} s", file=sys.stderr, flush=True)

    first = rows[0][3]
    print(
        f"\n{len(files)} articles from {folder}: {first.articles} indexed, {first.chunks} chunks, "
        f"{first.sentences} sentences, {first.embedded_texts} texts embedded per run\n"
    )
    print(
        "| build | CPUs per node | cluster start s | build s | chunks/s | sentences/s | texts embedded "
        "| max abs Δ chunk vectors vs local |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, cpus, cluster_seconds, report, delta in rows:
        started = f"{cluster_seconds:.1f}" if cpus != "-" else "-"
        print(
            f"| {name} | {cpus} | {started} | {report.seconds:.1f} | {report.chunks / report.seconds:.1f} "
            f"| {report.sentences / report.seconds:.1f} | {report.embedded_texts} | {delta:.1e} |"
        )


if __name__ == "__main__":
    main()
