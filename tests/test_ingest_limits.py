"""Issue #18 on the ingest side: entity floods, slow and private feeds, oversized and binary text, odd sources."""

from __future__ import annotations

import http.server
import logging
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from semsearch.config import Settings
from semsearch.ingest import ingest

from .reading import read_raw

ARTICLE = "Dock strike\n\nDockworkers walked out on Monday over pay. The port said talks would resume on Friday.\n"
FEED_ITEM = (
    "<item><title>Heat</title><description>The heatwave broke records on Monday. Crews worked.</description></item>"
)
FEED = f"<rss><channel><title>Valley Wire</title>{FEED_ITEM}</channel></rss>"
UNREACHABLE = "feed could not be fetched"


def reasons(skipped) -> dict[str, str]:
    return {s.source.rsplit("/", 1)[-1]: s.reason for s in skipped}


def test_a_feed_declaring_an_entity_is_refused_before_it_expands(tmp_path):
    # Under expat's amplification guard, one entity referenced many times once reached gigabytes.
    flood = "&e;" * 20_000
    (tmp_path / "flood.xml").write_text(
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e "{"x" * 200}">]>'
        f"<rss><channel><item><title>Flood</title><description>{flood}</description></item></channel></rss>"
    )
    (tmp_path / "subset.xml").write_text(f'<!DOCTYPE rss [<!ATTLIST rss v CDATA "1">]>{FEED}')
    (tmp_path / "public.xml").write_text(
        f'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        f'"http://my.netscape.com/publish/formats/rss-0.91.dtd">{FEED}'
    )
    found = ingest([tmp_path])
    assert [a.source_path.rsplit("/", 1)[-1] for a in found.articles] == ["public.xml#item1"]
    assert {name: reason.split(" (")[0] for name, reason in reasons(found.skipped).items()} == {
        "flood.xml": "XML declares a DTD or entities, which feeds may not",
        "subset.xml": "XML declares a DTD or entities, which feeds may not",
    }


@pytest.mark.parametrize("margin", [-1, 0])
def test_an_article_over_the_character_cap_is_skipped_naming_the_setting(tmp_path, margin):
    body = "Dockworkers walked out on Monday over pay. ".ljust(200, "x")
    (tmp_path / "story.txt").write_text(f"Dock strike\n\n{body}")
    size = len(read_raw([tmp_path], Settings())[0][0].body)
    found = ingest([tmp_path], Settings(max_article_chars=size + margin))
    assert bool(found.articles) is (margin == 0)
    if margin:
        assert reasons(found.skipped) == {
            "story.txt": f"article too long ({size} characters > {size - 1}, SEMSEARCH_MAX_ARTICLE_CHARS)"
        }


@pytest.mark.parametrize("margin", [-1, 0])
def test_an_article_over_the_line_cap_is_skipped_naming_the_setting(tmp_path, margin):
    body = "Dockworkers walked out on Monday over pay.\n" + "More talks were held.\n" * 9
    (tmp_path / "story.txt").write_text(f"Dock strike\n\n{body}")
    lines = len(read_raw([tmp_path], Settings())[0][0].body.splitlines())
    found = ingest([tmp_path], Settings(max_article_lines=lines + margin))
    assert bool(found.articles) is (margin == 0)
    if margin:
        assert reasons(found.skipped) == {
            "story.txt": f"article has too many lines ({lines} > {lines - 1}, SEMSEARCH_MAX_ARTICLE_LINES)"
        }


def test_an_export_of_many_ordinary_articles_is_not_refused_for_its_size(tmp_path):
    import json

    rows = [
        {"title": f"Story {n}", "text": f"The council met on day {n} and voted on the harbour budget."}
        for n in range(50)
    ]
    (tmp_path / "export.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    found = ingest([tmp_path], Settings(max_article_chars=100, max_article_lines=3))
    assert len(found.articles) == 50 and not found.skipped


def test_random_bytes_are_skipped_as_binary(tmp_path):
    noise = random.Random(18)
    # No NULs and no ASCII controls, so only the decoded text tells it is no text.
    (tmp_path / "noise.txt").write_bytes(bytes(noise.randint(0x20, 0xFF) for _ in range(200_000)))
    (tmp_path / "story.txt").write_text(ARTICLE)
    found = ingest([tmp_path])
    assert [a.title for a in found.articles] == ["Dock strike"]
    assert reasons(found.skipped)["noise.txt"].startswith("binary file")


def test_symbols_without_letters_are_skipped_as_binary(tmp_path):
    (tmp_path / "box.txt").write_text("Title\n\n" + "\u2591\u2592\u2593\u2502\u2524" * 2000)
    assert reasons(ingest([tmp_path]).skipped) == {"box.txt": "binary file (too few letters to be text)"}


def test_the_bundled_sample_and_fixtures_are_within_the_default_limits():
    from semsearch.config import sample_corpus_dir

    from .conftest import CORPUS

    found = ingest([CORPUS, sample_corpus_dir()])
    new_reasons = ("too few letters", "unassigned or undecodable", "SEMSEARCH_MAX_ARTICLE")
    assert not [s for s in found.skipped if any(reason in s.reason for reason in new_reasons)]
    assert len(found.articles) > 40


def test_one_bad_source_string_is_skipped_not_fatal(tmp_path, monkeypatch):
    (tmp_path / "story.txt").write_text(ARTICLE)
    monkeypatch.chdir(tmp_path)  # "" must not mean this folder
    found = ingest(["", "bad\x00name.txt", str(tmp_path / "story.txt")])
    assert [a.title for a in found.articles] == ["Dock strike"]
    assert [s.reason for s in found.skipped] == [
        "empty source (give a file, a folder or a feed URL)",
        "source contains a NUL character",
    ]


@pytest.mark.model
def test_a_build_records_no_working_directory_for_an_empty_source(tmp_path, monkeypatch):
    from semsearch.build import build

    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "story.txt").write_text(ARTICLE)
    monkeypatch.chdir(tmp_path / "news")
    report = build(["", "x\x00y", tmp_path / "news" / "story.txt"], Settings(index_dir=tmp_path / "idx"))
    from semsearch.index import recorded_sources

    assert recorded_sources(tmp_path / "idx") == [str(tmp_path / "news" / "story.txt")]
    assert report.articles == 1 and len(report.skipped) == 2


