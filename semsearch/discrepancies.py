"""Where outlets disagree, and which confirmations are copies.

Two sentences state the same fact when their stored vectors are very close (a stricter cosine than the brief's
redundancy, since a false alarm is worse than a miss). They disagree when, besides, each holds a figure the
other lacks ("2,300 workers" / "2,000 workers"), a weekday or month the other lacks, or a capitalised name the
other lacks while their other words mostly agree. A sentence that only adds a detail (a figure the other does
not mention) is no disagreement. Copies: a sentence whose words are (nearly) another outlet's own, so five
outlets carrying one wire story count as one independent report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from .index import ArticleMeta, Index, SentenceTraits
from .records import Brief, BriefSentence, CopyNote, Discrepancy, Quote
from .text import (
    CALENDAR_WORDS,
    FIGURE,
    FUNCTION_WORDS,
    NUMBER_WORDS,
    WORD,
    calendar_day,
    content_words,
    word_ngrams,
    words,
)

# Chosen on the labelled pairs of docs/quality.md ("Where outlets disagree"): precision first.
SAME_FACT_COSINE = 0.8
# A name discrepancy needs the rest of the two sentences to agree this much (Jaccard of their other words).
NAME_CONTEXT = 0.5
# Word 3-gram Jaccard at which one sentence is a near-duplicate copy of another.
COPY_JACCARD = 0.6
# A time of day says when, not how many: "at 6 a.m." beside "2,300" is no second figure in dispute.
_TIME_OF_DAY = re.compile(r"\b\d{1,2}(?:[:.]\d{2})?\s*(?:[ap]\.\s?m\.?|[ap]m\b)|\b\d{1,2}:\d{2}\b", re.IGNORECASE)
_SPELLED = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)?")


def figures(text: str) -> dict[str, str]:
    """The figures a sentence states, in digits or words, by value ("2,300" and "2300" are one, "twelve" and
    "12" too), as written; times of day are none."""
    text = _TIME_OF_DAY.sub(" ", text)
    found = {f.replace(",", "").rstrip("."): f for f in FIGURE.findall(text)}
    spelled = (m.group() for m in _SPELLED.finditer(text))
    return found | {f"{NUMBER_WORDS[w.lower()]:g}": w for w in spelled if w.lower() in NUMBER_WORDS}


def date_words(text: str) -> set[str]:
    """The weekdays and months a sentence names."""
    return {w for w in words(text) if w in CALENDAR_WORDS}


def names(text: str) -> set[str]:
    """Capitalised words past a sentence's first word, lower-cased: the people, places and bodies it names."""
    found = set()
    for n, match in enumerate(WORD.finditer(text)):
        word = match.group()
        lower = word.lower()
        if n and word[0].isupper() and lower not in FUNCTION_WORDS and lower not in CALENDAR_WORDS:
            found.add(lower)
    return found


