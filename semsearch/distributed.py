"""Embedding on a Ray cluster with Ray Data: the driver hands out texts, every worker runs the packaged model.

Ray is the optional ``[scale]`` extra and is imported only here, only when a build asks for it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType, TracebackType

import numpy as np

from .embedding import DIMENSION, get_embedder

log = logging.getLogger(__name__)

# How long a cluster address may take to accept a connection: ray.init itself retries a dead
# address for many minutes before it gives up.
CONNECT_TIMEOUT = 10.0

# How long the model workers may take to start. Work starts only when all are up: the first one
# would otherwise take every block of a small build before the others have loaded the model.
WORKER_START_TIMEOUT = 600

# Texts per Ray Data block: small enough that every worker gets a share of a modest build,
# large enough that scheduling a block costs little next to embedding it.
BLOCK_TEXTS = 256


class RayBuildError(RuntimeError):
    """Ray is not installed, its cluster cannot be reached, or it failed mid-build; the message says which."""


def import_ray() -> ModuleType:
    """The ray module, or RayBuildError naming the extra to install."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise RayBuildError(
            f"--embed-on ray needs Ray Data, which is not installed ({exc}): pip install 'semsearch[scale]'"
        ) from exc
    return ray


class EmbedBatch:
    """Ray Data actor: loads the packaged model once per worker, then embeds the batches it is sent."""

    def __init__(self, backend: str, precision: str) -> None:
        import ray

        self.embedder = get_embedder(backend, vector_precision=precision)
        if self.embedder.vector_precision != precision:  # the driver records this precision for every vector
            raise RuntimeError(f"this worker cannot run the {precision} weights the build asked for")
        self.node = ray.get_runtime_context().get_node_id()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Vectors for one batch of texts, keyed by their position in the driver's list, and where they were made."""
        texts = [str(t) for t in batch["text"]]
        return {
            "position": batch["position"],
            "vector": self.embedder.encode(texts, batch_size=len(texts)),
            "node": np.full(len(texts), self.node),
        }


