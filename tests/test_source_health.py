"""Source health (issue #25): what every build and update run records of each source, the silent and failing
flags, and how `semsearch stats`, /api/stats and the search page show it, paths kept private."""

from __future__ import annotations

import http.server
import json
import logging
import shutil
import threading
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from click.testing import CliRunner

from semsearch.build import NothingToBuild, build, update
from semsearch.cli import main
from semsearch.config import Settings, get_settings
from semsearch.ingest import SourceOutcome, read_sources
from semsearch.ingest.fetch import UNREACHABLE
from semsearch.server import pages
from semsearch.service import SearchService
from semsearch.source_health import (
    HEALTH_FILE,
    MIN_ARRIVALS,
    SourceHealth,
    SourceStatus,
    judge,
    load,
    observe,
    public_label,
    public_reason,
    record_run,
    record_safely,
)

from .conftest import CORPUS

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

# A feed written for these tests.
ITEM = """<item><title>{title}</title><link>https://coast.example/{slug}</link>
<pubDate>{day} Mar 2025 09:00:00 GMT</pubDate><description>{text}</description></item>"""
ITEMS = [
    (
        "Ferry timetable cut for the winter",
        "ferry",
        "03",
        "The island ferry will sail twice a day instead of four "
        "times from November, the operator said on Monday. Residents asked for a later evening crossing.",
    ),
    (
        "Lighthouse keepers' cottage to become a museum",
        "lighthouse",
        "04",
        "The old keepers' cottage at Gull Point "
        "will open as a small museum next spring. Volunteers are restoring the lamp room and the kitchen.",
    ),
]


def feed_body() -> bytes:
    items = "".join(ITEM.format(title=t, slug=s, day=d, text=x) for t, s, d, x in ITEMS)
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Coast Gazette</title>{items}</channel></rss>'.encode()
    )


class Feed(http.server.BaseHTTPRequestHandler):
    """Serves the feed at every path, or answers `state["status"]` when that is not 200."""

    state: ClassVar[dict] = {"status": 200}

    def do_GET(self) -> None:
        if self.state["status"] != 200:
            self.send_error(self.state["status"])
            return
        body = feed_body()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def by_kind(settings: Settings) -> dict[str, SourceHealth]:
    return {h.kind: h for h in load(settings.index_dir).values()}


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    """Build from a folder and a feed on loopback, then update three times: with a new article in the folder,
    with the feed answering 500, and with the feed back. The health after each run, and the settings."""
    tmp = tmp_path_factory.mktemp("health")
    folder = tmp / "news"
    folder.mkdir()
    for name in ("harbor_strike_ledger.txt", "rates.csv"):
        shutil.copy(CORPUS / name, folder / name)
    Feed.state = {"status": 200}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://reader:hunter2@127.0.0.1:{httpd.server_address[1]}/feed.xml?token=s3cret"
    settings = Settings(index_dir=tmp / "home", feed_timeout=5, feed_allow_private=True)
    seen, reports = [], []
    try:
        reports.append(build([folder, url], settings))
        seen.append(by_kind(settings))
        shutil.copy(CORPUS / "latin1_cafe.txt", folder / "cafe.txt")
        reports.append(update([], settings))
        seen.append(by_kind(settings))
        Feed.state["status"] = 500
        reports.append(update([], settings))
        seen.append(by_kind(settings))
        Feed.state["status"] = 200
        reports.append(update([], settings))
        seen.append(by_kind(settings))
    finally:
        httpd.shutdown()
    return settings, seen, reports, tmp


@pytest.mark.model
def test_an_update_moves_the_last_new_article_of_the_source_that_gave_one(cycle):
    _, seen, _, _ = cycle
    first, second = seen[0], seen[1]
    assert first["folder"].read_ok and first["feed"].read_ok
    assert first["feed"].articles == 2 and first["folder"].last_new == first["folder"].last_read
    assert second["folder"].articles == first["folder"].articles + 1
    assert second["folder"].last_new > first["folder"].last_new
    assert len(second["folder"].arrivals) == 2
    # The feed was read again but gave nothing new: read later, no new arrival.
    assert second["feed"].last_read > first["feed"].last_read
    assert second["feed"].last_new == first["feed"].last_new and len(second["feed"].arrivals) == 1


