"""Grouping articles that tell the same story: near-duplicate text and same-event coverage.

Two signals, both cheap at build time:
- near-duplicates (a wire story lightly edited by two outlets): MinHash over word 5-gram
  shingles with LSH banding, confirmed by the estimated Jaccard similarity;
- same-event coverage (two outlets, their own words): cosine similarity of the embedded
  title-and-lead chunk, within a window of days when both dates are known.
Groups are the connected components of either kind of pair.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from .config import Settings
from .text import CALENDAR_WORDS, FIGURE, calendar_day, word_ngrams, words

_PRIME = (1 << 61) - 1


_DEFAULTS = Settings.model_fields


@dataclass(frozen=True, slots=True)
class StoryRules:
    """Thresholds for grouping; the defaults, measured on the sample corpus (docs/quality.md), are the settings'."""

    same_event_similarity: float = _DEFAULTS["story_similarity"].default
    window_days: int = _DEFAULTS["story_window_days"].default
    # Without both dates the window cannot keep an outlet's follow-ups apart (on BBC tech, three undated blog
    # stories of one source became one), so one outlet's undated articles must be closer than that to group.
    undated_similarity: float = 0.85
    near_duplicate_jaccard: float = _DEFAULTS["near_duplicate_jaccard"].default
    shingle_words: int = 5
    permutations: int = 64
    bands: int = 16

    @classmethod
    def of(cls, settings: Settings) -> StoryRules:
        """The thresholds these settings choose."""
        return cls(
            same_event_similarity=settings.story_similarity,
            window_days=settings.story_window_days,
            near_duplicate_jaccard=settings.near_duplicate_jaccard,
        )


def shingles(text: str, n: int) -> np.ndarray:
    """Hashes of the word n-grams of a text."""
    grams = word_ngrams(text, n)
    return np.array(
        [int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little") >> 3 for g in grams],
        dtype=np.uint64,
    )


def minhash(texts: Sequence[str], rules: StoryRules) -> np.ndarray:
    """MinHash signatures, one row of `permutations` values per text."""
    rng = np.random.default_rng(20250515)  # fixed, so signatures are stable across builds
    a = rng.integers(1, _PRIME, size=rules.permutations, dtype=np.uint64)
    b = rng.integers(0, _PRIME, size=rules.permutations, dtype=np.uint64)
    out = np.full((len(texts), rules.permutations), np.iinfo(np.uint64).max, dtype=np.uint64)
    for i, text in enumerate(texts):
        hashes = shingles(text, rules.shingle_words)
        if hashes.size:
            # Multiply-add hashing, wrapping in uint64; only the ordering matters for MinHash.
            out[i] = ((hashes[:, None] * a[None, :] + b[None, :]) % np.uint64(_PRIME)).min(axis=0)
    return out


def near_duplicate_pairs(signatures: np.ndarray, rules: StoryRules) -> set[tuple[int, int]]:
    """Pairs whose estimated Jaccard similarity reaches the threshold, found through LSH bands."""
    rows = rules.permutations // rules.bands
    pairs: set[tuple[int, int]] = set()
    for band in range(rules.bands):
        buckets: dict[bytes, list[int]] = {}
        for i, sig in enumerate(signatures[:, band * rows : (band + 1) * rows]):
            buckets.setdefault(sig.tobytes(), []).append(i)
        for members in buckets.values():
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    pairs.add((members[x], members[y]))
    return {(i, j) for i, j in pairs if near_duplicates(signatures[i], signatures[j], rules)}


def near_duplicates(first: np.ndarray, second: np.ndarray, rules: StoryRules) -> bool:
    """Whether two texts' MinHash signatures estimate a Jaccard similarity that makes them near-duplicates."""
    return float(np.mean(first == second)) >= rules.near_duplicate_jaccard


def _apart(one: date | None, two: date | None, rules: StoryRules) -> bool:
    """Whether two days are both known and farther apart than the story window."""
    return one is not None and two is not None and abs((one - two).days) > rules.window_days


def _reprint(first: set[str], second: set[str]) -> bool:
    """Whether one of two near-duplicate texts states every figure and calendar word of the other (a reprint,
    maybe with a paragraph more or less). A recurring report written from one template ("the jobless rate
    rose to 5.1 percent in January") differs in just those, and each month's is a story of its own."""
    return first <= second or second <= first


def _particulars(text: str) -> set[str]:
    """The figures and calendar words a text states."""
    return set(FIGURE.findall(text)) | {w for w in words(text) if w in CALENDAR_WORDS}


def same_event_pairs(
    lead_vectors: np.ndarray,
    published: Sequence[str | None],
    rules: StoryRules,
    neighbours: int = 20,
    outlets: Sequence[str | None] | None = None,
) -> set[tuple[int, int]]:
    """Pairs whose title-and-lead vectors are close: within the window when both dates are known, and closer
    still for two undated articles of one outlet (an unknown outlet counts as one)."""
    n = len(lead_vectors)
    if n < 2:
        return set()
    days = [calendar_day(p) for p in published]
    pairs = set()
    for start in range(0, n, 1024):  # blocks keep the similarity matrix small at archive scale
        sims = lead_vectors[start : start + 1024] @ lead_vectors.T
        for row, i in enumerate(range(start, min(start + 1024, n))):
            top = np.argpartition(-sims[row], min(neighbours, n - 1))[: neighbours + 1]
            for j in top:
                j = int(j)
                if j == i or sims[row, j] < rules.same_event_similarity:
                    continue
                day_i, day_j = days[i], days[j]
                if _apart(day_i, day_j, rules):
                    continue
                same_source = outlets is not None and outlets[i] == outlets[j]
                if same_source and not (day_i and day_j) and sims[row, j] < rules.undated_similarity:
                    continue
                pairs.add((min(i, j), max(i, j)))
    return pairs


def group_stories(
    ids: Sequence[str],
    texts: Sequence[str],
    lead_vectors: np.ndarray,
    published: Sequence[str | None],
    rules: StoryRules = StoryRules(),
    outlets: Sequence[str | None] | None = None,
) -> list[str]:
    """A story id per article: the smallest article id of its group, so ids are stable across builds."""
    parent = list(range(len(ids)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    # Near-duplicates dated farther apart than the window are one story only as a reprint.
    days = [calendar_day(p) for p in published]
    particulars = functools.cache(lambda i: _particulars(texts[i]))
    pairs = {
        (i, j)
        for i, j in near_duplicate_pairs(minhash(texts, rules), rules)
        if not _apart(days[i], days[j], rules) or _reprint(particulars(i), particulars(j))
    }
    pairs |= same_event_pairs(lead_vectors, published, rules, outlets=outlets)
    for i, j in pairs:
        parent[find(i)] = find(j)
    smallest: dict[int, str] = {}
    for i, article_id in enumerate(ids):
        root = find(i)
        smallest[root] = min(smallest.get(root, article_id), article_id)
    return [smallest[find(i)] for i in range(len(ids))]
