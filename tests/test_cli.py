"""The `semsearch` command through click's test runner, on real indexes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from semsearch.cli import main
from semsearch.config import get_settings
from semsearch.index import current_version

from .conftest import CORPUS, free_port, wait_until_healthy


@pytest.mark.model
def test_build_search_ask_stats(runner, tmp_path):
    index = str(tmp_path / "idx")
    built = runner.invoke(main, ["build", str(CORPUS), "--index", index])
    assert built.exit_code == 0, built.output
    assert "12 articles" in built.output and "Skipped" in built.output and "broken.txt" in built.output

    found = runner.invoke(main, ["search", "Why did dockworkers strike?", "--index", index, "-k", "3"])
    assert found.exit_code == 0 and "1. " in found.output and "Port Calder" in found.output.split("2. ")[0]
    page = runner.invoke(main, ["search", "Why did dockworkers strike?", "--index", index, "-k", "2", "--offset", "2"])
    third = found.output.split("3. ")[1].splitlines()[0]
    assert page.exit_code == 0 and page.output.startswith(f"3. {third}") and "1. " not in page.output

    asked = runner.invoke(main, ["ask", "How many residents left their homes in the flood?", "--index", index])
    assert asked.exit_code == 0 and "Sources:" in asked.output and "[1]" in asked.output

    as_json = json.loads(runner.invoke(main, ["ask", "cup final goals", "--index", index, "--json"]).output)
    assert set(as_json) == {"query", "took_ms", "results", "summary"}
    searched = json.loads(runner.invoke(main, ["search", "cup final goals", "--index", index, "--json"]).output)
    assert searched["results"] == as_json["results"]
    # The options are the request contract's fields: filters, mode and debug reach the service as the API's do.
    wire = json.loads(
        runner.invoke(
            main,
            [
                "search",
                "news",
                "--outlet",
                "Valley Wire",
                "--since",
                "2000-01-01",
                "--mode",
                "dense",
                "--debug",
                "--index",
                index,
                "--json",
            ],
        ).output
    )
    assert wire["results"] and {h["outlet"] for h in wire["results"]} == {"Valley Wire"}
    assert set(wire["timings"]) == {"embed", "retrieve", "brief"}

    stats = json.loads(runner.invoke(main, ["stats", "--index", index, "--json"]).output)
    assert stats["manifest"]["counts"]["articles"] == 12
    assert stats["outlets"]["Valley Wire"] >= 1
    shown = runner.invoke(main, ["stats", "--index", index])
    assert shown.exit_code == 0 and "12 articles" in shown.output and "faiss IndexFlatIP" in shown.output
    assert "Valley Wire" in shown.output


@pytest.mark.model
def test_build_json_report_lists_skips(runner, tmp_path):
    out = runner.invoke(main, ["build", str(CORPUS), "--index", str(tmp_path / "i"), "--json"])
    report = json.loads(out.output)
    skipped = {s["source"].rsplit("/", 1)[-1]: s["reason"] for s in report["skipped"]}
    assert skipped["empty.txt"] == "empty file" and "wire.jsonl:3" in skipped
    assert report["articles"] == 12 and report["seconds"] > 0


@pytest.mark.model
def test_index_dir_comes_from_the_environment(runner, tmp_path):
    assert runner.invoke(main, ["build", str(CORPUS / "rates.csv")]).exit_code == 0
    assert (tmp_path / "env-index" / "CURRENT").exists()


@pytest.mark.model
def test_an_unwritable_cache_folder_is_named_as_the_cache_not_the_index(runner, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("SEMSEARCH_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    failed = runner.invoke(main, ["build", str(CORPUS / "rates.csv"), "--index", str(tmp_path / "i")])
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert "could not write the embedding cache at" in failed.output and "SEMSEARCH_CACHE_DIR" in failed.output


def test_eval_answer_without_an_index_says_so(runner, tmp_path):
    args = ["eval", "answer", "--index", str(tmp_path / "none"), "--llm-url", "http://127.0.0.1:9/v1"]
    failed = runner.invoke(main, [*args, "--llm-model", "any"])
    assert failed.exit_code == 1 and isinstance(failed.exception, SystemExit)
    assert "run `semsearch build` first" in failed.output


@pytest.mark.model
def test_errors_are_messages_not_tracebacks(runner, tmp_path):
    missing = runner.invoke(main, ["search", "anything", "--index", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "semsearch build" in missing.output and "Traceback" not in missing.output
    nothing = runner.invoke(main, ["build", str(CORPUS / "empty.txt"), "--index", str(tmp_path / "e")])
    assert (
        nothing.exit_code == 1 and "no usable article" in nothing.output and "empty.txt: empty file" in nothing.output
    )
    as_json = runner.invoke(main, ["build", str(CORPUS / "empty.txt"), "--index", str(tmp_path / "e"), "--json"])
    failed = json.loads(as_json.stdout)
    assert as_json.exit_code == 1 and "no usable article" in failed["error"]
    assert [s["reason"] for s in failed["skipped"]] == ["empty file"]
    (tmp_path / "nothing here").mkdir()
    empty = runner.invoke(main, ["build", str(tmp_path / "nothing here"), "--index", str(tmp_path / "e")])
    assert empty.exit_code == 1 and f"no article from {tmp_path / 'nothing here'}" in empty.output
    assert runner.invoke(main, ["build", str(CORPUS / "rates.csv"), "--index", str(tmp_path / "e")]).exit_code == 0
    # Bad input is refused by the request contract: one line naming the option, exit 2 (click's usage status).
    empty_q = runner.invoke(main, ["ask", "  ", "--index", str(tmp_path / "e")])
    assert empty_q.exit_code == 2 and "QUERY: the question is empty" in empty_q.output
    bad_k = runner.invoke(main, ["search", "mine", "-k", "0", "--index", str(tmp_path / "e")])
    assert bad_k.exit_code == 2 and bad_k.output.startswith("error: -k: ") and bad_k.output.count("\n") == 1
    bad_since = runner.invoke(main, ["ask", "mine", "--since", "May", "--words", "5", "--index", str(tmp_path / "e")])
    assert bad_since.exit_code == 2 and "--since: " in bad_since.output and "--words: " in bad_since.output
    assert "Traceback" not in bad_since.output
    no_home = runner.invoke(main, ["rollback", "--index", str(tmp_path / "none")])
    assert no_home.exit_code == 1 and "no index at" in no_home.output and "semsearch build" in no_home.output
    bad_port = runner.invoke(main, ["serve", "--port", "99999", "--index", str(tmp_path / "e")])
    assert bad_port.exit_code == 2 and "99999" in bad_port.output


def _descendants(pid: int) -> list[int]:
    children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]
    return children + [d for c in children for d in _descendants(c)]


def _running(pid: int) -> bool:
    """The process exists and has not exited (a container's init may leave exited ones unreaped: state Z)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_serve_with_workers_answers_from_that_many_processes(settings):
    port = free_port()
    env = {**os.environ, "SEMSEARCH_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "semsearch",
            "serve",
            "--workers",
            "2",
            "--port",
            str(port),
            "--index",
            str(settings.index_dir),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until_healthy(process, f"http://127.0.0.1:{port}", 120)
        served = httpx.get(f"http://127.0.0.1:{port}/api/stats", timeout=30).json()["version"]
        assert served == current_version(settings.index_dir)  # --index reached the workers
        for question in ("Why did dockworkers strike?", "flood homes evacuated", "cup final goals"):
            body = httpx.get(f"http://127.0.0.1:{port}/api/search", params={"q": question}, timeout=60).json()
            assert body["results"] and body["summary"]["sentences"]
        # uvicorn's supervisor spawns one process per worker (and multiprocessing may add a resource tracker).
        workers = [p for p in _descendants(process.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]
        assert len(workers) == 2
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert not [p for p in workers if _running(p)]  # the workers end with the server


def test_serve_refuses_workers_with_the_admin_api(runner, settings, monkeypatch):
    monkeypatch.setenv("SEMSEARCH_ADMIN_TOKEN", "secret-long-enough-token")
    get_settings.cache_clear()
    try:
        refused = runner.invoke(main, ["serve", "--workers", "2", "--index", str(settings.index_dir)])
    finally:
        get_settings.cache_clear()
    assert refused.exit_code == 2 and "one worker" in refused.output


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("SEMSEARCH_CORS_ORIGINS", "https://a.example", "not valid JSON"),
        ("SEMSEARCH_LOG_LEVEL", "LOUD", "'DEBUG', 'INFO'"),
        ("SEMSEARCH_PORT", "eighty", "valid integer"),
        ("SEMSEARCH_JUNK_PHRASES_FILE", "/nonexistent/phrases.txt", "cannot read"),
    ],
)
def test_a_bad_setting_stops_the_cli_with_one_line_naming_it(runner, monkeypatch, variable, value, said):
    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    result = runner.invoke(main, ["search", "strike"])
    get_settings.cache_clear()
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"error: {variable}: " in result.output and said in result.output