def test_bidi_controls_are_stripped_from_titles_and_text(tmp_path):
    (tmp_path / "story.txt").write_text(
        "Mayor \u202eopens\u202c bridge\n\nThe \u2066mayor\u2069 opened the bridge on "
        "Friday. Traffic \u202aflowed\u202c at once.\n"
    )
    [article] = ingest([tmp_path]).articles
    assert article.title == "Mayor opens bridge"
    assert article.text == "The mayor opened the bridge on Friday. Traffic flowed at once."


# Feeds on a real server on 127.0.0.1.


@contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class Feeds(http.server.BaseHTTPRequestHandler):
    """/feed.xml is the feed; /ftp redirects to ftp://; /loop redirects to itself; anything else is a 404."""

    def do_GET(self) -> None:
        if self.path in ("/ftp", "/loop"):
            self.send_response(302)
            self.send_header("Location", "ftp://127.0.0.1/feed.xml" if self.path == "/ftp" else "/loop")
            self.end_headers()
            return
        if self.path != "/feed.xml":
            self.send_error(404)
            return
        body = FEED.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_loopback_feeds_are_refused_unless_allowed():
    with serving(Feeds) as base:
        docs, [skip] = read_raw([f"{base}/feed.xml"], Settings())
        assert docs == [] and "SEMSEARCH_FEED_ALLOW_PRIVATE" in skip.reason
        assert skip.reason.startswith("feed address is not public")
        docs, skipped = read_raw([f"{base}/feed.xml"], Settings(feed_allow_private=True))
    assert [d.title for d in docs] == ["Heat"] and skipped == []


@pytest.mark.parametrize(
    "address", ["localhost", "10.1.2.3", "169.254.169.254", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0", "100.64.0.1"]
)
def test_non_public_addresses_are_refused_before_any_connection(address):
    _, [skip] = read_raw([f"http://{address}:9/feed.xml"], Settings())
    assert skip.reason.startswith("feed address is not public")


def test_a_redirect_away_from_http_is_not_followed():
    with serving(Feeds) as base:
        _, [ftp] = read_raw([f"{base}/ftp"], Settings(feed_allow_private=True))
        _, [loop] = read_raw([f"{base}/loop"], Settings(feed_allow_private=True))
    assert ftp.reason == "unsupported URL scheme 'ftp' (only http and https feeds are read)"
    assert loop.reason == "feed redirected too many times"


def test_refused_reset_and_http_errors_give_one_reason(caplog):
    closed = socket.create_server(("127.0.0.1", 0))
    refused_port = closed.getsockname()[1]
    closed.close()
    with socket.create_server(("127.0.0.1", 0)) as server:

        def reset() -> None:
            conn, _ = server.accept()
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            conn.close()

        threading.Thread(target=reset, daemon=True).start()
        with serving(Feeds) as base, caplog.at_level(logging.WARNING, logger="semsearch.ingest.fetch"):
            urls = [
                f"http://127.0.0.1:{refused_port}/feed.xml",
                f"http://127.0.0.1:{server.getsockname()[1]}/x",
                f"{base}/missing.xml?apikey=hunter2",
                "http://no-such-host.invalid/feed.xml",
            ]
            _, skipped = read_raw(urls, Settings(feed_allow_private=True, feed_timeout=5))
    assert [s.reason for s in skipped] == [UNREACHABLE] * 4  # what a skip list shows tells the cases apart by nothing
    # The operator's log says what happened to each, credentials hidden.
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(logged) == 4 and "refused" in logged[0].lower() and "HTTP 404" in logged[2]
    assert "apikey=***" in logged[2] and "hunter2" not in caplog.text


class Trickle:
    """A raw socket server that answers one byte every interval, forever."""

    def __init__(self, interval: float) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.interval = interval
        self.stop = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}/feed.xml"

    def serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.0 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n" + FEED.encode() * 100:
                if self.stop.wait(self.interval):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.server.close()


@pytest.mark.parametrize("interval", [0.2, 1.5])  # in the status line and headers, and well under the timeout
def test_the_feed_timeout_is_a_deadline_for_the_whole_download(interval):
    trickle = Trickle(interval)
    try:
        started = time.monotonic()
        _, [skip] = read_raw([trickle.url], Settings(feed_timeout=2, feed_allow_private=True))
        took = time.monotonic() - started
    finally:
        trickle.close()
    assert skip.reason == UNREACHABLE
    assert took < 4  # twice the deadline; per-read timeouts kept it for as long as the server kept sending
