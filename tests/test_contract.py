"""The one search request: its cleaning, bounds, form reading and the Filters it gives the engine."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from semsearch.contract import MAX_OFFSET, AnswerRequest, SearchRequest, problems
from semsearch.records import Filters


def test_blank_days_are_not_given_and_names_are_trimmed_as_every_front_door_sends_them():
    # Inner runs of blanks are one space, as in a name the archive stores.
    # GET ?since=&outlet=%20Harbor%20Ledger%20 and POST {"since": "", "outlet": [" Harbor Ledger "]} alike
    request = SearchRequest(q="strike", since=" ", new_since="", outlet=["  Harbor  Ledger ", ""], place=[" Lowgate"])
    assert (request.since, request.new_since) == (None, None)
    assert request.filters() == Filters(outlets=("Harbor Ledger",), places=("Lowgate",))
    from_cli = SearchRequest(q="strike", outlet=(" Harbor Ledger ", " "))  # click gives repeated options as tuples
    assert from_cli.filters().outlets == ("Harbor Ledger",)
    assert not SearchRequest.model_validate({"q": "strike", "outlet": None, "place": None}).filters().active


def test_the_question_is_cleaned_and_must_hold_words():
    assert SearchRequest(q="  why\x00 did\x07 it flood?\n").q == "why did it flood?"
    assert SearchRequest(q="dockworkers\nstrike\r\nnow\tat  Port Alder").q == "dockworkers strike now at Port Alder"
    for bad in ("", " \t\n", "\x00\x1b"):
        with pytest.raises(ValidationError) as caught:
            SearchRequest(q=bad)
        assert problems(caught.value) == [("q", "the question is empty: type a few words")]
    for symbols in ("🔥🔥", "?!", "🚢 ⚓ …"):
        with pytest.raises(ValidationError) as caught:
            SearchRequest(q=symbols)
        assert problems(caught.value) == [("q", "the question has no words, only symbols: type a few words")]
    assert SearchRequest(q="地震 🔥").q == "地震 🔥" and SearchRequest(q="2025?").q == "2025?"  # any script's words


def test_every_bound_is_enforced_and_named():
    for field, value in (
        ("k", 0),
        ("k", 101),
        ("words", 19),
        ("sources", 51),
        ("recency", 1.5),
        ("offset", MAX_OFFSET + 1),
        ("mode", "fuzzy"),
        ("since", "2025-02-30"),
    ):
        with pytest.raises(ValidationError) as caught:
            SearchRequest(q="port", **{field: value})
        assert [name for name, _ in problems(caught.value)] == [field]
    assert SearchRequest(q="port", k=100, offset=MAX_OFFSET, recency=1.0, words=400, sources=50).k == 100


def test_true_and_false_are_not_numbers():
    for field in ("k", "words", "sources", "recency", "offset"):
        with pytest.raises(ValidationError) as caught:
            SearchRequest.model_validate_json(f'{{"q": "port", "{field}": true}}')
        assert problems(caught.value) == [(field, "a number is wanted here, not true or false")]
    assert SearchRequest.model_validate_json('{"q": "port", "k": 3, "recency": 1, "words": null}').k == 3
    assert SearchRequest.model_validate({"q": "port", "k": "3", "recency": "0.5"}).recency == 0.5  # query strings


def test_filters_are_built_from_the_request_alone():
    asked = SearchRequest(q="port", outlet=["Harbor Ledger", ""], place=["Calder"], since=date(2025, 1, 2))
    assert asked.filters() == Filters(outlets=("Harbor Ledger",), places=("Calder",), since="2025-01-02")
    assert not SearchRequest(q="port").filters().active


def test_a_form_leaves_blank_boxes_to_the_defaults_and_repeats_list_fields():
    sent = SearchRequest.form_values(
        [
            ("q", "flood"),
            ("words", ""),
            ("outlet", "A"),
            ("outlet", ""),
            ("outlet", "B"),
            ("answer", "true"),
            ("k", "3"),
        ]
    )
    assert sent == {"q": "flood", "outlet": ["A", "B"], "k": "3"}
    asked = SearchRequest.model_validate(sent)
    assert (asked.k, asked.words, asked.outlet) == (3, None, ["A", "B"])


def test_limits_for_the_form_come_from_the_fields():
    limits = SearchRequest.limits()
    assert limits["q"] == {"maxlength": 1000} and limits["words"] == {"min": 20, "max": 400}
    assert limits["offset"] == {"min": 0, "max": MAX_OFFSET} and "mode" not in limits


def test_an_answer_always_makes_the_brief():
    assert AnswerRequest(q="port").summary is True
    with pytest.raises(ValidationError):
        AnswerRequest(q="port", summary=False)


def test_a_day_not_written_yyyy_mm_dd_and_a_recency_that_is_no_number_say_so():
    for written in ("20250301", 20250301, "1 March 2025"):
        with pytest.raises(ValidationError) as caught:
            SearchRequest(q="strike", since=written)
        assert problems(caught.value) == [("since", "a day is written YYYY-MM-DD, such as 2025-03-04")]
    for odd in ("nan", float("inf")):
        with pytest.raises(ValidationError) as caught:
            SearchRequest(q="strike", recency=odd)
        assert problems(caught.value) == [("recency", "Input should be a finite number")]
    with pytest.raises(ValidationError) as caught:
        SearchRequest(q="x" * 1001, since="2025-02-30")
    assert problems(caught.value) == [
        ("q", "too long: at most 1,000 characters"),
        ("since", "not a day of the calendar: a day is written YYYY-MM-DD, such as 2025-03-04"),
    ]
    assert SearchRequest(q="strike", since=" 2025-03-01 ").since.isoformat() == "2025-03-01"