class _Statement:
    """What `difference` compares of one sentence, each part found on first use."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def figures(self) -> dict[str, str]:
        return figures(self.text)

    @cached_property
    def dates(self) -> set[str]:
        return date_words(self.text)

    @cached_property
    def names(self) -> set[str]:
        return names(self.text)

    @cached_property
    def content(self) -> set[str]:
        return content_words(self.text)


# A brief's sentence is compared with tens of other outlets' sentences, each of those with every brief sentence
# it is close to, and wire copies repeat one text across outlets: each text is read once, not once per pair.
@lru_cache(maxsize=4096)
def _statement(text: str) -> _Statement:
    return _Statement(text)


def difference(first: str, second: str) -> tuple[str, tuple[str, str]] | None:
    """How two sentences stating one fact disagree: (kind, (what the first says, what the second says)), or None."""
    one, other = _statement(first), _statement(second)
    a, b = one.figures, other.figures
    only_a, only_b = [a[k] for k in a if k not in b], [b[k] for k in b if k not in a]  # in the order stated
    if only_a and only_b:
        return "figure", (", ".join(only_a), ", ".join(only_b))
    da, db = one.dates, other.dates
    if da - db and db - da:
        return "date", (_named(da - db), _named(db - da))
    na, nb = one.names, other.names
    if na - nb and nb - na:
        rest_a, rest_b = one.content - na - nb, other.content - na - nb
        if len(rest_a & rest_b) >= NAME_CONTEXT * max(len(rest_a | rest_b), 1):
            return "name", (", ".join(sorted(na - nb)), ", ".join(sorted(nb - na)))
    return None


def _named(days_and_months: set[str]) -> str:
    """Weekdays and months as English writes them: "March, Tuesday"."""
    return ", ".join(sorted(w.capitalize() for w in days_and_months))


def is_copy(first: str, second: str) -> bool:
    """True when one sentence is the other's words, exactly or nearly (word 3-gram Jaccard), and gives no figure,
    date or name differently: a copy with the figure changed reports something else."""
    if first == second:
        return True
    a, b = word_ngrams(first, 3), word_ngrams(second, 3)
    return len(a & b) >= COPY_JACCARD * max(len(a | b), 1) and difference(first, second) is None


def date_key(meta: ArticleMeta) -> tuple[bool, str, str]:
    """Oldest first; undated articles after every dated one (their place in time is unknown)."""
    day = calendar_day(meta.published)
    return day is None, day.isoformat() if day else "", meta.id


def outlet_key(meta: ArticleMeta) -> str:
    """Who published an article: its outlet, or the article itself when the outlet is unknown."""
    return meta.outlet or f"#{meta.id}"


@dataclass(slots=True)
class Sentences:
    """The usable sentences of some articles with their vectors and texts, rows ordered by article date."""

    traits: list[SentenceTraits]
    vectors: np.ndarray
    metas: dict[str, ArticleMeta]
    texts: dict[str, str]

    @classmethod
    def of(cls, index: Index, metas: Sequence[ArticleMeta], ids: Sequence[int] | None = None) -> Sentences:
        """The statements of the given articles (page furniture left out); only those among ids, when given."""
        by_id = {m.id: m for m in metas}
        dates = {m.id: date_key(m) for m in metas}
        found = index.sentence_traits(index.sentence_ids_of(list(by_id)) if ids is None else ids)
        order = sorted(
            (f for f in found.values() if f.usable),
            key=lambda f: (dates[f.sentence.article_id], f.sentence.ordinal),
        )
        ids = [f.sentence.id for f in order]
        vectors = index.vectors_of(ids) if ids else np.zeros((0, 0), np.float32)
        return cls(order, vectors, by_id, index.texts(list(by_id)))

    def text(self, row: int) -> str:
        s = self.traits[row].sentence
        return self.texts[s.article_id][s.start : s.end]

    def meta(self, row: int) -> ArticleMeta:
        return self.metas[self.traits[row].sentence.article_id]

    def quote(self, row: int) -> Quote:
        s, meta = self.traits[row].sentence, self.meta(row)
        return Quote(
            article_id=s.article_id,
            start=s.start,
            end=s.end,
            text=self.text(row),
            outlet=meta.outlet,
            published=meta.published,
            title=meta.title,
        )

    def discrepancy(self, i: int, j: int) -> Discrepancy | None:
        """Rows i and j side by side (earlier first) when different outlets state one fact differently."""
        if outlet_key(self.meta(i)) == outlet_key(self.meta(j)):
            return None
        if j < i:  # rows are in date order
            i, j = j, i
        found = difference(self.text(i), self.text(j))
        if found is None:
            return None
        kind, differs = found
        return Discrepancy(kind=kind, first=self.quote(i), second=self.quote(j), differs=differs)

    def disagreements(self, rows: Sequence[int], others: np.ndarray | None = None) -> dict[int, list[Discrepancy]]:
        """For each given row, other outlets' sentences (one per article: its closest) stating its fact differently."""
        others = np.arange(len(self.traits)) if others is None else others
        if not len(rows) or not len(others):
            return {}
        sims = self.vectors[list(rows)] @ self.vectors[others].T
        out: dict[int, list[Discrepancy]] = {}
        for row, line in zip(rows, sims, strict=True):
            closest: dict[str, tuple[float, int]] = {}
            for col in np.flatnonzero(line >= SAME_FACT_COSINE).tolist():
                j = int(others[col])
                article = self.traits[j].sentence.article_id
                if article != self.traits[row].sentence.article_id and line[col] > closest.get(article, (-1.0, 0))[0]:
                    closest[article] = (float(line[col]), j)
            said = self.text(row)
            # A copy word for word (a wire story run as is, most of a story's near copies) cannot disagree.
            found = [
                d for _, j in closest.values() if self.text(j) != said and (d := self.discrepancy(row, j)) is not None
            ]
            if found:
                out[row] = found
        return out


