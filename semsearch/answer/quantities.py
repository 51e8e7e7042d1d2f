"""Quantities a sentence states: figures in digits or words, shares (percentages and fractions), and what
each figure counts, so that an answer sentence's figures can be compared with its evidence's."""

from __future__ import annotations

import re

from ..text import FUNCTION_WORDS, NUMBER_WORDS, STEMS, WORD

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A rank before a superlative ("second-busiest"): the superlative alone claims first place.
_RANKED = re.compile(r"\b(second|third|fourth|fifth)[\s-]+(\w+est)\b", re.IGNORECASE)
_SCALES = ("hundred", "thousand", "million", "billion", "trillion", "dozen")
# Words that date or rank a claim without a digit or a capital. "First" and "second" are left out: they
# are rarely a position ("for the first time", "a second yellow card" paraphrased).
_DATED = frozenset(
    "yesterday today tonight tomorrow third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split()
)
# A share as a percentage ("18 percent", "20%", "18 per cent"), as a fraction ("a quarter", "two-thirds",
# "half") or as a count in a whole ("nine in ten", "one in 13"). A fraction needs its count, so "the first
# quarter" (a period) and "the third day" are no share; a whole is at most a hundred, so "20 in 2003" is none.
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|per\s?cent\b)", re.IGNORECASE)
_PARTS = {"half": 2, "third": 3, "quarter": 4, "fifth": 5, "tenth": 10}
_COUNTS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4}
_FRACTION = re.compile(
    rf"\b(?:(?P<count>{'|'.join(_COUNTS)})[\s-]+(?P<part>{'|'.join(_PARTS)})s?|(?P<half>half))\b", re.IGNORECASE
)
_IN_WHOLE = re.compile(r"\b(?P<count>\w+) (?:in|out of) (?P<whole>\w+)\b", re.IGNORECASE)
_WHOLE = 100
# How far a fraction may be from a percentage that it restates: rounding ("66%" for "two-thirds"), or
# more when the sentence says it is rough ("nearly nine in ten" for 87 percent). Percentages are exact.
_FRACTION_SLACK = 1.0
_ROUGH_SLACK = 5.0
_ROUGH = re.compile(r"\b(?:nearly|almost|about|around|roughly|approximately|some|over|under)\s+$", re.IGNORECASE)


# What a figure counts is in the content words just after it in its clause: "three of the piers" is not
# "one of three road crossings".
_COUNTED = 2
# A figure whole ("2,300", "thirty-eight"), else a word.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:-[^\W\d_]+)*")
_CLAUSE = re.compile(r"[,;:.!?()]\s|\s[-–—]\s|\bbut\b|\n")
# Four digits without a comma from 1800 to 2099 are a year, which dates what follows ("the 1998 record")
# rather than counting it.
_YEAR = re.compile(r"1[89]\d\d|20\d\d")


# A name (a run of capitalised words) and a list of two or more joined by commas and a final "and" or "or".
_NAME = re.compile(r"[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*")
_NAME_LIST = re.compile(rf"{_NAME.pattern}(?:, {_NAME.pattern})*,? (?:and|or) {_NAME.pattern}")


def _fraction_share(match: re.Match[str]) -> float:
    """The percentage a fraction phrase names ("two-thirds" is 66.7)."""
    if match["half"]:
        return 50.0
    return 100.0 * _COUNTS[match["count"].lower()] / _PARTS[match["part"].lower()]


def _in_whole(text: str) -> list[tuple[re.Match[str], float]]:
    """Counts in a whole ("nine in ten") with the percentage each names."""
    found = []
    for m in _IN_WHOLE.finditer(text):
        count, whole = _token_value(m["count"], one=True), _token_value(m["whole"], one=True)
        if count is not None and whole is not None and 0 < count < whole <= _WHOLE:
            found.append((m, 100.0 * count / whole))
    return found


def shares(text: str) -> list[tuple[str, float, float]]:
    """The shares a text states, as (words, percentage, how far off a percentage restating it may be)."""
    found = [(m, float(m[1]), 0.0) for m in _PERCENT.finditer(text)]
    found += [(m, _fraction_share(m), _FRACTION_SLACK) for m in _FRACTION.finditer(text)]
    found += [(m, v, _FRACTION_SLACK) for m, v in _in_whole(text)]
    return [
        (m.group(), v, _ROUGH_SLACK if slack and _ROUGH.search(text[: m.start()]) else slack) for m, v, slack in found
    ]


def without_fractions(text: str) -> str:
    """The text with its fractions and counts in a whole blanked, so "a third" is neither an ordinal nor the
    number one and "nine in ten" no pair of figures."""
    for m, _ in reversed(_in_whole(text)):
        text = f"{text[: m.start()]} {text[m.end() :]}"
    return _FRACTION.sub(" ", text)


def _values(text: str) -> list[tuple[str, float]]:
    """Numbers a text states in digits, with their values ("2,300" is 2300)."""
    found = [(m, m.replace(",", "")) for m in _NUMBER.findall(text)]
    return [(m, float(v)) for m, v in found if v.count(".") <= 1]


