"""JSON API routes under /api."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from ..answer import Answer, AnswerSentence
from ..contract import AnswerRequest, SearchRequest
from ..records import SearchResponse, StoryTimeline
from ..service import NO_ARTICLE, SearchService
from .schemas import ArticleOut, ErrorOut, HealthOut, OutletOut, StatsOut

log = logging.getLogger(__name__)
STREAM_FAILED = "the answer could not be finished (details are in the server log); showing the extractive brief"

router = APIRouter(prefix="/api", tags=["api"], responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}})


class AnswerBody(BaseModel):
    """The checked answer; when `fallback` says why, the extractive brief in `summary` stands instead."""

    # The JSON of Answer.to_dict, described for OpenAPI: text, total and dropped are derived, not fields of Answer.

    model: str | None
    text: str = Field(description="The kept sentences joined; empty on fallback")
    sentences: list[AnswerSentence]
    total: int = Field(description="Sentences the model wrote")
    dropped: int = Field(description="Sentences that failed the check")
    fallback: str | None = None
    took_ms: float


@dataclass(slots=True)
class AnswerOut(SearchResponse):
    """Ranked articles, the extractive brief (the numbered evidence) and the checked answer."""

    answer: AnswerBody = field(kw_only=True)


async def get_service(request: Request) -> SearchService:
    """The service the app was created with."""
    # async: FastAPI runs a plain-def dependency in its thread pool, a hop that costs more than the lookup
    return request.app.state.service


ServiceDep = Annotated[SearchService, Depends(get_service)]


class FastJSONResponse(JSONResponse):
    """JSON encoded by orjson, much faster than the json module on a search response."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


@router.get("/search", response_model=SearchResponse)
def search(service: ServiceDep, request: Annotated[SearchRequest, Query()]) -> JSONResponse:
    """Search the archive and summarize the answer with cited sentences."""
    return run_search(service, request)


@router.post("/search", response_model=SearchResponse)
def search_post(service: ServiceDep, request: SearchRequest) -> JSONResponse:
    """The same search with a JSON body, for long queries and many filters."""
    return run_search(service, request)


def run_search(service: SearchService, request: SearchRequest) -> JSONResponse:
    """One search as the JSON response.

    The body goes out as built: validating it again against its schema cost more than the brief on a full
    response (SearchResponse stays the documented schema, and the tests hold every response to it).
    """
    started = time.perf_counter()
    body = service.search(request).to_dict()
    if request.debug:  # what turning the result into JSON-ready data cost, so it can be watched
        body["timings"]["serialize"] = round((time.perf_counter() - started) * 1000 - body["took_ms"], 2)
    return FastJSONResponse(body)


@router.get("/answer", response_model=AnswerOut)
def answer(service: ServiceDep, request: Annotated[AnswerRequest, Query()]) -> JSONResponse:
    """Search, then have the configured model answer from the brief; only sentences its citations support are kept.

    Without SEMSEARCH_LLM_URL, or when the model fails, is too slow or too little of its answer is
    supported, `answer.fallback` says why and the extractive brief in `summary` stands.
    """
    return FastJSONResponse(service.answer(request).to_dict(request.debug))


@router.post("/answer", response_model=AnswerOut)
def answer_post(service: ServiceDep, request: AnswerRequest) -> JSONResponse:
    """The same answer with a JSON body."""
    return FastJSONResponse(service.answer(request).to_dict(request.debug))


@router.get(
    "/answer/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"}},
)
def answer_stream(service: ServiceDep, request: Annotated[AnswerRequest, Query()]) -> StreamingResponse:
    """The answer as server-sent events: `evidence` (the /api/search JSON), one `sentence` per checked
    sentence as soon as the model has written it, then `done` (the `answer` object, with any fallback)."""
    response, stream = service.stream_answer(request)
    return StreamingResponse(
        _events(response, stream, request.debug),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _event(name: str, data: dict) -> str:
    """One server-sent event."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _events(response: SearchResponse, stream: Iterator[AnswerSentence | Answer], debug: bool) -> Iterator[str]:
    """The event stream; it always ends with `done`, even if something breaks half-way."""
    yield _event("evidence", response.to_dict())
    try:
        for item in stream:
            if isinstance(item, Answer):
                yield _event("done", item.to_dict(debug))
            elif item.checked or debug:
                yield _event("sentence", item.to_dict())
    except Exception:
        # Headers are sent by now, so a 500 is impossible: end the stream on the brief instead.
        log.exception("answer stream failed")
        yield _event("done", Answer(model=None, fallback=STREAM_FAILED).to_dict(debug))


@router.get("/articles/{article_id}", response_model=ArticleOut, responses={404: {"model": ErrorOut}})
def article(service: ServiceDep, article_id: str) -> dict:
    """One article with its full cleaned text; asked for by an id it had before it was edited, as it is now."""
    view = service.article(article_id)
    if view is None:
        raise HTTPException(404, NO_ARTICLE)
    return view.to_dict()


@router.get("/stories/{story_id}", response_model=StoryTimeline, responses={404: {"model": ErrorOut}})
def story(service: ServiceDep, story_id: str) -> JSONResponse:
    """A story over time: its articles by date, its developments in date order (each fact quoted from whoever
    reported it first, with who carried it later), where outlets disagree, and related stories beyond its window."""
    timeline = service.story(story_id)
    if timeline is None:
        raise HTTPException(404, "no story with that id")
    return FastJSONResponse(timeline.to_dict())


@router.get("/outlets", response_model=list[OutletOut])
def outlets(service: ServiceDep) -> list[dict]:
    """Every outlet in the index with its article count, most first."""
    return service.stats()["outlets"]


@router.get("/stats", response_model=StatsOut)
def stats(service: ServiceDep) -> dict:
    """Counts, date range, outlets and build facts of the served index."""
    return service.stats()


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health(service: ServiceDep) -> JSONResponse:
    """Status, version and counts of the served index; 503 unless the status is ok.

    The manifest (with the sources built from) is for the operator: GET /api/index/manifest with the admin token.
    """
    found = service.health()
    counts = asdict(found.manifest.counts) if found.manifest else None
    body = {"status": found.status, "version": found.version, "counts": counts}
    return JSONResponse(body, status_code=200 if found.status == "ok" else 503)
