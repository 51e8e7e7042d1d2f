"""What is new since a day: the brief's step that leaves out facts an earlier article had already reported.

A "new since" question is answered from articles dated on or after the day; every candidate sentence is then
compared with the earlier reports a reader may already have seen: the sentences of the earlier (or undated)
articles among the question's own candidates, and of every earlier article in the new articles' stories. A
sentence whose stored vector is as close to an earlier one as the brief's redundancy threshold, or that shares
a figure with an earlier sentence of its story at a moderate cosine (outlets reword a fact freely but keep its
numbers), states a fact already reported and is never quoted, however relevant; unless it gives that fact
another figure, date or name than every earlier sentence it is close to, which makes it a revision, and news.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from .brief import FIGURE_TWIN_COSINE
from .discrepancies import difference
from .index import Index, SentenceTraits, StoredSentence
from .records import Filters
from .text import calendar_day

# A sentence close to an earlier report, though below the redundancy threshold, mostly restates it in part; the
# penalty (per unit of cosine above the floor) makes room for what is new. Not yet tuned: docs/quality.md ("News
# over time") says how it is to be chosen on a Reuters-21578 update check, never on the held-out benchmark.
NOVELTY_FLOOR = 0.5
NOVELTY_WEIGHT = 1.0


def new_filters(filters: Filters, day: date) -> Filters:
    """The request's filters narrowed to articles dated on or after the day."""
    since = max(filters.since or "", day.isoformat())
    return replace(filters, since=since)


def is_earlier(published: str | None, day: date) -> bool:
    """True for an article dated before the day, or undated (it may be older than anything: it counts as seen)."""
    found = calendar_day(published)
    return found is None or found < day


def nothing_new(day: date) -> str:
    """The abstention of a "new since" brief whose every answering passage repeats an earlier report."""
    return (
        f"Nothing new since {day.isoformat()}: every passage that answers this question had already been "
        "reported before that day."
    )


def nothing_since(day: date) -> str:
    """The abstention of a "new since" brief when no article of the period answers the question: whether
    earlier ones do is not known here, so nothing is said of them."""
    return (
        f"Nothing new since {day.isoformat()}: no article dated on or after that day answers this question "
        "closely enough to quote."
    )


@dataclass(slots=True)
class EarlierReports:
    """The sentences of the earlier articles a new candidate is compared with, and whether it repeats them."""

    day: date
    vectors: np.ndarray  # one row per earlier sentence
    stories: np.ndarray  # each earlier sentence's story number
    figures: list[frozenset[int]]
    sentences: list[StoredSentence]  # each earlier sentence's place, its text read only when a candidate is near
    read_texts: Callable[[list[str]], dict[str, str]]  # article texts by id
    articles: int  # earlier articles compared against
    story_of: np.ndarray  # story number by article row of the layout
    sentence_article: Callable[[np.ndarray], np.ndarray]  # article rows of sentence ids
    redundancy: float
    nothing_new: str = ""
    nothing_since: str = ""
    left_out: int = 0

    def __post_init__(self) -> None:
        self.nothing_new = nothing_new(self.day)
        self.nothing_since = nothing_since(self.day)

    def judge(self, traits: Sequence[SentenceTraits], vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per candidate: already reported (vector twin, or figure twin within its story), and its penalty."""
        n = len(traits)
        if not len(self.vectors) or not n:
            return np.zeros(n, dtype=bool), np.zeros(n)
        sims = vectors @ self.vectors.T
        closest = sims.max(axis=1)
        ids = np.fromiter((f.sentence.id for f in traits), dtype=np.int64, count=n)
        stories = self.story_of[self.sentence_article(ids)]
        twins = {
            row: self._twins(set(traits[row].figures), stories[row], sims[row])
            for row in np.flatnonzero(closest >= min(self.redundancy, FIGURE_TWIN_COSINE)).tolist()
        }
        compared = [(traits[row].sentence, [self.sentences[j] for j in found]) for row, found in twins.items()]
        texts = self.read_texts(list({s.article_id for said, near in compared if near for s in [said, *near]}))

        def text(s: StoredSentence) -> str:
            return texts[s.article_id][s.start : s.end]

        reported = np.zeros(n, dtype=bool)
        for row, (said, near) in zip(twins, compared, strict=True):
            # A sentence giving a reported fact another figure, date or name revises it: that is news.
            reported[row] = any(difference(text(said), text(e)) is None for e in near)
        self.left_out = int(sum(reported[r] for r, f in enumerate(traits) if f.usable))
        return reported, NOVELTY_WEIGHT * np.clip(closest - NOVELTY_FLOOR, 0.0, None)

    def _twins(self, figures: set[int], story: int, sims: np.ndarray) -> list[int]:
        """The earlier sentences a candidate restates: as close as the redundancy threshold, or of its story
        sharing a figure with it at a moderate cosine."""
        near = np.flatnonzero(sims >= min(self.redundancy, FIGURE_TWIN_COSINE)).tolist()
        return [
            j for j in near if sims[j] >= self.redundancy or (self.stories[j] == story and figures & self.figures[j])
        ]


def earlier_reports(
    index: Index, ranked_chunks: np.ndarray, new_articles: Sequence[str], day: date, depth: int, redundancy: float
) -> EarlierReports:
    """The earlier reports of a question: the earlier articles among its first `depth` candidate chunks (all of
    their sentences in those chunks) and every earlier article of the new candidates' stories (all sentences)."""
    layout = index.layout
    chunks = index.chunks(ranked_chunks[:depth].tolist())
    candidates = {c.article_id for c in chunks.values()} - set(new_articles)
    story_members = [m for members in index.stories_of(list(new_articles)).values() for m in members]
    metas = {**index.articles(list(candidates)), **{m.id: m for m in story_members}}
    earlier = {a for a, m in metas.items() if is_earlier(m.published, day)}
    ids = {i for c in chunks.values() if c.article_id in earlier for i in range(c.first_sentence, c.last_sentence + 1)}
    ids.update(index.sentence_ids_of([m.id for m in story_members if m.id in earlier]))
    order = sorted(ids)
    traits = index.sentence_traits(order)
    vectors = index.vectors_of(order) if order else np.zeros((0, 0), np.float32)
    rows = layout.sentence_articles(np.asarray(order, dtype=np.int64))
    return EarlierReports(
        day=day,
        vectors=vectors,
        stories=layout.article_stories[rows],
        figures=[frozenset(traits[i].figures) for i in order],
        sentences=[traits[i].sentence for i in order],
        read_texts=index.texts,
        articles=len(earlier),
        story_of=layout.article_stories,
        sentence_article=layout.sentence_articles,
        redundancy=redundancy,
    )
