"""The writer's check: whether an answer sentence is supported by the brief sentences it cites."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..index import Index
from ..records import Brief, Citation
from ..text import FUNCTION_WORDS, WORD, Stems, words
from .llm import parse_citations
from .result import AnswerSentence

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[A-Za-z][\w'’-]*")
_UNITS = (
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split()
)
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_ONES = ["one", *_UNITS[:8]]
# Spelled-out numbers from two up ("one" is too often not a quantity), as their values.
_NUMBER_WORDS = {w: float(i + 2) for i, w in enumerate(_UNITS)} | {
    f"{t}-{o}" if o else t: float(10 * (i + 2) + j) for i, t in enumerate(_TENS) for j, o in enumerate(["", *_ONES])
}
_SCALES = {"hundred", "thousand", "million", "billion", "trillion", "percent", "per cent", "dozen"}
# Words that date or rank a claim without a digit or a capital. "First" and "second" are left out: they
# are rarely a position ("for the first time", "a second yellow card" paraphrased).
_DATED = frozenset(
    "yesterday today tonight tomorrow third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split()
)
# Attribution carries no claim of its own: who said it is checked by the names rule.
_REPORTING = frozenset("said says say told added stated states according".split())

_STEMS = Stems()


def _stem_set(text: str) -> frozenset[str]:
    """The stems of the words of a list written out as text."""
    return frozenset(_STEMS.terms(text))


# Pairs of opposite meanings. A sentence that uses one side where its evidence uses only the other
# reverses it ("rejected" for "accepted", "rose" for "slowed").
_OPPOSITES = [
    (
        _stem_set("rise rose risen increase climb jump grew grow higher gain boost soar up"),
        _stem_set("fall fell fallen drop decline decrease slow ease cut lower slump reduce shrank down"),
    ),
    (
        _stem_set("accept approve approval back welcome support agree pass favour"),
        _stem_set("reject oppose criticise block refuse against"),
    ),
    (_stem_set("help benefit"), _stem_set("hurt harm damage")),
    (_stem_set("open"), _stem_set("close shut")),
]
# Words of winning over someone: the winner is named before them, the loser after.
_DIRECTED = _stem_set("beat defeat defeating victory overtook")
# Negation, including words that negate by meaning ("exempt" from paying, paintings "missing").
_NEGATIONS = _stem_set(
    "not no never none nobody nothing neither nor without cannot t exempt missing refuse reject "
    "deny denied fail unable lack absent"
)
# What makes a claim uncertain, planned or attributed as an estimate; a sentence that restates words one
# of these governs must keep a hedge of its own.
_HEDGES = _stem_set(
    "could may might likely unlikely possibly expected estimate warn plan pledge promise forecast "
    "if unless risk threaten propose fear predict hope"
)
# Hedges an answer may use that do not mark uncertainty in the evidence ("would" is also reported speech).
_SOFTENERS = _stem_set("would should due")
_REACH = 3  # content words after a negation or hedge that it governs
# A sentence restates what a hedge governs when it shares this many of those words: one alone is often a
# topic word ("cranes") the sentence takes from another clause.
_RESTATED = 2


def _values(text: str) -> list[tuple[str, float]]:
    """Numbers a text states in digits, with their values ("2,300" is 2300)."""
    found = [(m, m.replace(",", "")) for m in _NUMBER.findall(text)]
    return [(m, float(v)) for m, v in found if v.count(".") <= 1]


def _numbers(text: str) -> set[float]:
    """Numeric values a text states, in digits or (from two up) in words."""
    lowered = text.lower()
    return {v for _, v in _values(text)} | {v for w, v in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", lowered)}


def _initials(text: str) -> set[str]:
    """Acronyms a text spells out: initials of runs of capitalised words ("Scottish National Party" → "snp")."""
    runs = re.findall(r"(?:[A-Z][\w'’-]*(?:\s+(?:and|of|the|for)\s+|\s+|$))+", text)
    letters = ["".join(w[0] for w in run.split() if w[0].isupper()).lower() for run in runs]
    return {run[i:j] for run in letters for i in range(len(run)) for j in range(i + 2, len(run) + 1)}


def _names(text: str) -> list[str]:
    """Capitalised words after the first, lower-cased, without 's; the first too when it is no common word."""
    found = _WORD.findall(text)
    names = [re.sub(r"['’]s$", "", w).lower() for w in found[1:] if w[0].isupper() and w != "I"]
    first = re.sub(r"['’]s$", "", found[0]).lower() if found else ""
    # A sentence's first word is capitalised whatever it is, so it counts as a name only when its stem is
    # not a word the evidence uses (checked by the caller); function and number words are never names.
    return names if not first or first in FUNCTION_WORDS or first in _NUMBER_WORDS else [first, *names]


