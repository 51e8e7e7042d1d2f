"""The writer's check: whether an answer sentence is supported by the brief sentences it cites."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..index import Index
from ..records import Brief, Citation
from ..text import FUNCTION_WORDS, NUMBER_WORDS, STEMS, WORD, content_words, words
from .lexicon import (
    APPROXIMATE,
    DENIALS,
    DIRECTED,
    EQUIVALENTS,
    HEDGES,
    LIGHT,
    NEGATING,
    NEGATIONS,
    OPPOSITES,
    REPORTING,
    SOFTENERS,
    common_words,
    derived,
    joined_phrases,
    past_form,
)
from .llm import parse_citations
from .periods import unstated_periods
from .quantities import unstated_quantities, without_fractions
from .related import Synonyms
from .result import AnswerSentence
from .scope import free_stems, inner_hedges, parities, scopes, sentences

_WORD = re.compile(r"[A-Za-z][\w'’-]*")
# Words formed like adverbs and participles ("nearly", "according", "retired") are neither names nor roles.
_COMMON_FORM = re.compile(r"(?:ly|ing|ed)$")
_UN = re.compile(r"\bun([a-z]{4,})\b")  # lower-case only: "United" is a name

# "Up" and "down" say which way a figure moved only where one follows or the clause ends ("up by 40%",
# "shares were down."); elsewhere they end a phrasal verb ("lined up", "set up") and oppose nothing.
_PARTICLE = re.compile(r"\b(?:up|down)\b(?!\s+(?:by|from|to|on|in|sharply|slightly|\d)|\s*(?:[.,;:]|$))", re.I)
_REPORTED = frozenset(STEMS.stem(w) for w in REPORTING)
# A sentence restates what a hedge governs when it shares this many of those words: one alone is often a
# topic word ("cranes") the sentence takes from another clause.
_RESTATED = 2
# A role is the one or two lower-case words right before a name ("finance director Daria Voss").
_ROLE_WORDS = 2
_TOKEN = re.compile(r"[\w'’-]+|[^\w\s]")
_ROLE = re.compile(r"^[a-z][a-z'’-]*$")
_ARTICLES = ("a", "an", "the")
# A share's unit is checked with its figure ("25 percent" for "a quarter"), not as a claim word.
_UNITS = frozenset(("percent", "per", "cent"))


def _initials(text: str) -> set[str]:
    """Acronyms a text spells out: initials of runs of capitalised words ("Scottish National Party" → "snp")."""
    runs = re.findall(r"(?:[A-Z][\w'’-]*(?:\s+(?:and|of|the|for)\s+|\s+|$))+", text)
    letters = ["".join(w[0] for w in run.split() if w[0].isupper()).lower() for run in runs]
    return {run[i:j] for run in letters for i in range(len(run)) for j in range(i + 2, len(run) + 1)}


def _unpossessed(word: str) -> str:
    """A word in lower case without its possessive: "Europe's" → "europe", "Dems'" → "dems"."""
    return re.sub(r"['’]s?$", "", word).lower()


def _names(text: str) -> list[str]:
    """Capitalised words after the first, lower-cased, without a possessive; the first too when it is no
    common word."""
    found = _WORD.findall(text)
    names = [_unpossessed(w) for w in found[1:] if w[0].isupper() and w != "I"]
    first = _unpossessed(found[0]) if found else ""
    # A sentence's first word is capitalised whatever it is, so it counts as a name only when its stem is
    # not a word the evidence uses (checked by the caller) and it is no English word ("People", "Poor"):
    # function, number, attribution and rounding words, words of a common form and words of the model's
    # vocabulary. A name that is also a word ("Smith") is then left to coverage, as a claim word, unless
    # a reporting verb follows it: a bare singular word before "said" is a speaker's name ("Smith said").
    # A word opening a run of capitalised words is a title or a name's first word ("Prime Minister").
    run = len(found) > 1 and (found[1][0].isupper() or _speaker(found[0], found[1]))
    common = (
        first in FUNCTION_WORDS | NUMBER_WORDS.keys() | REPORTING | APPROXIMATE
        or _COMMON_FORM.search(first)
        or (_english(first) and not run)
    )
    return names if not first or common else [first, *names]


def _speaker(first: str, second: str) -> bool:
    """Whether a sentence's first two words are a speaker's name and a reporting verb ("Smith said")."""
    return second.lower() in REPORTING and not first.lower().endswith("s")


def _english(word: str) -> bool:
    """Whether a word, or its singular, is a word of the model's vocabulary (which lists few plurals)."""
    return word in common_words() or (word.endswith("s") and word[:-1] in common_words())


