"""What a server exposed to a network shows and allows (issue #18): admin login, internals, article pages."""

from __future__ import annotations

import json
import re
import shutil
import time

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from semsearch.build import build
from semsearch.cli import main
from semsearch.config import Settings, get_settings
from semsearch.index import current_version
from semsearch.ingest.fetch import redacted
from semsearch.server import admin, pages
from semsearch.server.app import create_app
from semsearch.service import SearchService

from .conftest import CORPUS, LiveServer

TOKEN = "a-token-long-enough-for-admin"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _old_segments(text, spans, marked):
    """The article page's segments as they were computed before (every line against every span): the reference."""
    paragraphs = []
    for match in re.finditer(r"[^\n]+", text):
        p_start, p_end = match.span()
        pieces, cursor = [], p_start
        for start, end in spans:
            if start < p_start or end > p_end:
                continue
            if start > cursor:
                pieces.append(pages.Segment(text[cursor:start], cursor, start, False, False))
            pieces.append(pages.Segment(text[start:end], start, end, True, (start, end) in marked))
            cursor = end
        if cursor < p_end:
            pieces.append(pages.Segment(text[cursor:p_end], cursor, p_end, False, False))
        paragraphs.append(pieces)
    return paragraphs


def _wait(http: httpx.Client, job_id: str) -> dict:
    """The job once it has finished."""
    for _ in range(1200):
        job = http.get(f"/api/index/jobs/{job_id}", headers=AUTH).json()
        if job["status"] != "running":
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


# 1. An empty admin token means no admin API, never no login.


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_an_empty_admin_token_turns_the_admin_api_off(settings, service, blank, caplog):
    quiet = Settings(index_dir=settings.index_dir, admin_token=blank)
    assert quiet.admin_token is None and "admin API stays off" in caplog.text
    with LiveServer(create_app(quiet, service)) as live:
        assert httpx.post(f"{live.url}/api/index/rebuild").status_code == 404


