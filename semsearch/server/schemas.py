"""Pydantic models of the JSON API, so OpenAPI documents every field."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """What went wrong, in words meant for the caller."""

    code: str = Field(examples=["invalid_query"])
    message: str = Field(examples=["the question is empty: type a few words"])
    field: str | None = Field(None, examples=["q"])


class ErrorOut(BaseModel):
    """The one error shape every 4xx and 5xx response uses."""

    error: ErrorBody


class HitOut(BaseModel):
    """One article in the result list."""

    article_id: str
    title: str
    outlet: str | None
    published: str | None = Field(description="YYYY-MM-DD, or --MM-DD when the year is unknown")
    url: str | None
    score: float = Field(description="Fused rank score (hybrid/lexical) or cosine (dense); higher is better")
    snippet: str
    highlights: list[list[int]] = Field(description="[start, end] spans of the article text shown in the snippet")
    term_highlights: list[list[int]] = Field(
        default_factory=list, description="[start, end] spans of query terms and phrases matched in those sentences"
    )
    story_id: str | None = Field(None, description="Articles telling the same story share it")
    also_reported_by: list[AlsoReportedOut] = Field(
        default_factory=list, description="The same story from other articles, collapsed into this result"
    )


class AlsoReportedOut(BaseModel):
    """Another article of the same story."""

    article_id: str
    outlet: str | None
    title: str
    published: str | None


class CitationOut(BaseModel):
    """An exact span of a source article: text[start:end] is the quoted sentence."""

    n: int = Field(description="Number of the source in `sources`")
    article_id: str
    start: int
    end: int


class BriefSentenceOut(BaseModel):
    """A verbatim sentence of the brief."""

    text: str
    citations: list[CitationOut] = Field(description="Spans whose text is exactly this sentence")
    corroborations: list[CitationOut] = Field(
        default_factory=list, description="Other outlets' own sentences stating the same fact"
    )


class SourceOut(BaseModel):
    """A numbered source of the brief."""

    n: int
    article_id: str
    title: str
    outlet: str | None
    published: str | None
    url: str | None


class BriefOut(BaseModel):
    """The query-focused extractive brief; `abstained` explains an empty one."""

    sentences: list[BriefSentenceOut]
    sources: list[SourceOut]
    abstained: str | None = None


class SearchIn(BaseModel):
    """The JSON body of POST /api/search: the GET parameters, with lists for outlets and places."""

    q: str = Field(max_length=1000, description="The question or keywords")
    k: int = Field(10, ge=1, le=100, description="How many articles to return")
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid"
    summary: bool = True
    words: int | None = Field(None, ge=20, le=400)
    sources: int | None = Field(None, ge=1, le=50)
    outlet: list[str] = Field(default_factory=list, description="Only these outlets")
    place: list[str] = Field(default_factory=list, description="Only these datelined places")
    since: date | None = Field(None, description="Published on or after this day")
    until: date | None = Field(None, description="Published on or before this day")
    recency: float = Field(0.0, ge=0.0, le=1.0, description="0 ignores dates; 1 ranks by recency alone")
    offset: int = Field(0, ge=0, le=500, description="Skip this many results (paging)")
    debug: bool = Field(False, description="Add per-stage `timings` in milliseconds")


class OutletOut(BaseModel):
    """An outlet and how many articles the index holds from it."""

    outlet: str
    articles: int


class StatsOut(BaseModel):
    """What the served index holds."""

    version: str
    counts: dict[str, int]
    built_at: str
    model: str
    backend: str = Field(description="Where chunk vectors live: faiss or milvus")
    ann: str = Field(description="Vector index type (IndexFlatIP, IndexHNSWFlat, HNSW)")
    published_from: str | None
    published_until: str | None
    outlets: list[OutletOut]


class SearchOut(BaseModel):
    """Ranked articles and the brief for one question."""

    query: str
    took_ms: float
    results: list[HitOut]
    summary: BriefOut | None
    timings: dict[str, float] | None = Field(
        None, description="With debug=true: milliseconds spent in embed, retrieve, brief and serialize"
    )


class AnswerIn(SearchIn):
    """Parameters of /api/answer and /api/answer/stream: the search's, plus debug."""

    summary: Literal[True] = Field(True, description="Always true: the brief is the evidence the answer cites")
    debug: bool = Field(False, description="List every answer sentence with its check, not only the kept ones")


class AnswerSentenceOut(BaseModel):
    """A sentence of the model's answer that cites brief sentences (and, through them, exact source spans)."""

    text: str = Field(description="The model's sentence without its [n] markers")
    evidence: list[int] = Field(description="The brief sentences it cites, numbered 1..n in `summary.sentences` order")
    citations: list[CitationOut] = Field(description="The exact source spans of that evidence")
    checked: bool = Field(description="Whether it passed the check (only checked sentences are listed unless debug)")
    support: float = Field(description="Share of its claim words that its cited evidence states")
    reason: str | None = Field(None, description="Why it failed the check")
    elsewhere: CitationOut | None = Field(
        None, description="For a dropped sentence: a sentence of a cited article that does support it")


class AnswerBody(BaseModel):
    """The checked answer; when `fallback` says why, the extractive brief in `summary` stands instead."""

    model: str | None
    text: str = Field(description="The kept sentences joined; empty on fallback")
    sentences: list[AnswerSentenceOut]
    total: int = Field(description="Sentences the model wrote")
    dropped: int = Field(description="Sentences that failed the check")
    fallback: str | None = None
    took_ms: float


class AnswerOut(SearchOut):
    """Ranked articles, the extractive brief (the numbered evidence) and the checked answer."""

    answer: AnswerBody


class ArticleOut(BaseModel):
    """An article with its full cleaned text, which every offset refers to."""

    article_id: str
    title: str
    outlet: str | None
    published: str | None
    url: str | None
    place: str | None
    from_rail: bool = Field(description="Found in another article's related-articles list")
    text: str


class HealthOut(BaseModel):
    """Whether an index is served, its version and counts (503 unless ok)."""

    status: str = Field(examples=["ok"], description="ok, degraded (a newer version was refused) or no_index")
    version: str | None = Field(None, description="The index version being served")
    counts: dict[str, int] | None = Field(None, description="Articles, chunks, sentences... of the served version")