def unsupported_details(sentence: str, evidence: str) -> list[str]:
    """Numbers, shares, scale, date and ordinal words and names in the sentence that the evidence does not state."""
    missing = unstated_quantities(sentence, evidence) + unstated_periods(sentence, evidence)
    evidence_words = set(words(evidence))
    vocabulary = {_unpossessed(w) for w in _WORD.findall(evidence)}
    stems, acronyms = {STEMS.stem(w) for w in evidence_words}, _initials(evidence)
    missing += [
        w
        for w in dict.fromkeys(_names(sentence))
        if w not in vocabulary
        and STEMS.stem(w) not in stems
        and w not in acronyms
        and not _compound(w, evidence_words)
        and not _demonym(w, vocabulary)
    ]
    return missing


def unstated_roles(sentence: str, evidence: str) -> list[str]:
    """Role words the sentence gives a name ("bus driver Ernst Dolan") where the evidence gives it another."""
    source = set(words(evidence))
    stems = {STEMS.stem(w) for w in source}
    given = {name for name, role, titled in _roles(evidence) if role or titled}
    return list(
        dict.fromkeys(
            w
            for name, role, _ in _roles(sentence)
            if name in given
            for w in role
            if not all(STEMS.stem(part) in stems or _compound(part, source) for part in words(w))
        )
    )


def _roles(text: str) -> list[tuple[str, list[str], bool]]:
    """Each name of a text (its last word), the role words right before it, and whether it has a title.

    A name is a run of capitalised words; words of the run before its last two are a title ("Fisheries
    Minister Kaja Lindqvist")."""
    tokens = _TOKEN.findall(text)
    # A sentence's first word is capitalised whatever it is: a word that opens no run of capitalised words
    # is read in lower case, so it may be a role ("Deputy librarian Odile Barrington").
    if len(tokens) > 1 and not tokens[1][0].isupper() and _english(tokens[0].lower()):
        tokens[0] = tokens[0].lower()
    capital = [t[0].isupper() for t in tokens]
    found = []
    # A person's name has a first name and a surname: a single capitalised word is a place or a firm, whose
    # description ("drinks company", "food giant") is no role.
    for start, end in _runs(capital):
        if end - start > 1:
            role = _role_before(tokens[:start]) + _role_after(tokens[end:])
            found.append((tokens[end - 1], role, end - start > 2))
    return found


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """(start, end) of each run of true flags."""
    runs, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _role_before(tokens: list[str]) -> list[str]:
    """The role words that end a run of tokens: up to two lower-case words, stopping at anything else."""
    role: list[str] = []
    # An apposition's comma may stand between the role and the name ("chief digital officer, Stefan Grell").
    if tokens and tokens[-1] == ",":
        tokens = tokens[:-1]
    for token in reversed(tokens[-_ROLE_WORDS:]):
        word = re.sub(r"['’]s?$", "", token)
        if not _role_word(word, role[0] if role else None):
            break
        role.insert(0, word)
    return role


def _role_after(tokens: list[str]) -> list[str]:
    """The role words of an apposition after a name ("Nadia Ferrante, head of emergency medicine"): up to
    two lower-case words after its comma and an article, stopping at anything else."""
    if not tokens or tokens[0] != ",":
        return []
    rest = tokens[2:] if len(tokens) > 1 and tokens[1].lower() in _ARTICLES else tokens[1:]
    role: list[str] = []
    for n, token in enumerate(rest[:_ROLE_WORDS]):
        if not _role_word(token, rest[n + 1] if n + 1 < len(rest) else None):
            break
        role.append(token)
    # Words followed by a name are a verb and its object, not an apposition ("Jugnot, ..., overtook Depardieu").
    after = rest[len(role)] if len(role) < len(rest) else ""
    return [] if after[:1].isupper() else role


def _role_word(word: str, head: str | None) -> bool:
    """Whether a lower-case word can be part of a role; one formed like a participle only before a role
    noun ("managing director", "retired teacher"), as alone it is a verb ("speaking", "adding")."""
    if not _ROLE.match(word) or word in FUNCTION_WORDS or word in REPORTING or past_form(word):
        return False
    if not _COMMON_FORM.search(word):
        return True
    return head is not None and _ROLE.match(head) is not None and _role_word(head, None)


def _stems(text: str) -> set[str]:
    """The stems of a text's words."""
    return set(STEMS.terms(text))


