"""The JSON API's response shapes that are not records the service returns, so OpenAPI documents every field.

A search answers with records.SearchResponse itself (its dataclasses are the schema), an answer with
api.AnswerOut, and requests are contract.SearchRequest; what is here is what only the API has: errors,
articles, stats, health. It imports no engine module, so the client stays light.
"""

from __future__ import annotations

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