def test_a_short_admin_token_is_refused_in_one_line(runner, monkeypatch):
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(admin_token="short-secret")
    monkeypatch.setenv("SEMSEARCH_ADMIN_TOKEN", "short-secret")
    get_settings.cache_clear()
    result = runner.invoke(main, ["serve"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "SEMSEARCH_ADMIN_TOKEN" in result.output and "16 characters" in result.output
    assert "short-secret" not in result.output  # the value itself is a secret


def test_a_missing_or_wrong_token_is_401_unauthorized_with_a_bearer_challenge(settings, service):
    with LiveServer(create_app(settings.model_copy(update={"admin_token": SecretStr(TOKEN)}), service)) as live:
        for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer wrong"}):
            refused = httpx.get(f"{live.url}/api/index/manifest", headers=headers)
            assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
            assert refused.json()["error"]["code"] == "unauthorized" and set(refused.json()["error"]) == {
                "code",
                "message",
                "field",
            }


# 2. The article page grows with the article, not with its square.


def test_article_segments_are_unchanged_on_real_articles(service):
    ids = [row[0] for row in service.index.db.execute("SELECT id FROM articles")]
    assert len(ids) >= 10
    for article_id in ids:
        view = service.article(article_id)
        marked = set(view.sentences[::2])  # every other sentence highlighted
        assert pages.segments(view.text, view.sentences, marked) == _old_segments(view.text, view.sentences, marked)


class CountingSpans(list):
    """A list of spans that counts how many spans anything iterating over it has been handed."""

    handed = 0

    def __iter__(self):
        for span in super().__iter__():
            CountingSpans.handed += 1
            yield span


def test_article_segments_visit_each_line_and_span_once():
    lines = [f"Line {n} says one thing. It says another." for n in range(2000)]
    text = "\n\n".join(lines)
    spans, offset = CountingSpans(), 0
    for line in lines:
        spans.extend([(offset, offset + 24), (offset + 25, offset + len(line))])
        offset += len(line) + 2
    CountingSpans.handed = 0
    paragraphs = pages.segments(text, spans, set())
    assert len(paragraphs) == 2000 and all(len(p) == 3 for p in paragraphs)
    assert CountingSpans.handed <= len(spans)  # the old way handed every span to every line: 8 million


@pytest.mark.model
def test_a_long_article_is_shown_in_parts_with_the_cited_sentence_in_view(tmp_path):
    lines = [f"Paragraph {n} of the council minutes records a vote on item {n}." for n in range(300)]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "minutes.txt").write_text("Council minutes in full\n\n" + "\n\n".join(lines))
    settings = Settings(index_dir=tmp_path / "idx", article_part_chars=5000)
    build([tmp_path / "src"], settings)
    service = SearchService(settings)
    article_id = next(iter(service.index.db.execute("SELECT id FROM articles")))[0]
    view = service.article(article_id)
    last = view.sentences[-1]
    with LiveServer(create_app(settings, service)) as live, httpx.Client(base_url=live.url) as http:
        first = http.get(f"/articles/{article_id}").text
        assert "Part 1 of " in first and "the rest of this article is not shown here" in first
        assert "item 0." in first and "item 299." not in first and len(first) < 3 * 5000
        cited = http.get(f"/articles/{article_id}", params={"hl": f"{last[0]}-{last[1]}"}).text
        assert f'<span id="s{last[0]}" class="s marked">' in cited and "item 299." in cited
        nav = re.search(r'href="\?([^"]*)" rel="prev"', cited).group(1).replace("&amp;", "&")
        previous = http.get(f"/articles/{article_id}?{nav}").text
        assert "item 299." not in previous and f"hl={last[0]}-{last[1]}" in nav
        assert http.get(f"/articles/{article_id}", params={"part": 0}).status_code == 422


# 3. Internals stay with the operator.


def test_public_routes_show_no_paths_or_manifest(client, service):
    secret_places = (str(CORPUS), str(CORPUS.parent), str(service.home))
    health = client.get("/api/health").json()
    assert set(health) == {"status", "version", "counts"}
    ids = [row[0] for row in service.index.db.execute("SELECT id FROM articles")]
    for article_id in ids:
        body = client.get(f"/api/articles/{article_id}").json()
        assert "source_path" not in body and "duplicate_paths" not in body and "extracted_from" not in body
        page = client.get(f"/articles/{article_id}").text
        assert "Source file" not in page
        assert not any(place in page or place in str(body) for place in secret_places)
    assert any(client.get(f"/api/articles/{i}").json()["from_rail"] for i in ids)  # the rail note still shows
    stats = client.get("/api/stats").text
    assert not any(place in stats for place in secret_places)


def test_the_manifest_with_its_sources_is_behind_the_admin_token(settings, service):
    with LiveServer(create_app(settings.model_copy(update={"admin_token": SecretStr(TOKEN)}), service)) as live:
        body = httpx.get(f"{live.url}/api/index/manifest", headers=AUTH).json()
    assert body["status"] == "ok" and body["manifest"]["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert body["manifest"]["sources"] == [str(CORPUS.resolve())]


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("https://user:pa55@feeds.internal/rss?apikey=K3Y&page=2", "https://***@feeds.internal/rss?apikey=***&page=2"),
        ("http://feeds.example/rss?Token=abc&sig=x", "http://feeds.example/rss?Token=***&sig=***"),
        ("https://feeds.example/rss", "https://feeds.example/rss"),
        ("/srv/news/a.txt", "/srv/news/a.txt"),
        ("http://[::1", "http://[::1"),
    ],
)
def test_credentials_in_urls_are_never_shown(given, shown):
    assert redacted(given) == shown


# 4. Health says 503 when there is nothing good to serve.


def test_health_is_503_without_an_index_and_reveals_no_path(tmp_path, service):
    empty = Settings(index_dir=tmp_path / "nothing-here")
    with LiveServer(create_app(empty, SearchService(empty))) as live:
        health = httpx.get(f"{live.url}/api/health")
    assert health.status_code == 503 and health.json() == {"status": "no_index", "version": None, "counts": None}


# 5. The admin API reads only what the operator allowed.


