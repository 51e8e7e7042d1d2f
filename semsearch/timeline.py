"""A story over time: its articles by date, its developments (each fact quoted from whoever reported it first,
with who carried it later), where its outlets disagree, and related stories beyond the story window.

Stories are grouped at build time within a window of days (semsearch.stories), which keeps a strike and its end
two weeks later apart: widening the window would also merge the unrelated repeats news is full of (monthly
inflation figures, a weekly match report). So a follow-up is reached from the story as a looser "related"
link instead: the stories whose title-and-lead vectors are close to this one's, whatever their dates.
"""

from __future__ import annotations

import numpy as np

from .brief import FIGURE_TWIN_COSINE
from .discrepancies import Sentences, date_key, difference, is_copy, outlet_key
from .index import ArticleMeta, Index
from .records import Development, Discrepancy, RelatedStory, StoryArticle, StoryTimeline
from .stories import StoryRules, minhash, near_duplicates

# Lead cosine at which another story is shown as related: looser than same-event grouping and with no
# window, so a follow-up days or weeks later is found; checked on the sample's strike and its end.
RELATED_SIMILARITY = 0.6
RELATED_SHOWN = 5
RELATED_DEPTH = 50  # lead chunks searched for related stories


def story_timeline(index: Index, story_id: str, redundancy: float, rules: StoryRules) -> StoryTimeline | None:
    """The timeline of one story, or None when no story has that id; `rules` tell a copy from its original."""
    metas = sorted(index.story_articles(story_id), key=date_key)
    if not metas:
        return None
    pool = Sentences.of(index, metas)
    developments = _developments(pool, redundancy)
    firsts = np.asarray([d for d, _ in developments], dtype=np.int64)
    found = pool.disagreements(firsts.tolist())
    discrepancies: list[Discrepancy] = [d for row in firsts.tolist() for d in found.get(row, [])]
    return StoryTimeline(
        story_id=story_id,
        title=metas[0].title,
        articles=_articles(pool, metas, rules),
        developments=[_development(pool, first, later) for first, later in developments],
        discrepancies=_distinct(discrepancies),
        related=_related(index, metas),
    )


def _developments(pool: Sentences, redundancy: float) -> list[tuple[int, list[int]]]:
    """Rows in date order grouped by fact: each fact's first row, and the later rows of other articles stating it."""
    groups: list[tuple[int, list[int]]] = []
    if not len(pool.traits):
        return groups
    sims = pool.vectors @ pool.vectors.T
    firsts: list[int] = []
    for row in range(len(pool.traits)):
        article = pool.traits[row].sentence.article_id
        match = _same_fact(pool, sims, row, firsts, redundancy)
        if match is None:
            firsts.append(row)
            groups.append((row, []))
        elif pool.traits[firsts[match]].sentence.article_id != article:
            later = groups[match][1]
            if all(pool.traits[r].sentence.article_id != article for r in later):
                later.append(row)
    return groups


def _same_fact(pool: Sentences, sims: np.ndarray, row: int, firsts: list[int], redundancy: float) -> int | None:
    """Which earlier development a row restates (vector twin, or a shared figure at a moderate cosine), if any;
    one whose figure, date or name it gives differently it does not restate but disputes."""
    if not firsts:
        return None
    close = sims[row, firsts]
    figures = set(pool.traits[row].figures)
    twins = [
        n
        for n in np.flatnonzero(close >= min(redundancy, FIGURE_TWIN_COSINE)).tolist()
        if (close[n] >= redundancy or figures & set(pool.traits[firsts[n]].figures))
        and difference(pool.text(firsts[n]), pool.text(row)) is None
    ]
    return max(twins, key=lambda n: close[n]) if twins else None


def _development(pool: Sentences, first: int, later: list[int]) -> Development:
    """A development as quotes, noting which later sentences copy the words of an earlier one of the fact."""
    copied = [
        pool.traits[r].sentence.article_id
        for n, r in enumerate(later)
        if any(is_copy(pool.text(e), pool.text(r)) for e in [first, *later[:n]])
    ]
    return Development(first=pool.quote(first), later=[pool.quote(r) for r in later], copied=copied)


def _articles(pool: Sentences, metas: list[ArticleMeta], rules: StoryRules) -> list[StoryArticle]:
    """The story's articles by date, each near-duplicate of an earlier one from another outlet marked as its copy."""
    signatures = minhash([pool.texts[m.id] for m in metas], rules)
    out = []
    for i, meta in enumerate(metas):
        original = next(
            (
                metas[j].id
                for j in range(i)
                if outlet_key(metas[j]) != outlet_key(meta) and near_duplicates(signatures[i], signatures[j], rules)
            ),
            None,
        )
        out.append(
            StoryArticle(
                article_id=meta.id,
                title=meta.title,
                outlet=meta.outlet,
                published=meta.published,
                url=meta.url,
                copy_of=original,
            )
        )
    return out


def _distinct(found: list[Discrepancy]) -> list[Discrepancy]:
    """Each pair of sentences once."""
    seen: set[tuple] = set()
    out = []
    for d in found:
        key = tuple(sorted([(d.first.article_id, d.first.start), (d.second.article_id, d.second.start)]))
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _related(index: Index, metas: list[ArticleMeta]) -> list[RelatedStory]:
    """Other stories whose leads are close to this story's, at any distance in time, closest first."""
    story = metas[0].story_id
    leads = index.chunk_vectors(index.lead_chunks([m.id for m in metas]))
    centre = leads.mean(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-9)
    hits = index.search_chunks(centre, RELATED_DEPTH)
    chunks = index.chunks([c for c, _ in hits])
    best: dict[str, float] = {}
    for chunk_id, cosine in hits:
        article = chunks[chunk_id].article_id
        if cosine >= RELATED_SIMILARITY:
            best[article] = max(best.get(article, -1.0), float(cosine))
    found = index.articles(list(best))
    by_story: dict[str, tuple[float, ArticleMeta]] = {}
    for article, cosine in best.items():
        meta = found[article]
        if meta.story_id != story and cosine > by_story.get(meta.story_id, (-1.0, meta))[0]:
            by_story[meta.story_id] = (cosine, meta)
    ranked = sorted(by_story.items(), key=lambda item: -item[1][0])[:RELATED_SHOWN]
    return [
        RelatedStory(story_id=s, title=m.title, outlet=m.outlet, published=m.published, similarity=round(c, 3))
        for s, (c, m) in ranked
    ]
