"""Saved questions: a real build/update cycle records what is new, and its Atom feed (read by feedparser) says so."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import httpx
import pytest

from semsearch import watches
from semsearch.build import build, update
from semsearch.cli import main
from semsearch.config import Settings
from semsearch.contract import SearchRequest
from semsearch.index import current_version, version_names
from semsearch.schedule import parse_duration

from .conftest import CORPUS, LiveServer

NEW_SENTENCE = "Port Calder's harbour master said the strike had cost shippers 40 million crowns in a week."
SECOND_SENTENCE = "The dockworkers' strike over automated cranes entered its second week."


@pytest.fixture
def home(tmp_path: Path, settings: Settings) -> Settings:
    """A fresh index home over a copy of the strike stories, sharing the session's embedding cache."""
    source = tmp_path / "news"
    source.mkdir()
    for name in ("harbor_strike_ledger.txt", "harbor_strike_tribune.html", "harbor_strike_wire.json", "rates.csv"):
        shutil.copy(CORPUS / name, source / name)
    own = Settings(index_dir=tmp_path / "index", cache_dir=Path(settings.index_dir) / "cache")
    build([source], own)
    return own


def add_article(folder: Path, published: str | None = None) -> None:
    """A new article, dated today unless another day is given."""
    article = {
        "title": "Port Calder strike costs shippers 40 million crowns",
        "outlet": "Valley Wire",
        "published": published or datetime.now(UTC).date().isoformat(),
        "url": "https://wire.example/calder-cost",
        "text": f"{NEW_SENTENCE}\n\n{SECOND_SENTENCE}",
    }
    (folder / "calder-cost.json").write_text(json.dumps(article), "utf-8")


@pytest.mark.model
def test_an_article_that_arrives_dated_before_the_last_run_is_reported_and_no_older_one_with_it(home, tmp_path):
    index_home = Path(home.index_dir)
    watches.add(index_home, "calder-strike", SearchRequest(q="Port Calder dock strike"), home.max_watches)
    update([], home)  # the first run records what exists, the archive's articles dated 2025-03-03 to 05
    first = watches.get(index_home, "calder-strike").entries[0]
    add_article(tmp_path / "news", published="2025-03-01")  # a back-filled report, older than all of them
    report = update([], home)
    entries = watches.get(index_home, "calder-strike").entries
    new = entries[0]
    assert len(entries) == 2 and new["version"] == report.version and entries[1] == first
    cited = {c["published"][:10] for s in new["sentences"] for c in s["citations"]}
    assert NEW_SENTENCE in {s["text"] for s in new["sentences"]} and cited == {"2025-03-01"}
    assert [a["published"] for a in new["articles"]] == ["2025-03-01"]
    update([tmp_path / "news"], home)  # nothing arrives: nothing more is reported
    assert watches.get(index_home, "calder-strike").entries[0] == new


def test_a_run_asks_back_to_the_earliest_date_that_arrived():
    watch = watches.Watch(name="w", request={"q": "strike"}, created="2026-03-01T00:00:00+00:00")
    previous = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    asked = watches.run_request(watch, previous, {"a" * 16: "2025-03-01T09:00:00Z", "b" * 16: None})
    assert asked.new_since.isoformat() == "2025-03-01"
    assert watches.run_request(watch, previous, {"a" * 16: "2026-05-01"}).new_since.isoformat() == "2026-03-04"


