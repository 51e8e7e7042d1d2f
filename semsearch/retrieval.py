"""Query → dense and lexical legs → fusion → article-level hits with highlighted sentences."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .embedding import Embedder
from .models import Hit
from .store import Index

Mode = Literal["dense", "lexical", "hybrid"]
MODES: tuple[str, ...] = ("dense", "lexical", "hybrid")
RRF_K = 60
_TERM = re.compile(r"\w+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]+)"')
_STOPWORDS = frozenset(
    "a an and are as at be by did do does for from has have how in is it its of on or say said says that the "
    "their them they this to was were what when where which who why will with would about after".split()
)


@dataclass(slots=True)
class RankedChunk:
    """A chunk id with its fused score, best first."""

    chunk_id: int
    score: float


@dataclass(slots=True)
class Retrieval:
    """What a query retrieved: article hits, the chunk ranking behind them, the query vector."""

    hits: list[Hit]
    chunks: list[RankedChunk]
    query_vector: np.ndarray
    terms: list[str] = field(default_factory=list)


def query_terms(query: str) -> list[str]:
    """Content words of a query, lower-cased, stopwords dropped."""
    return [t for t in (m.lower() for m in _TERM.findall(query)) if t not in _STOPWORDS]


def fts_expression(query: str) -> str | None:
    """An FTS5 MATCH expression: quoted phrases must match literally, other terms are OR-ed."""
    phrases = [" ".join(_TERM.findall(p)) for p in _PHRASE.findall(query)]
    rest = _PHRASE.sub(" ", query)
    terms = list(dict.fromkeys(query_terms(rest)))
    required = " AND ".join(f'"{p}"' for p in phrases if p)
    optional = " OR ".join(f'"{t}"' for t in terms)
    if required and optional:
        return f"{required} AND ({optional} OR {required})"
    return required or optional or None


def rrf(rankings: Sequence[Sequence[tuple[int, float]]], k: int = RRF_K) -> list[RankedChunk]:
    """Reciprocal rank fusion of several rankings of chunk ids."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, (chunk_id, _) in enumerate(ranking):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (k + rank + 1)
    return [RankedChunk(c, s) for c, s in sorted(scores.items(), key=lambda kv: -kv[1])]


class Retriever:
    """Hybrid search over one opened index."""

    def __init__(self, index: Index, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder

    def retrieve(self, query: str, k: int = 10, mode: Mode = "hybrid", fetch: int | None = None) -> Retrieval:
        """The k best articles for a query, with the chunk ranking the brief draws on."""
        vector = self.embedder.encode_query(query)
        fetch = fetch or max(50, k * 8)
        legs = []
        if mode in ("dense", "hybrid"):
            legs.append(self.index.search_chunks(vector, fetch))
        if mode in ("lexical", "hybrid"):
            expression = fts_expression(query)
            legs.append(self.index.search_lexical(expression, fetch) if expression else [])
        ranked = [RankedChunk(c, s) for c, s in legs[0]] if len(legs) == 1 else rrf(legs)
        return Retrieval(self._hits(ranked, vector, k), ranked, vector, query_terms(query))

    def _hits(self, ranked: list[RankedChunk], vector: np.ndarray, k: int) -> list[Hit]:
        """Group chunks by article (best chunk wins) and attach snippets."""
        best: dict[str, tuple[float, list[int]]] = {}
        stored = self.index.chunks([r.chunk_id for r in ranked])
        for r in ranked:
            chunk = stored.get(r.chunk_id)
            if chunk is None:
                continue
            if chunk.article_id not in best:
                if len(best) >= k:
                    continue
                best[chunk.article_id] = (r.score, [])
            best[chunk.article_id][1].append(r.chunk_id)
        metas = self.index.articles(list(best))
        texts = self.index.texts(list(best))
        hits = []
        for article_id, (score, chunk_ids) in best.items():
            meta, text = metas[article_id], texts[article_id]
            spans = self._best_sentences(chunk_ids[:3], stored, vector)
            hits.append(Hit(
                article_id=article_id, title=meta.title, outlet=meta.outlet, published=meta.published,
                url=meta.url, score=score, snippet=" … ".join(text[s:e] for s, e in spans), highlights=spans,
            ))
        return hits

    def _best_sentences(self, chunk_ids: list[int], stored: dict, vector: np.ndarray, n: int = 2) -> list[tuple[int, int]]:
        """Spans of the n sentences of these chunks closest to the query, in reading order."""
        sentences = self.index.sentences_between(
            [(stored[c].first_sentence, stored[c].last_sentence) for c in chunk_ids]
        )
        if not sentences:
            return []
        sims = self.index.vectors_of([s.id for s in sentences]) @ vector
        top = sorted(np.argsort(-sims)[:n].tolist())
        return [(sentences[i].start, sentences[i].end) for i in top]
