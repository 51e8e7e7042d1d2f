"""A published index version opened for reading: the one object the query side asks for articles, sentences,
chunks, vectors and BM25 scores. Nothing outside this package runs SQL on a version or reads its files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import itertools
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from ..embedding import cast_session, to_float32
from ..records import Article, Chunk, Filters, Span
from ..sentence_traits import LEANS, PRONOUN_SHIFT, PRONOUNS, USABLE
from ..text import STEMS
from .format import (
    META_DB,
    IndexCorrupt,
    IndexMissing,
    IndexUnavailable,
    MatrixFile,
    read_manifest,
)
from .layout import Layout, ranges
from .lexical import Lexicon
from .memo import Recent
from .pagecache import read_ahead
from .rows import (
    FULL_DATE,
    META_COLUMNS,
    ArticleLayout,
    ArticleMeta,
    SentenceTraits,
    StoredChunk,
    StoredSentence,
    article_of,
    filter_sql,
    meta_of,
)
from .sqlite import select_in, thread_connection
from .vectors import VectorConfig, VectorStoreUnavailable, open_store
from .versions import current_version, is_version, mark_bad, no_index, verify, version_dir

log = logging.getLogger(__name__)

# SQLite's primary result codes for a damaged file (a malformed page, not a database, a read error).
_DAMAGE_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_IOERR}


def is_damage(exc: BaseException) -> bool:
    """True for an error that means a version's files are damaged, rather than a bug or a passing condition."""
    if isinstance(exc, IndexCorrupt):
        return True
    if isinstance(exc, sqlite3.DatabaseError):
        return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _DAMAGE_CODES
    return isinstance(exc, OSError) and exc.errno == errno.EIO


def _guarded(method: Callable) -> Callable:
    """An Index method whose damaged-file errors mark the version bad and become IndexCorrupt."""

    @functools.wraps(method)
    def read(self: Index, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.DatabaseError, OSError) as exc:
            if not is_damage(exc):
                raise
            self.damaged(f"{method.__name__}: {exc}")
            raise IndexCorrupt(
                f"index version {self.version} at {self.path} is damaged: {exc}",
                f"index version {self.version} is damaged; try again shortly",
            ) from exc

    return read


def served_article_ids(home: Path) -> set[str]:
    """Ids of the articles the served version holds, read from its metadata alone (none before the first build);
    IndexCorrupt when that metadata cannot be read."""
    name = current_version(Path(home))
    if name is None:
        return set()
    meta = version_dir(home, name) / META_DB
    try:
        db = sqlite3.connect(f"file:{meta}?mode=ro&immutable=1", uri=True)
        try:
            return {row[0] for row in db.execute("SELECT id FROM articles")}
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise IndexCorrupt(f"{meta} cannot be read: {exc}") from exc


