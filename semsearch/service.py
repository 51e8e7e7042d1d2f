"""The query side in one object: the served index, the model, retrieval and the brief.

The web layer and the CLI talk to this, never to FAISS or SQLite. It also follows the index
home's CURRENT pointer, so a server picks up a newly published build between requests.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from . import source_health
from .answer import Answer, AnswerResponse, AnswerSentence, AnswerWriter
from .brief import NOTHING_RETRIEVED, NOTHING_WITHIN_FILTERS, BriefOptions, brief_options, summarize
from .config import Settings
from .contract import AnswerRequest, SearchRequest
from .discrepancies import annotate
from .embedding import MODEL_NAME, Embedder, get_embedder
from .index import (
    ArticleMeta,
    Index,
    IndexCorrupt,
    IndexIncompatible,
    IndexMissing,
    IndexUnavailable,
    Manifest,
    VectorConfig,
    bad_versions,
    current_version,
    no_index,
    version_names,
)
from .novelty import earlier_reports, new_filters
from .records import Brief, Filters, NewSince, Place, SearchResponse, StoryTimeline
from .retrieval import Retrieval, Retriever
from .stories import StoryRules
from .timeline import story_timeline

log = logging.getLogger(__name__)


def one_thread_per_query() -> None:
    """Limit OpenBLAS to one thread for the rest of this process: concurrency comes from requests."""
    # A query's products are a few hundred rows wide. A second OpenBLAS thread costs more to wake than the
    # product, then spins on the other core: at a million chunks it doubled the CPU a query used, and on a server
    # busy with other requests the brief's products ran an order of magnitude slower.
    # Process-wide (OpenBLAS has no per-thread setting), so a rebuild run inside a server (the admin API)
    # also multiplies its story vectors on one thread, leaving the other core to the questions.
    threadpool_limits(limits=1, user_api="blas")


class QueryVectors:
    """The vectors of the most recently asked questions, so asking one again skips the model pass.

    The web UI asks the same question again for every page of results, filter and date bar clicked,
    and /api/answer after /api/search; each would otherwise pay the model pass, a large share of a query.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, question: str) -> np.ndarray | None:
        """The vector of a question asked lately, or None."""
        with self._lock:
            vector = self._vectors.get(question)
            if vector is not None:
                self._vectors.move_to_end(question)
            return vector

    def put(self, question: str, vector: np.ndarray) -> None:
        """Keep a question's vector (read-only, as every later search shares it), dropping the oldest past size."""
        if not self.size:
            return
        vector = vector.copy()
        vector.setflags(write=False)
        with self._lock:
            self._vectors[question] = vector
            self._vectors.move_to_end(question)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)


@dataclass(slots=True)
class ArticleView:
    """An article with its text, for the article page and API."""

    meta: ArticleMeta
    text: str
    sentences: list[tuple[int, int]]
    same_story: list[ArticleMeta]
    previous_id: str | None = None  # the id asked for, when it names an earlier version of this article

    def to_dict(self) -> dict:
        """The article as the API and the agent tools give it."""
        meta = self.meta
        # Where the server read it stays private (paths, internal hosts): readers get the article's own url.
        return {
            "article_id": meta.id,
            "title": meta.title,
            "outlet": meta.outlet,
            "published": meta.published,
            "url": meta.url,
            "place": meta.place,
            "from_rail": meta.extracted_from is not None,
            "text": self.text,
            "previous_id": self.previous_id,
        }


NO_ARTICLE = "no article with that id"
NO_INDEX = "no index is being served yet; the operator has to build one"
UNREADABLE_INDEX = "the index could not be read; the operator has to rebuild it or roll back"


def no_index_reason(exc: IndexMissing | IndexIncompatible) -> str:
    """Why no index answers, in words for anyone: a backend outage (worth retrying), none built, or unreadable."""
    if isinstance(exc, IndexUnavailable):
        return exc.public_message
    return NO_INDEX if isinstance(exc, IndexMissing) else UNREADABLE_INDEX


def _valid_id(name: str) -> bool:
    """Article and story ids are 16 lower-case hex digits; anything else is not looked up."""
    return len(name) == 16 and all(c in "0123456789abcdef" for c in name)


_RECHECK = object()  # stands for "look at CURRENT again" where a version name or None is expected


@dataclass(frozen=True, slots=True)
class Health:
    """Whether a version is served as expected: `ok`, `degraded` (another version than CURRENT names) or
    `no_index`; `detail` is the public reason."""

    status: str
    detail: str | None
    version: str | None = None
    manifest: Manifest | None = None


