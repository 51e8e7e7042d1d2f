"""The shared text primitives: words, stopwords and dates mean the same in every stage."""

from __future__ import annotations

from datetime import date

import pytest

from semsearch.text import (
    calendar_day,
    checked_day,
    content_words,
    day_number,
    day_parts,
    question_words,
    words,
)


def test_words_split_at_underscores_and_lower_case():
    assert words("COVID_19 cases in Zürich, 2025") == ["covid", "19", "cases", "in", "zürich", "2025"]


def test_question_words_keep_what_function_words_would_drop():
    # "last" and "one" are function words for the brief but mean something in a question.
    assert question_words("What did the mayor say about the last one?") == ["mayor", "last", "one"]
    assert "said" in content_words("The mayor said the last one was late.")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-04", date(2025, 3, 4)),
        ("2025-03-04T10:00:00", date(2025, 3, 4)),
        ("--03-04", None),
        ("2025-02-30", None),
        ("", None),
        (None, None),
        ("2025-3-4", None),
    ],
)
def test_calendar_day(value, expected):
    assert calendar_day(value) == expected
    assert day_number(value) == (int(value[:10].replace("-", "")) if expected else 0)


def test_checked_day_names_the_field():
    assert checked_day("since", "2024-02-29") == "2024-02-29"
    with pytest.raises(ValueError, match="since must be a date"):
        checked_day("since", "2024-2-29")
    with pytest.raises(ValueError, match="until is not a day of the calendar"):
        checked_day("until", "2023-02-29")


def test_day_parts_reads_a_full_day_or_a_yearless_one_and_nothing_else():
    assert day_parts("2025-03-04") == (2025, 3, 4)
    assert day_parts("2025-03-04T10:00:00Z") == (2025, 3, 4)
    assert day_parts("--03-04") == (None, 3, 4)
    assert [day_parts(v) for v in ("2025-13-01", "--13-01", "4 March 2025", "", None)] == [None] * 5
