"""Index builds on Ray: a 2-node cluster on loopback embeds what a local build would, with the same result.

The cluster tests are marked `scale` (they run in the session's private network namespace, see
conftest.py); the error-path tests need neither Ray running nor root.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from semsearch.build import build
from semsearch.cli import main
from semsearch.config import Settings
from semsearch.distributed import LocalCluster
from semsearch.embedding import MODEL_NAME
from semsearch.embedding_cache import EmbeddingCache
from semsearch.index import Index
from semsearch.records import BuildReport

from .conftest import CORPUS, free_port


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A running 2-node cluster (one CPU each, token auth); the driver (this process) gets the nodes' settings."""
    ray = pytest.importorskip("ray")
    root = tmp_path_factory.mktemp("ray")
    token = root / "auth_token"
    token.write_text(secrets.token_hex(32))
    env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token), "RAY_USAGE_STATS_ENABLED": "0"}
    cluster = LocalCluster(root, [1, 1], env)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in cluster.env.items():
            patch.setenv(name, value)
        patch.delenv("RAY_ADDRESS", raising=False)
        _reload_ray_auth()
        try:
            cluster.start()
            ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
            deadline = time.monotonic() + 60
            while sum(1 for node in ray.nodes() if node["Alive"]) < 2 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert ray.cluster_resources().get("CPU") == 2, ray.nodes()
            ray.shutdown()
            yield cluster
        finally:
            ray.shutdown()
            cluster.stop()
    _reload_ray_auth()
    assert not cluster.pids(), "Ray processes outlived the test session"


def _reload_ray_auth() -> None:
    """Make this process see the RAY_AUTH_* variables as they are now, as Ray's own tests do."""
    # Ray reads the auth mode once, when it is first imported, and caches the token it loads.
    from ray._raylet import AuthenticationTokenLoader, Config

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


@pytest.fixture(scope="module")
def local_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, BuildReport]:
    """The fixture corpus built in this process, the reference a Ray build must equal."""
    home = tmp_path_factory.mktemp("local-build")
    settings = Settings(index_dir=home / "index", cache_dir=home / "cache")
    return settings, build([CORPUS], settings)


def _rows(index: Index, sql: str) -> list[tuple]:
    """All rows of a query on a version's metadata."""
    return list(index.db.execute(sql))


class NoModel:
    """An embedder that must not be called: every text asked of the cache has to be there already."""

    def encode(self, texts, batch_size=32, progress=False):
        raise AssertionError(f"{len(texts)} texts missing from the embedding cache")


def _cached_vectors(settings: Settings, texts: list[str]) -> np.ndarray:
    """The float32 vectors a build stored in its embedding cache for these texts."""
    cache = EmbeddingCache(Path(settings.cache_dir) / "embeddings.sqlite")
    try:
        return cache.embed(NoModel(), texts, 32)[0]
    finally:
        cache.close()


@pytest.mark.scale
def test_ray_build_on_two_nodes_equals_the_local_build(ray_cluster, local_build, tmp_path, caplog):
    local_settings, local_report = local_build
    settings = Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")
    with caplog.at_level(logging.INFO, logger="semsearch.distributed"):
        report = build([CORPUS], settings, embed_on="ray", ray_address=ray_cluster.address)
    assert f"embedded {report.embedded_texts} texts with 2 workers on 2 Ray nodes" in caplog.text
    assert report.embedded_texts > 0 and report.embedded_texts == local_report.embedded_texts
    assert (report.articles, report.chunks, report.sentences, report.stories) == (
        local_report.articles,
        local_report.chunks,
        local_report.sentences,
        local_report.stories,
    )

    ray_index, local_index = Index(settings.index_dir, MODEL_NAME), Index(local_settings.index_dir, MODEL_NAME)
    for sql in (
        "SELECT id, title, story_id, text FROM articles ORDER BY id",
        "SELECT * FROM chunks ORDER BY id",
        "SELECT * FROM sentences ORDER BY id",
    ):
        assert _rows(ray_index, sql) == _rows(local_index, sql)

    chunk_ids = [i for (i,) in _rows(local_index, "SELECT id FROM chunks ORDER BY id")]
    chunks = ray_index.chunk_vectors(chunk_ids), local_index.chunk_vectors(chunk_ids)
    assert chunks[0].shape == (report.chunks, 384) and np.abs(chunks[0] - chunks[1]).max() < 1e-4

    # Sentence vectors are stored as float16, so the float32 vectors each build computed are read
    # from its own embedding cache and must agree to 1e-4; stored, they may differ by one more
    # float16 step, where model noise of 1e-7 rounds to different sides.
    texts = dict(_rows(local_index, "SELECT id, text FROM articles"))
    spans = _rows(local_index, "SELECT id, article_id, start, end FROM sentences ORDER BY id")
    sentences = [texts[a][s:e] for _, a, s, e in spans]
    exact = _cached_vectors(settings, sentences), _cached_vectors(local_settings, sentences)
    assert exact[0].shape == (report.sentences, 384) and np.abs(exact[0] - exact[1]).max() < 1e-4
    ids = [i for i, *_ in spans]
    stored = ray_index.vectors_of(ids).astype(np.float32), local_index.vectors_of(ids).astype(np.float32)
    step = np.spacing(np.maximum(np.abs(stored[0]), np.abs(stored[1])).astype(np.float16)).astype(np.float32)
    assert np.all(np.abs(stored[0] - stored[1]) < 1e-4 + step)


