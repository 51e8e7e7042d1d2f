"""Choosing sentences under the word budget without stating one fact twice."""

from __future__ import annotations

import numpy as np

from .options import MAX_LEAN, BriefOptions
from .pool import _Pool
from .scoring import _codes


def _select(pool: _Pool, floor: float, options: BriefOptions) -> tuple[list[int], dict[int, list[int]]]:
    """Greedy MMR over units under the word budget; returns chosen sentence rows and each one's repeats."""
    members = np.full((len(pool.units), MAX_LEAN + 1), -1)
    for n, unit in enumerate(pool.units):
        members[n, : len(unit)] = unit
    present = members >= 0
    members = np.where(present, members, 0)
    keep = np.where(present, pool.relevance[members], -np.inf).max(axis=1) >= floor
    members, present = members[keep], present[keep]
    anchors = np.asarray(pool.anchors, dtype=np.int64)[keep]
    anchored = anchors >= 0
    if not len(members):
        return [], {}
    cost = np.fromiter((f.words for f in pool.traits), dtype=np.int64, count=len(pool.traits))[members] * present
    worth = pool.scores[members] * cost
    unit_score = (pool.scores[members] * present).sum(axis=1) / present.sum(axis=1)
    overlap = np.full(len(pool.traits), -1.0)  # each sentence's highest similarity to a chosen one
    is_chosen = np.zeros(len(pool.traits), dtype=bool)
    alive = np.ones(len(members), dtype=bool)
    chosen: list[int] = []
    budget = options.words
    article = _codes([f.sentence.article_id for f in pool.traits])[members[:, 0]]
    quoted = np.zeros(int(article.max()) + 1)  # sentences quoted so far per article
    while True:
        fresh = present & ~is_chosen[members]
        repeat = np.where(fresh, overlap[members], -1.0).max(axis=1)
        unit_cost = (fresh * cost).sum(axis=1)
        # Budget and overlap only tighten, so a unit ruled out now stays out.
        alive &= fresh.any(axis=1) & (unit_cost <= budget) & (repeat < options.redundancy)
        # An anchored unit waits for its anchor, so it may become pickable later.
        pickable = alive & (~anchored | is_chosen[np.where(anchored, anchors, 0)])
        if not pickable.any():
            break
        if options.worth_by_words:
            # What its words not yet quoted are worth: once its predecessor is in, a sentence brings only itself.
            unit_score = (worth * fresh).sum(axis=1) / np.maximum(unit_cost, 1)
        gain = (1 - options.diversity) * unit_score - options.diversity * np.clip(repeat, 0.0, None)
        gain -= options.article_penalty * quoted[article]
        pick = int(np.argmax(np.where(pickable, gain, -np.inf)))
        budget -= int(unit_cost[pick])
        picked = members[pick][fresh[pick]]
        quoted[article[pick]] += len(picked)
        is_chosen[picked] = True
        chosen.extend(picked.tolist())
        overlap = np.maximum(overlap, pool.repeat_similarity[:, picked].max(axis=1))
    return chosen, _repeats(pool, chosen, options.redundancy)


def _repeats(pool: _Pool, chosen: list[int], redundancy: float) -> dict[int, list[int]]:
    """Other outlets' candidate sentences that state a chosen sentence's fact, keyed by that sentence."""
    twins: dict[int, list[int]] = {}
    if not chosen:
        return twins
    others = np.setdiff1d(pool.members(), chosen)
    if not len(others):
        return twins
    sims = pool.repeat_similarity[np.ix_(others, np.asarray(chosen))]
    close = sims.max(axis=1) >= redundancy
    for i, k in zip(others[close].tolist(), sims.argmax(axis=1)[close].tolist(), strict=True):
        twin = chosen[k]
        if pool.traits[twin].sentence.article_id != pool.traits[i].sentence.article_id:
            twins.setdefault(twin, []).append(i)
    return twins
