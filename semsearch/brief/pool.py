"""The candidate sentences of a brief: units of sentences that must stand together, and their anchors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..index import ArticleMeta, Index, SentenceTraits
from .options import _ANCHOR_REACH, MAX_LEAN


@dataclass(slots=True)
class _Pool:
    """Candidate sentences (and the predecessors dependent ones need), with their vectors and scores."""

    traits: list[SentenceTraits]
    vectors: np.ndarray
    units: list[tuple[int, ...]]
    anchors: list[int]  # per unit: the row that must already be chosen before it may be (-1: none)
    rank: dict[str, int]
    metas: dict[str, ArticleMeta]
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    relevance: np.ndarray = field(default_factory=lambda: np.zeros(0))
    similarity: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    repeat_similarity: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def members(self) -> np.ndarray:
        """Every sentence row that belongs to some unit."""
        return np.unique(np.fromiter((i for u in self.units for i in u), dtype=np.int64))


def anchor(pronouns: Sequence[str], leans: Sequence[bool], i: int) -> int | None:
    """The earlier sentence that sentence i may follow instead of its predecessor, in one article's sentences.

    In a run of sentences opening with the same pronoun ("He said ... He added ... His ..."), each means
    whom the first means, and the first leans on the sentence before the run; so any sentence of the run
    reads as well right after that sentence, provided it stands alone.
    """
    if not pronouns[i] or i < 2 or pronouns[i - 1] != pronouns[i]:
        return None
    j = i - 1
    while j > 0 and pronouns[j] == pronouns[i] and i - j <= _ANCHOR_REACH:
        j -= 1
    return None if leans[j] or pronouns[j] == pronouns[i] else j


def _pool(index: Index, ids: list[int], rank: dict[str, int]) -> _Pool:
    """Usable candidates as units: alone, after the predecessors they lean on, or after their anchor."""
    by_id = {i: f for i, f in index.sentence_traits(ids).items() if f.sentence.article_id in rank}
    candidates = [by_id[i] for i in ids if i in by_id and by_id[i].usable]
    # Predecessors are read only for the sentences that lean on them, one step back at a time.
    leaning = [f for f in candidates if f.leans]
    for _ in range(MAX_LEAN):
        wanted = {f.sentence.id - 1 for f in leaning if f.sentence.ordinal > 0} - by_id.keys()
        for i, f in index.sentence_traits(wanted).items():
            if f.sentence.article_id in rank:
                by_id[i] = f
        leaning = [
            by_id[f.sentence.id - 1] for f in leaning if f.sentence.id - 1 in by_id and by_id[f.sentence.id - 1].leans
        ]
    order = sorted(by_id)
    row = {sid: n for n, sid in enumerate(order)}
    traits = [by_id[sid] for sid in order]
    units: list[tuple[int, ...]] = []
    anchors: list[int] = []
    for f in candidates:
        run = [row[f.sentence.id]]
        while traits[run[0]].leans and len(run) <= MAX_LEAN:
            first = traits[run[0]].sentence
            prev = by_id.get(first.id - 1)
            if prev is None or not prev.usable:
                break
            if prev.sentence.article_id != first.article_id or prev.sentence.ordinal != first.ordinal - 1:
                break
            run.insert(0, row[prev.sentence.id])
        if not traits[run[0]].leans:
            units.append(tuple(run))
            anchors.append(-1)
        if f.pronoun:
            found = _anchor_of(f, by_id)
            if found is not None:
                units.append((row[f.sentence.id],))
                anchors.append(row[found])
    vectors = index.vectors_of(order) if order else np.zeros((0, 0), np.float32)
    return _Pool(traits, vectors, units, anchors, rank, index.articles(list(rank)))


def _anchor_of(f: SentenceTraits, by_id: dict[int, SentenceTraits]) -> int | None:
    """The id of the sentence f may follow instead of its predecessor (see anchor), when by_id holds the run."""
    run = [f]
    while len(run) <= _ANCHOR_REACH + 1:
        prev = by_id.get(run[-1].sentence.id - 1)
        if prev is None or prev.sentence.article_id != f.sentence.article_id:
            break
        run.append(prev)
    run.reverse()
    found = anchor([x.pronoun for x in run], [x.leans for x in run], len(run) - 1)
    return None if found is None else run[found].sentence.id