def _spelled(text: str) -> list[tuple[str, float]]:
    """Numbers a text states in words (from two up), with their values; fraction phrases are shares, not these."""
    lowered = without_fractions(text).lower()
    return [(w, v) for w, v in NUMBER_WORDS.items() if re.search(rf"\b{w}\b", lowered)]


def numbers(text: str) -> set[float]:
    """Numeric values a text states, in digits or (from two up) in words."""
    return {v for _, v in _values(text) + _spelled(text)}


def _whole_word(word: str, text: str) -> bool:
    """Whether a word occurs in a text as a whole word, in any case."""
    return re.search(rf"\b{word}\b", text, re.IGNORECASE) is not None


def unstated_quantities(sentence: str, evidence: str) -> list[str]:
    """Figures, shares, scale words and dating or ranking words of the sentence that the evidence does not state."""
    known, stated = numbers(evidence) | _listed(evidence), [(v, slack) for _, v, slack in shares(evidence)]
    # A percentage is checked as a share, so "25 percent" may restate "a quarter".
    missing = [m for m, v in _values(_PERCENT.sub(" ", sentence)) if v not in known]
    missing += [w for w, v in _spelled(sentence) if v not in known]
    missing += [m for m, v, slack in shares(sentence) if not _near(v, slack, stated)]
    missing += [w for w in _SCALES if _whole_word(w, sentence) and not _whole_word(w, evidence)]
    evidence_words = set(WORD.findall(evidence.lower()))
    missing += [w for w in _DATED if _whole_word(w, without_fractions(sentence)) and w not in evidence_words]
    return list(dict.fromkeys(missing + moved_figures(sentence, evidence) + _unranked(sentence, evidence)))


def _listed(text: str) -> set[float]:
    """How many names each list of names in a text joins: "Lowgate and Mill Quarter" are two, so "two
    neighbourhoods" restates them."""
    return {float(len(_NAME.findall(m[0]))) for m in _NAME_LIST.finditer(text)}


def _unranked(sentence: str, evidence: str) -> list[str]:
    """Superlatives the evidence ranks ("second-busiest") that the sentence states without their rank."""
    ranked = {m[2].lower() for m in _RANKED.finditer(evidence)} - {m[2].lower() for m in _RANKED.finditer(sentence)}
    return [w for w in sorted(ranked) if _whole_word(w, sentence)]


def _near(value: float, slack: float, stated: list[tuple[float, float]]) -> bool:
    """Whether a share is one of the stated shares, within the slack of the rougher of the two."""
    return any(abs(value - v) <= max(slack, other) for v, other in stated)


def moved_figures(sentence: str, evidence: str) -> list[str]:
    """Figures of the sentence that count what the evidence counts with another figure ("three piers" where
    the evidence has "three roads" and "two piers")."""
    places = _places(evidence)
    # A figure after the same word in both ("tram line 5", "route 14") is one label, whatever follows it.
    labels = {(v, before) for _, v, _, before in places if before}
    moved = []
    for figure, value, after, before in _places(sentence):
        there = [a for _, v, a, _ in places if v == value]  # a figure the evidence lacks is reported as such
        other = set().union(*(a for _, v, a, _ in places if v != value))
        if there and after & other and not after & set().union(*there) and (value, before) not in labels:
            moved.append(figure)
    return moved


def _places(text: str) -> list[tuple[str, float, set[str], str]]:
    """Each figure of a text that counts something, with the content stems it counts (the next few in its
    clause) and the content stem right before it ("" when there is none)."""
    found = []
    for clause in _CLAUSE.split(text):
        # Shares are compared as shares; a figure after a capitalised word is part of a name ("Terminal 4").
        tokens = _TOKEN.findall(_PERCENT.sub(" ", without_fractions(clause)))
        content = [STEMS.stem(t.lower()) if _is_content(t) else "" for t in tokens]
        for i, token in enumerate(tokens):
            value = _token_value(token)
            if value is not None and not (i and _is_name(tokens[i - 1])) and not _YEAR.fullmatch(token):
                after = [c for c in content[i + 1 :] if c][:_COUNTED]
                found.append((token, value, set(after), content[i - 1] if i else ""))
    return found


def _is_name(token: str) -> bool:
    """Whether a token is a capitalised word other than a function word ("Terminal", not "About")."""
    return token[0].isupper() and token.lower() not in FUNCTION_WORDS


def _is_content(token: str) -> bool:
    """Whether a token is a content word: not a function word and not a figure."""
    lowered = token.lower()
    return lowered not in FUNCTION_WORDS and not lowered[0].isdigit() and lowered not in NUMBER_WORDS


def _token_value(token: str, one: bool = False) -> float | None:
    """The value of one word token that is a figure (digits or a number word, with one "one" too), else None."""
    lowered = token.lower()
    if lowered[0].isdigit():
        values = _values(lowered)
        return values[0][1] if values else None
    return 1.0 if one and lowered == "one" else NUMBER_WORDS.get(lowered)