def unsupported_details(sentence: str, evidence: str) -> list[str]:
    """Numbers, scale, date and ordinal words and names in the sentence that the evidence text does not contain."""
    known = _numbers(evidence)
    missing = [m for m, v in _values(sentence) if v not in known]
    lowered, evidence_words = sentence.lower(), set(words(evidence))
    missing += [w for w, v in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", lowered) and v not in known]
    missing += [w for w in _SCALES if re.search(rf"\b{w}\b", lowered) and not re.search(rf"\b{w}\b", evidence.lower())]
    missing += [w for w in _DATED if w in words(sentence) and w not in evidence_words]
    vocabulary = {re.sub(r"['’]s$", "", w).lower() for w in _WORD.findall(evidence)}
    stems, acronyms = {_STEMS.stem(w) for w in evidence_words}, _initials(evidence)
    missing += [
        w
        for w in dict.fromkeys(_names(sentence))
        if w not in vocabulary
        and _STEMS.stem(w) not in stems
        and w not in acronyms
        and not _compound(w, evidence_words)
    ]
    return missing


def _stems(text: str) -> set[str]:
    """The stems of a text's words."""
    return set(_STEMS.terms(text))


def _claim_words(text: str) -> list[str]:
    """The words a sentence's support is measured on: content words that are not figures or attribution."""
    unique = dict.fromkeys(words(text))
    return [w for w in unique if w not in FUNCTION_WORDS and w not in _REPORTING and not w.isdigit()]


def _reversal(sentence: str, evidence: str) -> str | None:
    """How the sentence turns the evidence's meaning round (a negation added or lost, an antonym), if it does."""
    said, source = _stems(sentence), _stems(evidence)
    for one, other in _OPPOSITES:
        for a, b in ((one, other), (other, one)):
            if said & a and not source & a and source & b:
                return f"says {sorted(said & a)[0]!r} where the evidence says {sorted(source & b)[0]!r}"
    if said & _NEGATIONS and not source & _NEGATIONS:
        return "negates what the evidence states"
    lost = [cue for cue, scope in _governed(evidence, _NEGATIONS) if scope & said]
    if lost and not said & _NEGATIONS:
        return f"drops the evidence's negation ({lost[0]})"
    return _swapped(sentence, evidence)


def _swapped(sentence: str, evidence: str) -> str | None:
    """Whether the sentence swaps who beat whom: names on the other side of "beat", "defeated", "victory over"."""
    said, source = _sides(sentence), _sides(evidence)
    if said is None or source is None:
        return None
    before, after = source
    if said[0] & (after - before) and said[1] & (before - after):
        return "swaps who beat whom"
    return None


def _sides(text: str) -> tuple[set[str], set[str]] | None:
    """The capitalised words before and after a text's first word of winning, or None without one."""
    tokens = WORD.findall(text)
    at = next((i for i, t in enumerate(tokens) if _STEMS.stem(t.lower()) in _DIRECTED), None)
    if at is None:
        return None
    names = [t.lower() if t[0].isupper() and t.lower() not in FUNCTION_WORDS else "" for t in tokens]
    return set(names[:at]) - {""}, set(names[at + 1 :]) - {""}


def _hedge(sentence: str, evidence: str) -> str | None:
    """A hedge of the evidence ("could", "expected", "estimates") the sentence states as fact, if any."""
    said = _stems(sentence)
    hedged = [cue for cue, scope in _governed(evidence, _HEDGES) if len(scope & said) >= _RESTATED]
    if len(hedged) > len(said & (_HEDGES | _SOFTENERS)):
        return f"states as fact what the evidence hedges ({', '.join(hedged)})"
    return None


def _governed(text: str, cues: frozenset[str]) -> list[tuple[str, set[str]]]:
    """Each cue word of a text with the stems of the content words it governs (the next few in its sentence)."""
    return [found for part in re.split(r"[.;!?](?:\s|$)", text) for found in _governed_in(part, cues)]


def _governed_in(text: str, cues: frozenset[str]) -> list[tuple[str, set[str]]]:
    """_governed within one sentence."""
    tokens = WORD.findall(text)
    terms = [_STEMS.stem(t.lower()) for t in tokens]
    content = [
        term if t.lower() not in FUNCTION_WORDS and term not in cues else ""
        for t, term in zip(tokens, terms, strict=True)
    ]
    # A capitalised cue is a name or a date ("May 24"), not a modal: only lower-case ones count.
    return [
        (token, _next_content(content, i))
        for i, (token, term) in enumerate(zip(tokens, terms, strict=True))
        if term in cues and token[0].islower()
    ]


def _next_content(content: list[str], i: int) -> set[str]:
    """The first few content stems after position i."""
    return set([c for c in content[i + 1 :] if c][:_REACH])


@dataclass(frozen=True, slots=True)
class Support:
    """How far evidence supports one answer sentence: the share of its claim words it states, and why not."""

    coverage: float
    problem: str | None


@dataclass(frozen=True, slots=True)
class SupportCheck:
    """Judges whether evidence text supports an answer sentence, by rules and claim-word coverage.

    The rules come first and coverage never outweighs them: a number, name or date the evidence lacks, a
    reversed meaning (negation added or lost, an antonym, winner and loser swapped) and a hedge stated
    as fact. Then the sentence's claim words must be in the evidence, by stem or as a compound of two
    evidence words ("dockworkers" from "dock workers"), in at least the share min_support.
    """

    min_support: float

    def judge(self, sentence: str, evidence: str) -> Support:
        """Whether the evidence supports the sentence, with the share of its claim words it covers."""
        claims = _claim_words(sentence)
        missing = _uncovered(claims, evidence)
        coverage = 1.0 - len(missing) / len(claims) if claims else 1.0
        details = unsupported_details(sentence, evidence)
        if details:
            return Support(coverage, f"not in the cited evidence: {', '.join(details)}")
        problem = _reversal(sentence, evidence) or _hedge(sentence, evidence)
        if problem:
            return Support(coverage, problem)
        if coverage < self.min_support:
            return Support(
                coverage,
                f"the cited evidence does not say {', '.join(missing)} "
                f"(support {coverage:.2f} < {self.min_support:.2f})",
            )
        return Support(coverage, None)

    def elsewhere(self, sentence: str, evidence: str, candidates: Sequence[str]) -> int | None:
        """Which candidate sentence (of the cited article), added to the evidence, would support the sentence."""
        verdicts = [self.judge(sentence, f"{evidence} {c}") for c in candidates]
        passing = [(v.coverage, i) for i, v in enumerate(verdicts) if v.problem is None]
        return max(passing)[1] if passing else None


def _uncovered(claims: Sequence[str], evidence: str) -> list[str]:
    """The claim words the evidence does not state, by stem or as a compound of two of its words."""
    source = set(words(evidence))
    stems = {_STEMS.stem(w) for w in source}
    return [w for w in claims if _STEMS.stem(w) not in stems and not _compound(w, source)]


def _compound(word: str, vocabulary: set[str]) -> bool:
    """Whether two words of the vocabulary make the word ("dockworkers" from "dock" and "workers")."""
    return any(word[:i] in vocabulary and word[i:] in vocabulary for i in range(3, len(word) - 2))


class Checker:
    """Checks answer sentences against the numbered evidence sentences of one brief."""

    def __init__(self, brief: Brief, index: Index, support: SupportCheck) -> None:
        self.brief = brief
        self.index = index
        self.support = support

    def check(self, sentences: Sequence[str]) -> list[AnswerSentence]:
        """Verdicts for raw answer sentences (markers included)."""
        return [self._verdict(*parse_citations(s)) for s in sentences]

    def problem(self, text: str, numbers: Sequence[int]) -> tuple[str | None, float]:
        """Why the cited evidence does not support the sentence (None when it does), and its support."""
        if not numbers:
            return "cites no evidence", 0.0
        given = len(self.brief.sentences)
        stray = [n for n in numbers if not 1 <= n <= given]
        if stray:
            return f"cites evidence {stray} that was not given (1-{given})", 0.0
        verdict = self.support.judge(text, self._evidence(numbers))
        return verdict.problem, verdict.coverage

    def elsewhere(self, text: str, numbers: Sequence[int]) -> Citation | None:
        """A sentence of a cited article that, with the cited evidence, supports the sentence, if one does."""
        cited = [c for n in numbers for c in self.brief.sentences[n - 1].citations]
        spans = {(c.article_id, c.start, c.end) for c in cited}
        articles = {c.article_id: c.n for c in cited}
        candidates = [
            Citation(n, a, s.start, s.end)
            for a, n in articles.items()
            for s in self.index.article_sentences(a)
            if (a, s.start, s.end) not in spans
        ]
        texts = self.index.texts(list(articles))
        found = self.support.elsewhere(
            text, self._evidence(numbers), [texts[c.article_id][c.start : c.end] for c in candidates]
        )
        return None if found is None else candidates[found]

    def _evidence(self, numbers: Sequence[int]) -> str:
        """The cited evidence sentences as one text."""
        return " ".join(self.brief.sentences[n - 1].text for n in numbers)

    def _verdict(self, text: str, numbers: list[int]) -> AnswerSentence:
        """One checked sentence with the source spans of the evidence it cites."""
        reason, support = self.problem(text, numbers)
        given = self.brief.sentences
        valid = bool(numbers) and all(1 <= n <= len(given) for n in numbers)
        citations = list(dict.fromkeys(c for n in numbers if 1 <= n <= len(given) for c in given[n - 1].citations))
        elsewhere = self.elsewhere(text, numbers) if reason and valid else None
        return AnswerSentence(
            text=text,
            evidence=numbers,
            citations=citations,
            checked=reason is None,
            support=support,
            reason=reason,
            elsewhere=elsewhere,
        )