def annotate(index: Index, brief: Brief) -> None:
    """Add to each brief sentence its outlet count, how many report independently, which sources copy another,
    and the discrepancies with other outlets' sentences in the brief's sources and their stories."""
    if not brief.sentences:
        return
    metas = {m.id: m for members in index.stories_of([s.article_id for s in brief.sources]).values() for m in members}
    pool = Sentences.of(index, list(metas.values()), _near_brief(index, brief, list(metas)))
    row_of = {(f.sentence.article_id, f.sentence.start): n for n, f in enumerate(pool.traits)}
    rows = {n: row_of.get((s.citations[0].article_id, s.citations[0].start)) for n, s in enumerate(brief.sentences)}
    found = pool.disagreements([r for r in rows.values() if r is not None])
    for n, sentence in enumerate(brief.sentences):
        _confirmations(sentence, pool)
        row = rows[n]
        sentence.discrepancies = found.get(row, []) if row is not None else []


def _near_brief(index: Index, brief: Brief, article_ids: Sequence[str]) -> list[int]:
    """The articles' sentences a brief's discrepancies can involve: its own, and those close enough to one of
    them to state the same fact. A story's other sentences never pair with a brief sentence, and reading the
    traits of every one of them took more time than the rest of the check."""
    ids = np.asarray(index.sentence_ids_of(article_ids), dtype=np.int64)
    cited = {(s.citations[0].article_id, s.citations[0].start) for s in brief.sentences}
    spans = index.sentence_spans(ids)
    quoted = np.fromiter(
        (
            (article, spans[i][0]) in cited
            for i, article in zip(ids.tolist(), index.sentence_articles(ids), strict=True)
        ),
        dtype=bool,
        count=len(ids),
    )
    if not quoted.any():
        return []
    vectors = index.vectors_of(ids)
    # A little below the threshold: these products and the check's own may differ in their last bits.
    close = (vectors[quoted] @ vectors.T >= SAME_FACT_COSINE - 1e-4).any(axis=0)
    return ids[close | quoted].tolist()


def _confirmations(sentence: BriefSentence, pool: Sentences) -> None:
    """Count outlets and independent reports among a sentence's citations and corroborations; note the copies."""
    cited = sentence.citations + sentence.corroborations
    quoted = [
        (c, pool.metas[c.article_id], pool.texts[c.article_id][c.start : c.end])
        for c in cited
        if c.article_id in pool.metas
    ]
    quoted.sort(key=lambda q: date_key(q[1]))
    originals: list[tuple[int, str, str]] = []  # (source number, outlet, text) of each independent report
    copies: list[CopyNote] = []
    for citation, meta, text in quoted:
        source = next((o for o in originals if o[1] != outlet_key(meta) and is_copy(o[2], text)), None)
        if source is None:
            originals.append((citation.n, outlet_key(meta), text))
        elif source[0] != citation.n:
            copies.append(CopyNote(n=citation.n, original=source[0]))
    # Articles of unknown outlet may share one, so only named outlets are counted.
    named = {meta.outlet for _, meta, _ in quoted if meta.outlet}
    sentence.outlets = len(named) or 1
    sentence.independent = len({outlet for _, outlet, _ in originals if outlet in named}) or 1
    sentence.copies = copies