def _claim_words(text: str) -> list[str]:
    """The words a sentence's support is measured on: content words that are not figures, rounding,
    attribution or light verbs."""
    unique = dict.fromkeys(words(text))
    return [w for w in unique if w not in FUNCTION_WORDS | REPORTING | APPROXIMATE | LIGHT | _UNITS and not w.isdigit()]


def _reversal(sentence: str, evidence: str) -> str | None:
    """How the sentence turns the evidence's meaning round (a negation added, lost or moved, an antonym), if it does."""
    (sentence, mine), (evidence, theirs) = _unfolded(sentence, evidence), _unfolded(evidence, sentence)
    flipped = [w for w in sorted(mine | theirs) if not set(_parities_of(sentence, w)) <= set(_parities_of(evidence, w))]
    if flipped:
        return f"says the opposite of the evidence about {flipped[0]!r} (un-)"
    said, source = _stems(_PARTICLE.sub(" ", sentence)), _stems(_PARTICLE.sub(" ", evidence))
    for one, other in OPPOSITES:
        for a, b in ((one, other), (other, one)):
            if said & a and not source & a and source & b:
                return f"says {sorted(said & a)[0]!r} where the evidence says {sorted(source & b)[0]!r}"
    if said & NEGATIONS and not source & NEGATING:
        return "negates what the evidence states"
    free = free_stems(evidence, NEGATIONS)
    # "still enough" restates "no longer sufficient": a negated word counts as restated by its equivalent.
    lost = [s.cue for s in scopes(evidence, NEGATIONS) if _restated(s.stems, _with_equivalents(said), free)]
    if lost and not said & NEGATIONS:
        return f"drops the evidence's negation ({lost[0]})"
    return _moved_negation(sentence, evidence) or _swapped(sentence, evidence)


def _unfolded(text: str, other: str) -> tuple[str, set[str]]:
    """The text with each word negated by the prefix un- written as "not" and the word where either text
    uses that word ("unaffected" → "not affected"), so the negation rules see it; and the stems unfolded."""
    stems, unfolded = {STEMS.stem(w) for w in content_words(f"{text} {other}")}, set()

    def unfold(match: re.Match[str]) -> str:
        stem = STEMS.stem(match[1].lower())
        if stem not in stems:
            return match[0]
        unfolded.add(stem)
        return f"not {match[1]}"

    return _UN.sub(unfold, text), unfolded


def _parities_of(text: str, stem: str) -> list[int]:
    """For each sentence of a text stating a stem, whether it negates it (1) or not (0)."""
    return [parities(part, NEGATING).get(stem, 0) for part in sentences(text) if stem in _stems(part)]


def _moved_negation(sentence: str, evidence: str) -> str | None:
    """Whether the sentence negates words the evidence states but does not negate so ("cash but not cards"
    for "cards but not cash").

    A negation of the sentence must govern some word that a negation of the evidence governs: one alike
    where the evidence has it ("no one" for "nobody", "exempt" for "exempt"), else any ("not have to pay
    the charge" for "exempt from the charge", "did not improve" for "unless ... improved")."""
    stated, negated = _stems(evidence), scopes(evidence, NEGATING)
    for scope in scopes(sentence, NEGATING):
        said = scope.stems & stated
        alike = [s.stems for s in negated if _alike(s.stem, scope.stem)] or [s.stems for s in negated]
        if said and not any(said & other for other in alike):
            return f"negates {', '.join(sorted(said))}, which the evidence does not ({scope.cue})"
    return None


def _with_equivalents(stems: set[str]) -> set[str]:
    """The stems with every stem of the paraphrase groups they belong to."""
    return stems.union(*(group for group in EQUIVALENTS if stems & group))


def _alike(cue: str, other: str) -> bool:
    """Whether two negation stems negate alike: the same word, or both negations by grammar."""
    return cue == other or (cue in DENIALS and other in DENIALS)


def _restated(scope: frozenset[str], said: set[str], free: set[str]) -> bool:
    """Whether a sentence restates the words a cue governs, counting neither attribution nor words the
    evidence also states without one."""
    restated = scope & said - _REPORTED
    return len(restated) >= _RESTATED and bool(restated - free)


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
    at = next((i for i, t in enumerate(tokens) if STEMS.stem(t.lower()) in DIRECTED), None)
    if at is None:
        return None
    names = [t.lower() if t[0].isupper() and t.lower() not in FUNCTION_WORDS else "" for t in tokens]
    return set(names[:at]) - {""}, set(names[at + 1 :]) - {""}


