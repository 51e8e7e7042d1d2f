"""Shared fixtures: one real index over the fixture corpus, a real service and a real server."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from click.testing import CliRunner

from semsearch.answer.related import ContextVectors
from semsearch.build import build
from semsearch.config import Settings, get_settings
from semsearch.embedding import Embedder
from semsearch.service import SearchService

from .netns import REASON, enter_private_network

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = FIXTURES / "corpus"
PRIVATE_NETWORK = False


def pytest_configure(config: pytest.Config) -> None:
    """Run the whole session inside a private network namespace when allowed (it is in CI, as root)."""
    global PRIVATE_NETWORK
    PRIVATE_NETWORK = enter_private_network()


# Fixtures that stand for a real server, and those that need the real model behind them.
SERVER_FIXTURES = {"server", "client"}
MODEL_FIXTURES = SERVER_FIXTURES | {"settings", "service", "app"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by the fixtures they use (server, model); skip the scale-out tests, with the reason, where no
    private network namespace could be made."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & SERVER_FIXTURES or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.server)
        if used & MODEL_FIXTURES or any(item.get_closest_marker(m) for m in ("server", "browser", "scale")):
            item.add_marker(pytest.mark.model)
        if not PRIVATE_NETWORK and item.get_closest_marker("scale"):
            item.add_marker(pytest.mark.skip(reason=REASON))


@pytest.fixture(autouse=True)
def model_only_when_marked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that loads or runs the model must say so (@pytest.mark.model), so `-m "not model"` stays fast."""
    if request.node.get_closest_marker("model"):
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"{request.node.nodeid} uses the model: mark it @pytest.mark.model")

    for method in ("__init__", "encode", "encode_query", "count_tokens"):
        monkeypatch.setattr(Embedder, method, refuse)
    monkeypatch.setattr(ContextVectors, "__init__", refuse)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at a fresh index home built once from the fixture corpus."""
    home = tmp_path_factory.mktemp("index")
    settings = Settings(index_dir=home)
    build([CORPUS], settings)
    return settings


@pytest.fixture(scope="session")
def service(settings: Settings) -> SearchService:
    """A real service (real model, real FAISS) over the fixture index."""
    return SearchService(settings)


def free_port() -> int:
    """A TCP port on loopback nobody is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(process, base: str, seconds: float) -> None:
    """Wait for a `semsearch serve` subprocess to answer /api/health; fail if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "server did not start"
        time.sleep(0.3)


class LiveServer:
    """uvicorn serving an app on 127.0.0.1 in a background thread."""

    def __init__(self, app) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def server(settings: Settings, service: SearchService):
    """A real HTTP server on loopback over the fixture index."""
    from semsearch.server.app import create_app

    with LiveServer(create_app(settings, service)) as live:
        yield live


@pytest.fixture
def runner(monkeypatch, tmp_path):
    """A click test runner whose default index home is a fresh folder (the settings cache is reset)."""
    monkeypatch.setenv("SEMSEARCH_INDEX_DIR", str(tmp_path / "env-index"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def app(settings: Settings, service: SearchService):
    """The web app over the fixture index, called in-process (no socket) where HTTP itself is beside the point."""
    from fastapi.testclient import TestClient

    from semsearch.server.app import create_app

    with TestClient(create_app(settings, service), base_url="http://127.0.0.1") as in_process:
        yield in_process


@pytest.fixture
def client(server: LiveServer):
    """An HTTP client bound to the live server."""
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c
