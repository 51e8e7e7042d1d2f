"""The HTTP front (issue #18): slow bodies, shedding, Host, HEAD, quiet errors and shutdown, on real servers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack

import httpx
import pytest

from semsearch.build import build
from semsearch.config import Settings
from semsearch.index import IndexIncompatible, current_version
from semsearch.server.app import SECURITY_HEADERS, create_app
from semsearch.service import NO_INDEX, UNREADABLE_INDEX

from .conftest import CORPUS, LiveServer, free_port, wait_until_healthy

QUESTION = "port strike"


def open_body(port: int, declared: int, first: bytes, path: str = "/api/search") -> socket.socket:
    """A raw connection that sends a POST's headers and the start of its body, then holds the rest back."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    sock.sendall(head.encode() + first)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a response the server ends by closing the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def trickle(sockets: list[socket.socket], stop: threading.Event) -> None:
    """Send each connection's body one byte at a time, slowly, until told to stop."""
    while not stop.wait(0.2):
        for sock in sockets:
            sock.sendall(b" ")


def test_slow_bodies_hold_no_search_slot(settings, service):
    limit = 2
    app = create_app(settings.model_copy(update={"max_concurrent_searches": limit, "body_timeout": 60}), service)
    stop = threading.Event()
    with LiveServer(app) as live, ExitStack() as closing, httpx.Client(base_url=live.url, timeout=30) as http:
        slow = [closing.enter_context(open_body(live.port, 4000, b'{"q": "')) for _ in range(limit + 1)]
        sender = threading.Thread(target=trickle, args=(slow, stop), daemon=True)
        sender.start()
        try:
            time.sleep(0.5)  # every slow request has reached the app and is waiting for its body
            assert app.state.in_flight == 0
            found = http.get("/api/search", params={"q": QUESTION})
            page = http.get("/", params={"q": QUESTION})
        finally:
            stop.set()
            sender.join()
    assert found.status_code == 200 and found.json()["results"]
    assert page.status_code == 200


def test_a_body_not_sent_in_time_gets_408_in_the_error_shape(settings, service):
    app = create_app(settings.model_copy(update={"body_timeout": 0.5}), service)
    with LiveServer(app) as live, open_body(live.port, 100, b'{"q": "por') as sock:
        started = time.monotonic()
        status, headers, body = read_response(sock)
    assert status == 408 and time.monotonic() - started < 10
    assert json.loads(body)["error"] == {
        "code": "body_timeout",
        "field": None,
        "message": "the request body did not arrive within 0.5 seconds",
    }
    assert headers["connection"] == "close" and headers["x-content-type-options"] == "nosniff"
    assert app.state.in_flight == 0


def test_a_search_waits_briefly_for_a_slot_instead_of_being_shed(settings, service, monkeypatch):
    app = create_app(settings.model_copy(update={"max_concurrent_searches": 1, "search_wait": 10}), service)
    release = threading.Event()
    real_search = service.search
    calls = []

    def first_search_blocks(*args, **kwargs):  # holds the only slot until the test lets it go
        calls.append(args)
        if len(calls) == 1:
            release.wait(20)
        return real_search(*args, **kwargs)

    monkeypatch.setattr(service, "search", first_search_blocks)
    with LiveServer(app) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        first = threading.Thread(target=http.get, args=("/api/search",), kwargs={"params": {"q": QUESTION}})
        first.start()
        deadline = time.monotonic() + 10
        while not calls and time.monotonic() < deadline:
            time.sleep(0.02)
        assert app.state.in_flight == 1
        threading.Timer(0.5, release.set).start()  # the slot frees while the second search waits for it
        second = http.get("/api/search", params={"q": "flood homes evacuated"})
        first.join()
    assert second.status_code == 200 and second.json()["results"]
    assert app.state.in_flight == 0