def _hedge(sentence: str, evidence: str) -> str | None:
    """A hedge of the evidence ("could", "expected", "estimates") the sentence states as fact, if any.

    Each outermost hedge of the evidence whose words the sentence restates must be matched by a hedge of
    the sentence that governs some of the same words."""
    said = _stems(joined_phrases(sentence))
    free = free_stems(evidence, HEDGES)
    # A hedge word the evidence itself hedges ("will apply" for "plans to apply") is part of the claim: the
    # outer hedge stands for both, and the sentence's use of the inner word is no hedge of its own.
    inner = inner_hedges(evidence)
    own = [s.stems for s in scopes(sentence, HEDGES | SOFTENERS) if s.stem not in inner]
    lost = [
        s.cue
        for s in scopes(evidence, HEDGES)
        if s.stem not in inner and _restated(s.stems, said, free) and not any(mine & s.stems for mine in own)
    ]
    if lost:
        return f"states as fact what the evidence hedges ({', '.join(dict.fromkeys(lost))})"
    return None


@dataclass(frozen=True, slots=True)
class Support:
    """How far evidence supports one answer sentence: the share of its claim words it states, and why not."""

    coverage: float
    problem: str | None


@dataclass(frozen=True, slots=True)
class SupportCheck:
    """Judges whether evidence text supports an answer sentence, by rules and claim-word coverage.

    The rules come first and coverage never outweighs them: a number, share, name or date the evidence
    lacks or gives to something else, another role for a named person, a reversed meaning (negation added,
    lost or moved, an antonym, winner and loser swapped) and a hedge stated as fact. Then the sentence's
    claim words must be in the evidence, by stem, as a compound of two evidence words ("dockworkers"
    from "dock workers") or, given synonyms, as a word of like meaning, in at least the share min_support.
    """

    min_support: float
    synonyms: Synonyms | None = None

    def judge(self, sentence: str, evidence: str) -> Support:
        """Whether the evidence supports the sentence, with the share of its claim words it covers."""
        said, source = _unfolded(sentence, evidence)[0], _unfolded(evidence, sentence)[0]
        claims = _claim_words(without_fractions(said))
        missing = _uncovered(claims, source)
        if self.synonyms and missing:
            restated = self.synonyms.restated(missing, sentence, evidence)
            missing = [w for w in missing if w not in restated]
        coverage = 1.0 - len(missing) / len(claims) if claims else 1.0
        details = unsupported_details(sentence, evidence)
        if details:
            return Support(coverage, f"not in the cited evidence: {', '.join(details)}")
        roles = unstated_roles(sentence, evidence)
        if roles:
            return Support(coverage, f"gives a role the cited evidence does not: {', '.join(roles)}")
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
        verdicts = [self.judge(sentence, f"{evidence}\n{c}") for c in candidates]
        passing = [(v.coverage, i) for i, v in enumerate(verdicts) if v.problem is None]
        return max(passing)[1] if passing else None


def _uncovered(claims: Sequence[str], evidence: str) -> list[str]:
    """The claim words the evidence does not state: by stem, by the verb a noun is formed from ("decision",
    "decided"), as a compound of two of its words, as a name's demonym ("Europe's", "European") or as a
    general equivalent ("firm", "company")."""
    source = set(words(evidence))
    stems = set().union(*map(derived, source))
    return [
        w
        for w in claims
        if not derived(w) & stems
        and not _compound(w, source)
        and not _demonym(w, source)
        and not any(derived(w) & group and stems & group for group in EQUIVALENTS)
    ]


# Endings that make a people's or a place's adjective of its name ("European", "Italian", "Chinese").
_DEMONYM = ("an", "ean", "ian", "n", "ese", "ish", "i")


def _demonym(word: str, vocabulary: set[str]) -> bool:
    """Whether the word and a word of the vocabulary are a name and its adjective, either way round."""
    return any(_adjective_of(word, other) or _adjective_of(other, word) for other in vocabulary)


def _adjective_of(adjective: str, name: str) -> bool:
    """Whether the adjective is formed from the name ("european" of "europe", "italian" of "italy")."""
    if len(name) < 4 or not adjective.startswith(name[:-1]):
        return False
    return any(adjective in (name + end, name[:-1] + end) for end in _DEMONYM)


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
        """The cited evidence sentences as one text, a line each (a headline has no full stop to end it)."""
        return "\n".join(self.brief.sentences[n - 1].text for n in numbers)

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
