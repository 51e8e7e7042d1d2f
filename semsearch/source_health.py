"""Source health: for every source of an index home, when it was last read, whether that worked, its last error,
when it last gave a new article, and whether it has gone silent for much longer than usual.

It lives in `sources.json` in the index home, beside the versions (a version is immutable; health spans them).
Every build and update run (CLI, schedule, admin API) records what it read, also when it fails or publishes
nothing new; the file is changed under a lock and replaced whole, and a problem with it never fails a build.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import re
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Literal

from .config import Settings
from .homefile import locked, write_json
from .index import IndexCorrupt, kept_sources, served_article_ids
from .ingest import SourceOutcome, url_scheme
from .ingest.fetch import FEED_SCHEMES, UNREACHABLE, redacted

log = logging.getLogger(__name__)

HEALTH_FILE = "sources.json"
LOCK_FILE = ".sources.lock"
# Arrival times kept per source: enough for a steady median gap, small enough to rewrite on every run.
ARRIVALS_KEPT = 50
# A usual gap needs a few gaps to mean anything: with fewer arrivals a source is never called silent.
MIN_ARRIVALS = 5
# Ids of its last read a source remembers, so a feed back from an outage (its articles were left out of the
# versions built meanwhile) does not count its old items as new; larger sources rely on the served version.
REMEMBERED_IDS = 1000
# Absolute paths inside an error reason (an OS error names its file): never shown publicly.
_PATH = re.compile(r"(?<![\w:/.])/[^\s'\"]*")
PARSE_FAILED = "could not be parsed"

State = Literal["ok", "silent", "failing"]


@dataclass(slots=True)
class SourceHealth:
    """What the runs so far saw of one source, keyed by its recorded form (folder, file or feed URL)."""

    source: str
    kind: str  # feed, folder or file
    last_read: str | None = None
    read_ok: bool = True
    last_ok: str | None = None  # the last read that worked
    last_error: str | None = None
    last_error_at: str | None = None
    last_new: str | None = None
    articles: int = 0
    arrivals: list[str] = field(default_factory=list)  # runs that brought new articles, oldest first
    recent_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SourceStatus:
    """One source as `stats` shows it: its health record and the state judged from it."""

    health: SourceHealth
    state: State
    usual_gap_hours: float | None

    def local(self) -> dict:
        """For the operator (`stats --json`): the source as recorded, full paths included."""
        return {"source": self.health.source, **self._shown(self.health.last_error)}

    def public(self) -> dict:
        """For the API and the page: a feed by its URL with credentials masked, a file or folder by its name only."""
        error = self.health.last_error
        if error and self.health.kind == "feed":  # whatever the cause, lest the list map which hosts answer
            error = UNREACHABLE
        return {"source": public_label(self.health), **self._shown(error and public_reason(error))}

    def _shown(self, error: str | None) -> dict:
        h = self.health
        return {
            "kind": h.kind,
            "state": self.state,
            "last_read": h.last_read,
            "last_ok": h.last_ok,
            "last_new": h.last_new,
            "articles": h.articles,
            "usual_gap_hours": self.usual_gap_hours,
            "last_error": error,
            "last_error_at": h.last_error_at,
        }


@dataclass(slots=True)
class Summary:
    """The one-line view: how many sources, when one was last read, how many are silent or failing."""

    total: int
    updated: str | None
    silent: int
    failing: int


def public_label(health: SourceHealth) -> str:
    """How a source is named where the public can see it: never a directory path, never a credential."""
    if health.kind == "feed":
        return redacted(health.source)
    return Path(health.source).name or health.kind


def public_reason(reason: str) -> str:
    """An error reason without file-system paths or a reader's internals."""
    if reason.startswith(PARSE_FAILED):
        return PARSE_FAILED
    return _PATH.sub("…", reason)


def source_kind(source: str) -> str:
    """feed, folder or file, as a source is now."""
    if url_scheme(source) in FEED_SCHEMES:
        return "feed"
    return "folder" if Path(source).is_dir() else "file"


def _path(home: Path) -> Path:
    return Path(home) / HEALTH_FILE