def test_admin_sources_must_be_inside_the_allowed_roots(tmp_path, settings, service):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "escape").symlink_to("/etc")
    cases = [
        "/etc",
        "",
        "   ",
        "relative/news",
        str(allowed / "escape"),
        str(allowed / ".." / "elsewhere"),
        "https://feeds.example/rss",
        "ftp://feeds.example/x",
    ]
    strict = settings.model_copy(
        update={"admin_token": SecretStr(TOKEN), "admin_source_roots": [allowed], "index_dir": tmp_path / "idx"}
    )
    with LiveServer(create_app(strict, service)) as live:
        for source in cases:
            refused = httpx.post(f"{live.url}/api/index/rebuild", headers=AUTH, json={"sources": [source]})
            assert refused.status_code == 422, source
            assert refused.json()["error"]["field"] == "sources" and str(tmp_path) not in refused.text
    unset = settings.model_copy(update={"admin_token": SecretStr(TOKEN), "index_dir": tmp_path / "idx"})
    with LiveServer(create_app(unset, service)) as live:
        refused = httpx.post(f"{live.url}/api/index/rebuild", headers=AUTH, json={"sources": [str(CORPUS)]})
    assert refused.status_code == 422 and "SEMSEARCH_ADMIN_SOURCE_ROOTS" in refused.json()["error"]["message"]


def test_feed_urls_need_the_feeds_setting():
    feeds = Settings(admin_source_roots=[], admin_feeds=True)
    admin.check_sources(["https://feeds.example/rss"], feeds)  # allowed: no exception
    with pytest.raises(admin.AdminError):
        admin.check_sources(["/etc"], feeds)


# 6. Admin rebuilds run in a child process and keep their reports.


@pytest.mark.model
def test_an_admin_rebuild_runs_in_a_child_process_and_keeps_its_report(tmp_path, monkeypatch):
    junk = tmp_path / "junk"
    junk.mkdir()
    shutil.copy(CORPUS / "empty.txt", junk / "empty.txt")
    settings = Settings(index_dir=tmp_path / "idx", admin_token=TOKEN, admin_source_roots=[CORPUS, junk])
    build([CORPUS / "wire.jsonl"], settings)
    before = current_version(settings.index_dir)

    def not_here(*args, **kwargs):  # a build inside the server process fails this test
        raise AssertionError("the rebuild ran inside the server process")

    monkeypatch.setattr("semsearch.build.build", not_here)
    monkeypatch.setattr("semsearch.build.update", not_here)
    with LiveServer(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        started = http.post("/api/index/rebuild", headers=AUTH, json={"sources": [str(CORPUS)]})
        done = _wait(http, started.json()["id"])
        assert done["status"] == "done", done
        assert done["report"]["articles"] == 12 and any(
            s["source"].endswith("broken.txt") for s in done["report"]["skipped"]
        )
        assert str(settings.index_dir) not in json.dumps(done)  # the sources named are the caller's own
        health = http.get("/api/health").json()
        assert health["version"] != before and health["version"] == current_version(settings.index_dir)
        assert health["counts"]["articles"] == 12

        failed = _wait(http, http.post("/api/index/rebuild", headers=AUTH, json={"sources": [str(junk)]}).json()["id"])
        assert failed["status"] == "failed" and failed["error"]
        assert [s["source"] for s in failed["report"]["skipped"]] == [str(junk / "empty.txt")]
        assert failed["report"]["skipped"][0]["reason"]
        assert http.get("/api/health").json()["version"] == health["version"]  # the served index is unchanged

        (junk / "extra.txt").write_text(
            "Ferry crews vote to strike\n\nFerry crews on the island routes voted on Friday to strike next week.\n"
        )
        added = _wait(
            http, http.post("/api/index/rebuild", headers=AUTH, json={"sources": [str(junk)], "add": True}).json()["id"]
        )
        assert added["status"] == "done", added
        assert http.get("/api/health").json()["counts"]["articles"] == 13  # the archive kept, one article added


def test_admin_job_history_is_bounded():
    jobs = admin.Jobs(Settings())
    for n in range(admin.MAX_JOBS + 10):
        jobs.jobs[f"job{n}"] = admin.Job(id=f"job{n}", status="done")
    jobs.jobs["running"] = admin.Job(id="running")
    jobs._forget_old()
    assert len(jobs.jobs) == admin.MAX_JOBS and "running" in jobs.jobs and "job10" not in jobs.jobs
    assert f"job{admin.MAX_JOBS + 9}" in jobs.jobs
