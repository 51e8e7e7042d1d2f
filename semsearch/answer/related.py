"""Words of like meaning for the writer check: an answer word the evidence does not use counts as stated
when the packaged model, read over the answer and over the evidence, places it close to a word the evidence
does use ("hurt" and "injured"), at SEMSEARCH_LLM_SYNONYM_SIMILARITY (1 turns it off): see docs/quality.md.

Similarity never decides what the rules decide: names and figures are checked before coverage, only
lower-case words are matched, negations and hedges are never matched, and a word is never matched to one
from the other side of a pair of opposites of answer/lexicon.py, because an opposite is often the nearest
word of all ("rise" and "fall").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..text import FUNCTION_WORDS, STEMS
from .lexicon import DIRECTED, HEDGES, NEGATIONS, OPPOSITES

if TYPE_CHECKING:
    from ..embedding import Embedder


# Words with a rule of their own: similarity must neither cover them nor let them cover another word.
_RULED = NEGATIONS | HEDGES | DIRECTED
_PAIRS = [*OPPOSITES, *((b, a) for a, b in OPPOSITES)]
_LOWER = re.compile(r"\b[a-z][a-z'’-]*")


class ContextVectors:
    """The model's last-layer token states: a word's vector is the mean of its word pieces' states in one
    pass over the text it stands in (the embedder's own span pooling, as late chunking uses it)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self.vectors = lru_cache(maxsize=4096)(self._vectors)

    def _vectors(self, text: str) -> dict[str, np.ndarray]:
        """Each lower-case word of a text and its unit vector in that text (the first use of a word)."""
        first = {m[0]: m.span() for m in reversed(list(_LOWER.finditer(text)))}
        _, (pooled,) = self._embedder.encode_spans([text], [list(first.values())])
        return {
            word: mean / np.linalg.norm(mean)
            for word, mean in zip(first, pooled, strict=True)
            if not np.isnan(mean).any()  # a word past the model's window has no state
        }


@lru_cache(maxsize=4)
def synonyms(threshold: float) -> Synonyms | None:
    """The process's synonyms at a threshold, loaded once; None when the threshold turns them off."""
    from ..embedding import get_embedder

    # fp32 whatever the build's weights: the threshold was calibrated on fp32 token states.
    return Synonyms(ContextVectors(get_embedder(vector_precision="fp32")), threshold) if threshold < 1.0 else None


class Synonyms:
    """Decides which answer words a word of the evidence restates in other words."""

    def __init__(self, vectors: ContextVectors, threshold: float) -> None:
        self.vectors = vectors
        self.threshold = threshold

    def restated(self, missing: Sequence[str], sentence: str, evidence: str) -> set[str]:
        """The missing answer words that some evidence word is close enough in meaning to."""
        # A word the sentence capitalises may be a name, which only the evidence's own spelling supports.
        lower = set(_LOWER.findall(sentence))
        mine = self.vectors.vectors(sentence)
        theirs = {w: v for w, v in self.vectors.vectors(evidence).items() if _open(w)}
        return {
            w
            for w in missing
            if w in lower
            and w in mine
            and _open(w)
            and _closest(mine[w], [theirs[o] for o in _not_opposite(w, theirs)]) >= self.threshold
        }


def _closest(vector: np.ndarray, others: Sequence[np.ndarray]) -> float:
    """The highest cosine between a vector and any of the others (0 without others)."""
    return float((np.stack(others) @ vector).max()) if others else 0.0


def _open(word: str) -> bool:
    """Whether similarity may judge a word: a content word that no rule of the check already judges."""
    return word not in FUNCTION_WORDS and STEMS.stem(word) not in _RULED


def _not_opposite(word: str, others: Iterable[str]) -> list[str]:
    """The other words that are not on the other side of a pair of opposites from the word."""
    stem = STEMS.stem(word)
    across = frozenset().union(*(b for a, b in _PAIRS if stem in a))
    return [o for o in others if STEMS.stem(o) not in across]
