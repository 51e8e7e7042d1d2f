"""Which words of a text a negation or a hedge governs (its scope), so that an answer sentence can be
checked for keeping, losing or moving them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text import FUNCTION_WORDS, STEMS, WORD
from .lexicon import CONDITIONS, HEDGES, NEGATIONS, joined_phrases

_REACH = 3  # content words after a negation or hedge that it governs
_CLAUSE = re.compile(r"[,;:]\s|\s[-–—]\s")


@dataclass(frozen=True, slots=True)
class Scope:
    """One cue word as written, its stem and the content stems it governs."""

    cue: str
    stem: str
    stems: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Sentence:
    """One sentence's content stems by token position ("" for a function word) and its cues' scopes."""

    content: list[str]
    scopes: list[tuple[str, list[int]]]

    def governed(self) -> set[int]:
        """Positions some cue governs."""
        return {p for _, positions in self.scopes for p in positions}


def sentences(text: str) -> list[str]:
    """The sentences of a text, split at their final stops and at line ends (one evidence sentence a line)."""
    return re.split(r"[.;!?](?:\s|$)|\n", joined_phrases(text))


def scopes(text: str, cues: frozenset[str]) -> list[Scope]:
    """Each cue word of a text with the content stems it governs: the next few in its sentence, and for a
    condition ("if", "unless") also the clause it qualifies."""
    return [scope for part in sentences(text) for scope in scopes_in(part, cues)]


def scopes_in(sentence: str, cues: frozenset[str]) -> list[Scope]:
    """scopes within one sentence."""
    parsed = _parse(sentence, cues)
    return [Scope(cue, STEMS.stem(cue.lower()), frozenset(parsed.content[p] for p in at)) for cue, at in parsed.scopes]


def free_stems(text: str, cues: frozenset[str]) -> set[str]:
    """Stems the text states at least once where no cue governs them."""
    free: set[str] = set()
    for part in sentences(text):
        parsed = _parse(part, cues)
        governed = parsed.governed()
        free |= {c for p, c in enumerate(parsed.content) if c and p not in governed}
    return free


def parities(sentence: str, cues: frozenset[str]) -> dict[str, int]:
    """For each stem the cues of one sentence govern, whether an odd (1) or even (0) number of them do."""
    counts: dict[str, int] = {}
    for scope in scopes_in(sentence, cues):
        for stem in scope.stems:
            counts[stem] = counts.get(stem, 0) ^ 1
    return counts


def inner_hedges(text: str) -> set[str]:
    """Hedge stems that a text only uses under another hedge ("apply" in "planned to apply")."""
    inner: set[str] = set()
    outer: set[str] = set()
    for part in sentences(text):
        parsed = _parse(part, HEDGES, qualify=False)
        governed = parsed.governed()
        for p, stem in enumerate(parsed.content):
            if stem in HEDGES:
                (inner if p in governed else outer).add(stem)
    return inner - outer


def _parse(sentence: str, cues: frozenset[str], qualify: bool = True) -> _Sentence:
    """One sentence's content stems and the positions each of its cues governs (with qualify, a condition's
    clause too)."""
    tokens = WORD.findall(sentence)
    terms = [STEMS.stem(t.lower()) for t in tokens]
    content = [term if t.lower() not in FUNCTION_WORDS else "" for t, term in zip(tokens, terms, strict=True)]
    starts = _clause_starts(sentence)
    # A capitalised hedge is a name or a date ("May 24"), not a modal, unless it opens the sentence; a
    # capitalised negation is one wherever it stands ("Comments No comments yet", from a page's heading).
    at = [
        i
        for i, (token, term) in enumerate(zip(tokens, terms, strict=True))
        if term in cues and (token[0].islower() or i == 0 or term in NEGATIONS)
    ]
    # A negation governs up to the next one ("no vehicles were caught and nobody was injured" negates each
    # once); a hedge governs through the next, which it hedges too ("planned to apply").
    ends = [*at[1:], len(tokens)][: len(at)] if cues & NEGATIONS else [len(tokens)] * len(at)
    found = []
    for i, end in zip(at, ends, strict=True):
        after = [p for p in range(i + 1, end) if content[p]][:_REACH]
        before = _clause_before(content, starts, i) if qualify and terms[i] in CONDITIONS else []
        found.append((tokens[i], before + after))
    return _Sentence(content, found)


def _clause_starts(sentence: str) -> list[int]:
    """The token positions where a new clause of the sentence begins."""
    starts, at = [0], 0
    for piece in _CLAUSE.split(sentence)[:-1]:
        at += len(WORD.findall(piece))
        starts.append(at)
    return starts


def _clause_before(content: list[str], starts: list[int], i: int) -> list[int]:
    """Content positions of the clause a condition at position i qualifies: its own clause up to it, or the
    clause before when the condition opens its own."""
    begun = [s for s in starts if s <= i]
    start = begun[-2] if len(begun) > 1 and begun[-1] == i else begun[-1]
    return [p for p in range(start, i) if content[p]]
