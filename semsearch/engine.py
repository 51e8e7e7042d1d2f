"""The query side in one object: the served index, the model, retrieval and the brief.

The web layer and the CLI talk to this, never to FAISS or SQLite. It also follows the index
home's CURRENT pointer, so a server picks up a newly published build between requests.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .brief import summarize
from .config import Settings
from .embedding import MODEL_NAME, Embedder, get_embedder
from .models import SearchResponse
from .retrieval import Mode, Retriever
from .store import ArticleMeta, Index, IndexIncompatible, IndexMissing, current_version

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 1000


class QueryError(ValueError):
    """A query the engine cannot run; the message is meant for the person who sent it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(slots=True)
class ArticleView:
    """An article with its text, for the article page and API."""

    meta: ArticleMeta
    text: str
    sentences: list[tuple[int, int]]


class Engine:
    """Answers questions from the currently published index version."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.home = Path(settings.index_dir)
        self._embedder = embedder
        self._index: Index | None = None
        self._lock = threading.Lock()
        self.last_error: str | None = None

    @property
    def embedder(self) -> Embedder:
        """The model, loaded on first use."""
        if self._embedder is None:
            self._embedder = get_embedder()
        return self._embedder

    @property
    def index(self) -> Index:
        """The served index, switched to a newer published version when one appears."""
        wanted = current_version(self.home)
        if self._index is not None and self._index.version == wanted:
            return self._index
        with self._lock:
            if self._index is None or self._index.version != wanted:
                self._open(wanted)
        if self._index is None:
            raise IndexMissing(self.last_error or f"no index at {self.home}: run `semsearch build` first")
        return self._index

    def _open(self, wanted: str | None) -> None:
        """Open the wanted version; on failure keep serving the one already open."""
        try:
            opened = Index(self.home, MODEL_NAME)
        except (IndexMissing, IndexIncompatible, OSError, RuntimeError) as exc:
            self.last_error = str(exc)
            if self._index is None:
                raise
            log.error("keeping index %s: cannot open %s: %s", self._index.version, wanted, exc)
            return
        if self._index is not None:
            log.info("switched index %s → %s", self._index.version, opened.version)
        self._index, self.last_error = opened, None

    @property
    def ready(self) -> bool:
        """True when an index can be served."""
        try:
            self.index
        except (IndexMissing, IndexIncompatible):
            return False
        return True

    def search(
        self,
        q: str,
        k: int = 10,
        mode: Mode = "hybrid",
        summary: bool = True,
        words: int | None = None,
        sources: int | None = None,
    ) -> SearchResponse:
        """Ranked articles and the brief for one question."""
        embedder = self.embedder  # a first call loads the model; that is not query time
        started = time.perf_counter()
        q = validate_query(q)
        if not 1 <= k <= 100:
            raise QueryError("k must be between 1 and 100", "k")
        index = self.index
        retrieval = Retriever(index, embedder).retrieve(q, k=k, mode=mode)
        brief = None
        if summary:
            brief = summarize(
                index, retrieval,
                words=words or self.settings.brief_words,
                max_sources=sources,
                candidates=self.settings.brief_candidates,
                min_similarity=self.settings.brief_min_similarity,
            )
        took = (time.perf_counter() - started) * 1000
        return SearchResponse(query=q, took_ms=took, results=retrieval.hits, summary=brief)

    def article(self, article_id: str) -> ArticleView | None:
        """One article with its full cleaned text, or None."""
        index = self.index
        meta = index.articles([article_id]).get(article_id)
        if meta is None:
            return None
        spans = [(s.start, s.end) for s in index.article_sentences(article_id)]
        return ArticleView(meta=meta, text=index.article_text(article_id) or "", sentences=spans)

    def health(self) -> dict:
        """Status and the manifest of the served version."""
        try:
            index = self.index
        except (IndexMissing, IndexIncompatible) as exc:
            return {"status": "no_index", "detail": str(exc), "manifest": None}
        status = "ok" if self.last_error is None else "degraded"
        return {"status": status, "detail": self.last_error, "manifest": index.manifest}


def validate_query(q: str | None) -> str:
    """The query trimmed, or a QueryError saying what is wrong with it."""
    q = "".join(ch for ch in (q or "") if ch.isprintable() or ch in " \t").strip()
    if not q:
        raise QueryError("the question is empty: type a few words", "q")
    if len(q) > MAX_QUERY_CHARS:
        raise QueryError(f"the question is too long ({len(q)} characters, at most {MAX_QUERY_CHARS})", "q")
    return q
