"""JSON API routes under /api."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from .engine import Engine
from .retrieval import Filters
from .schemas import ArticleOut, ErrorOut, HealthOut, SearchIn, SearchOut

router = APIRouter(prefix="/api", tags=["api"], responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}})


def get_engine(request: Request) -> Engine:
    """The engine the app was created with."""
    return request.app.state.engine


EngineDep = Annotated[Engine, Depends(get_engine)]


@router.get("/search", response_model=SearchOut)
def search(
    engine: EngineDep,
    q: Annotated[str, Query(description="The question or keywords", max_length=1000)],
    k: Annotated[int, Query(ge=1, le=100, description="How many articles to return")] = 10,
    mode: Annotated[Literal["hybrid", "dense", "lexical"], Query(description="Retrieval mode")] = "hybrid",
    summary: Annotated[bool, Query(description="Also compute the brief")] = True,
    words: Annotated[int | None, Query(ge=20, le=400, description="Word budget of the brief")] = None,
    sources: Annotated[int | None, Query(ge=1, le=50, description="Most articles the brief draws on")] = None,
    outlet: Annotated[list[str], Query(description="Only these outlets (repeat for several)")] = [],  # noqa: B006
    place: Annotated[list[str], Query(description="Only these datelined places (repeat)")] = [],  # noqa: B006
    since: Annotated[date | None, Query(description="Published on or after this day")] = None,
    until: Annotated[date | None, Query(description="Published on or before this day")] = None,
    recency: Annotated[float, Query(ge=0.0, le=1.0, description="Preference for newer articles, 0 = off")] = 0.0,
) -> dict:
    """Search the archive and summarize the answer with cited sentences."""
    request = SearchIn(q=q, k=k, mode=mode, summary=summary, words=words, sources=sources, outlet=outlet,
                       place=place, since=since, until=until, recency=recency)
    return run_search(engine, request)


@router.post("/search", response_model=SearchOut)
def search_post(engine: EngineDep, request: SearchIn) -> dict:
    """The same search with a JSON body, for long queries and many filters."""
    return run_search(engine, request)


def run_search(engine: Engine, request: SearchIn) -> dict:
    """One search from validated parameters, as the JSON response."""
    filters = Filters(
        outlets=tuple(request.outlet), places=tuple(request.place),
        since=request.since.isoformat() if request.since else None,
        until=request.until.isoformat() if request.until else None,
    )
    return engine.search(request.q, k=request.k, mode=request.mode, summary=request.summary, words=request.words,
                         sources=request.sources, filters=filters, recency=request.recency).to_dict()


@router.get("/articles/{article_id}", response_model=ArticleOut, responses={404: {"model": ErrorOut}})
def article(engine: EngineDep, article_id: str) -> dict:
    """One article with its full cleaned text."""
    view = engine.article(article_id) if _valid_id(article_id) else None
    if view is None:
        raise HTTPException(404, "no article with that id")
    meta = view.meta
    return {
        "article_id": meta.id, "title": meta.title, "outlet": meta.outlet, "published": meta.published,
        "url": meta.url, "place": meta.place, "source_path": meta.source_path,
        "extracted_from": meta.extracted_from, "duplicate_paths": meta.duplicate_paths, "text": view.text,
    }


@router.get("/health", response_model=HealthOut)
def health(engine: EngineDep) -> dict:
    """Status of the server and the manifest of the served index."""
    return engine.health()


def _valid_id(article_id: str) -> bool:
    """Article ids are 16 lower-case hex digits; anything else is not looked up."""
    return len(article_id) == 16 and all(c in "0123456789abcdef" for c in article_id)
