"""A chosen set of sentences as a brief: ordered by story, date and position, each with its exact citations."""

from __future__ import annotations

from collections.abc import Callable

from ..discrepancies import difference
from ..index import ArticleMeta, Index
from ..records import Brief, BriefSentence, Citation, Source
from .pool import _Pool


def _quoted_texts(index: Index, pool: _Pool, chosen: list[int], twins: dict[int, list[int]]) -> dict[int, str]:
    """The text of each chosen sentence and of its repeats: the only text a brief reads."""
    rows = set(chosen).union(*twins.values())
    texts = index.texts(list({pool.traits[i].sentence.article_id for i in rows}))
    return {i: texts[(s := pool.traits[i].sentence).article_id][s.start : s.end] for i in rows}


def _story(meta: ArticleMeta) -> str:
    """The story (event) an article reports, so the brief tells one story before the next."""
    return meta.story_id or meta.id


def _cite(pool: _Pool, chosen: list[int], twins: dict[int, list[int]], text: dict[int, str]) -> Brief:
    """Order the chosen sentences as a paragraph (story, date, position) and number their sources."""
    metas = pool.metas
    story_weight: dict[str, float] = {}
    for i in chosen:
        key = _story(metas[pool.traits[i].sentence.article_id])
        story_weight[key] = max(story_weight.get(key, -1e9), float(pool.scores[i]))

    def first_reported(i: int) -> tuple:
        s = pool.traits[i].sentence
        meta = metas[s.article_id]
        # Undated articles sort after dated ones; '--MM-DD' sorts before full dates.
        return (meta.published is None, meta.published or "", pool.rank[s.article_id], s.ordinal)

    def reading_order(i: int) -> tuple:
        return (-story_weight[_story(metas[pool.traits[i].sentence.article_id])], *first_reported(i))

    numbers: dict[str, int] = {}

    def cite(i: int) -> Citation:
        s = pool.traits[i].sentence
        return Citation(
            n=numbers.setdefault(s.article_id, len(numbers) + 1), article_id=s.article_id, start=s.start, end=s.end
        )

    sentences = []
    for i in sorted(chosen, key=reading_order):
        same = [j for j in twins.get(i, []) if text[j] == text[i]]
        # One corroboration per other article: its sentence closest to the quoted one. A sentence giving the
        # fact another figure, date or name contradicts the quote, however close its words.
        closest: dict[str, int] = {}
        for j in twins.get(i, []):
            article = pool.traits[j].sentence.article_id
            if (
                text[j] != text[i]
                and article != pool.traits[i].sentence.article_id
                and (article not in closest or pool.similarity[i, j] > pool.similarity[i, closest[article]])
                and difference(text[i], text[j]) is None
            ):
                closest[article] = j
        # Word-for-word copies are cited in the order they were published: the original first, whichever
        # of them the selection happened to pick; other outlets' wordings follow in that order too.
        quoted = sorted([i, *same], key=first_reported)
        other = sorted(closest.values(), key=first_reported)
        sentences.append(
            BriefSentence(text=text[i], citations=[cite(j) for j in quoted], corroborations=[cite(j) for j in other])
        )
    sources = [
        Source(
            n=n,
            article_id=a,
            title=metas[a].title,
            outlet=metas[a].outlet,
            published=metas[a].published,
            url=metas[a].url,
        )
        for a, n in numbers.items()
    ]
    return Brief(sentences=sentences, sources=sources)


def citation_problems(brief: Brief, text_of: Callable[[str], str]) -> list[str]:
    """Every way a brief breaks the citation contract (empty when each citation is a verbatim span)."""
    problems = []
    numbers = {s.n: s.article_id for s in brief.sources}
    for sentence in brief.sentences:
        if not sentence.citations:
            problems.append(f"uncited: {sentence.text[:60]!r}")
        for c in sentence.citations + sentence.corroborations:
            if numbers.get(c.n) != c.article_id:
                problems.append(f"citation [{c.n}] does not match the source list")
        for c in sentence.citations:
            if text_of(c.article_id)[c.start : c.end] != sentence.text:
                problems.append(f"[{c.n}] {c.article_id}:{c.start}-{c.end} is not {sentence.text[:60]!r}")
        for c in sentence.corroborations:
            if not text_of(c.article_id)[c.start : c.end].strip():
                problems.append(f"corroboration [{c.n}] {c.article_id}:{c.start}-{c.end} is empty")
    return problems
