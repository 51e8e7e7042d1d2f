"""Chunks: runs of whole sentences of one article, the unit that is embedded and searched."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .records import Chunk, Span
from .sentences import split_sentences


def make_chunks(
    article_id: str, spans: Sequence[Span], token_counts: Sequence[int], max_tokens: int, overlap: int = 1
) -> list[Chunk]:
    """Group consecutive sentences into chunks of at most max_tokens, overlapping by whole sentences."""
    chunks: list[Chunk] = []
    first = 0
    while first < len(spans):
        last, total = first, token_counts[first]
        while last + 1 < len(spans) and total + token_counts[last + 1] <= max_tokens:
            last += 1
            total += token_counts[last]
        chunks.append(Chunk(article_id, len(chunks), spans[first].start, spans[last].end, first, last))
        if last + 1 >= len(spans):
            break
        first = max(first + 1, last + 1 - overlap)
    return chunks


def chunk_article(
    article_id: str, text: str, count_tokens: Callable[[list[str]], list[int]], max_tokens: int
) -> tuple[list[Span], list[Chunk]]:
    """Sentences and chunks of one article's text."""
    spans = split_sentences(text)
    if not spans:
        return [], []
    counts = count_tokens([text[s.start : s.end] for s in spans])
    return spans, make_chunks(article_id, spans, counts, max_tokens)
