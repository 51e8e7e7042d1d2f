"""Crash safety, hot swap under load, corruption, limits and the admin API, on real indexes and servers."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from click.testing import CliRunner

from semsearch.build import build
from semsearch.cli import main
from semsearch.config import Settings
from semsearch.contract import SearchRequest
from semsearch.index import Index, current_version, set_current, verify, version_names
from semsearch.server.app import create_app
from semsearch.service import SearchService

from .conftest import CORPUS, LiveServer

QUESTION = "central bank interest rate decision"


def answer(service: SearchService, q: str = QUESTION) -> list[tuple[str, float]]:
    return [(h.article_id, round(h.score, 5)) for h in service.search(SearchRequest(q=q, summary=False)).results]


@pytest.mark.model
@pytest.mark.parametrize("stage", ["ingest", "split", "embed", "write", "publish"])
def test_build_killed_at_any_stage_leaves_a_servable_index(tmp_path, stage):
    settings = Settings(index_dir=tmp_path / "idx", cache_dir=tmp_path / "cache")
    build([CORPUS / "wire.jsonl"], settings)
    before_version = current_version(settings.index_dir)
    before = answer(SearchService(settings))

    env = {**os.environ, "SEMSEARCH_CACHE_DIR": str(tmp_path / "fresh-cache"), "SEMSEARCH_LOG_LEVEL": "INFO"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "semsearch", "build", str(CORPUS), "--index", str(settings.index_dir)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 120
    for line in proc.stderr:
        if f"stage: {stage}" in line:
            proc.send_signal(signal.SIGKILL)
            break
        assert time.monotonic() < deadline, "build never reached the stage"
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    served = current_version(settings.index_dir)
    assert verify(settings.index_dir / "versions" / served) == []
    if served == before_version:
        assert answer(SearchService(settings)) == before
    else:  # killed after the switch: the new version is complete
        assert stage == "publish"
    report = build([CORPUS], settings)  # the next build succeeds and sweeps the partial directory
    assert report.articles == 12
    assert not list((settings.index_dir / "versions").glob(".partial-*"))


@pytest.mark.model
def test_server_swaps_to_new_versions_under_load_without_failing(tmp_path):
    settings = Settings(index_dir=tmp_path / "idx")
    build([CORPUS / "wire.jsonl"], settings)
    service = SearchService(settings)
    failures, tops = [], []
    stop = threading.Event()

    def client(url: str) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(2000):  # bounded: at most 2,000 requests or until the test says stop
                if stop.is_set():
                    break
                r = http.get("/api/search", params={"q": "record electricity demand heatwave", "k": 1})
                if r.status_code != 200:
                    failures.append(r.status_code)
                else:
                    tops.append(r.json()["results"][0]["title"])

    with LiveServer(create_app(settings, service)) as live:
        worker = threading.Thread(target=client, args=(live.url,))
        worker.start()
        time.sleep(0.5)
        build([CORPUS / "wire.jsonl", CORPUS / "rates.csv"], settings)
        time.sleep(0.5)
        build([CORPUS / "wire.jsonl", CORPUS / "rates.csv", CORPUS / "rail_feed.xml"], settings)
        time.sleep(1.0)
        stop.set()
        worker.join(timeout=60)
    assert failures == []
    assert len(tops) > 10
    assert not tops[0].startswith("Heatwave") and tops[-1].startswith("Heatwave")


@pytest.mark.model
@pytest.mark.parametrize("victim", ["meta.sqlite", "chunks.faiss", "sentences.f16", "manifest.json"])
def test_corrupt_version_is_named_by_verify_and_refused_by_the_server(tmp_path, victim):
    settings = Settings(index_dir=tmp_path / "idx")
    build([CORPUS / "wire.jsonl"], settings)
    good = current_version(settings.index_dir)
    service = SearchService(settings)
    before = answer(service)

    bad = good[:-1] + ("x" if good[-1] != "x" else "y")
    shutil.copytree(settings.index_dir / "versions" / good, settings.index_dir / "versions" / bad)
    path = settings.index_dir / "versions" / bad / victim
    data = bytearray(path.read_bytes())
    if victim == "manifest.json":
        path.write_bytes(bytes(data[: len(data) // 2]))  # truncated
    else:
        middle = len(data) // 2
        data[middle : middle + 8] = bytes(b ^ 0xFF for b in data[middle : middle + 8])  # flipped
        path.write_bytes(bytes(data))
    set_current(settings.index_dir, bad)

    result = CliRunner().invoke(main, ["verify", "--index", str(settings.index_dir)])
    assert result.exit_code == 1 and victim in result.output

    assert answer(service) == before  # keeps serving the last good version
    health = service.health()
    assert health.status == "degraded" and health.version == good and bad in health.detail
    cold = SearchService(settings)  # a fresh server falls back to the newest good version
    assert answer(cold) == before and cold.health().version == good


@pytest.mark.model
def test_rollback_serves_the_previous_version(tmp_path):
    settings = Settings(index_dir=tmp_path / "idx")
    build([CORPUS / "wire.jsonl"], settings)
    first = current_version(settings.index_dir)
    build([CORPUS / "rates.csv"], settings)
    assert len(version_names(settings.index_dir)) == 2
    result = CliRunner().invoke(main, ["rollback", "--index", str(settings.index_dir)])
    assert result.exit_code == 0, result.output
    assert current_version(settings.index_dir) == first


def test_too_many_searches_get_503_with_retry_after(settings, service):
    app = create_app(settings.model_copy(update={"max_concurrent_searches": 2}), service)
    with LiveServer(app) as live, httpx.Client(base_url=live.url) as http:
        app.state.in_flight = 2  # stands in for two searches already running
        busy = http.get("/api/search", params={"q": "port strike"})
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert busy.json()["error"]["code"] == "busy"
        assert http.get("/api/health").status_code == 200  # only searches are limited
        app.state.in_flight = 0
        assert http.get("/api/search", params={"q": "port strike"}).status_code == 200


def test_a_search_counts_against_the_limit_until_its_response_starts_not_while_it_streams():
    import asyncio

    from starlette.datastructures import State

    from semsearch.server.app import SECURITY_HEADERS, Guard

    state = State()
    state.in_flight = 0
    seen: list[int] = []

    async def streaming_app(scope, receive, send):  # a fake: stands in for an answer streamed after its search
        seen.append(state.in_flight)  # the search itself runs here
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"event: evidence\n\n", b"event: done\n\n"):
            seen.append(state.in_flight)
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/api/answer/stream", "query_string": b"q=port", "headers": []}
    asyncio.run(Guard(streaming_app, state, max_searches=1)(scope, receive, send))
    assert seen == [1, 0, 0] and state.in_flight == 0
    assert {k.decode().lower() for k, _ in sent[0]["headers"]} >= {k.lower() for k in SECURITY_HEADERS}


def test_a_server_error_is_json_with_the_security_headers(settings, service, monkeypatch):
    app = create_app(settings, service)

    def broken(*args, **kwargs):  # a fake failure: any bug inside a search
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(service, "search", broken)
    with LiveServer(app) as live, httpx.Client(base_url=live.url) as http:
        failed = http.get("/api/search", params={"q": "port strike"})
        assert failed.status_code == 500 and failed.json()["error"]["code"] == "server_error"
        assert failed.headers["content-security-policy"].startswith("default-src 'self'")
        assert failed.headers["x-content-type-options"] == "nosniff"
        assert app.state.in_flight == 0


def test_oversized_and_odd_requests(client):
    big = client.post(
        "/api/search", content=b'{"q": "' + b"a" * 70_000 + b'"}', headers={"Content-Type": "application/json"}
    )
    assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"
    for q in ("\x00\x01 port", "\ud800" if False else "caf\u00e9 \u202e strike", "🚢" * 50):
        r = client.get("/api/search", params={"q": q})
        assert r.status_code in (200, 422), (q, r.status_code)
    raw = client.get("/api/search?q=%FF%FE%00port")
    assert raw.status_code in (200, 422)
    assert client.get("/api/search", params={"q": "port", "unknown": "x"}).status_code == 200


@pytest.mark.model
def test_admin_api_needs_a_token_and_runs_one_build_at_a_time(tmp_path):
    settings = Settings(index_dir=tmp_path / "idx", admin_token="s3cret-token-long-enough", admin_source_roots=[CORPUS])
    build([CORPUS / "wire.jsonl"], settings)
    with LiveServer(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        assert http.post("/api/index/rebuild").status_code == 401
        wrong = http.post("/api/index/rebuild", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"]
        assert (
            http.post("/api/index/rebuild", headers={"Authorization": "s3cret-token-long-enough"}).status_code == 401
        )  # no scheme
        auth = {"Authorization": "bearer s3cret-token-long-enough"}  # the scheme is case-insensitive
        started = http.post("/api/index/rebuild", headers=auth, json={"sources": [str(CORPUS)]})
        assert started.status_code == 202
        assert http.post("/api/index/rebuild", headers=auth).status_code == 409
        job_id = started.json()["id"]
        for _ in range(600):
            job = http.get(f"/api/index/jobs/{job_id}", headers=auth).json()
            if job["status"] != "running":
                break
            time.sleep(0.1)
        assert job["status"] == "done", job
        assert job["report"]["articles"] == 12
        assert http.get("/api/health").json()["counts"]["articles"] == 12
        with (tmp_path / "idx" / ".build.lock").open("a+") as cli_build:  # as `semsearch update` holds it
            fcntl.flock(cli_build, fcntl.LOCK_EX)
            refused = http.post("/api/index/rebuild", headers=auth)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "rebuild_running"
    without = Settings(index_dir=tmp_path / "idx")
    with LiveServer(create_app(without)) as live, httpx.Client(base_url=live.url) as http:
        assert (
            http.post("/api/index/rebuild", headers={"Authorization": "Bearer s3cret-token-long-enough"}).status_code
            == 404
        )


@pytest.mark.model
def test_a_server_skips_rehashing_files_unchanged_since_their_last_full_check(tmp_path, monkeypatch):
    from semsearch.embedding import MODEL_NAME
    from semsearch.index import IndexCorrupt
    from semsearch.index import versions as index_versions

    settings = Settings(index_dir=tmp_path / "idx")
    build([CORPUS / "wire.jsonl"], settings)
    version = settings.index_dir / "versions" / current_version(settings.index_dir)
    hashed: list[str] = []
    real = index_versions.sha256
    monkeypatch.setattr(index_versions, "sha256", lambda path: hashed.append(path.name) or real(path))  # a counting spy

    Index(settings.index_dir, MODEL_NAME, check=True)
    assert hashed == []  # the build stamped the files it had just checksummed
    target = version / "meta.sqlite"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))  # a rewrite: new mtime, so the stamp no longer matches
    with pytest.raises(IndexCorrupt):
        Index(settings.index_dir, MODEL_NAME, check=True)
    assert "meta.sqlite" in hashed
    assert verify(version)  # the CLI's full check never trusts the stamp
