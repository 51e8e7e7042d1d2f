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
import signal
import subprocess
import sys
import tempfile
import time
from itertools import chain, zip_longest
from pathlib import Path

import numpy as np

RAY = Path(sys.executable).parent / "ray"


def articles(folder: Path, limit: int) -> list[Path]:
    """Up to limit article files, taken in turn from each subfolder so every category is represented."""
    groups = [sorted(p for p in d.rglob("*.txt")) for d in sorted(folder.iterdir()) if d.is_dir()]
    groups = groups or [sorted(folder.glob("*.txt"))]
    return [p for p in chain.from_iterable(zip_longest(*groups)) if p is not None][:limit]


class Cluster:
    """`ray start --block` nodes on 127.0.0.1, each in its own session so all their processes can be stopped by PID."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: list[subprocess.Popen] = []

    def start(self, cpus_per_node: list[int]) -> None:
        """A head node, then the others, with these CPU counts."""
        self.root.mkdir(parents=True, exist_ok=True)
        common = ["--block", "--node-ip-address=127.0.0.1", "--num-gpus=0", "--object-store-memory=200000000",
                  "--disable-usage-stats", f"--temp-dir={self.root}"]
        for n, cpus in enumerate(cpus_per_node):
            role = ["--head", f"--port={self.port}", "--include-dashboard=false"] if n == 0 else [
                f"--address={self.address}"]
            self._start(f"node{n}", [*role, f"--num-cpus={cpus}", *common])

    def _start(self, name: str, options: list[str]) -> None:
        """One node, waited for until it reports itself started."""
        log = self.root / f"{name}.log"
        with log.open("wb") as out:
            self.nodes.append(subprocess.Popen([str(RAY), "start", *options], stdout=out, stderr=subprocess.STDOUT,
                                               start_new_session=True))
        while b"Ray runtime started" not in log.read_bytes():
            if self.nodes[-1].poll() is not None:
                raise RuntimeError(f"ray {name} did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.5)

    def pids(self) -> list[int]:
        """Running processes in the nodes' sessions."""
        sessions, found = {node.pid for node in self.nodes}, []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if fields[0] != "Z" and int(fields[3]) in sessions:
                    found.append(int(entry.name))
        return found

    def stop(self) -> None:
        """SIGTERM, then SIGKILL, every process of the cluster, by PID."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.pids():
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 10
            while self.pids() and time.monotonic() < deadline:
                time.sleep(0.2)
        for node in self.nodes:
            node.wait(timeout=5)


def free_port() -> int:
    """A loopback TCP port nobody listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    from semsearch.embedding import MODEL_NAME, get_embedder
    from semsearch.store import Index

    files = articles(folder, limit)
    get_embedder().encode(["warm up"])
    rows, reference = [], None
    for name, cpus in (("local", []), ("Ray, 1 local node", [2]), ("Ray, 2 local nodes", [1, 1])):
        home = work / f"n{len(cpus)}"  # short: Ray's socket paths under it must stay within 107 bytes
        settings = get_settings().model_copy(update={"index_dir": home / "index", "cache_dir": home / "cache"})
        cluster, started = Cluster(home / "ray") if cpus else None, time.perf_counter()
        try:
            if cluster:
                cluster.start(cpus)
            cluster_seconds = time.perf_counter() - started
            report = build(files, settings, engine="ray" if cluster else "local",
                           ray_address=cluster.address if cluster else None)
        finally:
            if cluster:
                cluster.stop()
        index = Index(settings.index_dir, MODEL_NAME)
        ids = [i for (i,) in index.db.execute("SELECT id FROM chunks ORDER BY id")]
        vectors = index.chunk_vectors(ids)
        reference = vectors if reference is None else reference
        rows.append((name, "+".join(map(str, cpus)) or "-", cluster_seconds, report, np.abs(vectors - reference).max()))
        print(f"{name}: {report.seconds:.1f} s", file=sys.stderr, flush=True)

    first = rows[0][3]
    print(f"\n{len(files)} articles from {folder}: {first.articles} indexed, {first.chunks} chunks, "
          f"{first.sentences} sentences, {first.embedded_texts} texts embedded per run\n")
    print("| build | CPUs per node | cluster start s | build s | chunks/s | sentences/s | texts embedded "
          "| max abs Δ chunk vectors vs local |")
    print("|---|---|---|---|---|---|---|---|")
    for name, cpus, cluster_seconds, report, delta in rows:
        started = f"{cluster_seconds:.1f}" if cpus != "-" else "-"
        print(f"| {name} | {cpus} | {started} | {report.seconds:.1f} | {report.chunks / report.seconds:.1f} "
              f"| {report.sentences / report.seconds:.1f} | {report.embedded_texts} | {delta:.1e} |")


if __name__ == "__main__":
    main()
