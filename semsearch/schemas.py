"""Pydantic models of the JSON API, so OpenAPI documents every field."""

from __future__ import annotations

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


class SearchOut(BaseModel):
    """Ranked articles and the brief for one question."""

    query: str
    took_ms: float
    results: list[HitOut]
    summary: BriefOut | None


class ArticleOut(BaseModel):
    """An article with its full cleaned text, which every offset refers to."""

    article_id: str
    title: str
    outlet: str | None
    published: str | None
    url: str | None
    place: str | None
    source_path: str
    extracted_from: str | None
    duplicate_paths: list[str]
    text: str


class HealthOut(BaseModel):
    """Whether an index is served, and its manifest."""

    status: str = Field(examples=["ok"])
    detail: str | None = None
    manifest: dict | None = None
