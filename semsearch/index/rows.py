"""The rows a version's reader hands out, and how SQL rows and filters map to them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..records import Article, Chunk, Filters, Span

# A full YYYY-MM-DD date: undated articles and day-without-year dates cannot be placed in a range.
FULL_DATE = "published GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'"
META_COLUMNS = "id, title, outlet, published, url, place, source_path, extracted_from, duplicate_paths, story_id"


@dataclass(frozen=True, slots=True)
class ArticleMeta:
    """Article fields without the text, for result lists."""

    id: str
    title: str
    outlet: str | None
    published: str | None
    url: str | None
    place: str | None
    source_path: str
    extracted_from: str | None
    duplicate_paths: list[str]
    story_id: str


@dataclass(slots=True)
class ArticleLayout:
    """An indexed article's sentence spans, chunks and their vectors."""

    spans: list[Span]
    chunks: list[Chunk]
    chunk_vectors: list[np.ndarray]
    sentence_vectors: list[np.ndarray]


# The rows below are named tuples: a question builds hundreds of them, and a frozen dataclass's __init__
# (one object.__setattr__ per field) took three times as long.


class StoredChunk(NamedTuple):
    """A chunk row: its FAISS id, article and sentence range."""

    id: int
    article_id: str
    start: int
    end: int
    first_sentence: int
    last_sentence: int


class StoredSentence(NamedTuple):
    """A sentence row: its vector row, article and offsets."""

    id: int
    article_id: str
    ordinal: int
    start: int
    end: int


class SentenceTraits(NamedTuple):
    """A stored sentence with what the brief needs of it, as found at build time (semsearch.sentences)."""

    sentence: StoredSentence
    words: int
    usable: bool
    leans: bool
    pronoun: str
    terms: np.ndarray  # word ids, distinct
    figures: tuple[int, ...]


def filter_sql(filters: Filters) -> tuple[str, list[str]]:
    """The filters as a condition on `articles a`, with its parameters."""
    parts: list[str] = []
    params: list[str] = []
    for column, values in (("outlet", filters.outlets), ("place", filters.places)):
        if values:
            parts.append(f"a.{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    if filters.since or filters.until:
        parts.append(f"a.{FULL_DATE}")
    if filters.since:
        parts.append("substr(a.published, 1, 10) >= ?")
        params.append(filters.since)
    if filters.until:
        parts.append("substr(a.published, 1, 10) <= ?")
        params.append(filters.until)
    return " AND ".join(parts) or "1", params


def meta_of(row: Sequence) -> ArticleMeta:
    """An ArticleMeta from a row of _META_COLUMNS."""
    return ArticleMeta(
        id=row[0],
        title=row[1],
        outlet=row[2],
        published=row[3],
        url=row[4],
        place=row[5],
        source_path=row[6],
        extracted_from=row[7],
        duplicate_paths=json.loads(row[8]),
        story_id=row[9],
    )


def article_of(row: Sequence) -> Article:
    """An Article from a row of id, title, text, source_path, outlet, published, url, place, extracted_from,
    duplicate_paths."""
    return Article(
        id=row[0],
        title=row[1],
        text=row[2],
        source_path=row[3],
        outlet=row[4],
        published=row[5],
        url=row[6],
        place=row[7],
        extracted_from=row[8],
        duplicate_paths=json.loads(row[9]),
    )