def places_of(index: Index, brief: Brief | None) -> dict[tuple[str, int], Place]:
    """Where each sentence the brief quotes sits in its article, by (article id, start)."""
    if brief is None:
        return {}
    cited = {c.article_id for s in brief.sentences for c in s.citations + s.corroborations}
    found: dict[tuple[str, int], Place] = {}
    for article_id in cited:
        spans = index.article_sentences(article_id)
        found.update({(article_id, s.start): Place(n, len(spans)) for n, s in enumerate(spans, start=1)})
    return found


class SearchService:
    """Answers questions from the currently published index version."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.home = Path(settings.index_dir)
        self._embedder = embedder
        self._index: Index | None = None
        self._lock = threading.Lock()
        # The CURRENT content last acted on: a version that failed to open is not retried until CURRENT changes.
        self._followed: str | object | None = _RECHECK
        self._unread: Index | None = None  # a version whose read-ahead waits for its first answer
        self._damaged: dict[str, str] = {}  # versions this process found damaged while serving, with the reason
        self.query_vectors = QueryVectors(settings.query_cache_size)
        self._source_health = source_health.Reader(self.home)
        one_thread_per_query()
        self.error: IndexMissing | IndexIncompatible | None = None  # why the wanted version is not served

    @property
    def last_error(self) -> str | None:
        """The full reason the wanted version is not served (paths included), for logs and the CLI."""
        return None if self.error is None else str(self.error)

    @property
    def embedder(self) -> Embedder:
        """The model, loaded on first use."""
        if self._embedder is None:
            self._embedder = get_embedder(settings=self.settings)
        return self._embedder

    @property
    def index(self) -> Index:
        """The served index: CURRENT's version when it is intact, else the newest intact one, switched between
        requests when CURRENT changes or the served version turns out damaged."""
        wanted = current_version(self.home)
        served = self._index
        if served is not None and served.damage is None and wanted == self._followed:
            return served
        with self._lock:
            served = self._index
            if served is None or served.damage is not None or wanted != self._followed:
                self._open(wanted)
        if self._index is None:
            raise self.error or no_index(self.home)
        return self._index

    def _open(self, wanted: str | None) -> None:
        """Serve the wanted version; if it cannot be, keep serving (or fall back to) the newest intact one."""
        self._followed = wanted
        served = self._index
        if served is not None and served.damage is not None:  # remembered here too: the home may be read-only
            self._damaged[served.version] = served.damage
        bad = {**self._damaged, **bad_versions(self.home)}
        try:
            self._serve(self._load(wanted, bad))
            self.error = None
            return
        except IndexUnavailable as exc:  # a backend outage: retried on the next request, never replaced
            self._followed, self.error = _RECHECK, exc
            log.error("index version %s unavailable: %s", wanted, exc)
            return
        except (IndexMissing, IndexIncompatible) as exc:
            self.error = exc
            log.warning("not serving CURRENT's version: %s", exc)
        served = self._index
        if served is not None and served.damage is None and served.version not in bad:
            log.warning("still serving index version %s", served.version)
            return
        for name in version_names(self.home):
            if name == wanted or name in bad or (served is not None and name == served.version):
                continue
            try:
                self._serve(self._load(name, bad))
            except (IndexMissing, IndexIncompatible) as exc:
                log.error("refusing index version %s: %s", name, exc)
                continue
            log.warning("serving index version %s instead", name)
            return
        self._index = None
        if version_names(self.home):
            # Every version is damaged or refused: nothing to serve until a build or rollback (not an outage).
            self.error = IndexCorrupt(
                f"no intact index version to serve at {self.home}: {self.error}",
                "no intact index version to serve; see `semsearch verify`",
            )

    def _load(self, name: str | None, bad: dict[str, str]) -> Index:
        """Open a version that is not marked bad, or raise why it cannot be served."""
        if name is None:
            raise no_index(self.home)
        if name in bad:
            raise IndexCorrupt(
                f"index version {name} was found damaged: {bad[name]}", f"index version {name} was found damaged"
            )
        return Index(
            self.home,
            MODEL_NAME,
            version=name,
            check=self.settings.verify_on_load,
            vectors=VectorConfig.from_settings(self.settings),
        )

    def _serve(self, opened: Index) -> None:
        """Answer from this version from now on."""
        if self._index is not None:
            log.info("switched index %s → %s", self._index.version, opened.version)
            self._index.stop_read_ahead()
        self._index = opened
        # After the first answer, not now: on a cold page cache that question's random reads would queue
        # behind the read-ahead's stream, several times slower than alone.
        self._unread = opened if self.settings.read_ahead else None

    @property
    def ready(self) -> bool:
        """True when an index can be served."""
        try:
            self.index  # noqa: B018 - opening the served index is the check
        except (IndexMissing, IndexIncompatible):
            return False
        return True

    def search(self, request: SearchRequest) -> SearchResponse:
        """Ranked articles and the brief for one question, optionally filtered and leaning to newer articles."""
        embedder = self.embedder  # a first call loads the model; that is not query time
        started = time.perf_counter()
        index = self.index
        known = self.query_vectors.get(request.q)
        filters = self.search_filters(request)
        retrieval = Retriever(index, embedder).retrieve(
            request.q,
            k=request.k,
            mode=request.mode,
            filters=filters,
            recency=request.recency,
            vector=known,
            offset=request.offset,
        )
        if known is None:
            self.query_vectors.put(request.q, retrieval.query_vector)
        retrieval.hits = retrieval.hits[request.offset :]
        retrieved = time.perf_counter()
        brief = since = None
        if request.summary:
            options = brief_options(self.settings, request.words, request.sources)
            if request.new_since:
                brief, since = self._new_since_brief(index, request, retrieval, options, request.new_since)
            else:
                brief = summarize(index, retrieval, options)
            if brief.abstained == NOTHING_RETRIEVED and request.filters().active:  # the filters left nothing
                brief.abstained = NOTHING_WITHIN_FILTERS
            annotate(index, brief)
        done = time.perf_counter()
        if self._unread is index:
            with self._lock:
                unread, self._unread = self._unread, None
            if unread is index:
                index.read_ahead()
        # The model pass runs beside the BM25 leg: "retrieve" is what retrieval took beyond it.
        timings = {
            "embed": retrieval.embed_ms,
            "retrieve": max((retrieved - started) * 1000 - retrieval.embed_ms, 0.0),
            "brief": (done - retrieved) * 1000,
        }
        return SearchResponse(
            query=request.q,
            took_ms=(done - started) * 1000,
            results=retrieval.hits,
            summary=brief,
            timings=timings if request.debug else None,
            new_since=since,
        )

    def _new_since_brief(
        self, index: Index, request: SearchRequest, retrieval: Retrieval, options: BriefOptions, day: date
    ) -> tuple[Brief, NewSince]:
        """The brief of what was first published on or after the day, and what it was compared with."""
        # The question's candidates without the new-since condition (same filters otherwise): the earlier
        # articles among them are what a reader asking "what is new" has already seen.
        before = Retriever(index, self.embedder).retrieve(
            request.q, k=request.k, mode=request.mode, filters=request.filters(), vector=retrieval.query_vector
        )
        new_articles = list(dict.fromkeys(c.article_id for c in index.chunks(retrieval.chunks.tolist()).values()))
        earlier = earlier_reports(index, before.chunks, new_articles, day, 2 * options.candidates, options.redundancy)
        brief = summarize(index, retrieval, options, novelty=earlier)
        if brief.abstained and earlier.left_out:
            brief.abstained = earlier.nothing_new
        return brief, NewSince(day=day.isoformat(), earlier_articles=earlier.articles, left_out=earlier.left_out)

    def story(self, story_id: str) -> StoryTimeline | None:
        """A story's articles by date, its developments, discrepancies and related stories; None when unknown.

        A story is named after the smallest id among its articles, so its id changes when an article with a
        smaller one joins it or that article is edited: asked for by an id it had before, the story of that
        article as it is now."""
        if not _valid_id(story_id):
            return None
        rules = StoryRules.of(self.settings)
        found = story_timeline(self.index, story_id, self.settings.brief_redundancy, rules)
        if found is None and (named_after := self.article(story_id)) is not None:
            found = story_timeline(self.index, named_after.meta.story_id, self.settings.brief_redundancy, rules)
        return found

    def answer(self, request: AnswerRequest) -> AnswerResponse:
        """The search and brief for a question, plus the configured model's answer checked against the brief."""
        response = self.search(request)
        writer = AnswerWriter.from_settings(self.settings)
        return AnswerResponse(response, writer.answer(response.query, _evidence(response), self.index))

    def stream_answer(self, request: AnswerRequest) -> tuple[SearchResponse, Iterator[AnswerSentence | Answer]]:
        """The search and brief now; the checked answer sentence by sentence as the model writes it, lazily."""
        response = self.search(request)
        writer = AnswerWriter.from_settings(self.settings)
        return response, writer.stream(response.query, _evidence(response), self.index)

    def article(self, article_id: str) -> ArticleView | None:
        """One article with its full cleaned text, or None; an id an article had before it was edited gives
        the article as it is now."""
        if not _valid_id(article_id):
            return None
        view = self._article(article_id)
        if view is None and (current := self.index.current_id(article_id)):
            view = self._article(current)
            if view is not None:
                view.previous_id = article_id
        return view

    def replaced_ids(self) -> dict[str, str]:
        """Every id an edited article had before, with the id of its current version."""
        return self.index.replaced()

    def _article(self, article_id: str) -> ArticleView | None:
        """One article of the served version by its id, or None."""
        index = self.index
        story: list[ArticleMeta] = next(iter(index.stories_of([article_id]).values()), [])
        meta = next((m for m in story if m.id == article_id), None)
        if meta is None:
            return None
        spans = [(s.start, s.end) for s in index.article_sentences(article_id)]
        return ArticleView(
            meta=meta,
            text=index.article_text(article_id) or "",
            sentences=spans,
            same_story=[m for m in story if m.id != article_id],
        )

    def examples(self, n: int = 3) -> list[str]:
        """Headlines of the stories most outlets covered, as example questions for an empty search page.

        Only headlines that read as one: markup leftovers ("&HT;"), titles mostly not letters, shouting
        capitals and one- or two-word titles are passed over (a story with no other title is skipped), and a
        story's headline phrased as a question is preferred, so more stories are read than are shown.
        """

        def readable(title: str) -> bool:
            letters = sum(ch.isalpha() for ch in title)
            entity = "&" in title and ";" in title.split("&", 1)[1][:10]  # an unresolved HTML entity
            return (
                len(title.split()) >= 3
                and letters >= 0.6 * len(title.replace(" ", ""))
                and not entity
                and not any(ch in title for ch in "<>{}[]|\\")
                and not title.isupper()
            )

        found: list[str] = []
        for titles in self.index.covered_story_titles(n * 10):
            good = sorted((" ".join(t.split()) for t in titles if readable(t)), key=lambda t: not t.endswith("?"))
            if good and good[0].casefold() not in {f.casefold() for f in found}:
                found.append(good[0])
            if len(found) == n:
                break
        return found

    def places(self, brief: Brief | None) -> dict[tuple[str, int], Place]:
        """Where each sentence the brief quotes sits in its article, for an export's source list."""
        return places_of(self.index, brief)

    def built_at(self) -> datetime:
        """When the served version was built."""
        return datetime.fromisoformat(self.index.manifest.built_at)

    def stats(self) -> dict:
        """What the served index holds: its manifest, outlets and date range."""
        index = self.index
        manifest = index.manifest
        first, last = index.date_range()
        return {
            "version": index.version,
            "counts": asdict(manifest.counts),
            "built_at": manifest.built_at,
            "model": manifest.model,
            "backend": manifest.backend,
            "ann": manifest.ann,
            "published_from": first,
            "published_until": last,
            "outlets": [{"outlet": o, "articles": n} for o, n in index.outlets()],
            "source_health": self.source_health(),
        }

    def source_statuses(self) -> list[source_health.SourceStatus]:
        """Every source of the served version with its health and state (silent, failing), as the last runs saw
        it (every source of the home when no version can be opened)."""
        records = self._source_health.load()
        try:
            served = set(self.index.manifest.sources)
        except (IndexMissing, IndexIncompatible):
            return source_health.statuses(records, self.settings)
        return source_health.statuses({s: h for s, h in records.items() if s in served}, self.settings)

    def source_health(self) -> dict:
        """The sources' health as the public may see it (no paths, no credentials), with the status line's counts."""
        found = self.source_statuses()
        return {**asdict(source_health.summary(found)), "sources": [s.public() for s in found]}

    def search_filters(self, request: SearchRequest) -> Filters:
        """What a search's articles must be: its filters, from its "new since" day on when it has one."""
        filters = request.filters()
        return new_filters(filters, request.new_since) if request.new_since else filters

    def outlets(self, filters: Filters | None = None) -> list[tuple[str, int]]:
        """Outlets of the served index with their counts of articles in the filters' dates and places, most first."""
        return self.index.outlets(self.index.resolve(filters or Filters()))

    def dateline_places(self, filters: Filters | None = None) -> list[tuple[str, int]]:
        """Dateline places of the served index with their counts of articles in the filters' dates and outlets."""
        return self.index.dateline_places(self.index.resolve(filters or Filters()))

    def health(self) -> Health:
        """Status (ok, degraded: serving another version than CURRENT's, no_index), the public reason, and the
        manifest of the served version."""
        try:
            index = self.index
        except (IndexMissing, IndexIncompatible) as exc:
            return Health("no_index", exc.public_message)
        if self.error is None:
            return Health("ok", None, index.version, index.manifest)
        detail = f"{self.error.public_message}; serving index version {index.version}"
        return Health("degraded", detail, index.version, index.manifest)


def _evidence(response: SearchResponse) -> Brief:
    """The brief an answer rests on: an answer request always asks for one."""
    if response.summary is None:
        raise RuntimeError("an answer needs the brief, and this search made none")
    return response.summary