@pytest.mark.scale
def test_ray_workers_run_the_weights_the_build_records(ray_cluster, tmp_path):
    source = CORPUS / "rates.csv"
    local, remote = (
        Settings(index_dir=tmp_path / name / "index", cache_dir=tmp_path / name / "cache", vector_precision="int8")
        for name in ("local", "ray")
    )
    build([source], local)
    build([source], remote, embed_on="ray", ray_address=ray_cluster.address)
    here, there = Index(local.index_dir, MODEL_NAME), Index(remote.index_dir, MODEL_NAME)
    assert here.manifest.vector_precision == there.manifest.vector_precision == "int8"
    ids = [i for (i,) in _rows(here, "SELECT id FROM chunks ORDER BY id")]
    assert np.abs(here.chunk_vectors(ids) - there.chunk_vectors(ids)).max() < 1e-4


@pytest.mark.scale
def test_cli_builds_on_the_cluster(ray_cluster, runner, tmp_path):
    index = tmp_path / "cli-index"
    out = runner.invoke(
        main,
        [
            "build",
            str(CORPUS / "rates.csv"),
            "--embed-on",
            "ray",
            "--ray-address",
            ray_cluster.address,
            "--index",
            str(index),
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["articles"] >= 1 and report["embedded_texts"] == report["chunks"] + report["sentences"]
    assert (index / "CURRENT").exists()


@pytest.fixture
def ray_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake a Python without Ray: `import ray` raises ImportError (even if a test imported it earlier)."""
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setitem(sys.modules, "ray.data", None)


@pytest.mark.model
@pytest.mark.parametrize("command", ["build", "update"])
def test_engine_ray_without_ray_is_a_clear_error(ray_not_installed, runner, tmp_path, command):
    index = tmp_path / "index"
    out = runner.invoke(main, [command, str(CORPUS / "rates.csv"), "--embed-on", "ray", "--index", str(index)])
    assert out.exit_code == 1 and "pip install 'semsearch[scale]'" in out.output, out.output
    assert "Traceback" not in out.output and not (index / "CURRENT").exists()
    # A local build never imports Ray, so it works on the same Ray-less Python.
    assert runner.invoke(main, ["build", str(CORPUS / "rates.csv"), "--index", str(index)]).exit_code == 0


@pytest.mark.model
def test_engine_ray_with_a_dead_address_is_a_clear_error(runner, tmp_path):
    pytest.importorskip("ray")
    address = f"127.0.0.1:{free_port()}"
    out = runner.invoke(
        main,
        [
            "build",
            str(CORPUS / "rates.csv"),
            "--embed-on",
            "ray",
            "--ray-address",
            address,
            "--index",
            str(tmp_path / "index"),
        ],
    )
    assert out.exit_code == 1 and f"no Ray cluster answers at {address}" in out.output, out.output
    assert "Traceback" not in out.output and not (tmp_path / "index" / "CURRENT").exists()


def test_ray_address_needs_the_ray_engine(runner, tmp_path):
    out = runner.invoke(main, ["build", str(CORPUS), "--ray-address", "127.0.0.1:6379", "--index", str(tmp_path)])
    assert out.exit_code == 2 and "--ray-address needs --embed-on ray" in out.output