@pytest.mark.model
def test_an_update_records_exactly_the_new_sentences_and_the_feed_carries_them(home: Settings, tmp_path: Path):
    index_home = Path(home.index_dir)
    watches.add(index_home, "calder-strike", SearchRequest(q="cost of the Port Calder dock strike"), home.max_watches)
    update([], home)  # the first run records what exists
    first = watches.get(index_home, "calder-strike")
    assert len(first.entries) == 1 and first.entries[0]["sentences"] and first.last_run
    add_article(tmp_path / "news")
    report = update([], home)
    assert report.added == 1
    watch = watches.get(index_home, "calder-strike")
    assert len(watch.entries) == 2 and watch.entries[0]["version"] == report.version
    new = watch.entries[0]
    # Only the new article's sentences: nothing the first run reported comes again.
    assert {s["text"] for s in new["sentences"]} == {NEW_SENTENCE, SECOND_SENTENCE}
    assert len({c["article_id"] for s in new["sentences"] for c in s["citations"]}) == 1
    assert [a["title"] for a in new["articles"]] == ["Port Calder strike costs shippers 40 million crowns"]
    earlier = {s["text"] for s in first.entries[0]["sentences"]}
    assert NEW_SENTENCE not in earlier
    citation = next(s for s in new["sentences"] if s["text"] == NEW_SENTENCE)["citations"][0]
    with LiveServer(_app(home)) as live:
        feed = feedparser.parse(httpx.get(f"{live.url}/watches/calder-strike.atom").content)
        article = httpx.get(f"{live.url}/api/articles/{citation['article_id']}").json()
        listed = httpx.get(f"{live.url}/api/watches/calder-strike").json()
        missing = httpx.get(f"{live.url}/watches/nobody.atom")
    assert not feed.bozo, feed.bozo_exception
    assert len(feed.entries) == 2
    latest = feed.entries[0].content[0].value
    assert feed.entries[0].title.startswith("2 new sentences, 1 new article (version")
    assert NEW_SENTENCE.replace("'", "&#x27;") in latest
    assert f"/articles/{citation['article_id']}?hl={citation['start']}-{citation['end']}" in latest
    assert article["text"][citation["start"] : citation["end"]] == NEW_SENTENCE  # the citation is verbatim
    assert listed["entries"][0]["sentences"] == new["sentences"]
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.model
def test_a_new_article_that_does_not_answer_the_question_is_not_recorded(home: Settings, tmp_path: Path):
    index_home = Path(home.index_dir)
    watches.add(index_home, "calder-strike", SearchRequest(q="cost of the Port Calder dock strike"), home.max_watches)
    update([], home)
    orchard = {
        "title": "Orchard growers sue packers over apple prices",
        "outlet": "Valley Wire",
        "published": datetime.now(UTC).date().isoformat(),
        "text": "Apple growers in the upper valley filed a lawsuit against two packing houses on Tuesday. "
        "They say the packers kept prices low by agreement for three harvests.",
    }
    (tmp_path / "news" / "orchard.json").write_text(json.dumps(orchard), "utf-8")
    assert update([], home).added == 1
    # The only article new since the last run is the nearest to the question, but it answers nothing.
    recorded = [a["title"] for e in watches.get(index_home, "calder-strike").entries for a in e["articles"]]
    assert orchard["title"] not in recorded


def _asked_before_and_after_a_new_article(home: Settings, tmp_path: Path) -> Path:
    """The index home of a saved question that ran once, then again after a new article came; its runs done."""
    index_home = Path(home.index_dir)
    watches.add(index_home, "calder-strike", SearchRequest(q="cost of the Port Calder dock strike"), home.max_watches)
    update([], home)
    add_article(tmp_path / "news")
    update([], home)
    return index_home


@pytest.mark.model
def test_an_edited_article_reports_only_its_revised_sentence(home: Settings, tmp_path: Path):
    index_home = _asked_before_and_after_a_new_article(home, tmp_path)
    before = watches.get(index_home, "calder-strike")
    assert {s["text"] for s in before.entries[0]["sentences"]} == {NEW_SENTENCE, SECOND_SENTENCE}
    export = tmp_path / "news" / "calder-cost.json"
    revised = NEW_SENTENCE.replace("40 million", "45 million")
    export.write_text(export.read_text("utf-8").replace(NEW_SENTENCE, revised), "utf-8")
    assert update([], home).changed == 1  # a new id for the article, the second sentence word for word as it was
    after = watches.get(index_home, "calder-strike")
    assert len(after.entries) == len(before.entries) + 1
    assert [s["text"] for s in after.entries[0]["sentences"]] == [revised]
    assert after.entries[0]["articles"] == []  # reported before its edit


@pytest.mark.model
def test_a_watch_file_remembering_spans_does_not_report_them_again(home: Settings, tmp_path: Path):
    index_home = _asked_before_and_after_a_new_article(home, tmp_path)
    with watches.changing(index_home) as saved:  # as a watch file written before sentences were kept by words
        watch = saved["calder-strike"]
        cited = [c for entry in watch.entries for s in entry["sentences"] for c in s["citations"]]
        watch.seen_sentences = [f"{c['article_id']}:{c['start']}:{c['end']}" for c in cited]
    update([], home)  # nothing new: the new article is still the one dated on or after the last run's day
    assert len(watches.get(index_home, "calder-strike").entries) == 2


