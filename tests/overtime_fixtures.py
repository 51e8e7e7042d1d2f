"""A small dated corpus for the news-over-time tests (issue #24): the sample's Port Alder dock strike from five
outlets (one a wire copy, one with other figures), its end sixteen days later, and an undated report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from semsearch.build import build
from semsearch.config import Settings
from semsearch.service import SearchService

from .conftest import LiveServer

SAMPLE = Path(__file__).parent.parent / "index" / "sample"
FILES = [
    "harbor-ledger/2025-03-03-port-alder-dockworkers-walk-out.txt",
    "harbor-ledger/2025-03-19-port-alder-dock-strike-ends.txt",
    "meridian-post/2025-03-04-port-alder-strike-second-day.txt",
    "northgate-tribune/2025-03-04-port-alder-terminals-shut.txt",
    "coastline-daily/2025-03-05-ships-pile-up-off-port-alder.html",
    "meridian-post/2025-04-03-inflation-slows-to-2-6-percent.txt",
]
# Undated: no date in its name, text or metadata. Its one fact, the port's opening year, is repeated by no one.
UNDATED = (
    "Port Alder's container history\n\nPort Alder opened its first container berth in 1971, when two "
    "rail-mounted cranes were installed on the old timber quay.\n\nThe port has grown every decade since.\n"
)


@pytest.fixture(scope="session")
def overtime_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    corpus = tmp_path_factory.mktemp("overtime-corpus")
    for name in FILES:
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE / name, corpus / name)
    wire = next(
        line
        for line in (SAMPLE / "exports/newsroom-export-2025h1.jsonl").read_text().splitlines()
        if "Strike shuts Port Alder" in line
    )
    (corpus / "wire.jsonl").write_text(wire + "\n")
    (corpus / "harbor-ledger" / "port-alder-container-history.txt").write_text(UNDATED)
    settings = Settings(index_dir=tmp_path_factory.mktemp("overtime-index"))
    build([corpus], settings)
    assert json.loads(wire)["published"] == "2025-03-03"
    return settings


@pytest.fixture(scope="session")
def overtime_service(overtime_settings: Settings) -> SearchService:
    return SearchService(overtime_settings)


@pytest.fixture(scope="session")
def overtime_server(overtime_settings: Settings, overtime_service: SearchService):
    from semsearch.server.app import create_app

    with LiveServer(create_app(overtime_settings, overtime_service)) as live:
        yield live