class Index:
    """A published index version opened for reading; safe to share between threads."""

    def __init__(
        self,
        home: Path,
        expected_model: str,
        version: str | None = None,
        check: bool = False,
        vectors: VectorConfig | None = None,
    ) -> None:
        self.home = Path(home)
        name = version or current_version(self.home)
        if name is None:
            raise no_index(self.home)
        self.path = version_dir(self.home, name)
        if not is_version(self.home, name):
            raise IndexMissing(f"no index version {name!r} in {self.home}", f"no index version {name!r}")
        if check and (problems := verify(self.path, trust_stamp=True)):
            raise IndexCorrupt(
                f"index version {name} failed verification: {'; '.join(problems)}", f"index version {name} is damaged"
            )
        self.manifest = read_manifest(self.path, name, expected_model)
        self.version = name
        self._local = threading.local()
        self._stop_reading = threading.Event()
        # A filtered query needs its chunk ids twice (the vector search and the lexical leg); a version never
        # changes, so recent answers are kept.
        self.filtered_chunk_ids = lru_cache(maxsize=8)(self._filtered_chunk_ids)
        self.stored_names = lru_cache(maxsize=256)(self._stored_names)
        # A search reads its stories twice (the hits' other outlets, then the brief's disagreements).
        self._recent_stories: Recent[str, tuple[ArticleMeta, ...]] = Recent(1024)
        try:
            # Memory-mapped: a cold start reads only the pages a search touches.
            self.sentence_vectors = self._matrix(self.manifest.sentence_vectors)
            chunk_file = self.manifest.chunk_vectors
            self._chunk_matrix = self._matrix(chunk_file) if chunk_file else None
            self.lexicon = Lexicon(self.path)
            self.layout = Layout(self.path)
            cast_session()  # built now rather than inside the first query
            self.vectors = open_store(
                self.manifest.vectors, self.path, vectors or VectorConfig(), self.filtered_chunk_ids
            )
        except VectorStoreUnavailable as exc:
            raise IndexUnavailable(f"index version {name}: {exc}") from None
        except (OSError, RuntimeError, ValueError, KeyError, sqlite3.Error) as exc:
            raise IndexCorrupt(
                f"index version {name} cannot be loaded: {exc}", f"index version {name} cannot be loaded"
            ) from None
        self.damage: str | None = None  # why this version was found damaged while serving, once it was

    def damaged(self, reason: str) -> None:
        """Take note that this version's files failed when read, here and in the home's bad marks."""
        if self.damage is not None:
            return
        self.damage = reason
        log.error("index version %s is damaged (%s); marking it bad", self.version, reason)
        try:
            mark_bad(self.home, self.version, reason)
        except OSError as exc:  # a read-only home: this process still stops serving it
            log.warning("could not mark index version %s bad: %s", self.version, exc)

    def read_ahead(self) -> threading.Thread:
        """Read this version's files into the OS page cache in a background thread (semsearch.index.pagecache)."""
        return read_ahead(self.path, list(self.manifest.files), self._mapped(), self._stop_reading, self.version)

    def _mapped(self) -> list[np.ndarray]:
        """The memory-mapped arrays queries read."""
        lexicon = [self.lexicon.postings, self.lexicon.impacts, self.lexicon.top_lists]
        return [self.sentence_vectors, *lexicon, *vars(self.layout).values()] + (
            [self._chunk_matrix] if self._chunk_matrix is not None else []
        )

    def stop_read_ahead(self) -> None:
        """End a read-ahead in progress (a newer version is being served)."""
        self._stop_reading.set()

    @property
    def backend(self) -> str:
        """Which vector backend serves this version."""
        return self.vectors.backend

    def _matrix(self, spec: MatrixFile) -> np.ndarray:
        """A vector file named in the manifest, memory-mapped."""
        if spec.shape[0] == 0:  # numpy cannot map an empty file
            return np.zeros(spec.shape, dtype=spec.dtype)
        return np.memmap(self.path / spec.file, dtype=spec.dtype, mode="r", shape=spec.shape).view(np.ndarray)

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's read-only connection to the metadata."""
        return thread_connection(self._local, self.path / META_DB)

    @_guarded
    def search_chunks(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """The n chunks nearest to a query vector among those passing the filters, as (chunk id, cosine)."""
        try:
            return self.vectors.search(vector, n, filters)
        except VectorStoreUnavailable as exc:
            raise IndexUnavailable(str(exc)) from None

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        """Chunk rows by id."""
        wanted = np.unique(np.asarray(ids, dtype=np.int64))
        layout = self.layout
        rows = layout.chunk_articles[wanted]
        names = dict(zip(rows.tolist(), layout.ids(rows), strict=True))
        return {
            cid: StoredChunk(cid, names[row], start, end, first, last)
            for cid, row, (start, end), (first, last) in zip(
                wanted.tolist(),
                rows.tolist(),
                layout.chunk_spans[wanted].tolist(),
                layout.chunk_sentences[wanted].tolist(),
                strict=True,
            )
        }

    def _sentences(self, ids: np.ndarray) -> list[StoredSentence]:
        """Sentence rows of stored sentence ids, in the order given."""
        layout = self.layout
        ordinals = ids - layout.article_sentences[layout.sentence_articles(ids)]
        return [
            StoredSentence(i, article, ordinal, start, end)
            for i, article, ordinal, (start, end) in zip(
                ids.tolist(),
                self.sentence_articles(ids),
                ordinals.tolist(),
                layout.sentence_spans[ids].tolist(),
                strict=True,
            )
        ]

    def sentence_articles(self, ids: Sequence[int] | np.ndarray) -> list[str]:
        """The article id of each stored sentence id, in the order given."""
        rows = self.layout.sentence_articles(np.asarray(ids, dtype=np.int64))
        # An article's sentences share its id: each id is decoded once.
        distinct, which = np.unique(rows, return_inverse=True)
        names = self.layout.ids(distinct)
        return [names[n] for n in which.tolist()]

    def sentence_traits(self, ids: Iterable[int]) -> dict[int, SentenceTraits]:
        """Stored sentences among ids with their build-time traits, by id."""
        layout = self.layout
        ids = np.unique(np.fromiter(ids, dtype=np.int64))
        ids = ids[(ids >= 0) & (ids < len(layout.sentence_spans))]
        flags = layout.sentence_flags[ids]

        def ragged(values: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
            """The values of every sentence concatenated, with each sentence's (start, end) in them."""
            lo, hi = bounds[ids], bounds[ids + 1]
            picked, _ = ranges(lo, hi)
            ends = np.cumsum(hi - lo).tolist()
            return values[picked], list(itertools.pairwise([0, *ends]))

        terms, term_spans = ragged(layout.sentence_terms, layout.sentence_term_bounds)
        figures, figure_spans = ragged(layout.sentence_figures, layout.sentence_figure_bounds)
        figure_list = figures.tolist()  # slicing one list beats converting a numpy piece per sentence
        return {
            s.id: SentenceTraits(
                s, words, usable, leans, PRONOUNS[pronoun], terms[a:b], tuple(figure_list[c:d])
            )  # np.split's overhead per piece is larger than these slices'
            for s, words, usable, leans, pronoun, (a, b), (c, d) in zip(
                self._sentences(ids),
                layout.sentence_words[ids].tolist(),
                (flags & USABLE).astype(bool).tolist(),
                (flags & LEANS).astype(bool).tolist(),
                (flags >> PRONOUN_SHIFT).tolist(),
                term_spans,
                figure_spans,
                strict=True,
            )
        }

    def sentence_spans(self, ids: Sequence[int] | np.ndarray) -> dict[int, tuple[int, int]]:
        """(start, end) of sentences by id."""
        wanted = np.asarray(ids, dtype=np.int64)
        return dict(zip(wanted.tolist(), map(tuple, self.layout.sentence_spans[wanted].tolist()), strict=True))

    @_guarded
    def article_sentences(self, article_id: str) -> list[StoredSentence]:
        """Every sentence of one article, in order."""
        rows = self.db.execute(
            "SELECT id, article_id, ordinal, start, end FROM sentences WHERE article_id = ? ORDER BY ordinal",
            (article_id,),
        )
        return [StoredSentence(*r) for r in rows]

    def vectors_of(self, sentence_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Stored sentence vectors as float32, rows in the order given."""
        return to_float32(self.sentence_vectors[np.asarray(sentence_ids, dtype=np.int64)])

    @_guarded
    def articles(self, ids: Sequence[str]) -> dict[str, ArticleMeta]:
        """Article metadata by id."""
        return {
            r[0]: meta_of(r)
            for r in select_in(self.db, f"SELECT {META_COLUMNS} FROM articles WHERE id IN ({{}})", list(ids))
        }

    @_guarded
    def stories_of(self, ids: Sequence[str]) -> dict[str, list[ArticleMeta]]:
        """Every article of the given articles' stories (themselves included), by story id, oldest first."""
        found = select_in(self.db, "SELECT DISTINCT story_id FROM articles WHERE id IN ({})", list(ids))
        return self._stories(sorted({r[0] for r in found}))

    @_guarded
    def story_articles(self, story_id: str) -> list[ArticleMeta]:
        """Every article of one story, oldest first (empty when no story has that id)."""
        return self._stories([story_id])[story_id]

    def _stories(self, story_ids: Sequence[str]) -> dict[str, list[ArticleMeta]]:
        """Every article of each story, oldest first: the recently read from memory, the others in one query."""
        known = self._recent_stories.get(story_ids)
        missing = [s for s in story_ids if s not in known]
        if missing:
            read: dict[str, list[ArticleMeta]] = {s: [] for s in missing}
            sql = f"SELECT {META_COLUMNS} FROM articles WHERE story_id IN ({{}}) ORDER BY published, id"
            for row in select_in(self.db, sql, missing):
                meta = meta_of(row)
                read[meta.story_id or ""].append(meta)
            fresh = {s: tuple(members) for s, members in read.items()}
            self._recent_stories.put(fresh)
            known.update(fresh)
        return {s: list(known[s]) for s in story_ids}

    @_guarded
    def lead_chunks(self, article_ids: Sequence[str]) -> list[int]:
        """The first chunk (title and lead) of each given article."""
        rows = np.fromiter(
            (r[0] for r in select_in(self.db, "SELECT row FROM articles WHERE id IN ({})", list(article_ids))), np.int64
        )
        return self.layout.article_chunks[rows].tolist()

    @_guarded
    def locators(self) -> dict[str, tuple[str | None, str]]:
        """Every article's url and the source path it was read from, by id."""
        return {i: (url, path) for i, url, path in self.db.execute("SELECT id, url, source_path FROM articles")}

    @_guarded
    def layouts(self, article_ids: Sequence[str]) -> dict[str, ArticleLayout]:
        """Sentences, chunks and vectors of articles already indexed, for reuse by the next build."""
        layouts: dict[str, ArticleLayout] = {}
        sentence_rows = list(
            select_in(
                self.db,
                "SELECT article_id, id, start, end FROM sentences WHERE article_id IN ({}) ORDER BY id",
                article_ids,
            )
        )
        chunk_rows = list(
            select_in(
                self.db,
                "SELECT article_id, id, ordinal, start, end, first_sentence, last_sentence FROM chunks "
                "WHERE article_id IN ({}) ORDER BY id",
                article_ids,
            )
        )
        if not sentence_rows or not chunk_rows:
            return layouts
        chunk_vectors = self.chunk_vectors([r[1] for r in chunk_rows])
        sentence_vectors = self.vectors_of([r[1] for r in sentence_rows])
        first_sentence: dict[str, int] = {}
        for row_no, (article_id, sid, start, end) in enumerate(sentence_rows):
            layout = layouts.setdefault(article_id, ArticleLayout([], [], [], []))
            first_sentence.setdefault(article_id, sid)
            layout.spans.append(Span(start, end))
            layout.sentence_vectors.append(sentence_vectors[row_no])
        for row_no, (article_id, _, ordinal, start, end, first, last) in enumerate(chunk_rows):
            base = first_sentence[article_id]
            layouts[article_id].chunks.append(Chunk(article_id, ordinal, start, end, first - base, last - base))
            layouts[article_id].chunk_vectors.append(chunk_vectors[row_no])
        return layouts

    @cached_property
    def _keeps_replaced(self) -> bool:
        """Whether this version lists the earlier ids of edited articles (versions built before it did do not)."""
        found = self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'replaced'")
        return found.fetchone() is not None

    @_guarded
    def replaced(self) -> dict[str, str]:
        """Every earlier id of an edited article, with the id of its current version."""
        return dict(self.db.execute("SELECT id, current_id FROM replaced")) if self._keeps_replaced else {}

    @_guarded
    def current_id(self, article_id: str) -> str | None:
        """The id of an edited article's current version, when article_id names an earlier one."""
        if not self._keeps_replaced:
            return None
        row = self.db.execute("SELECT current_id FROM replaced WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    @_guarded
    def article_text(self, article_id: str) -> str | None:
        """The cleaned text of one article, which every offset refers to."""
        row = self.db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    @_guarded
    def texts(self, ids: Sequence[str]) -> dict[str, str]:
        """Cleaned texts by article id."""
        return dict(select_in(self.db, "SELECT id, text FROM articles WHERE id IN ({})", list(ids)))

    @_guarded
    def article_ids(self) -> list[str]:
        """Ids of every stored article, in the order they were added."""
        return [r[0] for r in self.db.execute("SELECT id FROM articles ORDER BY row")]

    @_guarded
    def stored_articles(self, ids: Sequence[str]) -> dict[str, tuple[Article, str]]:
        """Whole articles as they were stored, with their story ids, by id (to copy them into another version)."""
        rows = select_in(
            self.db,
            "SELECT id, title, text, source_path, outlet, published, url, place, "
            "extracted_from, duplicate_paths, story_id FROM articles WHERE id IN ({})",
            list(ids),
        )
        return {r[0]: (article_of(r), r[10]) for r in rows}

    @_guarded
    def outlets(self, filters: Filters | None = None) -> list[tuple[str, int]]:
        """Every outlet with its count of articles the filters' dates and places keep, most first.

        The filters' own outlets are left out of the count, as a facet does: ticking one outlet must not
        turn the others' counts to zero.
        """
        return self._facet("outlet", dataclasses.replace(filters or Filters(), outlets=()))

    @_guarded
    def dateline_places(self, filters: Filters | None = None) -> list[tuple[str, int]]:
        """Every dateline place with its count of articles the filters' dates and outlets keep, most first (the
        filters' own places left out of the count, as for outlets)."""
        return self._facet("place", dataclasses.replace(filters or Filters(), places=()))

    def _facet(self, column: Literal["outlet", "place"], kept_by: Filters) -> list[tuple[str, int]]:
        """Each value of an article column with its count of the articles the filters keep, most first."""
        kept, params = filter_sql(kept_by)
        # CASE, not SUM of the condition: a condition on a NULL place is NULL, and a sum of NULLs is no count.
        sql = (
            f"SELECT {column}, SUM(CASE WHEN {kept} THEN 1 ELSE 0 END) FROM articles a WHERE {column} IS NOT NULL "
            f"GROUP BY {column} ORDER BY 2 DESC, 1"
        )
        return list(self.db.execute(sql, params))

    def resolve(self, filters: Filters) -> Filters:
        """The filters with each outlet and place spelled as the archive stores it ("valley wire" is "Valley
        Wire"), so every backend matches a name however a reader typed its case."""
        if not (filters.outlets or filters.places):
            return filters
        return dataclasses.replace(
            filters,
            outlets=tuple(n for name in filters.outlets for n in self.stored_names("outlet", name)),
            places=tuple(n for name in filters.places for n in self.stored_names("place", name)),
        )

    @_guarded
    def _stored_names(self, column: str, name: str) -> tuple[str, ...]:
        """The stored values of an articles column equal to a name but for case; the name itself when none is."""
        if column not in ("outlet", "place"):
            raise ValueError(f"no name column {column!r}")
        rows = self.db.execute(f"SELECT DISTINCT {column} FROM articles WHERE {column} = ? COLLATE NOCASE", (name,))
        return tuple(r[0] for r in rows) or (name,)

    def _filtered_chunk_ids(self, filters: Filters) -> np.ndarray:
        """Ids of the chunks whose article passes the filters, ascending (read-only: callers share the array)."""
        where, params = filter_sql(filters)
        rows = self.db.execute(
            f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {where}", params
        )
        ids = np.sort(np.fromiter((r[0] for r in rows), dtype=np.int64))
        ids.setflags(write=False)
        return ids

    def chunk_vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Stored chunk vectors, rows in the order given."""
        if self._chunk_matrix is not None:
            return np.asarray(self._chunk_matrix[np.asarray(ids, dtype=np.int64)], dtype=np.float32)
        try:
            return self.vectors.vectors(ids)
        except VectorStoreUnavailable as exc:
            raise IndexUnavailable(str(exc)) from None

    @_guarded
    def lexical_top(
        self, terms: Sequence[str], n: int, filters: Filters | None = None, required: Sequence[str] = ()
    ) -> tuple[np.ndarray, np.ndarray]:
        """The n chunks with the highest BM25 for the OR of the index terms (every required one present)."""
        allowed = self.filtered_chunk_ids(filters) if filters is not None and filters.active else None
        return self.lexicon.top(terms, n, allowed, required)

    @_guarded
    def knows_any(self, terms: Sequence[str]) -> bool:
        """Whether any of the index terms (semsearch.text.STEMS) occurs anywhere in the archive: in its texts,
        or in the names of its outlets and dateline places, which no text need hold."""
        return self.lexicon.knows_any(terms) or not self._name_terms.isdisjoint(terms)

    @cached_property
    def _name_terms(self) -> frozenset[str]:
        """The index terms of every outlet's and dateline place's name."""
        rows = self.db.execute(
            "SELECT outlet FROM articles WHERE outlet IS NOT NULL "
            "UNION SELECT place FROM articles WHERE place IS NOT NULL"
        )
        return frozenset(term for (name,) in rows for term in STEMS.searchable(name))

    @_guarded
    def lexical_scores(self, terms: Sequence[str], chunk_ids: Sequence[int]) -> np.ndarray:
        """BM25 of the given chunks for the OR of the index terms (0 where none occurs), in the order given."""
        return self.lexicon.scores(terms, chunk_ids)

    @_guarded
    def sentence_ids_of(self, article_ids: Sequence[str]) -> list[int]:
        """Ids of every sentence of the given articles, ascending."""
        rows = np.fromiter(
            (r[0] for r in select_in(self.db, "SELECT row FROM articles WHERE id IN ({})", list(article_ids))), np.int64
        )
        ids, _ = ranges(self.layout.article_sentences[rows], self.layout.article_sentences[rows + 1])
        return np.sort(ids).tolist()

    @_guarded
    def newest_published(self) -> str | None:
        """The latest full YYYY-MM-DD publication date in the index that is not after today: a date in the future
        (a typo, a placeholder such as 2099-01-01) would make every real article look old."""
        today = date.today().isoformat()
        sql = f"SELECT MAX(substr(published, 1, 10)) FROM articles WHERE {FULL_DATE} AND substr(published, 1, 10) <= ?"
        return self.db.execute(sql, (today,)).fetchone()[0]

    @_guarded
    def date_range(self) -> tuple[str | None, str | None]:
        """The earliest and latest full publication dates in the index (None, None when nothing is dated)."""
        first, last = self.db.execute(
            f"SELECT MIN(substr(published, 1, 10)), MAX(substr(published, 1, 10)) FROM articles WHERE {FULL_DATE}"
        ).fetchone()
        return first, last

    @_guarded
    def covered_story_titles(self, stories: int) -> list[list[str]]:
        """Every distinct title of each of the n stories with the most articles (newest story first among
        equals, newest title first within a story), so a caller can pick a story's cleanest headline."""
        rows = self.db.execute(
            "WITH top AS (SELECT story_id, COUNT(*) AS n, MAX(published) AS latest FROM articles "
            "GROUP BY story_id ORDER BY n DESC, latest DESC LIMIT ?) "
            "SELECT a.story_id, a.title FROM articles a JOIN top t ON a.story_id IS t.story_id "
            "ORDER BY t.n DESC, t.latest DESC, a.story_id, a.published DESC",
            (stories,),
        )
        grouped: dict[object, list[str]] = {}
        for story, title in rows:
            titles = grouped.setdefault(story, [])
            if title and title not in titles:
                titles.append(title)
        return list(grouped.values())

    def close(self) -> None:
        """Close this thread's connection (others close with their threads) and the vector backend's."""
        self._stop_reading.set()
        self.vectors.close()
        conn = getattr(self._local, "db", None)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