class RayEmbedder:
    """Embedder.encode run by a pool of model actors on a Ray cluster; vectors come back in input order.

    ``address`` (else RAY_ADDRESS) names a running cluster; without either a private Ray instance is
    started on this machine's cores, on loopback, and stopped again when the embedder is closed. A
    process already connected to Ray keeps its connection.
    """

    def __init__(
        self, address: str | None = None, backend: str = "torch", num_cpus: int | None = None, precision: str = "fp32"
    ) -> None:
        self.ray = import_ray()
        self.backend = backend
        self.precision = precision
        self._ready: dict[str, np.ndarray] = {}
        self._owned = not self.ray.is_initialized()
        if not self._owned:
            log.info("using the Ray instance this process is already connected to")
        elif address := address or os.environ.get("RAY_ADDRESS"):
            log.info("connecting to the Ray cluster at %s", address)
            _check_reachable(address)
            self._init(address=address)
        else:
            log.info("starting a local Ray instance")
            self._init(address="local", num_cpus=num_cpus or os.cpu_count() or 1, _node_ip_address="127.0.0.1")
        self.workers = max(1, int(self.ray.cluster_resources().get("CPU", 1)))
        nodes = sum(1 for node in self.ray.nodes() if node["Alive"])
        log.info("Ray cluster: %d nodes, %d model workers", nodes, self.workers)

    def _init(self, **options: object) -> None:
        """ray.init without the dashboard or usage reporting; failures become RayBuildError."""
        # Usage reporting would send data off the machine; a build never should unless asked to.
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            self.ray.init(include_dashboard=False, log_to_driver=False, **options)
        except (ConnectionError, RuntimeError, ValueError, self.ray.exceptions.RayError) as exc:
            raise RayBuildError(f"could not start or join Ray at {options['address']}: {exc}") from exc

    def prefetch(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> None:
        """Embed texts in one Ray Data run and keep their vectors for the encode calls that follow."""
        # The embedding cache asks for vectors slice by slice; a run per slice would start the
        # model workers again each time, which costs more than embedding a slice.
        self._ready.update(zip(texts, self._run(texts, batch_size, progress), strict=True))

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Unit-length vectors for texts, shape (len(texts), 384): prefetched ones, the rest embedded on Ray."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        if todo := list(dict.fromkeys(t for t in texts if t not in self._ready)):
            self.prefetch(todo, batch_size, progress)
        return np.stack([self._ready[t] for t in texts])

    def _run(self, texts: Sequence[str], batch_size: int, progress: bool) -> np.ndarray:
        """One Ray Data pipeline: texts in, a pool of model actors, vectors back in input order."""
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return out
        started = time.perf_counter()
        data = self.ray.data
        context = data.DataContext.get_current()
        context.enable_progress_bars = progress
        context.wait_for_min_actors_s = WORKER_START_TIMEOUT
        # Every block starts in the driver's object store; with locality on, the worker that shares
        # the driver's node gets them all. Texts are cheap to move, the model's time is what to spread.
        # (Deprecated in Ray 2.60 with no replacement yet, hence the silenced warning.)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.execution_options.actor_locality_enabled = False
        # Neighbours in length share a batch, so little of each forward pass is padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        # At least a block per worker, so even a small build runs on every node it was given; Ray Data
        # merges blocks smaller than a batch into one task, so a batch never outgrows a block.
        blocks = min(len(texts), max(self.workers, -(-len(texts) // BLOCK_TEXTS)))
        batch_size = min(batch_size, len(texts) // blocks)
        dataset = data.from_items([{"position": i, "text": texts[i]} for i in order], override_num_blocks=blocks)
        embedded = dataset.map_batches(
            EmbedBatch,
            fn_constructor_kwargs={"backend": self.backend, "precision": self.precision},
            batch_size=batch_size,
            batch_format="numpy",
            compute=data.ActorPoolStrategy(size=min(self.workers, blocks)),
            num_cpus=1,
        )
        nodes: set[str] = set()
        try:
            for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
                out[batch["position"]] = batch["vector"]
                nodes.update(batch["node"].tolist())
        except self.ray.exceptions.RayError as exc:
            raise RayBuildError(f"embedding on Ray failed: {exc}") from exc
        log.info(
            "embedded %d texts with %d workers on %d Ray nodes in %.1fs",
            len(texts),
            min(self.workers, blocks),
            len(nodes),
            time.perf_counter() - started,
        )
        return out

    def close(self) -> None:
        """Disconnect if this embedder connected: a local instance it started stops, a cluster keeps running."""
        self._ready.clear()
        if self._owned:
            self.ray.shutdown()
            self._owned = False

    def __enter__(self) -> RayEmbedder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def _check_reachable(address: str) -> None:
    """Fail fast, with the address in the message, when nothing listens at a host:port cluster address."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and other forms Ray resolves itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise RayBuildError(
            f"no Ray cluster answers at {address} ({exc}); start one with `ray start --head` or check --ray-address"
        ) from exc


class LocalCluster:
    """Ray nodes (`ray start --block`) on 127.0.0.1, for tests, benchmarks and trying `--embed-on ray` on one machine.

    Each node runs in a session of its own, so every process Ray spawns for it is found by session id
    and stopped by PID, without touching any other Ray on the machine.
    """

    def __init__(self, root: Path, cpus_per_node: Sequence[int], env: dict[str, str] | None = None) -> None:
        self.root = root
        self.cpus_per_node = list(cpus_per_node)
        self.env = env or {}
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: list[subprocess.Popen] = []

    def start(self) -> None:
        """The head node, then the others, each waited for until it reports itself started."""
        self.root.mkdir(parents=True, exist_ok=True)
        common = [
            "--block",
            "--node-ip-address=127.0.0.1",
            "--num-gpus=0",
            "--object-store-memory=150000000",
            "--disable-usage-stats",
            f"--temp-dir={self.root}",
        ]
        for n, cpus in enumerate(self.cpus_per_node):
            role = (
                ["--head", f"--port={self.port}", "--include-dashboard=false"]
                if n == 0
                else [f"--address={self.address}"]
            )
            self._node(f"node{n}", [*role, f"--num-cpus={cpus}", *common])

    def _node(self, name: str, options: list[str]) -> None:
        """One `ray start` in its own session, its output in a log file under the cluster's folder."""
        log_path = self.root / f"{name}.log"
        with log_path.open("wb") as out:
            self.nodes.append(
                subprocess.Popen(
                    [str(Path(sys.executable).parent / "ray"), "start", *options],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, **self.env},
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 120
        while b"Ray runtime started" not in log_path.read_bytes():
            if self.nodes[-1].poll() is not None or time.monotonic() > deadline:
                raise RayBuildError(f"ray {name} did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.5)

    def pids(self) -> list[int]:
        """Every running (not yet reaped) process in the sessions of the nodes this cluster started."""
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

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after a grace period, to every process of the cluster, by PID."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + grace
            while self.pids() and time.monotonic() < deadline:
                time.sleep(0.2)
        for node in self.nodes:
            node.wait(timeout=5)