def test_a_shed_page_search_is_a_page_and_every_503_has_retry_after(settings, service):
    app = create_app(settings.model_copy(update={"max_concurrent_searches": 1, "search_wait": 0.2}), service)
    with LiveServer(app) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        app.state.in_flight = 1  # stands in for a search already running
        try:
            started = time.monotonic()
            page = http.get("/", params={"q": QUESTION})
            waited = time.monotonic() - started
            api = http.get("/api/search", params={"q": QUESTION})
        finally:
            app.state.in_flight = 0
        assert http.get("/", params={"q": QUESTION}).status_code == 200
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "too many searches" in page.text and page.headers["retry-after"] == "1"
    assert waited >= 0.2
    assert api.status_code == 503 and api.headers["retry-after"] == "1" and api.json()["error"]["code"] == "busy"


def test_pages_link_their_static_files_without_the_host_header(client):
    page = client.get("/", headers={"Host": "evil.example"})
    assert page.status_code == 200
    assert "evil.example" not in page.text and 'href="/static/style.css"' in page.text


def test_only_the_allowed_hosts_are_answered(settings, service):
    app = create_app(settings.model_copy(update={"allowed_hosts": ["search.example.org"]}), service)
    with LiveServer(app) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        wrong = http.get("/api/health", headers={"Host": "evil.example"})
        redirect = http.get("/api/health/", headers={"Host": "evil.example"})
        right = http.get("/api/health", headers={"Host": "SEARCH.example.org:8000"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "unknown_host"
    assert wrong.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    assert redirect.status_code == 400 and "location" not in redirect.headers
    assert right.status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/health", "/", "/?q=port+strike", "/api/search?q=port+strike", "/docs", "/static/style.css"]
)
def test_head_answers_wherever_get_does(client, path):
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["x-frame-options"] == "DENY"


@pytest.mark.model
def test_a_missing_or_broken_index_is_reported_without_paths(tmp_path, caplog):
    missing = Settings(index_dir=tmp_path / "nothing-here")
    broken = Settings(index_dir=tmp_path / "broken")
    build([CORPUS / "wire.jsonl"], broken)
    (broken.index_dir / "versions" / current_version(broken.index_dir) / "manifest.json").write_text("{not json")
    for settings, message in ((missing, NO_INDEX), (broken, UNREADABLE_INDEX)):
        with LiveServer(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=30) as http:
            api = http.get("/api/search", params={"q": QUESTION})
            page = http.get("/", params={"q": QUESTION})
        assert api.status_code == 503
        assert api.json()["error"] == {"code": "no_index", "message": message, "field": None}
        for text in (api.text, page.text):
            assert str(tmp_path) not in text and "manifest" not in text
    assert str(tmp_path) in caplog.text  # the detail is in the log, for the operator


def test_an_unreadable_index_says_so_without_internals(settings, service, monkeypatch):
    def incompatible(*args, **kwargs):  # a fake: FAISS refusing the index, in its own words
        raise IndexIncompatible(f"{settings.index_dir}/v1/vectors.faiss: Error in faiss::read_index d != 384")

    monkeypatch.setattr(service, "search", incompatible)
    with LiveServer(create_app(settings, service)) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        api = http.get("/api/search", params={"q": QUESTION})
    assert api.status_code == 503 and api.json()["error"]["message"] == UNREADABLE_INDEX
    assert "faiss" not in api.text and str(settings.index_dir) not in api.text


def oversized_head_is_refused(port: int) -> bool:
    """Whether the server answers 400 to a request head far beyond any real one, instead of buffering it."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ")
        try:
            for _ in range(64):
                sock.sendall(b"a" * 16384)
        except OSError:  # the server closed the connection while this was still sending
            pass
        try:
            return sock.recv(64).startswith(b"HTTP/1.1 400")
        except OSError:
            return False


def test_serve_bounds_request_heads_and_stops_within_the_shutdown_timeout(settings):
    port = free_port()
    env = {
        **os.environ,
        "SEMSEARCH_LOG_LEVEL": "WARNING",
        "SEMSEARCH_SHUTDOWN_TIMEOUT": "2",
        "SEMSEARCH_BODY_TIMEOUT": "300",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "semsearch", "serve", "--port", str(port), "--index", str(settings.index_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until_healthy(process, f"http://127.0.0.1:{port}", 120)
        assert oversized_head_is_refused(port)
        with open_body(port, 100, b'{"q": "po'):  # a request that would otherwise stay open for minutes
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            process.wait(timeout=20)
            assert time.monotonic() - started < 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
