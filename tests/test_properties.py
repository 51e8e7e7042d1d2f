"""Property tests: cleaning, sentence offsets and chunking hold for any text hypothesis invents."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from semsearch.chunking import make_chunks
from semsearch.ingest.cleaning import Cleaner, normalize_text
from semsearch.sentences import split_sentences

words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=12)
lines = st.lists(words, min_size=0, max_size=15).map(" ".join)
documents = st.lists(
    st.one_of(
        lines,
        st.sampled_from(
            [
                "",
                "Share",
                "Related Articles",
                "2 hours ago",
                "- Outlet",
                "(AP/X pic)",
                'He said: "Yes." Dr. No left.',
                "BEIJING, May 15 (Wire): Talks went on.",
            ]
        ),
    ),
    min_size=0,
    max_size=30,
).map("\n".join)
CLEANER = Cleaner()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_sentence_spans_are_valid_ordered_and_trimmed(text):
    spans = split_sentences(text)
    previous_end = 0
    for span in spans:
        assert previous_end <= span.start < span.end <= len(text)
        piece = text[span.start : span.end]
        assert piece == piece.strip() and "\n" not in piece
        previous_end = span.end


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, lines)
def test_cleaning_never_crashes_and_keeps_only_input_text(body, title):
    flat_input = " ".join(normalize_text(body).split())
    for piece in CLEANER.clean(title, body, "doc.txt"):
        for paragraph in piece.text.split("\n\n"):
            assert paragraph == paragraph.strip() and paragraph
            # cleaning removes, moves and re-spaces text; it never writes any of its own
            assert " ".join(paragraph.split()) in flat_input


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=40), st.integers(32, 256))
def test_chunks_cover_every_sentence_in_order_within_budget(token_counts, budget):
    from semsearch.records import Span

    spans = [Span(i * 10, i * 10 + 5) for i in range(len(token_counts))]
    chunks = make_chunks("a", spans, token_counts, budget)
    covered = [i for c in chunks for i in range(c.first_sentence, c.last_sentence + 1)]
    assert set(covered) == set(range(len(spans)))
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.start == spans[c.first_sentence].start and c.end == spans[c.last_sentence].end
        if c.last_sentence > c.first_sentence:
            assert sum(token_counts[c.first_sentence : c.last_sentence + 1]) <= budget
    assert all(a.first_sentence < b.first_sentence for a, b in itertools.pairwise(chunks))
