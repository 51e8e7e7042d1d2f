"""The Milvus backend against the FAISS one: same answers, same filters, atomic rebuilds, a real server.

A real Milvus standalone server (the `milvus` package's `milvus-server`) runs on loopback inside the
session's private network namespace; the tests skip with the reason where that cannot be made.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from click.testing import CliRunner

from semsearch.build import build
from semsearch.cli import main
from semsearch.config import Settings, get_settings
from semsearch.contract import SearchRequest
from semsearch.index import current_version
from semsearch.index.milvus import MilvusStore
from semsearch.index.vectors import ChunkFilterFields, FaissStore, VectorConfig, home_key
from semsearch.records import Filters
from semsearch.service import SearchService

from .conftest import CORPUS, free_port, wait_until_healthy

pytestmark = pytest.mark.scale

URI = "http://127.0.0.1:19530"
QUESTIONS = [
    "Why did dockworkers strike?",
    "flood residents evacuated",
    "cup final goals",
    "What did the council decide?",
    "heatwave power cuts",
    "Who won the election?",
    "storm damage to homes",
    "price of electricity",
]


def _stop(process: subprocess.Popen) -> None:
    """Stop a server and everything it started, by its process group: politely, then for sure."""
    for sig, patience in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=patience)
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def milvus(tmp_path_factory):
    """A Milvus standalone server with its data in a temp dir; stopped by PID at the end."""
    binary = shutil.which("milvus-server", path=str(Path(sys.executable).parent))
    if binary is None:
        pytest.skip("milvus-server is not installed: pip install -e '.[scale]'")
    data = tmp_path_factory.mktemp("milvus")
    log = (data / "server.log").open("w")
    process = subprocess.Popen(
        [binary, "--data", str(data)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get("http://127.0.0.1:9091/healthz", timeout=2).text.strip() == "OK":
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            pytest.fail(f"milvus-server did not become healthy; see {data / 'server.log'}")
        time.sleep(0.5)
    yield URI
    _stop(process)


@pytest.fixture(scope="module")
def milvus_settings(milvus, settings, tmp_path_factory) -> Settings:
    """The fixture corpus built again with the Milvus backend (the FAISS build's cache, so nothing re-embeds)."""
    home = tmp_path_factory.mktemp("milvus-index")
    ms = Settings(index_dir=home, backend="milvus", milvus_uri=milvus, cache_dir=Path(settings.index_dir) / "cache")
    build([CORPUS], ms)
    return ms


@pytest.fixture(scope="module")
def milvus_engine(milvus_settings) -> SearchService:
    """A service whose index keeps chunk vectors on the Milvus server."""
    return SearchService(milvus_settings)


def _same_ranking(a, b) -> None:
    """Equal hit lists, allowing two hits with equal scores to swap."""
    assert len(a.results) == len(b.results)
    for x, y in zip(a.results, b.results, strict=True):
        assert x.article_id == y.article_id or abs(x.score - y.score) < 1e-4, (x.title, y.title)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_both_backends_rank_the_same(service, milvus_engine, mode):
    assert milvus_engine.index.backend == "milvus" and service.index.backend == "faiss"
    for question in QUESTIONS:
        _same_ranking(
            service.search(SearchRequest(q=question, mode=mode, summary=False)),
            milvus_engine.search(SearchRequest(q=question, mode=mode, summary=False)),
        )


def test_both_backends_give_the_same_brief_with_verbatim_citations(service, milvus_engine):
    for question in QUESTIONS:
        a, b = service.search(SearchRequest(q=question)), milvus_engine.search(SearchRequest(q=question))
        assert [s.text for s in a.summary.sentences] == [s.text for s in b.summary.sentences]
        assert a.summary.abstained == b.summary.abstained
        for sentence in b.summary.sentences:
            for cite in sentence.citations:
                assert milvus_engine.article(cite.article_id).text[cite.start : cite.end] == sentence.text


def test_filters_behave_the_same(service, milvus_engine):
    outlets = [o for o, _ in service.index.outlets()]
    dated = service.index.db.execute(
        "SELECT MIN(substr(published,1,10)), MAX(substr(published,1,10)) FROM articles "
        "WHERE published GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'"
    ).fetchone()
    cases = [
        {"outlet": outlets[:1]},
        {"outlet": outlets[:2]},
        {"since": dated[1]},
        {"until": dated[0]},
        {"since": dated[0], "until": dated[1]},
        {"outlet": ["No Such Outlet"]},
    ]
    for case in cases:
        for question in QUESTIONS[:4]:
            asked = SearchRequest(q=question, mode="dense", summary=False, **case)
            filters = asked.filters()
            a, b = service.search(asked), milvus_engine.search(asked)
            _same_ranking(a, b)
            metas = service.index.articles([h.article_id for h in b.results])
            for hit in b.results:
                if filters.outlets:
                    assert metas[hit.article_id].outlet in filters.outlets
                if filters.since:
                    assert metas[hit.article_id].published[:10] >= filters.since
    assert milvus_engine.search(SearchRequest(q=QUESTIONS[0], outlet=["No Such Outlet"])).results == []


def test_the_interface_adds_deletes_counts_and_filters_alike_on_both_backends(milvus, tmp_path):
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(60, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    facts = [
        ChunkFilterFields(f"a{i}", "North" if i % 2 else "South", None, f"2024-01-{i % 28 + 1:02d}") for i in range(60)
    ]
    config = VectorConfig(milvus_uri=milvus)
    outlet_of = {i: f.outlet for i, f in enumerate(facts)}
    faiss_store = FaissStore.create(tmp_path, 384, config)
    milvus_store = MilvusStore.create(config, f"semsearch_test_{home_key(tmp_path)}", 384)
    try:
        for store in (faiss_store, milvus_store):
            store.add(np.arange(60), vectors, facts)
            store.delete([3, 4, 5])
            store.publish()
        faiss_store._allowed_ids = lambda f: np.array(  # the metadata side of FAISS filtering, named as a fake
            [i for i in range(60) if i not in (3, 4, 5) and outlet_of[i] in f.outlets], dtype=np.int64
        )
        assert faiss_store.count() == milvus_store.count() == 57
        query = vectors[4] + 0.1 * vectors[10]
        for filters in (None, Filters(outlets=("North",))):
            a, b = faiss_store.search(query, 10, filters), milvus_store.search(query, 10, filters)
            assert [i for i, _ in a] == [i for i, _ in b]
            assert 4 not in [i for i, _ in a]
            np.testing.assert_allclose([s for _, s in a], [s for _, s in b], atol=1e-4)
        assert all(outlet_of[i] == "North" for i, _ in milvus_store.search(query, 10, Filters(outlets=("North",))))
        np.testing.assert_allclose(milvus_store.vectors([10, 2]), vectors[[10, 2]], atol=1e-6)
        np.testing.assert_allclose(faiss_store.vectors([10, 2]), vectors[[10, 2]], atol=1e-6)
    finally:
        milvus_store.drop()


def test_a_rebuild_on_milvus_publishes_atomically(milvus, settings, tmp_path):
    wire = CORPUS / "wire.jsonl"
    rest = [p for p in CORPUS.iterdir() if p != wire]
    ms = Settings(
        index_dir=tmp_path / "home", backend="milvus", milvus_uri=milvus, cache_dir=Path(settings.index_dir) / "cache"
    )
    build([wire], ms)
    service = SearchService(ms)
    old_ids = set(service.index.article_ids())
    seen: list[tuple[str, frozenset[str]]] = []
    failures: list[str] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                response = service.search(SearchRequest(q="storm flood strike election", k=20, summary=True))
                cited = {c.article_id for s in response.summary.sentences for c in s.citations}
                seen.append((service.index.version, frozenset({h.article_id for h in response.results} | cited)))
            except Exception as exc:  # noqa: BLE001 - any failure during the switch is the bug this test is for
                failures.append(repr(exc))

    worker = threading.Thread(target=ask)
    worker.start()
    try:
        build(rest, ms)
        time.sleep(1.0)
    finally:
        stop.set()
        worker.join(timeout=60)
    new_ids = set(service.index.article_ids())
    assert failures == []
    assert old_ids.isdisjoint(new_ids)
    assert any(ids and ids <= old_ids for _, ids in seen) and any(ids and ids <= new_ids for _, ids in seen)
    assert all(ids <= old_ids or ids <= new_ids for _, ids in seen), "a response mixed two versions"


def test_old_collections_are_dropped_with_their_versions_and_verify_checks_the_current_one(
    milvus, settings, tmp_path, monkeypatch
):
    from pymilvus import MilvusClient

    home = tmp_path / "gc"
    ms = Settings(
        index_dir=home,
        backend="milvus",
        milvus_uri=milvus,
        keep_versions=1,
        cache_dir=Path(settings.index_dir) / "cache",
    )
    client = MilvusClient(uri=milvus)
    prefix = f"semsearch_{home_key(home)}_"
    build([CORPUS / "wire.jsonl"], ms)
    first = [c for c in client.list_collections() if c.startswith(prefix)]
    build([CORPUS / "wire.jsonl", CORPUS / "rates.csv"], ms)  # other inputs: a version is published
    second = [c for c in client.list_collections() if c.startswith(prefix)]
    assert len(first) == len(second) == 1 and first != second
    assert second[0].endswith(current_version(home).replace("-", "_"))

    monkeypatch.setenv("SEMSEARCH_MILVUS_URI", milvus)
    get_settings.cache_clear()
    try:
        assert CliRunner().invoke(main, ["verify", "--index", str(home)]).exit_code == 0
        client.drop_collection(second[0])
        result = CliRunner().invoke(main, ["verify", "--index", str(home)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and second[0] in result.output


def test_the_server_answers_with_the_milvus_backend(milvus_settings):
    port = free_port()
    env = {
        **os.environ,
        "SEMSEARCH_BACKEND": "milvus",
        "SEMSEARCH_MILVUS_URI": milvus_settings.milvus_uri,
        "SEMSEARCH_INDEX_DIR": str(milvus_settings.index_dir),
        "SEMSEARCH_PORT": str(port),
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "semsearch"), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(process, base, 90)
        assert httpx.get(f"{base}/api/stats", timeout=30).json()["backend"] == "milvus"
        body = httpx.get(f"{base}/api/search", params={"q": QUESTIONS[0]}, timeout=60).json()
        assert body["results"] and body["summary"]["sentences"]
    finally:
        _stop(process)


def test_an_unreachable_milvus_is_a_clear_503_not_a_traceback(milvus_settings):
    from fastapi.testclient import TestClient

    from semsearch.server.app import create_app

    dead = milvus_settings.model_copy(update={"milvus_uri": f"http://127.0.0.1:{free_port()}"})
    response = TestClient(create_app(dead)).get("/api/search", params={"q": "storm"})
    assert response.status_code == 503
    assert "Milvus" in response.json()["error"]["message"] and "Traceback" not in response.text
