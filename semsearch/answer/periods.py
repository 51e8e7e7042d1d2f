"""When a sentence says something happened: the stretches of time it names ("last month", "the second
quarter", "on Tuesday evening", "in early 2019"), so that an answer sentence cannot date a claim otherwise
than its evidence does. A wrong "next year" for "this year" changes a word or two of a long sentence, which
claim-word coverage alone lets through."""

from __future__ import annotations

import re

from ..text import MONTHS, NUMBER_WORDS, WEEKDAYS

# "Fall" is left out: it is a verb far more often than a season. Half and quarter name a period only after
# a word placing them ("the first half"); alone they are shares ("half the staff"), checked as shares.
_PERIODS = (
    "minute hour day night morning afternoon evening overnight midday noon midnight dawn weekend week fortnight "
    "month year decade century spring summer autumn winter season"
).split()
_PLACED_ONLY = ("half", "quarter")
# Words placing a period, grouped by what they say: "the previous week" restates "last week", "the following
# day" does not restate "the same day".
_PLACING = {
    "past": "last previous past preceding prior",
    "next": "next coming following subsequent",
    "this": "this current",
    "same": "same",
    "early": "early",
    "mid": "mid middle",
    "late": "late",
    "first": "first opening",
    "second": "second",
    "third": "third",
    "fourth": "fourth",
    "final": "final",
}
_PLACE_OF = {word: place for place, placing in _PLACING.items() for word in placing.split()}
_EDGE_OF = {"start": "early", "beginning": "early", "middle": "mid", "end": "late"}
# Longest first, so "twenty-one" is not read as "twenty".
_COUNT = rf"(?:\d+|{'|'.join(sorted(NUMBER_WORDS, key=len, reverse=True))}|an?|few|several|couple\s+of)"
# A placing word, then perhaps a count ("the past two years"), then the period; or a placing word or phrase
# before a year or a month ("early 2019", "mid-1990s", "late March", "the end of 2005"). A period after a
# hyphen is part of a figure's compound ("a 40-year-old", "a five-year plan"), whose figure the number rules
# check.
_PERIOD = re.compile(
    rf"\b(?:(?P<place>{'|'.join(_PLACE_OF)})[\s-]+(?:{_COUNT}\s+)?|(?<!-))"
    rf"(?P<period>(?:{'|'.join(_PERIODS + list(_PLACED_ONLY))})(?:s|es)?|centuries)\b(?![\s-]+old\b)"
    rf"|\b(?:(?P<edge>early|mid|late)[\s-]+|the\s+(?P<part>start|beginning|middle|end)\s+of\s+(?:the\s+)?)"
    rf"(?P<when>(?:1[89]|20)\d\ds?|{'|'.join(MONTHS)})\b",
    re.IGNORECASE,
)

# Other words by which evidence names a period ("a daily charge" says what "8 crowns a day" says, and "the
# last ten years" what "the past decade" says), also read rewritten to the period's own words.
_RESTATED = [
    (re.compile(pattern, re.IGNORECASE), period)
    for pattern, period in (
        (r"\b(?:ten|10)\s+years\b", "decade"),
        (r"\b(?:a|one)\s+hundred\s+years\b", "century"),
        (r"\b(?:two|2)\s+weeks\b", "fortnight"),
        (r"\b(?:twelve|12)\s+months\b", "year"),
        (r"\btomorrow\b", "next day"),
        (r"\byesterday\b", "previous day"),
        (r"\btoday\b", "this day"),
        (r"\btonight\b", "this night"),
        (r"\bdaily\b", "day"),
        (r"\bnightly\b", "night"),
        (r"\bhourly\b", "hour"),
        (r"\bweekly\b", "week"),
        (r"\bmonthly\b", "month"),
        (r"\b(?:yearly|annual|annually)\b", "year"),
    )
]
# A year: four digits from 1800 to 2099 that count nothing ("in 2019", not "1850 jobs").
_A_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b(?!\s+[a-z])")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")


def _singular(word: str) -> str:
    """A period word without its plural ending ("centuries" → "century", "weeks" → "week")."""
    if word == "centuries":
        return "century"
    return word[:-1] if word.endswith("s") and word[:-1] in _PERIODS + list(_PLACED_ONLY) else word


def periods(text: str) -> list[tuple[str, str | None, str]]:
    """The periods a text names, each as (period, what places it or None, the words naming it)."""
    found = []
    for m in _PERIOD.finditer(text):
        if m["when"]:
            edge = m["edge"].lower() if m["edge"] else _EDGE_OF[m["part"].lower()]
            found.append((m["when"].lower().rstrip("s"), edge, m.group()))
            continue
        period = _singular(m["period"].lower())
        place = _PLACE_OF[m["place"].lower()] if m["place"] else None
        if period not in _PLACED_ONLY or place:
            found.append((period, place, m.group()))
    return found


def unstated_periods(sentence: str, evidence: str) -> list[str]:
    """The periods of the sentence that the evidence does not name, or places otherwise ("next year" where
    the evidence says "this year"). A period the sentence leaves unplaced needs only be named ("in the
    summer" restates "last summer")."""
    restated = evidence
    for pattern, period in _RESTATED:
        restated = pattern.sub(period, restated)
    stated = periods(evidence) + periods(restated)
    named = {period for period, _, _ in stated} | _dated(evidence)
    placed = {(period, place) for period, place, _ in stated}
    return [
        words
        for period, place, words in periods(sentence)
        if period not in named or (place is not None and (period, place) not in placed)
    ]


def _dated(text: str) -> set[str]:
    """The periods a text's dates name without placing them: a year names a year, a month a month, a weekday a
    day. A month names no season: the evidence's April may date another fact than the sentence's spring."""
    named = {"year"} if _A_YEAR.search(text) else set()
    names = {w.lower() for w in _CAPITALISED.findall(text)}  # "may" and "march" in lower case are verbs
    named |= {"month"} if names.intersection(MONTHS) else set()
    return named | ({"day"} if names.intersection(WEEKDAYS) else set())