def load(home: Path) -> dict[str, SourceHealth]:
    """Every source's health by its recorded form; none when the file is missing or unreadable (logged)."""
    try:
        raw = json.loads(_path(home).read_text("utf-8"))
        known = {f.name for f in fields(SourceHealth)}
        return {s: SourceHealth(**{k: v for k, v in r.items() if k in known}) for s, r in raw["sources"].items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("source health file in the index home is unreadable, starting afresh: %s", exc)
        return {}


def observe(health: SourceHealth, outcome: SourceOutcome, at: datetime, served: set[str] | None, kind: str) -> None:
    """Note one read of a source at time `at`. `served` is the article ids of the version served before the
    run when the run published a version, else None: only published articles count as arrived."""
    health.last_read = at.isoformat()
    failure = outcome.failure
    health.read_ok = failure is None
    if failure is not None:
        health.last_error, health.last_error_at = failure, at.isoformat()
        return
    health.kind, health.last_ok = kind, at.isoformat()
    health.articles = len(outcome.article_ids)
    if served is None:
        return
    if outcome.article_ids - served - set(health.recent_ids):
        health.last_new = at.isoformat()
        health.arrivals = [*health.arrivals, at.isoformat()][-ARRIVALS_KEPT:]
    health.recent_ids = sorted(outcome.article_ids)[:REMEMBERED_IDS]


def record_run(
    home: Path,
    outcomes: Sequence[tuple[str, SourceOutcome]],
    at: datetime,
    served: set[str] | None,
) -> None:
    """Note one build run's reads (recorded source, outcome); a run that published (`served` given) keeps the
    health of its sources and of those of the other kept versions (a rollback serves one), and drops the rest."""
    read = {source for source, _ in outcomes}
    with locked(home, LOCK_FILE):
        records = load(home)
        if served is not None:
            kept = read | kept_sources(home)
            records = {s: h for s, h in records.items() if s in kept}
        for source, outcome in outcomes:
            kind = source_kind(source)
            health = records.setdefault(source, SourceHealth(source, kind))
            observe(health, outcome, at, served, kind)
        write_json(_path(home), {"sources": {s: asdict(h) for s, h in sorted(records.items())}})


def record_safely(
    home: Path, outcomes: Sequence[tuple[str, SourceOutcome]], at: datetime, served: set[str] | None
) -> None:
    """record_run for the build: a health file that cannot be read or written is logged, never raised."""
    try:
        record_run(home, outcomes, at, served)
    except OSError as exc:  # an unwritable home: the build's own error says why, without a traceback
        log.error("source health could not be recorded in the index home: %s", exc)
    except Exception:  # the sources were read and any version published; their health is only a report on it
        log.exception("source health could not be recorded in the index home")


@dataclass(slots=True)
class Run:
    """One build run as its health is recorded: the articles served before it, and whether it published."""

    served_before: set[str]
    published: bool = False


@contextlib.contextmanager
def recording(home: Path, reads: Sequence[tuple[str, SourceOutcome]], at: datetime) -> Iterator[Run]:
    """Record a run's reads on leaving, whether it published (set `published`) or failed; never raises itself."""
    run = Run(served_before(home))  # read before the run publishes, which changes what is served
    try:
        yield run
    finally:
        record_safely(home, reads, at, run.served_before if run.published else None)


def served_before(home: Path) -> set[str]:
    """Ids of the articles served before a build publishes; none when they cannot be read (logged), so only what
    each source remembers of its last read counts as old."""
    try:
        return served_article_ids(home)
    except (OSError, IndexCorrupt) as exc:
        log.warning("the served version's articles could not be read for source health: %s", exc)
        return set()


def usual_gap(arrivals: Sequence[str]) -> float | None:
    """Seconds of the median gap between recent arrivals, once there are enough of them."""
    if len(arrivals) < MIN_ARRIVALS:
        return None
    times = [datetime.fromisoformat(a) for a in arrivals]
    return statistics.median((b - a).total_seconds() for a, b in itertools.pairwise(times))


def judge(health: SourceHealth, settings: Settings) -> SourceStatus:
    """A source's state: failing when its last read failed; silent when, by its last read, it had given nothing
    new for far longer than its usual gap (measured to the last read: between runs nothing is known)."""
    gap = usual_gap(health.arrivals)
    hours = round(gap / 3600, 2) if gap is not None else None
    if not health.read_ok:
        return SourceStatus(health, "failing", hours)
    if gap is None or health.last_new is None or health.last_read is None:
        return SourceStatus(health, "ok", hours)
    quiet = (datetime.fromisoformat(health.last_read) - datetime.fromisoformat(health.last_new)).total_seconds()
    limit = max(settings.silent_after_gaps * gap, settings.silent_min_hours * 3600)
    return SourceStatus(health, "silent" if quiet > limit else "ok", hours)


class Reader:
    """A home's health file for a server, parsed again only when a run has replaced it (a page view must not
    parse it every time)."""

    def __init__(self, home: Path) -> None:
        self.path = _path(home)
        self._seen: tuple[tuple[int, int, int] | None, dict[str, SourceHealth]] = (None, {})

    def load(self) -> dict[str, SourceHealth]:
        """The records as the file now holds them."""
        try:
            st = self.path.stat()
            stamp: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp = None
        seen, records = self._seen
        if stamp is None or stamp != seen:
            records = load(self.path.parent)
            self._seen = (stamp, records)  # one tuple, replaced whole: threads see the old pair or the new
        return records


def statuses(records: dict[str, SourceHealth], settings: Settings) -> list[SourceStatus]:
    """Every source with its state, failing first, then silent, then by name."""
    order = {"failing": 0, "silent": 1, "ok": 2}
    found = [judge(h, settings) for h in records.values()]
    return sorted(found, key=lambda s: (order[s.state], s.health.source))


def summary(found: Sequence[SourceStatus]) -> Summary:
    """Counts for the status line; `updated` is the latest read of any source."""
    reads = [s.health.last_read for s in found if s.health.last_read]
    return Summary(
        total=len(found),
        updated=max(reads, key=datetime.fromisoformat) if reads else None,
        silent=sum(s.state == "silent" for s in found),
        failing=sum(s.state == "failing" for s in found),
    )
