"""The JSON API's response shapes that are not records the service returns, so OpenAPI documents every field.

A search answers with records.SearchResponse itself (its dataclasses are the schema), an answer with
api.AnswerOut, and requests are contract.SearchRequest; what is here is what only the API has: errors,
articles, stats, health. It imports no engine module, so the client stays light.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """What went wrong, in words meant for the caller."""

    code: str = Field(examples=["invalid_request"])
    message: str = Field(examples=["the question is empty: type a few words"])
    field: str | None = Field(None, examples=["q"])


class ErrorOut(BaseModel):
    """The one error shape every 4xx and 5xx response uses."""

    error: ErrorBody


class OutletOut(BaseModel):
    """An outlet and how many articles the index holds from it."""

    outlet: str
    articles: int


class SourceOut(BaseModel):
    """One source the index is built from, as its last build or update runs saw it."""

    source: str = Field(
        description="A feed by its URL (credentials masked), a folder or file by its name without the path"
    )
    kind: Literal["feed", "folder", "file"]
    state: Literal["ok", "silent", "failing"] = Field(
        description="failing: its last read failed; silent: nothing new for far longer than its usual gap"
    )
    last_read: str | None = Field(description="When a run last read it (ISO 8601, UTC)")
    last_ok: str | None = Field(description="When a read of it last worked")
    last_new: str | None = Field(description="When a read last gave an article the served index did not hold")
    articles: int = Field(description="Articles its last successful read gave")
    usual_gap_hours: float | None = Field(
        description="Median hours between its recent arrivals of new articles; null until it has 5"
    )
    last_error: str | None = Field(description="Why its last failed read failed (kept after it recovers)")
    last_error_at: str | None


class SourceHealthOut(BaseModel):
    """Every source's health, and the counts the search page's status line shows."""

    total: int = Field(description="How many sources")
    updated: str | None = Field(description="The latest read of any source")
    silent: int
    failing: int
    sources: list[SourceOut] = Field(description="Failing ones first, then silent ones, then by name")


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
    source_health: SourceHealthOut


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
    previous_id: str | None = Field(
        None,
        description="The id asked for, when it is one this article had before it was edited (offsets quoted "
        "from that version may no longer fit this text); null when asked for by its current id",
    )


class HealthOut(BaseModel):
    """Whether an index is served, its version and counts (503 unless ok)."""

    status: str = Field(examples=["ok"], description="ok, degraded (a newer version was refused) or no_index")
    version: str | None = Field(None, description="The index version being served")
    counts: dict[str, int] | None = Field(None, description="Articles, chunks, sentences... of the served version")
