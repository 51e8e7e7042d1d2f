"""Sentence offsets and chunk boundaries."""

from __future__ import annotations

import itertools
import re
import sys
from pathlib import Path

from semsearch.chunking import make_chunks
from semsearch.records import Span
from semsearch.sentences import WINDOW, _segmenter, split_sentences

TEXT = (
    "Dr. Ana Ruiz of the U.S. Geological Survey said the quake struck at 3:42 a.m. local time. "
    "It measured 5.1!  Residents felt it 80 km away.\n\n"
    "\u201cWe were lucky,\u201d said Mr. Pell. What happens next? Nobody knows.\n"
)


def test_spans_are_exact_trimmed_sentences():
    spans = split_sentences(TEXT)
    texts = [TEXT[s.start : s.end] for s in spans]
    assert texts[0] == "Dr. Ana Ruiz of the U.S. Geological Survey said the quake struck at 3:42 a.m. local time."
    assert "Residents felt it 80 km away." in texts
    assert "What happens next?" in texts
    for s in spans:
        piece = TEXT[s.start : s.end]
        assert piece == piece.strip() and piece
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_a_paragraph_longer_than_a_window_splits_as_it_would_whole():
    # A one-line scrape of many stories: segmented a window at a time, with the same sentences.
    paragraph = " ".join([TEXT.replace("\n", " ").strip()] * (3 * WINDOW // len(TEXT) + 1))
    assert len(paragraph) > 3 * WINDOW
    whole = [p.strip() for p in _segmenter().segment(paragraph) if p.strip()]
    assert [paragraph[s.start : s.end] for s in split_sentences(paragraph)] == whole


def test_a_sentence_longer_than_a_window_is_cut_at_spaces():
    words = " ".join(f"item{i}" for i in range(WINDOW // 2))  # a flattened list: no sentence end at all
    spans = split_sentences(words)
    assert len(spans) > 1 and all(s.end - s.start <= WINDOW for s in spans)
    assert " ".join(words[s.start : s.end] for s in spans) == words


def test_sentences_never_cross_paragraphs():
    text = "First line without a stop\nSecond line. Third one."
    assert [text[s.start : s.end] for s in split_sentences(text)] == [
        "First line without a stop",
        "Second line.",
        "Third one.",
    ]


def test_chunks_respect_budget_and_overlap_one_sentence():
    spans = [Span(i * 10, i * 10 + 9) for i in range(7)]
    chunks = make_chunks("a", spans, [40] * 7, max_tokens=100)
    assert [(c.first_sentence, c.last_sentence) for c in chunks] == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6)]
    chunks = make_chunks("a", spans, [30] * 7, max_tokens=100)
    assert [(c.first_sentence, c.last_sentence) for c in chunks] == [(0, 2), (2, 4), (4, 6)]
    assert chunks[0].start == 0 and chunks[-1].end == spans[-1].end


def test_an_oversized_sentence_is_its_own_chunk():
    spans = [Span(0, 5), Span(6, 10), Span(11, 20)]
    chunks = make_chunks("a", spans, [10, 500, 10], max_tokens=100)
    assert [(c.first_sentence, c.last_sentence) for c in chunks] == [(0, 0), (1, 1), (2, 2)]


def test_pysbd_splits_the_same_with_its_patterns_compiled_once(monkeypatch):
    sample = Path(__file__).parent.parent / "index" / "sample"
    texts = [TEXT] + [p.read_text(encoding="utf-8") for p in sorted(sample.rglob("*.txt"))]
    assert len(texts) > 5
    _segmenter()
    stand_ins = [m for name, m in sys.modules.items() if name.startswith("pysbd") and getattr(m, "re", re) is not re]
    assert stand_ins, "the splitter no longer gives pysbd its compiling-once patterns"
    compiled_once = [split_sentences(text) for text in texts]
    for module in stand_ins:
        monkeypatch.setattr(module, "re", re)
    assert [split_sentences(text) for text in texts] == compiled_once
