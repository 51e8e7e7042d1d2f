"""Hits → a query-focused extractive brief: verbatim sentences, each with exact-span citations.

Selection: every usable sentence of the top retrieved chunks is scored by relevance to the question
(stored sentence vector · query vector, plus overlap with the question's content words), by its
centrality among the candidates (LexRank over the stored vectors and TextRank over shared words, both
biased towards the question, a link within one article weighing less than one across articles), by a news
prior (an article's lead carries its key facts) and by the retriever's rank of its article. Units (a
sentence, a sentence that leans on its predecessor together with that predecessor, or one that may follow
the sentence its pronoun goes back to) are then taken greedily under the word budget by
maximal marginal relevance; one that repeats a chosen sentence is never shown twice but lends that
sentence its citation (same words) or a corroboration (another outlet's own words). A generic brief of
given articles (GENERIC) also weighs coverage: how many of the words its sentences keep repeating a
sentence carries.

Nothing is parsed per query: each stored sentence's flags, words and figures were found when the index
was built (semsearch.sentences) and are read from its layout arrays; only the quoted sentences' text is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..index import Index, SentenceTraits
from ..records import Brief
from ..retrieval import Retrieval, as_written, question_names
from ..text import question_words
from .citing import _cite, _quoted_texts, citation_problems
from .options import (
    DEFAULT,
    FIGURE_TWIN_COSINE,
    GENERIC,
    NOTHING_RELEVANT,
    NOTHING_RETRIEVED,
    NOTHING_WITHIN_FILTERS,
    SINGLE_ARTICLE,
    BriefOptions,
    brief_options,
    nothing_mentions,
)
from .pool import _Pool, _pool, anchor
from .scoring import _names_held, _score, absent_names, name_forms
from .selection import _select


class Novelty(Protocol):
    """What a "new since" brief must leave out (semsearch.novelty): a separate step, kept out of the scoring."""

    nothing_new: str  # the abstention when every relevant candidate had been reported before
    nothing_since: str  # the abstention when no article of the period answers the question

    def judge(self, traits: Sequence[SentenceTraits], vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per candidate row: already reported (never quoted), and what to take off its score."""
        ...


def summarize(
    index: Index, retrieval: Retrieval, options: BriefOptions = DEFAULT, novelty: Novelty | None = None
) -> Brief:
    """A brief of the sentences of the top retrieved chunks."""
    if absent := absent_names(index, retrieval.names):
        return Brief(abstained=nothing_mentions([as_written(retrieval.question, name) for name in absent]))
    ranked = retrieval.chunks[: options.candidates].tolist()
    stored = index.chunks(ranked)
    rank: dict[str, int] = {}
    ids: dict[int, None] = {}
    for chunk_id in ranked:
        chunk = stored.get(chunk_id)
        if chunk is None:
            continue
        if chunk.article_id not in rank:
            if options.max_sources is not None and len(rank) >= options.max_sources:
                continue
            rank[chunk.article_id] = len(rank)
        ids.update(dict.fromkeys(range(chunk.first_sentence, chunk.last_sentence + 1)))
    return _brief(index, sorted(ids), rank, retrieval.query_vector, retrieval.terms, options, retrieval.names, novelty)


def summarize_articles(
    index: Index,
    article_ids: Sequence[str],
    query_vector: np.ndarray,
    question: str,
    options: BriefOptions = DEFAULT,
) -> Brief:
    """A brief of whole given articles (the single-document evaluation uses one)."""
    ids = index.sentence_ids_of(list(article_ids))
    rank = {a: i for i, a in enumerate(article_ids)}
    return _brief(index, ids, rank, query_vector, question_words(question), options, question_names(question))


def _brief(
    index: Index,
    ids: list[int],
    rank: dict[str, int],
    query_vector: np.ndarray,
    terms: Sequence[str],
    options: BriefOptions,
    names: Sequence[Sequence[str]] = (),
    novelty: Novelty | None = None,
) -> Brief:
    """Score, select, order and cite."""
    pool = _pool(index, ids, rank)
    if not pool.units:
        return Brief(abstained=novelty.nothing_since if novelty else NOTHING_RETRIEVED)
    _score(pool, query_vector, terms, options)
    if options.w_names and names:
        pool.scores -= options.w_names * (1.0 - _names_held(pool, names))
    if novelty is not None and not _leave_out_reported(pool, novelty):
        return Brief(abstained=novelty.nothing_new)
    best = float(pool.relevance[pool.members()].max())
    if best < options.min_similarity:
        return Brief(abstained=novelty.nothing_since if novelty else NOTHING_RELEVANT)
    chosen, twins = _select(pool, max(options.min_similarity, options.relevance_floor * best), options)
    if not chosen:
        return Brief(abstained=f"No relevant sentence fits in {options.words} words; allow more words.")
    return _cite(pool, chosen, twins, _quoted_texts(index, pool, chosen, twins))


def _leave_out_reported(pool: _Pool, novelty: Novelty) -> bool:
    """Drop every unit holding an already reported sentence and lower the rest by the novelty's penalty; False
    when no unit is left."""
    reported, penalty = novelty.judge(pool.traits, pool.vectors)
    pool.scores = pool.scores - penalty
    kept = [n for n, unit in enumerate(pool.units) if not reported[list(unit)].any()]
    pool.units = [pool.units[n] for n in kept]
    pool.anchors = [pool.anchors[n] for n in kept]
    return bool(pool.units)


__all__ = [
    "FIGURE_TWIN_COSINE",
    "GENERIC",
    "NOTHING_RELEVANT",
    "NOTHING_RETRIEVED",
    "NOTHING_WITHIN_FILTERS",
    "SINGLE_ARTICLE",
    "BriefOptions",
    "Novelty",
    "anchor",
    "brief_options",
    "citation_problems",
    "name_forms",
    "summarize",
    "summarize_articles",
]
