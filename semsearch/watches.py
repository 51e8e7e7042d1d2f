"""Saved questions ("watches"): asked again after every published version, recording what is new each time.

They live in `watches.json` in the index home, beside the versions (a version is immutable and garbage-collected,
a watch outlives it). Every change is a read-modify-write under a lock file, written to a temporary file and
renamed into place, so a reader sees the old or the new file, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType

from .config import Settings
from .contract import SearchRequest
from .homefile import locked, write_json
from .records import Brief, Refusal, SearchResponse
from .text import is_written_day, wording

log = logging.getLogger(__name__)

WATCHES_FILE = "watches.json"
LOCK_FILE = ".watches.lock"
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
NAME_RULE = "1-64 characters: lower-case letters, digits, - and _, starting with a letter or digit"
# How many sentence and article keys a watch remembers as already reported (oldest forgotten first).
SEEN_LIMIT = 5000

# The articles a version brought that the one served before it did not hold (new or edited), by id, with
# their published dates.
Arrivals = Mapping[str, str | None]
NO_ARRIVALS: Arrivals = MappingProxyType({})


class WatchError(Refusal, ValueError):
    """A watch operation refused (by default an invalid watch, 422)."""

    def __init__(self, message: str, code: str = "invalid_watch", field: str | None = None, status: int = 422) -> None:
        super().__init__(status, code, message, field)


def unknown(name: str) -> WatchError:
    """The error for a watch name that is not saved."""
    return WatchError(f"no saved question named {name!r}", "not_found", "name", 404)


@dataclass(slots=True)
class Watch:
    """A saved question: its request, when it last ran, what each run found new, and what it already reported."""

    name: str
    request: dict
    created: str
    last_run: str | None = None
    entries: list[dict] = field(default_factory=list)
    seen_sentences: list[str] = field(default_factory=list)
    seen_articles: list[str] = field(default_factory=list)

    def search_request(self) -> SearchRequest:
        """The saved request, validated again (it was valid when saved; the contract may have moved on)."""
        return SearchRequest.model_validate(self.request)

    def public(self) -> dict:
        """What the API and `watch list --json` show: no bookkeeping of what was seen."""
        return {
            "name": self.name,
            "request": self.request,
            "created": self.created,
            "last_run": self.last_run,
            "entries": self.entries,
        }


def checked_name(name: str) -> str:
    """The name, or a WatchError saying which characters a name may hold."""
    if not NAME.fullmatch(name):
        raise WatchError(f"invalid name {name!r}: {NAME_RULE}", field="name")
    return name


def run_request(watch: Watch, previous: datetime | None, arrivals: Arrivals = NO_ARRIVALS) -> SearchRequest:
    """The request a run asks: the saved question, limited to what is new since the day of the previous run,
    or since the earliest date of an article that arrived since then, when earlier (a late feed, a back-filled
    folder: a watch asks by date, and would pass them over); its own new_since stands when later."""
    request = watch.search_request().model_copy(update={"summary": True})
    if previous is None:
        return request
    day = window_start(previous, arrivals)
    return request.model_copy(update={"new_since": max(day, request.new_since or day)})


def window_start(previous: datetime, arrivals: Arrivals) -> date:
    """The first day a run asks about: the previous run's, or an arrival's earlier date."""
    dated = (published[:10] for published in arrivals.values() if published and is_written_day(published[:10]))
    return min([previous.date(), *(date.fromisoformat(day) for day in dated)])


def _path(home: Path) -> Path:
    return Path(home) / WATCHES_FILE


def load(home: Path) -> dict[str, Watch]:
    """Every saved watch by name (none when the file does not exist yet); a 503 WatchError when the file
    cannot be read as saved questions (edited by hand, or damaged)."""
    try:
        raw = json.loads(_path(home).read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _unreadable(exc) from exc
    try:
        return {name: Watch(**values) for name, values in raw["watches"].items()}
    except (TypeError, KeyError, AttributeError) as exc:
        raise _unreadable(exc) from exc


def _unreadable(exc: Exception) -> WatchError:
    """The error for a watches file that is no file of saved questions; it names no path (a server says it)."""
    log.error("%s cannot be read: %s", WATCHES_FILE, exc)
    return WatchError(
        f"the saved questions cannot be read: {WATCHES_FILE} in the index home is damaged; restore or remove it",
        "watches_unreadable",
        status=503,
    )


def _save(home: Path, watches: dict[str, Watch]) -> None:
    """Write the file atomically and durably."""
    write_json(_path(home), {"watches": {name: asdict(w) for name, w in sorted(watches.items())}})


@contextlib.contextmanager
def changing(home: Path) -> Iterator[dict[str, Watch]]:
    """The watches to change in place, saved on leaving; one writer at a time (CLI, build, server)."""
    with locked(home, LOCK_FILE):
        watches = load(home)
        yield watches
        _save(home, watches)


def add(home: Path, name: str, request: SearchRequest, limit: int) -> Watch:
    """Save a question under a new name; refused when the name is taken or `limit` watches exist."""
    checked_name(name)
    with changing(home) as watches:
        if name in watches:
            raise WatchError(f"a saved question named {name!r} already exists", "exists", "name", 409)
        if len(watches) >= limit:
            raise WatchError(f"at most {limit} saved questions (SEMSEARCH_MAX_WATCHES)", "too_many", None, 409)
        request = request.model_copy(update={"summary": True})
        watch = Watch(name, request.model_dump(mode="json", exclude_defaults=True), _now().isoformat())
        watches[name] = watch
    return watch


def remove(home: Path, name: str) -> None:
    """Forget a saved question and what it recorded."""
    with changing(home) as watches:
        if watches.pop(checked_name(name), None) is None:
            raise unknown(name)


def get(home: Path, name: str) -> Watch:
    """One saved question, or a 404 WatchError."""
    watch = load(home).get(checked_name(name))
    if watch is None:
        raise unknown(name)
    return watch


def _now() -> datetime:
    return datetime.now(UTC)


def sentence_key(text: str) -> str:
    """How a reported sentence is remembered: by its wording (not its case or punctuation), which an edit
    elsewhere in its article leaves alone while it changes the article's id and moves the sentence's offsets."""
    return hashlib.sha256(" ".join(wording(text)).encode()).hexdigest()[:24]


def new_findings(
    watch: Watch,
    response: SearchResponse,
    replaced: Mapping[str, str],
    since: date | None = None,
    arrivals: Arrivals = NO_ARRIVALS,
) -> tuple[list[dict], list[dict]]:
    """The brief sentences not reported before, and the articles not reported before that the brief quotes: a
    result the brief leaves out may only be the nearest of the new articles, not an answer, and an article it
    quotes may stand in the results only under its story's lead. An article reported before it was edited
    (``replaced``: earlier ids with current ones) is not new. With ``since`` (the previous run's day), an
    article dated before it counts only when it arrived since (``arrivals``): the question asked back to
    its date, and the archive's older articles of those days are not news."""
    seen_sentences, seen_articles = set(watch.seen_sentences), set(watch.seen_articles)
    seen_articles |= {current for earlier, current in replaced.items() if earlier in seen_articles}

    def news(article_id: str, published: str | None) -> bool:
        return since is None or article_id in arrivals or (published or "")[:10] >= since.isoformat()

    sentences = [
        s
        for s in _quoted(response.summary)
        if not _reported(s, seen_sentences) and any(news(c["article_id"], c["published"]) for c in s["citations"])
    ]
    articles = [
        {"article_id": s.article_id, "title": s.title, "outlet": s.outlet, "published": s.published, "url": s.url}
        for s in (response.summary.sources if response.summary else [])
        if s.article_id not in seen_articles and news(s.article_id, s.published)
    ]
    return sentences, articles


def _reported(sentence: dict, seen: set[str]) -> bool:
    """Whether a brief sentence was reported before: by its wording, or by a span it is quoted from (how a watch
    file written before sentences were remembered by their wording holds them)."""
    spans = (f"{c['article_id']}:{c['start']}:{c['end']}" for c in sentence["citations"])
    return sentence_key(sentence["text"]) in seen or any(span in seen for span in spans)


def _quoted(brief: Brief | None) -> list[dict]:
    """The brief's sentences, each with its citations carrying their source's title, outlet, date and url."""
    if brief is None:
        return []
    sources = {s.n: s for s in brief.sources}
    return [
        {
            "text": s.text,
            "citations": [
                {
                    "article_id": c.article_id,
                    "start": c.start,
                    "end": c.end,
                    "title": sources[c.n].title,
                    "outlet": sources[c.n].outlet,
                    "published": sources[c.n].published,
                    "url": sources[c.n].url,
                }
                for c in s.citations
            ],
        }
        for s in brief.sentences
    ]


def record(
    watch: Watch,
    response: SearchResponse,
    replaced: Mapping[str, str],
    version: str,
    at: datetime,
    max_entries: int,
    arrivals: Arrivals = NO_ARRIVALS,
) -> dict | None:
    """Note a run in the watch: its new findings as an entry (none when nothing is new), the run time, what was seen."""
    previous = datetime.fromisoformat(watch.last_run).date() if watch.last_run else None
    sentences, articles = new_findings(watch, response, replaced, previous, arrivals)
    watch.last_run = at.isoformat()
    if not (sentences or articles):
        return None
    entry = {"version": version, "at": at.isoformat(), "sentences": sentences, "articles": articles}
    watch.entries = ([entry, *watch.entries])[:max_entries]  # newest first, the oldest dropped past the bound
    keys = [sentence_key(s["text"]) for s in sentences]
    watch.seen_sentences = (watch.seen_sentences + keys)[-SEEN_LIMIT:]
    watch.seen_articles = (watch.seen_articles + [a["article_id"] for a in articles])[-SEEN_LIMIT:]
    return entry


def run_all(settings: Settings, version: str, arrivals: Arrivals = NO_ARRIVALS) -> int:
    """Run every saved question once against the served version (which brought the `arrivals`); how many
    failed. Never raises: a failing saved question is logged, and the build that published the version stands."""
    home = Path(settings.index_dir)
    if not _path(home).exists():
        return 0
    from .service import SearchService  # the query side is loaded only when there is something to ask

    service = SearchService(settings)
    failed = 0
    replaced = service.replaced_ids()
    with changing(home) as watches:
        for watch in watches.values():
            failed += not _run_one(service, watch, replaced, version, settings.max_watch_entries, arrivals)
    return failed


def _run_one(
    service, watch: Watch, replaced: Mapping[str, str], version: str, max_entries: int, arrivals: Arrivals
) -> bool:
    """One saved question's run; False (logged) when it failed."""
    at = _now()
    previous = datetime.fromisoformat(watch.last_run) if watch.last_run else None
    try:
        response = service.search(run_request(watch, previous, arrivals))
    except Exception:  # whatever one question hits, the others and the build go on
        log.exception("saved question %s failed on version %s", watch.name, version)
        return False
    entry = record(watch, response, replaced, version, at, max_entries, arrivals)
    found = (len(entry["sentences"]), len(entry["articles"])) if entry else (0, 0)
    log.info("saved question %s on version %s: %d new sentences, %d new articles", watch.name, version, *found)
    return True


def run_safely(settings: Settings, version: str, arrivals: Arrivals = NO_ARRIVALS) -> None:
    """run_all for the build: even a broken watches file is logged, never raised."""
    try:
        run_all(settings, version, arrivals)
    except WatchError as exc:  # the file could not be read: its log line says why
        log.warning("saved questions did not run on version %s: %s", version, exc.message)
    except Exception:  # a version is published; saved questions must not turn that into a failure
        log.exception("saved questions could not run on version %s", version)
