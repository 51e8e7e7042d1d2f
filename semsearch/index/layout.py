"""The columnar read model of a version: memory-mapped arrays of where each article's chunks and sentences lie,
and what the brief needs of each sentence (semsearch.sentences), written once at build time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..sentence_traits import trait_arrays

# The query path's read model: which chunks and sentences each article has and where they lie, as
# memory-mapped arrays. SQLite holds the same facts for everything else; building hundreds of row objects
# per query from it dominated a query at a million chunks, where array lookups take microseconds.
LAYOUT_FILES = {
    "article_ids": "layout.article_ids.npy",  # bytes, by article row (the order articles were added)
    "article_stories": "layout.article_stories.npy",  # int32 story number per article row
    "article_chunks": "layout.article_chunks.npy",  # int64, rows + 1: article r has chunks [b[r], b[r + 1])
    "article_sentences": "layout.article_sentences.npy",  # int64, rows + 1: the same for sentence ids
    "chunk_articles": "layout.chunk_articles.npy",  # int32 article row per chunk id
    "chunk_spans": "layout.chunk_spans.npy",  # int32 (start, end) in the article text per chunk id
    "chunk_sentences": "layout.chunk_sentences.npy",  # int64 (first, last) sentence id per chunk id
    "sentence_spans": "layout.sentence_spans.npy",  # int32 (start, end) in the article text per sentence id
    # What the brief needs of each sentence (semsearch.sentences), found once at build time:
    "sentence_flags": "layout.sentence_flags.npy",  # uint8 per sentence id
    "sentence_words": "layout.sentence_words.npy",  # uint16 word count per sentence id
    "sentence_terms": "layout.sentence_terms.npy",  # uint32 word ids, sentence after sentence
    "sentence_term_bounds": "layout.sentence_term_bounds.npy",  # int64, sentences + 1
    "sentence_figures": "layout.sentence_figures.npy",  # uint32 figure hashes, sentence after sentence
    "sentence_figure_bounds": "layout.sentence_figure_bounds.npy",  # int64, sentences + 1
}
_BOUNDS = ("article_chunks", "article_sentences", "sentence_term_bounds", "sentence_figure_bounds")


class LayoutWriter:
    """Collects the layout arrays while articles are added, in slices, and writes them at the end."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {name: [] for name in LAYOUT_FILES}
        self.story_numbers: dict[str, int] = {}

    def add(
        self,
        article_ids: Sequence[str],
        story_ids: Sequence[str],
        chunk_counts: Sequence[int],
        sentence_counts: Sequence[int],
        chunk_spans: Sequence[tuple[int, int]],
        chunk_sentences: Sequence[tuple[int, int]],
        sentence_spans: Sequence[tuple[int, int]],
        sentence_texts: Sequence[str],
        first_row: int,
    ) -> None:
        """One slice of articles, in the order they were added."""
        parts = self.parts
        facts = trait_arrays(sentence_texts)
        for name, array in (
            ("sentence_flags", facts.flags),
            ("sentence_words", facts.words),
            ("sentence_terms", facts.terms),
            ("sentence_term_bounds", facts.term_counts),
            ("sentence_figures", facts.figures),
            ("sentence_figure_bounds", facts.figure_counts),
        ):
            parts[name].append(array)
        parts["article_ids"].append(np.asarray([a.encode() for a in article_ids], dtype=np.bytes_))
        parts["article_stories"].append(
            np.asarray([self.story_numbers.setdefault(s, len(self.story_numbers)) for s in story_ids], dtype=np.int32)
        )
        parts["article_chunks"].append(np.asarray(chunk_counts, dtype=np.int64))
        parts["article_sentences"].append(np.asarray(sentence_counts, dtype=np.int64))
        rows = np.arange(first_row, first_row + len(article_ids), dtype=np.int32)
        parts["chunk_articles"].append(np.repeat(rows, np.asarray(chunk_counts, dtype=np.int64)))
        parts["chunk_spans"].append(np.asarray(chunk_spans, dtype=np.int32).reshape(-1, 2))
        parts["chunk_sentences"].append(np.asarray(chunk_sentences, dtype=np.int64).reshape(-1, 2))
        parts["sentence_spans"].append(np.asarray(sentence_spans, dtype=np.int32).reshape(-1, 2))

    def write(self, folder: Path) -> list[str]:
        """Write every array as .npy; returns the file names."""
        for name, file in LAYOUT_FILES.items():
            parts = self.parts[name]
            if name in _BOUNDS:  # counts become bounds
                counts = np.concatenate(parts) if parts else np.zeros(0, np.int64)
                array = np.zeros(len(counts) + 1, np.int64)
                np.cumsum(counts, out=array[1:])
            elif parts:
                array = np.concatenate(parts)
            else:
                array = np.zeros(
                    (0, 2) if name.endswith(("spans", "chunk_sentences")) else 0,
                    np.bytes_ if name == "article_ids" else np.int32,
                )
            np.save(folder / file, array)
        return list(LAYOUT_FILES.values())


class Layout:
    """The layout arrays of one version, memory-mapped (see LAYOUT_FILES)."""

    def __init__(self, folder: Path) -> None:
        for name, file in LAYOUT_FILES.items():
            # A plain view of the map: np.memmap's own indexing adds Python work to every lookup.
            setattr(self, name, np.load(folder / file, mmap_mode="r").view(np.ndarray))
        self.article_ids: np.ndarray
        self.article_stories: np.ndarray
        self.article_chunks: np.ndarray
        self.article_sentences: np.ndarray
        self.chunk_articles: np.ndarray
        self.chunk_spans: np.ndarray
        self.chunk_sentences: np.ndarray
        self.sentence_spans: np.ndarray
        self.sentence_flags: np.ndarray
        self.sentence_words: np.ndarray
        self.sentence_terms: np.ndarray
        self.sentence_term_bounds: np.ndarray
        self.sentence_figures: np.ndarray
        self.sentence_figure_bounds: np.ndarray

    def ids(self, rows: np.ndarray) -> list[str]:
        """Article ids of article rows."""
        return [b.decode() for b in self.article_ids[rows].tolist()]

    def sentence_articles(self, sentence_ids: np.ndarray) -> np.ndarray:
        """The article row of each sentence id."""
        return np.searchsorted(self.article_sentences, sentence_ids, side="right") - 1


def ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every integer of the half-open ranges [lo, hi), concatenated, with the range number of each."""
    counts = np.maximum(hi - lo, 0)
    which = np.repeat(np.arange(len(lo)), counts)
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) if len(lo) else lo
    return starts + np.arange(len(which)), which
