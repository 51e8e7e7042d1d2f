"""Hits → a query-focused extractive brief: verbatim sentences, each with exact-span citations."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .models import Brief, BriefSentence, Citation, Source
from .retrieval import Retrieval
from .store import Index, StoredSentence

# A sentence opening with one of these leans on the sentence before it ("He added ...").
_ANTECEDENT_OPENERS = re.compile(r"^(?:he|she|it|they|this|these|those|but|also|however|his|her|their)\b", re.I)


@dataclass(slots=True)
class Candidate:
    """A sentence that may enter the brief."""

    sentence: StoredSentence
    text: str
    relevance: float
    rank: int


def _words(text: str) -> int:
    """Word count used for the budget."""
    return len(text.split())


def _usable(text: str) -> bool:
    """Whether a sentence can stand in a brief: a full statement, not a question, fragment or label."""
    n = _words(text)
    opens_well = text[0].isalnum() or text[0] in "\"'“‘"
    return 6 <= n <= 80 and opens_well and not text.rstrip("\"'”’ )").endswith("?")


def _normal(text: str) -> str:
    """Key for recognising the same sentence carried verbatim by several articles."""
    return " ".join(re.sub(r"[^\w\s]", "", text.lower()).split())


def summarize(
    index: Index,
    retrieval: Retrieval,
    words: int = 120,
    max_sources: int | None = None,
    candidates: int = 30,
    min_similarity: float = 0.25,
    diversity: float = 0.3,
    redundancy: float = 0.8,
) -> Brief:
    """Choose relevant, non-redundant sentences under a word budget and cite each one."""
    pool = _candidates(index, retrieval, candidates, max_sources)
    if not pool:
        return Brief(abstained="Nothing in the archive matches this question closely enough to summarize.")
    vectors = index.vectors_of([c.sentence.id for c in pool])
    relevance = vectors @ retrieval.query_vector
    for c, r in zip(pool, relevance):
        c.relevance = float(r)
    best = float(relevance.max())
    if best < min_similarity:
        return Brief(abstained="No passage in the archive answers this question closely enough to quote.")
    floor = max(min_similarity, 0.5 * best)

    chosen: list[int] = []
    corroborating: dict[int, list[int]] = {}
    verbatim: dict[int, list[int]] = {}
    budget = words
    remaining = [i for i, c in enumerate(pool) if c.relevance >= floor]
    while remaining:
        if chosen:
            overlap = vectors[remaining] @ vectors[chosen].T
            max_overlap = overlap.max(axis=1)
        else:
            max_overlap = np.zeros(len(remaining))
        scores = (1 - diversity) * relevance[remaining] - diversity * max_overlap
        pick = int(np.argmax(scores))
        i = remaining.pop(pick)
        if chosen and max_overlap[pick] >= redundancy:
            twin = chosen[int(np.argmax(vectors[chosen] @ vectors[i]))]
            if pool[twin].sentence.article_id != pool[i].sentence.article_id:
                same_text = _normal(pool[twin].text) == _normal(pool[i].text) and pool[twin].text == pool[i].text
                (verbatim if same_text else corroborating).setdefault(twin, []).append(i)
            continue
        cost = _words(pool[i].text)
        if cost > budget:
            continue
        budget -= cost
        chosen.append(i)

    # Read as a paragraph: stories in rank order, each story's sentences in their article order.
    first_rank: dict[str, int] = {}
    for c in pool:
        first_rank.setdefault(c.sentence.article_id, c.rank)
    chosen.sort(key=lambda i: (first_rank[pool[i].sentence.article_id], pool[i].sentence.ordinal))
    numbers: dict[str, int] = {}

    def cite(i: int) -> Citation:
        s = pool[i].sentence
        n = numbers.setdefault(s.article_id, len(numbers) + 1)
        return Citation(n=n, article_id=s.article_id, start=s.start, end=s.end)

    sentences = [
        BriefSentence(
            text=pool[i].text,
            citations=[cite(i)] + [cite(j) for j in verbatim.get(i, [])],
            corroborations=[cite(j) for j in corroborating.get(i, [])],
        )
        for i in chosen
    ]
    metas = index.articles(list(numbers))
    sources = [
        Source(n=n, article_id=a, title=metas[a].title, outlet=metas[a].outlet, published=metas[a].published,
               url=metas[a].url)
        for a, n in numbers.items()
    ]
    return Brief(sentences=sentences, sources=sources)


def _candidates(index: Index, retrieval: Retrieval, top: int, max_sources: int | None) -> list[Candidate]:
    """Usable sentences of the top chunks, once each, with the rank of the chunk they came from."""
    ranked = retrieval.chunks[:top]
    stored = index.chunks([r.chunk_id for r in ranked])
    allowed: list[str] = []
    rank_of: dict[int, int] = {}
    for rank, r in enumerate(ranked):
        chunk = stored.get(r.chunk_id)
        if chunk is None:
            continue
        if chunk.article_id not in allowed:
            if max_sources is not None and len(allowed) >= max_sources:
                continue
            allowed.append(chunk.article_id)
        for sid in range(chunk.first_sentence, chunk.last_sentence + 1):
            rank_of.setdefault(sid, rank)
    sentences = index.sentences_between([(s, s) for s in rank_of])
    texts = index.texts(allowed)
    pool = []
    for s in sentences:
        text = texts[s.article_id][s.start : s.end]
        if not _usable(text) or _ANTECEDENT_OPENERS.match(text):
            continue
        pool.append(Candidate(s, text, 0.0, rank_of[s.id]))
    return pool
