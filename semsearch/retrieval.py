"""Query → dense and lexical evidence per article → fusion → diverse article hits with highlights.

Both legs fetch candidate chunks (filtered inside the search, so a filtered query still finds k
articles when k exist); every candidate article is then scored on every signal — the best BM25 chunk,
the best chunk cosine and the best sentence cosine — so fusion never sees a missing score.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from .contract import Mode
from .embedding import Embedder
from .index import Index, ranges
from .records import AlsoReported, Filters, Hit
from .text import (
    CALENDAR_WORDS,
    FUNCTION_WORDS,
    QUESTION_STOPWORDS,
    STEMS,
    WORD,
    calendar_day,
    question_words,
    words,
)

Fusion = Literal["weighted", "rrf"]
SNIPPET_JOINER = " … "
PHRASE_SCAN_LIMIT = 6400  # chunks holding a phrase's words checked for the phrase itself, at most
MAX_DEPTH = 6400  # seeds a leg may be asked for when long articles crowd the first ask (see Retriever._ranked)
_PHRASE = re.compile(r'"([^"]+)"')


# A query's model pass and vector search run here while the asking thread runs the BM25 leg. Both release
# the GIL, so on two cores a query waits for the longer leg, not the sum (docs/performance.md).
def _dense_leg_pool() -> ThreadPoolExecutor:
    """As many threads as searches may be in flight (a leg queued behind another's model pass would wait)."""
    return ThreadPoolExecutor(64, thread_name_prefix="semsearch-dense")


def _new_dense_leg_pool() -> None:
    """A forked child gets a pool of its own: the parent's threads do not exist there, and work sent to their
    pool would wait for ever."""
    global _DENSE_LEG
    _DENSE_LEG = _dense_leg_pool()


_DENSE_LEG = _dense_leg_pool()
os.register_at_fork(after_in_child=_new_dense_leg_pool)


@dataclass(frozen=True, slots=True)
class Params:
    """How candidates are gathered and fused; the defaults were chosen on SciFact's train split."""

    fusion: Fusion = "weighted"
    depth: int = 100
    lexical: float = 0.3
    chunk: float = 0.4
    sentence: float = 0.3
    rrf_k: int = 60
    prf_docs: int = 0
    prf_weight: float = 0.0
    recency_half_life_days: float = 30.0


@dataclass(slots=True)
class Evidence:
    """Every candidate article with its raw score from each signal.

    Candidate i is ``article_ids[i]``, row ``article_rows[i]`` of the index layout. Its chunks are the
    ``chunk_ids`` whose ``chunk_owners`` is i, and its sentences ``sentence_ids[sentence_bounds[i]:
    sentence_bounds[i + 1]]`` (an article's sentence ids are consecutive), with their cosines alongside.
    """

    article_ids: list[str]
    article_rows: np.ndarray
    lexical: np.ndarray
    chunk: np.ndarray
    sentence: np.ndarray
    chunk_ids: np.ndarray
    chunk_owners: np.ndarray
    chunk_cosines: np.ndarray
    sentence_ids: np.ndarray
    sentence_cosines: np.ndarray
    sentence_bounds: np.ndarray
    marked: list[str] = field(default_factory=list)  # index terms the hits' highlights mark
    vector: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # the query's
    embed_ms: float = 0.0  # the model pass, when this evidence made the vector
    deeper: bool = False  # a leg returned all the seeds it was asked for, so a deeper search may find more
    tiers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # per candidate (see _ranked)


@dataclass(slots=True)
class Retrieval:
    """What a query retrieved: article hits, the chunk ranking behind them, the query vector."""

    hits: list[Hit]
    chunks: np.ndarray  # ids of the chunks of the ranked articles: by their article's rank, then by cosine
    query_vector: np.ndarray
    terms: list[str] = field(default_factory=list)
    embed_ms: float = 0.0  # the query's model pass (it runs beside the BM25 leg)
    names: list[list[str]] = field(default_factory=list)  # the names the question insists on (question_names)
    question: str = ""  # as asked


def question_names(query: str) -> list[list[str]]:
    """The names a question insists on: runs of capitalised words, lower-cased; its first word only when the
    next one continues the run (one capitalised first word is how any sentence starts).

    "What did Amnesty International say about Russia?" names [amnesty, international] and [russia]; an
    answer about Amnesty's report on Turkey misses one of them. "Port Alder dock strike" names [port, alder].
    A question in title case ("Did We Miss The Strike Vote?") names nothing: its capitals say nothing.
    """
    # Title case capitalises every word but short function words ("Bank of England Raises Rates").
    long_words = [w for w in WORD.findall(query) if len(w) >= 4 and w[0].isalpha()]
    if len(long_words) >= 3 and all(w[0].isupper() for w in long_words):
        return []
    ignored = QUESTION_STOPWORDS | FUNCTION_WORDS | CALENDAR_WORDS
    names: list[list[str]] = []
    previous_end = -2
    opening: list[str] = []  # the first word, while it may start a run
    for n, match in enumerate(WORD.finditer(query)):
        word = match.group()
        # A month or weekday is capitalised by convention: "the March earthquake" does not insist on March.
        if not word[0].isupper() or word.lower() in ignored:
            continue
        # A run: capitalised words with only spaces, a hyphen or an apostrophe (O'Brien) between them.
        in_run = query[previous_end : match.start()].strip(" -'’") == ""
        if in_run and opening:
            names.append([*opening, word.lower()])
        elif in_run and names:
            names[-1].append(word.lower())
        elif n > 0:
            names.append([word.lower()])
        opening = [word.lower()] if n == 0 else []
        previous_end = match.end()
    return names


def as_written(query: str, name: Sequence[str]) -> str:
    """A name of question_names as the question spells it ("NASA", not "nasa"; "O'Brien", not "Brien")."""
    found = re.search(r"(?:\b\w['’])?" + r"\W+".join(re.escape(word) for word in name), query, re.IGNORECASE)
    return found.group() if found else " ".join(name)


def query_phrases(query: str) -> list[str]:
    """The quoted phrases of a query, as lower-cased words joined by single spaces."""
    return [p for p in (" ".join(words(q)) for q in _PHRASE.findall(query)) if p]


@dataclass(frozen=True, slots=True)
class LexicalQuery:
    """A query as BM25 sees it: index terms OR-ed together, the terms quoted phrases require, the phrases."""

    terms: list[str]
    required: list[str]
    phrases: list[str]
    marked: list[str]  # what highlights mark: the terms, and the phrases' words but their stopwords

    @property
    def every(self) -> list[str]:
        """All index terms that score, each once."""
        return list(dict.fromkeys(self.terms + self.required))


def lexical_query(query: str) -> LexicalQuery:
    """The BM25 side of a query: quoted phrases' words must all occur, other content words are OR-ed."""
    phrases = query_phrases(query)
    required = list(dict.fromkeys(t for p in phrases for t in STEMS.searchable(p)))
    loose = question_words(_PHRASE.sub(" ", query))
    terms = list(dict.fromkeys(STEMS.searchable(" ".join(loose))))
    quoted = [w for p in phrases for w in question_words(p)]
    marked = list(dict.fromkeys(terms + STEMS.searchable(" ".join(quoted))))
    return LexicalQuery(terms, required, phrases, marked)


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether the words of a phrase occur literally and consecutively in text (case and spacing aside)."""
    return f" {phrase} " in " " + " ".join(words(text)) + " "


def rrf(rankings: Sequence[np.ndarray], k: int) -> np.ndarray:
    """Reciprocal rank fusion of score arrays over the same candidates (higher is better)."""
    total = np.zeros(len(rankings[0]))
    for scores in rankings:
        ranks = np.empty(len(scores))
        ranks[np.argsort(-scores, kind="stable")] = np.arange(len(scores))
        total += 1.0 / (k + ranks + 1)
    return total


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scores rescaled to [0, 1] over the candidates; all-equal scores become 0."""
    if not len(scores):
        return scores
    low, span = scores.min(), scores.max() - scores.min()
    return (scores - low) / span if span > 0 else np.zeros_like(scores)


def weighted(signals: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Normalized weighted sum of score arrays over the same candidates."""
    total = np.zeros(len(signals[0]) if signals else 0)
    for signal, weight in zip(signals, weights, strict=True):
        if weight:
            total = total + weight * minmax(signal)
    return total


def recency_scores(published: Sequence[str | None], newest: str | None, half_life_days: float) -> np.ndarray:
    """1 for the newest dated article in the index, halving every half-life before it; 0 when undated."""
    if newest is None:
        return np.zeros(len(published))
    end = calendar_day(newest)
    if end is None:
        return np.zeros(len(published))
    days = [calendar_day(value) for value in published]
    return np.asarray([0.5 ** (max((end - day).days, 0) / half_life_days) if day else 0.0 for day in days])


def _tiers(n: int, base: int) -> np.ndarray:
    """The tier of a leg's seeds by rank: 0 below base, then 1 below 2·base, 2 below 4·base, …"""
    ranks = np.arange(n)
    return np.where(ranks < base, 0, np.floor(np.log2(np.maximum(ranks, 1) / base)).astype(np.int64) + 1)


def _max_by(rows: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """The maximum value per article row (0 … n-1); -inf for a row with no value."""
    out = np.full(n, -np.inf)
    np.maximum.at(out, rows, values)
    return out


class Retriever:
    """Dense, lexical and hybrid search over one opened index."""

    def __init__(self, index: Index, embedder: Embedder, params: Params | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.params = params or Params()

    def retrieve(
        self,
        query: str,
        k: int = 10,
        mode: Mode = "hybrid",
        filters: Filters | None = None,
        recency: float = 0.0,
        vector: np.ndarray | None = None,
        offset: int = 0,
    ) -> Retrieval:
        """The k + offset best distinct articles for a query (a page of k after offset others), with the chunk
        ranking the brief draws on (the query embedded unless its vector is given)."""
        evidence, scores, order = self._ranked(query, vector, k, mode, filters or Filters(), recency, offset)
        # Chunks of eligible articles, by their article's rank and then by closeness to the query.
        rank_of = np.full(len(evidence.article_ids), len(order))
        rank_of[order] = np.arange(len(order))
        owner_rank = rank_of[evidence.chunk_owners]
        eligible = np.flatnonzero(owner_rank < len(order))
        eligible = eligible[np.lexsort((-evidence.chunk_cosines[eligible], owner_rank[eligible]))]
        top = self._one_per_story(evidence, scores, order, k + offset)
        return Retrieval(
            self._hits(top, evidence),
            evidence.chunk_ids[eligible],
            evidence.vector,
            question_words(query),
            evidence.embed_ms,
            question_names(query),
            query,
        )

    def _one_per_story(
        self, evidence: Evidence, scores: np.ndarray, order: np.ndarray, k: int
    ) -> list[tuple[str, float]]:
        """The k best articles with every story shown once, by its best-ranked article."""
        stories = self.index.layout.article_stories[evidence.article_rows[order]].tolist()
        seen: set[int] = set()
        top = []
        for i, story in zip(order.tolist(), stories, strict=True):
            if story not in seen:
                seen.add(story)
                top.append((evidence.article_ids[i], float(scores[i])))
                if len(top) == k:
                    break
        return top

    def rank(
        self, query: str, k: int, mode: Mode = "hybrid", filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """Just the k best article ids with their scores, for evaluation."""
        evidence, scores, order = self._ranked(query, None, k, mode, filters or Filters(), 0.0)
        return [(evidence.article_ids[i], float(scores[i])) for i in order[:k]]

    def _ranked(
        self,
        query: str,
        vector: np.ndarray | None,
        k: int,
        mode: Mode,
        filters: Filters,
        recency: float,
        offset: int = 0,
    ) -> tuple[Evidence, np.ndarray, np.ndarray]:
        """The evidence for a query, every candidate's final score, and the eligible candidates best first.

        Pages must be slices of one ranking, yet a later page needs deeper legs, and fusing a deeper set of
        candidates reorders the shallower ones (each signal is rescaled over its candidates). So candidates
        come in tiers: those the first `base` seeds of a leg found, then those of seeds up to 2·base, 4·base…
        Each tier is fused on its own and ranked after the one before, and the legs are always asked for a
        whole number of tiers: the ranking a page sees is the start of every deeper page's ranking.
        """
        filters = self.index.resolve(filters)
        base = max(self.params.depth, 2 * k)
        needed = k + offset
        depth = base
        while depth < 2 * needed:
            depth *= 2
        evidence = self.evidence(query, vector, mode, filters, depth, base)
        # One long article can fill a leg's depth alone (a long scrape's chunks take nearly every seed), and a
        # story's articles show as one hit: search deeper while fewer stories than needed are candidates and
        # a leg had more.
        stories = self.index.layout.article_stories
        while len(np.unique(stories[evidence.article_rows])) < needed and evidence.deeper and depth < MAX_DEPTH:
            depth *= 4
            evidence = replace(
                self.evidence(query, evidence.vector, mode, filters, depth, base), embed_ms=evidence.embed_ms
            )
        scores = np.zeros(len(evidence.article_ids))
        fresh = self._freshness(evidence) if recency > 0 and evidence.article_ids else None
        for tier in np.unique(evidence.tiers):
            members = np.flatnonzero(evidence.tiers == tier)
            fused = self.score(evidence, mode, members)
            scores[members] = fused if fresh is None else (1 - recency) * minmax(fused) + recency * fresh[members]
        order = np.lexsort((-scores, evidence.tiers))  # stable: ties stay in archive order
        if mode == "lexical":  # an article whose only match failed a quoted phrase's literal check is no hit
            order = order[evidence.lexical[order] > 0]
        scores[order] = np.minimum.accumulate(scores[order])  # a deeper tier's score never reads above a better rank's
        return evidence, scores, order

    def _freshness(self, evidence: Evidence) -> np.ndarray:
        """Each candidate's recency score."""
        metas = self.index.articles(evidence.article_ids)
        return recency_scores(
            [metas[a].published for a in evidence.article_ids],
            self.index.newest_published(),
            self.params.recency_half_life_days,
        )

    def evidence(
        self, query: str, vector: np.ndarray | None, mode: Mode, filters: Filters, depth: int, base: int | None = None
    ) -> Evidence:
        """Candidate articles from the legs the mode uses, each scored on every signal (vector None: embed here),
        with the tier of each (0 when the first `base` seeds of a leg found it; see _ranked)."""
        bm25 = lexical_query(query)
        # Dense fusion gives BM25 no weight, so a dense query never touches the lexical index.
        use_lexical = mode != "dense" and bool(bm25.every)
        dense_depth = depth if mode in ("dense", "hybrid") else 0
        if use_lexical:  # the model pass (unless the vector is known) and the vector search run beside BM25
            dense = _DENSE_LEG.submit(self._dense_leg, query, vector, dense_depth, filters)
            try:
                lexical_seeds = self._lexical_seeds(bm25, depth, filters)
            except BaseException:
                dense.cancel()  # nobody will read it (a leg already running finishes on its own)
                raise
            vector, embed_ms, seeds = dense.result()
        else:
            vector, embed_ms, seeds = self._dense_leg(query, vector, dense_depth, filters)
            lexical_seeds = self._lexical_seeds(bm25, depth, filters) if use_lexical else []
        deeper = (bool(dense_depth) and len(seeds) >= dense_depth) or len(lexical_seeds) >= depth
        seed_tiers = np.concatenate([_tiers(len(seeds), base or depth), _tiers(len(lexical_seeds), base or depth)])
        seeds.extend(lexical_seeds)
        layout = self.index.layout
        seed_rows = layout.chunk_articles[np.asarray(seeds, dtype=np.int64)]
        # In archive order: ties in fusion (RRF ranks, chunks no leg scored) go to the earlier article.
        article_rows, seed_owner = np.unique(seed_rows, return_inverse=True)
        article_rows = article_rows.astype(np.int64)
        tiers = np.full(len(article_rows), np.iinfo(np.int64).max)
        np.minimum.at(tiers, seed_owner, seed_tiers)
        article_ids = layout.ids(article_rows)
        n = len(article_rows)
        chunk_ids, rows = ranges(layout.article_chunks[article_rows], layout.article_chunks[article_rows + 1])
        chunk_cosines = self.index.chunk_vectors(chunk_ids) @ vector
        lexical = np.zeros(len(chunk_ids))
        if use_lexical and len(chunk_ids):
            lexical = self.index.lexical_scores(bm25.every, chunk_ids)
            if bm25.phrases:  # the words must also stand together, in order
                scored = chunk_ids[lexical > 0]
                lexical[lexical > 0] *= self._hold(scored.tolist(), bm25.phrases)
        # Every sentence of a candidate is evidence; an article's sentence ids run consecutively.
        sentence_ids, sentence_rows = ranges(
            layout.article_sentences[article_rows], layout.article_sentences[article_rows + 1]
        )
        bounds = np.searchsorted(sentence_rows, np.arange(n + 1))
        sentence_cosines = self.index.vectors_of(sentence_ids) @ vector if len(sentence_ids) else np.zeros(0)
        return Evidence(
            article_ids=article_ids,
            article_rows=article_rows,
            lexical=_max_by(rows, lexical, n),
            chunk=_max_by(rows, chunk_cosines, n),
            sentence=_max_by(sentence_rows, sentence_cosines, n),
            chunk_ids=chunk_ids,
            chunk_owners=rows,
            chunk_cosines=chunk_cosines,
            sentence_ids=sentence_ids,
            sentence_cosines=sentence_cosines,
            sentence_bounds=bounds,
            marked=bm25.marked,
            vector=vector,
            embed_ms=embed_ms,
            deeper=deeper,
            tiers=tiers,
        )

    def _dense_leg(
        self, query: str, vector: np.ndarray | None, depth: int, filters: Filters
    ) -> tuple[np.ndarray, float, list[int]]:
        """The query vector (made now when not given, with the ms that took) and its depth nearest chunks."""
        embed_ms = 0.0
        if vector is None:
            started = time.perf_counter()
            vector = self.embedder.encode_query(query)
            embed_ms = (time.perf_counter() - started) * 1000
        seeds = [c for c, _ in self.index.search_chunks(vector, depth, filters)] if depth else []
        return vector, embed_ms, seeds

    def _lexical_seeds(self, bm25: LexicalQuery, depth: int, filters: Filters) -> list[int]:
        """The depth best BM25 chunks; with quoted phrases, the best whose text holds every phrase literally.

        The index knows words, not positions, so chunks that merely hold a phrase's words are asked for
        in growing numbers until depth of them hold the phrase itself (or none are left).
        """
        wanted = depth
        while True:
            ids, _ = self.index.lexical_top(bm25.terms, wanted, filters, bm25.required)
            if not bm25.phrases:
                return ids.tolist()
            held = [c for c, ok in zip(ids.tolist(), self._hold(ids.tolist(), bm25.phrases), strict=True) if ok]
            if len(held) >= depth or len(ids) < wanted or wanted >= PHRASE_SCAN_LIMIT:
                return held[:depth]
            wanted *= 4

    def _hold(self, chunk_ids: Sequence[int], phrases: Sequence[str]) -> list[bool]:
        """Whether each chunk's text holds every phrase literally."""
        chunks = self.index.chunks(chunk_ids)
        texts = self.index.texts(list({c.article_id for c in chunks.values()}))
        return [
            all(contains_phrase(texts[c.article_id][c.start : c.end], ph) for ph in phrases)
            for c in (chunks[i] for i in chunk_ids)
        ]

    def score(self, evidence: Evidence, mode: Mode, members: np.ndarray | None = None) -> np.ndarray:
        """Fused scores for the mode (higher is better) of the given candidates (default: all), fused among them."""
        p = self.params
        sentence = np.where(np.isfinite(evidence.sentence), evidence.sentence, evidence.chunk)
        signals = [evidence.lexical, evidence.chunk, sentence]
        if members is not None:
            signals = [s[members] for s in signals]
        weights = {
            "lexical": (1.0, 0.0, 0.0),
            "dense": (0.0, p.chunk, p.sentence),
            "hybrid": (p.lexical, p.chunk, p.sentence),
        }[mode]
        if p.fusion == "rrf":
            return rrf([s for s, w in zip(signals, weights, strict=True) if w], p.rrf_k)
        return weighted(signals, weights)

    def _hits(self, top: list[tuple[str, float]], evidence: Evidence) -> list[Hit]:
        """One hit per article: metadata, the two sentences closest to the query, and matched-term spans."""
        ids = [a for a, _ in top]
        stories = self.index.stories_of(ids)
        metas = {m.id: m for members in stories.values() for m in members}
        texts = self.index.texts(ids)
        row_of = {a: i for i, a in enumerate(evidence.article_ids)}
        best: dict[str, list[int]] = {}
        for article_id in ids:
            lo, hi = evidence.sentence_bounds[row_of[article_id]], evidence.sentence_bounds[row_of[article_id] + 1]
            closest = np.argsort(-evidence.sentence_cosines[lo:hi], kind="stable")[:2]
            best[article_id] = sorted(int(evidence.sentence_ids[lo + j]) for j in closest)
        spans_of = self.index.sentence_spans([i for chosen in best.values() for i in chosen])
        hits = []
        for article_id, score in top:
            meta, text = metas[article_id], texts[article_id]
            spans = [spans_of[i] for i in best[article_id]]
            marked = [(s + a, s + b) for s, e in spans for a, b in STEMS.marks(text[s:e], evidence.marked)]
            hits.append(
                Hit(
                    article_id=article_id,
                    title=meta.title,
                    outlet=meta.outlet,
                    published=meta.published,
                    url=meta.url,
                    score=score,
                    snippet=SNIPPET_JOINER.join(text[s:e] for s, e in spans),
                    highlights=spans,
                    term_highlights=marked,
                    story_id=meta.story_id,
                    also_reported_by=[
                        AlsoReported(m.id, m.outlet, m.title, m.published)
                        for m in stories[meta.story_id]
                        if m.id != article_id
                    ],
                )
            )
        return hits