def _app(settings: Settings):
    from semsearch.server.app import create_app

    return create_app(settings)


@pytest.mark.model
def test_a_failing_saved_question_never_fails_the_build(home: Settings, monkeypatch):
    watches.add(Path(home.index_dir), "rates", SearchRequest(q="interest rates"), home.max_watches)

    def broken(*args, **kwargs):
        raise RuntimeError("the saved question broke")

    monkeypatch.setattr(watches, "new_findings", broken)
    report = update([], home)
    assert current_version(Path(home.index_dir)) == report.version
    assert watches.get(Path(home.index_dir), "rates").entries == []


@pytest.mark.model
def test_update_every_runs_twice_and_stops_on_sigterm_without_a_partial_version(home: Settings):
    before = version_names(Path(home.index_dir))
    env = {**os.environ, "SEMSEARCH_CACHE_DIR": str(home.cache_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "semsearch", "update", "--every", "2s", "--index", str(home.index_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    built: list[str] = []
    reader = threading.Thread(
        target=lambda: built.extend(line for line in process.stdout if line.startswith(("Built", "Unchanged"))),
        daemon=True,
    )
    reader.start()
    deadline = time.monotonic() + 240
    while len(built) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(built) >= 2, built
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 0
    versions = Path(home.index_dir) / "versions"
    assert not [p for p in versions.iterdir() if p.name.startswith(".partial")]
    assert current_version(Path(home.index_dir)) in version_names(Path(home.index_dir))
    # nothing changed between runs: none published a version, so none pushed an older one out
    assert all(line.startswith("Unchanged: index version") for line in built), built
    assert version_names(Path(home.index_dir)) == before


def test_durations():
    assert [parse_duration(t) for t in ("90s", "15m", "1h", "1h30m", "2d")] == [90, 900, 3600, 5400, 172800]
    for bad in ("", "15", "m", "1x", "0s", "8d", "1h 30m", "-5m"):
        with pytest.raises(ValueError, match=r"duration|range"):
            parse_duration(bad)


def test_watch_commands_validate_names_filters_and_the_limit(runner, tmp_path, monkeypatch):
    index = str(tmp_path / "home")
    monkeypatch.setenv("SEMSEARCH_MAX_WATCHES", "2")
    from semsearch.config import get_settings

    get_settings.cache_clear()
    ok = runner.invoke(
        main,
        [
            "watch",
            "add",
            "port strike",
            "--name",
            "port",
            "--outlet",
            "Harbor Ledger",
            "--since",
            "2025-01-01",
            "--index",
            index,
        ],
    )
    assert ok.exit_code == 0, ok.output
    for args, message in (
        (["x", "--name", "Bad Name"], "invalid name"),
        (["x", "--name", "../etc"], "invalid name"),
        (["x", "--name", "port"], "already exists"),
        (["x", "--name", "k", "-k", "0"], "-k:"),
        (["x", "--name", "d", "--since", "yesterday"], "--since:"),
    ):
        failed = runner.invoke(main, ["watch", "add", *args, "--index", index])
        assert failed.exit_code != 0 and message in failed.output, (args, failed.output)
    assert runner.invoke(main, ["watch", "add", "two", "--name", "two", "--index", index]).exit_code == 0
    full = runner.invoke(main, ["watch", "add", "three", "--name", "three", "--index", index])
    assert full.exit_code == 1 and "at most 2" in full.output
    listed = json.loads(runner.invoke(main, ["watch", "list", "--json", "--index", index]).output)
    assert [w["name"] for w in listed] == ["port", "two"]
    assert listed[0]["request"] == {"q": "port strike", "outlet": ["Harbor Ledger"], "since": "2025-01-01"}
    assert runner.invoke(main, ["watch", "remove", "two", "--index", index]).exit_code == 0
    ended = runner.invoke(main, ["watch", "add", "x", "--name", "ended", "--until", "2020-01-01", "--index", index])
    assert ended.exit_code == 0 and "finds nothing new" in ended.output
    assert "finds nothing new" not in ok.output
    assert runner.invoke(main, ["watch", "remove", "ended", "--index", index]).exit_code == 0
    gone = runner.invoke(main, ["watch", "remove", "two", "--index", index])
    assert gone.exit_code == 1 and "no saved question named 'two'" in gone.output
    assert not list(Path(index).glob(".watches.json.*.tmp"))  # written atomically, nothing left behind


def test_a_run_asks_for_what_is_new_since_the_previous_run():
    watch = watches.Watch("w", {"q": "floods", "since": "2020-01-01"}, "2026-01-01T00:00:00+00:00")
    assert watches.run_request(watch, None).since.isoformat() == "2020-01-01"
    assert watches.run_request(watch, None).new_since is None
    later = watches.run_request(watch, datetime(2026, 3, 4, 5, 6, tzinfo=UTC))
    assert later.new_since.isoformat() == "2026-03-04" and later.since.isoformat() == "2020-01-01"
    assert later.q == "floods" and later.summary


def test_a_saved_new_since_later_than_the_previous_run_still_holds():
    watch = watches.Watch("w", {"q": "floods", "new_since": "2030-01-01"}, "2026-01-01T00:00:00+00:00")
    later = watches.run_request(watch, datetime(2026, 3, 4, 5, 6, tzinfo=UTC))
    assert later.new_since.isoformat() == "2030-01-01"  # it was replaced by the run's day, 2026-03-04
    earlier = watches.Watch("w", {"q": "floods", "new_since": "2020-01-01"}, "2026-01-01T00:00:00+00:00")
    assert watches.run_request(earlier, datetime(2026, 3, 4, tzinfo=UTC)).new_since.isoformat() == "2026-03-04"


def test_a_sentence_is_remembered_by_its_wording_not_its_punctuation():
    said = "Isle Link will cut its sailings between Pellham and Orsk to four, the operator said on Friday."
    for edit in (
        said.replace("four,", "four --"),
        said.replace("four,", "four;"),
        said.replace(" between", ", between"),
    ):
        assert watches.sentence_key(edit) == watches.sentence_key(said)
    for revised in (said.replace("four", "three"), said.replace("Friday", "Monday")):
        assert watches.sentence_key(revised) != watches.sentence_key(said)
    assert watches.sentence_key("It cost $5m.") != watches.sentence_key("It cost £5m.")
    assert watches.sentence_key("2,300 members") != watches.sentence_key("2,400 members")


@pytest.mark.parametrize("damaged", ['{"watches": [{"name": 5}', "", "[]", '{"watches": {"port": {"nope": 1}}}'])
def test_a_damaged_watches_file_is_named_without_a_traceback_or_a_path(runner, tmp_path, damaged):
    from fastapi.testclient import TestClient

    from semsearch.server.app import create_app

    home = tmp_path / "home"
    home.mkdir()
    (home / watches.WATCHES_FILE).write_text(damaged, "utf-8")
    for args in (["list"], ["add", "port strike", "--name", "port"], ["remove", "port"]):
        failed = runner.invoke(main, ["watch", *args, "--index", str(home)])
        assert failed.exit_code == 1, failed.output
        assert failed.output.startswith("error: the saved questions cannot be read"), failed.output
        assert "Traceback" not in failed.output and str(tmp_path) not in failed.output
    with TestClient(create_app(Settings(index_dir=home)), base_url="http://127.0.0.1") as app:
        for path in ("/api/watches", "/api/watches/port", "/watches/port.atom"):
            answer = app.get(path)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.json()["error"]["code"] == "watches_unreadable"
            assert str(tmp_path) not in answer.text


def test_a_run_reports_every_new_article_its_brief_quotes_not_only_story_leads():
    # Only the selection is under test: the brief quotes two new articles, the results list just one story's lead.
    from semsearch.records import Brief, SearchResponse, Source

    def source(n: int, article_id: str) -> Source:
        return Source(n, article_id, f"Bridge report {n}", "Harbor Ledger", "2026-01-12", None)

    brief = Brief(sentences=[], sources=[source(1, "lead"), source(2, "follow-up"), source(3, "seen")])
    watch = watches.Watch("bridge", {"q": "bridge"}, "2026-01-01T00:00:00+00:00", seen_articles=["seen"])
    _, articles = watches.new_findings(watch, SearchResponse("bridge", 1.0, [], brief), {})
    assert [a["article_id"] for a in articles] == ["lead", "follow-up"]
