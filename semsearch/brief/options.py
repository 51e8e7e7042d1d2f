"""How a brief chooses: its options, the presets the evaluations compare, and the messages of an abstention."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..config import Settings

NOTHING_RETRIEVED = "Nothing in the archive matches this question closely enough to summarize."
NOTHING_WITHIN_FILTERS = "No article within the chosen dates, outlets or places matches this question."
NOTHING_RELEVANT = "No passage in the archive answers this question closely enough to quote."


def nothing_mentions(names: Sequence[str]) -> str:
    """The abstention when a name the question insists on occurs nowhere in the archive."""
    return f"Nothing in the archive mentions {' or '.join(f'“{n}”' for n in names)}."


# Redundancy across outlets of one story (see _repeat_similarity); chosen on the sample's same-story pairs.
STORY_BONUS = 0.1
FIGURE_TWIN_COSINE = 0.55
# A sentence may bring at most this many predecessors it leans on ('He said ... But ...').
MAX_LEAN = 2
# The longest run of same-pronoun sentences a sentence may skip back over (see anchor).
_ANCHOR_REACH = 6


@dataclass(frozen=True, slots=True)
class BriefOptions:
    """How the brief selects sentences; the weights are tuned on half of BBC (docs/quality.md)."""

    words: int = 120
    candidates: int = 30
    max_sources: int | None = None
    min_similarity: float = 0.35
    relevance_floor: float = 0.5
    redundancy: float = 0.8
    diversity: float = 0.1
    w_relevance: float = 1.0
    w_lexical: float = 0.3
    w_centrality: float = 0.3
    w_word_centrality: float = 2.0
    w_coverage: float = 0.0
    worth_by_words: bool = False  # a unit's score: the mean of its sentences, or of its words not yet quoted
    w_lead: float = 0.3
    w_source: float = 0.3
    lead_decay: float = 0.5
    teleport: float = 0.15
    # Multi-document briefs (chosen on the tune half of benchmarks/data/nuggets_reuters.jsonl).
    # Each sentence already quoted from an article takes this off the gain of the article's other units: the
    # diminishing reward that spreads a brief over articles (on wire copy a facility-location coverage term
    # and fading the lead prior as relevant articles grow both measured no better or worse; docs/quality.md).
    article_penalty: float = 0.15
    w_names: float = 0.3  # taken off a sentence's score for the share of the question's names it lacks
    # The weight of a link between two sentences of one article in the centrality graphs (1: as any other
    # link); see _link_weights. Heavier links let one long piece fill a brief, lighter ones score lower on
    # the tune half (docs/quality.md).
    intra_article: float = 0.2


# The single-article brief (no per-article penalty, no names, every link alike), to measure against.
DEFAULT = BriefOptions()  # frozen, so one instance serves as every default
SINGLE_ARTICLE = BriefOptions(article_penalty=0.0, w_names=0.0, intra_article=1.0)

# A generic brief of given articles (no real question: "summarize this story"): what the articles keep
# repeating comes first, not closeness to a headline. Chosen on the BBC tune half, where it scores above the
# query-focused weights; those keep relevance first because coverage cost the query-focused checks
# (docs/quality.md, "## Brief").
GENERIC = BriefOptions(w_coverage=16.0, w_word_centrality=2.0, w_lead=0.3, diversity=0.0, worth_by_words=True)


def brief_options(settings: Settings, words: int | None = None, max_sources: int | None = None) -> BriefOptions:
    """The options of one query's brief: the settings, with the request's word budget and source cap."""
    return BriefOptions(
        words=words or settings.brief_words,
        candidates=settings.brief_candidates,
        max_sources=max_sources,
        min_similarity=settings.brief_min_similarity,
        redundancy=settings.brief_redundancy,
    )