@pytest.mark.model
def test_a_failing_feed_is_recorded_and_the_others_health_and_the_build_stand(cycle):
    _, seen, reports, _ = cycle
    before, failed = seen[1], seen[2]
    # the update stands: its articles (the feed's kept from before) are the served version's, which still serves
    assert not reports[2].published and reports[2].version == reports[1].version
    assert not failed["feed"].read_ok and failed["feed"].last_error == UNREACHABLE
    assert failed["feed"].last_error_at == failed["feed"].last_read
    assert failed["feed"].articles == before["feed"].articles  # what it gave when it last worked
    assert failed["feed"].last_ok == before["feed"].last_read
    assert failed["folder"].read_ok and failed["folder"].last_read > before["folder"].last_read
    assert failed["folder"].last_new == before["folder"].last_new


@pytest.mark.model
def test_a_feed_back_from_an_outage_does_not_count_its_old_items_as_new(cycle):
    _, seen, _, _ = cycle
    failed, back = seen[2], seen[3]
    assert back["feed"].read_ok and back["feed"].last_error == UNREACHABLE  # the last error stays on record
    assert back["feed"].last_new == failed["feed"].last_new and len(back["feed"].arrivals) == 1


@pytest.mark.model
def test_update_then_stats_on_the_command_line_flag_the_feed_that_stopped(cycle, monkeypatch):
    settings, _, _, tmp = cycle
    monkeypatch.setenv("SEMSEARCH_FEED_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    try:  # the feed's server has stopped: the update publishes from the folder alone
        updated = CliRunner().invoke(main, ["update", "--json", "--index", str(settings.index_dir)])
    finally:
        get_settings.cache_clear()
    assert updated.exit_code == 0, updated.output
    result = CliRunner().invoke(main, ["stats", "--index", str(settings.index_dir)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Sources: 2, last read " in result.output and "0 silent, 1 failing" in result.output
    feed_line = next(line for line in lines if "FAILING" in line)
    assert "/feed.xml" in feed_line and f"failed: {UNREACHABLE} (last worked " in feed_line
    assert "2 articles" in feed_line
    folder_line = next(line for line in lines if line.strip().startswith("OK"))
    assert str(tmp / "news") in folder_line and "3 articles" in folder_line  # the local user sees full paths
    as_json = json.loads(CliRunner().invoke(main, ["stats", "--json", "--index", str(settings.index_dir)]).output)
    assert {s["state"] for s in as_json["source_health"]["sources"]} == {"ok", "failing"}


@pytest.mark.model
def test_api_stats_and_the_page_show_health_without_any_path_or_credential(cycle):
    from fastapi.testclient import TestClient

    from semsearch.server.app import create_app

    settings, _, _, tmp = cycle
    with TestClient(create_app(settings, SearchService(settings)), base_url="http://127.0.0.1") as client:
        response = client.get("/api/stats")
        page = client.get("/")
    assert response.status_code == 200
    health = response.json()["source_health"]
    assert health["total"] == 2 and health["updated"]
    shown = {s["kind"]: s for s in health["sources"]}
    assert shown["folder"]["source"] == "news" and shown["folder"]["articles"] == 3
    assert shown["feed"]["source"].startswith("http://***@127.0.0.1:") and "token=***" in shown["feed"]["source"]
    for text in (response.text, page.text):
        assert str(tmp) not in text and "hunter2" not in text and "s3cret" not in text
    assert page.status_code == 200
    line = page.text.split('class="sources-status meta">', 1)[1].split("</p>", 1)[0]
    assert line.startswith("2 sources · updated <time")
    assert "just now" in line or "min ago" in line


@pytest.mark.model
def test_a_health_file_that_cannot_be_written_never_fails_a_build(tmp_path, caplog):
    settings = Settings(index_dir=tmp_path / "home")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / HEALTH_FILE).mkdir()  # a folder where the file should be: every write fails
    with caplog.at_level(logging.ERROR, logger="semsearch.source_health"):
        report = build([CORPUS / "harbor_strike_ledger.txt"], settings)
    assert report.articles == 1
    assert "source health could not be recorded" in caplog.text


def test_a_run_that_finds_nothing_to_build_still_records_why(tmp_path):
    settings = Settings(index_dir=tmp_path / "home")
    with pytest.raises(NothingToBuild):
        build([tmp_path / "gone"], settings)
    [health] = load(settings.index_dir).values()
    assert health.source == str(tmp_path / "gone") and not health.read_ok
    assert health.last_error == "no such file or folder" and health.last_new is None


# ---- the record and the flags, with an injected clock: no model --------------------------------------------


def history(every: timedelta, arrivals: int) -> SourceHealth:
    """A feed that gave something new every `every`, from T0 on, read each time it did."""
    health = SourceHealth("https://coast.example/rss", "feed")
    for n in range(arrivals):
        observe(health, SourceOutcome("", None, {f"{n:016x}"}), T0 + n * every, set(), "feed")
    return health


def read_later(health: SourceHealth, clock: datetime) -> SourceHealth:
    """The same feed read again at `clock`, giving nothing new."""
    observe(health, SourceOutcome("", None, set(health.recent_ids)), clock, set(), "feed")
    return health


def test_a_source_is_silent_only_when_quiet_for_several_usual_gaps(monkeypatch):
    settings = Settings(silent_after_gaps=4, silent_min_hours=12)
    every = timedelta(hours=6)
    last = T0 + (MIN_ARRIVALS - 1) * every
    status = judge(read_later(history(every, MIN_ARRIVALS), last + timedelta(hours=23)), settings)
    assert (status.state, status.usual_gap_hours) == ("ok", 6.0)
    assert judge(read_later(history(every, MIN_ARRIVALS), last + timedelta(hours=25)), settings).state == "silent"


def test_too_little_history_is_never_silent_and_the_minimum_covers_busy_feeds():
    settings = Settings(silent_after_gaps=4, silent_min_hours=12)
    few = read_later(history(timedelta(hours=1), MIN_ARRIVALS - 1), T0 + timedelta(days=30))
    assert judge(few, settings).state == "ok" and judge(few, settings).usual_gap_hours is None
    busy = history(timedelta(minutes=10), 20)
    assert judge(read_later(busy, busy_last(busy) + timedelta(hours=11)), settings).state == "ok"
    assert judge(read_later(busy, busy_last(busy) + timedelta(hours=13)), settings).state == "silent"


def busy_last(health: SourceHealth) -> datetime:
    assert health.last_new is not None
    return datetime.fromisoformat(health.last_new)


def test_a_failed_read_keeps_the_history_and_is_flagged_failing_before_silent():
    health = history(timedelta(hours=6), MIN_ARRIVALS)
    clock = T0 + timedelta(days=20)
    observe(health, SourceOutcome("", "feed could not be fetched"), clock, None, "feed")
    assert (health.read_ok, health.last_error, health.last_error_at) == (False, UNREACHABLE, clock.isoformat())
    assert health.articles == 1 and len(health.arrivals) == MIN_ARRIVALS
    assert judge(health, Settings()).state == "failing"


def test_only_a_published_run_counts_an_arrival():
    health = history(timedelta(hours=6), 1)
    clock = T0 + timedelta(days=1)
    observe(health, SourceOutcome("", None, {"a" * 16}), clock, None, "feed")  # read, but nothing published
    assert health.last_read == clock.isoformat() and health.articles == 1 and len(health.arrivals) == 1
    observe(health, SourceOutcome("", None, {"a" * 16}), clock, {"b" * 16}, "feed")
    assert health.last_new == clock.isoformat() and len(health.arrivals) == 2
    observe(health, SourceOutcome("", None, {"a" * 16}), clock + timedelta(hours=1), {"a" * 16}, "feed")
    assert health.last_new == clock.isoformat()  # served already: nothing new


def test_a_published_run_follows_its_own_sources_and_a_failed_one_forgets_none(tmp_path):
    ok = SourceOutcome("", None, {"a" * 16})
    record_run(tmp_path, [("/srv/a", ok), ("/srv/b", ok)], T0, set())
    record_run(tmp_path, [("/srv/a", SourceOutcome("/srv/a", "no such file or folder"))], T0 + timedelta(hours=1), None)
    assert sorted(load(tmp_path)) == ["/srv/a", "/srv/b"]
    record_run(tmp_path, [("/srv/a", ok)], T0 + timedelta(hours=2), {"a" * 16})
    assert sorted(load(tmp_path)) == ["/srv/a"]  # a build from other sources no longer follows /srv/b


def test_public_forms_name_no_path_and_no_credential():
    folder = SourceHealth("/srv/archive/coast-news", "folder")
    assert public_label(folder) == "coast-news"
    feed = SourceHealth("https://me:pw@feeds.example/rss?apikey=k&section=coast", "feed")
    assert public_label(feed) == "https://***@feeds.example/rss?apikey=***&section=coast"
    assert public_reason("unreadable: [Errno 13] Permission denied: '/srv/archive/a.txt'") == (
        "unreadable: [Errno 13] Permission denied: '…'"
    )
    assert public_reason("could not be parsed: KeyError: 'body'") == "could not be parsed"
    assert public_reason(UNREACHABLE) == UNREACHABLE


def test_a_broken_health_file_reads_as_empty_and_is_replaced(tmp_path, caplog):
    (tmp_path / HEALTH_FILE).write_text("{not json", "utf-8")
    with caplog.at_level(logging.WARNING, logger="semsearch.source_health"):
        assert load(tmp_path) == {}
    assert "unreadable" in caplog.text
    record_safely(tmp_path, [("/srv/x", SourceOutcome("/srv/x", "no such file or folder"))], T0, None)
    assert load(tmp_path)["/srv/x"].last_error == "no such file or folder"


def test_reading_tells_a_source_that_fails_from_one_with_a_bad_file(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "notes.docx").write_bytes(b"PK")
    (tmp_path / "story.xyz").write_text("a story", "utf-8")
    reads = read_sources([folder, tmp_path / "gone", tmp_path / "story.xyz", ""], Settings())
    assert [r.error for r in reads] == [
        None,  # a folder whose one file is of an unsupported type is read fine
        "no such file or folder",
        "unsupported file type '.xyz'",
        "empty source (give a file, a folder or a feed URL)",
    ]


def test_a_folder_of_only_skipped_files_is_failing_and_one_good_file_makes_it_ok(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "notes.docx").write_bytes(b"PK")
    (folder / "photo.png").write_bytes(b"\x89PNG")
    with pytest.raises(NothingToBuild):
        build([folder], Settings(index_dir=tmp_path / "idx"))
    health = load(tmp_path / "idx")[str(folder)]
    assert not health.read_ok and health.last_error == (
        "nothing in it could be read (2 skipped; the first: unsupported file type '.docx')"
    )
    shutil.copy(CORPUS / "harbor_strike_ledger.txt", folder)
    reads = read_sources([folder], Settings())
    outcome = SourceOutcome(folder, reads[0].error, {"a" * 16}, reads[0].skipped)
    assert outcome.failure is None  # some files skipped, one read: the source works


def test_the_status_line_says_how_long_ago_in_the_largest_unit():
    now = T0 + timedelta(days=3, hours=5)
    assert pages.time_ago((now - timedelta(seconds=20)).isoformat(), now) == "just now"
    assert pages.time_ago((now - timedelta(minutes=14, seconds=50)).isoformat(), now) == "14 min ago"
    assert pages.time_ago((now - timedelta(hours=2, minutes=59)).isoformat(), now) == "2 h ago"
    assert pages.time_ago((now - timedelta(days=1, hours=3)).isoformat(), now) == "1 day ago"
    assert pages.time_ago(T0.isoformat(), now) == "3 days ago"


def test_a_feed_failing_for_any_cause_is_shown_publicly_as_not_fetched():
    from semsearch.ingest.fetch import NOT_PUBLIC

    for cause in (NOT_PUBLIC, "feed redirected too many times", "could not be parsed: not a feed"):
        feed = SourceHealth("https://feeds.example/rss", "feed", last_error=cause)
        status = SourceStatus(feed, "failing", None)
        assert status.public()["last_error"] == UNREACHABLE
        assert status.local()["last_error"] == cause  # the operator still sees why


@pytest.mark.model
def test_after_a_rollback_source_health_describes_the_served_version_s_sources(tmp_path):
    from semsearch.index import set_current

    settings = Settings(index_dir=tmp_path / "home")
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, name in ((first, "rates.csv"), (second, "wire.jsonl")):
        folder.mkdir()
        shutil.copy(CORPUS / name, folder / name)
    old = build([first], settings)
    build([second], settings)
    assert [s.health.source for s in SearchService(settings).source_statuses()] == [str(second)]
    set_current(settings.index_dir, old.version)  # what `semsearch rollback` does
    assert [s.health.source for s in SearchService(settings).source_statuses()] == [str(first)]
