"""Reading sources as ingest does, for tests that look at raw documents and skips before cleaning."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from semsearch.config import Settings
from semsearch.ingest import read_sources
from semsearch.ingest.readers import RawDoc
from semsearch.records import Skipped


def read_raw(sources: Iterable[str | Path], settings: Settings) -> tuple[list[RawDoc], list[Skipped]]:
    """Every source's raw documents and skips, run together."""
    reads = read_sources(sources, settings)
    return [d for r in reads for d in r.docs], [s for r in reads for s in r.skipped]
