"""Which index version is served: a lost or forged CURRENT, a version damaged while serving, public errors."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from semsearch.build import build
from semsearch.cli import main
from semsearch.config import Settings
from semsearch.contract import SearchRequest
from semsearch.embedding import MODEL_NAME
from semsearch.index import (
    Index,
    IndexCorrupt,
    IndexIncompatible,
    IndexMissing,
    bad_versions,
    current_version,
    version_names,
)
from semsearch.index.format import CURRENT
from semsearch.service import SearchService

from .conftest import CORPUS, free_port

QUESTION = "central bank interest rate decision"


def answer(service: SearchService) -> list[tuple[str, float]]:
    return [(h.article_id, round(h.score, 5)) for h in service.search(SearchRequest(q=QUESTION, summary=False)).results]


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory) -> Path:
    """An index home with two real versions (the newer one current), built once and copied by each test."""
    home = tmp_path_factory.mktemp("two") / "idx"
    settings = Settings(index_dir=home, cache_dir=home.parent / "cache")
    build([CORPUS / "wire.jsonl"], settings)
    build([CORPUS / "wire.jsonl", CORPUS / "rates.csv"], settings)
    return home


@pytest.fixture
def home(two_versions: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "idx"
    shutil.copytree(two_versions, copy, symlinks=True)
    return copy


def snapshot(folder: Path) -> dict[str, str]:
    """Every file of a folder with its checksum: what must not change when a version is marked bad."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def damage_keeping_mtime(db: Path) -> None:
    """Flip the page-type byte of the articles table's root page, then put the old mtime back."""
    with sqlite3.connect(db) as con:
        root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'articles'").fetchone()[0]
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    before = db.stat()
    data = bytearray(db.read_bytes())
    data[(root - 1) * page_size + (100 if root == 1 else 0)] ^= 0xFF
    db.write_bytes(bytes(data))
    os.utime(db, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.mark.model
@pytest.mark.parametrize("pointer", ["missing", "empty", "blank line"])
def test_a_lost_or_empty_current_serves_the_newest_intact_version(home, pointer):
    newest = version_names(home)[0]
    if pointer == "missing":
        (home / CURRENT).unlink()
    else:
        (home / CURRENT).write_text("" if pointer == "empty" else "\n \n")
    service = SearchService(Settings(index_dir=home))
    assert answer(service)
    health = service.health()
    assert health.status == "degraded" and health.version == newest
    assert CURRENT in health.detail and str(home) not in health.detail


def test_verify_lists_the_versions_and_the_one_a_server_would_serve_when_current_is_lost(home):
    newest, older = version_names(home)
    (home / CURRENT).unlink()
    result = CliRunner().invoke(main, ["verify", "--index", str(home)])
    assert result.exit_code == 1  # the pointer itself needs repair
    assert f"{newest}: ok" in result.output and f"{older}: ok" in result.output
    assert "CURRENT is missing" in result.output and f"A server would serve {newest}." in result.output


@pytest.mark.model
@pytest.mark.parametrize("forgery", ["traversal", "absolute", "symlink"])
def test_current_must_name_a_version_folder_inside_the_home(home, tmp_path, forgery):
    elsewhere = Settings(index_dir=tmp_path / "elsewhere", cache_dir=home.parent / "cache")
    build([CORPUS / "rates.csv"], elsewhere)
    foreign = current_version(elsewhere.index_dir)
    own = version_names(home)[0]
    target = elsewhere.index_dir / "versions" / foreign
    if forgery == "traversal":
        (home / CURRENT).write_text(f"../../elsewhere/versions/{foreign}\n")
    elif forgery == "absolute":
        (home / CURRENT).write_text(f"{target}\n")
    else:  # a well-formed name whose folder is a link out of the home
        (home / "versions" / foreign).symlink_to(target, target_is_directory=True)
        (home / CURRENT).write_text(f"{foreign}\n")
    assert current_version(home) is None
    service = SearchService(Settings(index_dir=home))
    health = service.health()
    assert health.version == own and health.status == "degraded"
    assert foreign not in version_names(home)


@pytest.mark.model
def test_a_version_damaged_while_serving_is_marked_bad_and_the_older_one_serves(tmp_path):
    settings = Settings(index_dir=tmp_path / "idx")
    build([CORPUS / "wire.jsonl"], settings)
    older = current_version(settings.index_dir)
    service = SearchService(settings)
    before = answer(service)
    build([CORPUS / "wire.jsonl", CORPUS / "rates.csv"], settings)
    newer = settings.index_dir / "versions" / current_version(settings.index_dir)
    damage_keeping_mtime(newer / "meta.sqlite")
    files = snapshot(newer)
    assert Index(settings.index_dir, MODEL_NAME, check=True).version == newer.name  # the stamp still matches

    with pytest.raises(IndexCorrupt) as failed:  # the request that finds the damage fails (a 503 on the web)
        answer(service)
    assert str(tmp_path) not in failed.value.public_message
    assert answer(service) == before  # the next ones are answered by the intact older version
    assert service.stats()["version"] == older and service.outlets() and service.examples()
    health = service.health()
    assert health.status == "degraded" and health.version == older
    assert newer.name in health.detail and str(tmp_path) not in health.detail

    assert newer.name in bad_versions(settings.index_dir)
    assert snapshot(newer) == files  # the mark lives outside the version: its files are as they were
    restarted = SearchService(settings)
    assert answer(restarted) == before and restarted.health().version == older
    checked = CliRunner().invoke(main, ["verify", "--index", str(settings.index_dir)])
    assert checked.exit_code == 1 and "marked bad while serving" in checked.output
    assert f"A server would serve {older}." in checked.output


def test_rollback_to_a_version_marked_bad_checks_it_in_full_and_clears_the_mark(home):
    from semsearch.index.versions import mark_bad

    newest, older = version_names(home)
    mark_bad(home, newest, "disk I/O error")  # a passing read error; the files are intact
    assert SearchService(Settings(index_dir=home)).health().version == older
    result = CliRunner().invoke(main, ["rollback", "--to", newest, "--index", str(home)])
    assert result.exit_code == 0, result.output
    assert bad_versions(home) == {} and SearchService(Settings(index_dir=home)).health().status == "ok"


def test_index_errors_carry_a_public_message_without_paths(home, tmp_path):
    empty = tmp_path / "empty"
    with pytest.raises(IndexMissing) as missing:
        _ = SearchService(Settings(index_dir=empty)).index
    assert str(empty) in str(missing.value) and str(empty) not in missing.value.public_message

    newest, older = version_names(home)
    manifest = home / "versions" / newest / "manifest.json"
    manifest.write_text(manifest.read_text().replace(MODEL_NAME, "some/other-model"))
    with pytest.raises(IndexIncompatible) as other:
        Index(home, MODEL_NAME)
    assert str(home) in str(other.value) and str(home) not in other.value.public_message

    vectors = home / "versions" / older / "sentences.f16"
    vectors.write_bytes(bytes(b ^ 0xFF for b in vectors.read_bytes()))
    with pytest.raises(IndexCorrupt) as corrupt:
        Index(home, MODEL_NAME, version=older, check=True)
    assert "sentences.f16" in str(corrupt.value) and "sentences.f16" not in corrupt.value.public_message
    health = SearchService(Settings(index_dir=home)).health()  # nothing intact is left
    assert health.status == "no_index" and str(home) not in health.detail


def serve_until_stats(home: Path) -> dict:
    """Run `semsearch serve` on a home, return its /api/stats once it answers, and stop it."""
    port = free_port()
    env = {**os.environ, "SEMSEARCH_LOG_LEVEL": "WARNING", "SEMSEARCH_CACHE_DIR": str(home.parent / "cache")}
    process = subprocess.Popen(
        [sys.executable, "-m", "semsearch", "serve", "--port", str(port), "--index", str(home)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            assert process.poll() is None and time.monotonic() < deadline, "server did not start"
            try:
                stats = httpx.get(f"http://127.0.0.1:{port}/api/stats", timeout=10)
                if stats.status_code == 200:
                    return stats.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def test_serve_with_versions_but_no_current_serves_them_and_builds_nothing(home):
    kept = version_names(home)
    (home / CURRENT).unlink()
    assert serve_until_stats(home)["version"] == kept[0]
    assert version_names(home) == kept and not (home / CURRENT).exists()


def test_serve_on_a_fresh_home_still_builds_the_sample_first(tmp_path):
    home = tmp_path / "fresh"
    served = serve_until_stats(home)
    assert served["version"] == current_version(home) and served["counts"]["articles"] > 12
