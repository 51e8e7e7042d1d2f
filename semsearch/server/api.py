"""JSON API routes under /api."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from ..service import SearchService
from ..records import SearchResponse
from ..retrieval import Filters
from .schemas import AnswerIn, AnswerOut, ArticleOut, ErrorOut, HealthOut, OutletOut, SearchIn, SearchOut, StatsOut
from ..answer import Answer, AnswerSentence

log = logging.getLogger(__name__)
# Query parameters whose values are credentials: never shown, whatever the URL.
SECRET_PARAMS = ("apikey", "api_key", "token", "key", "password", "passwd", "secret", "sig", "signature", "auth")
STREAM_FAILED = "the answer could not be finished (details are in the server log); showing the extractive brief"

router = APIRouter(prefix="/api", tags=["api"], responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}})


async def get_service(request: Request) -> SearchService:
    """The service the app was created with."""
    # async: FastAPI runs a plain-def dependency in its thread pool, a hop that costs more than the lookup
    return request.app.state.service


ServiceDep = Annotated[SearchService, Depends(get_service)]


class FastJSONResponse(JSONResponse):
    """JSON encoded by orjson: a 20 kB search body in 0.03 ms, against 0.2-0.45 ms with the json module."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


@router.get("/search", response_model=SearchOut, response_model_exclude_unset=True)
def search(
    service: ServiceDep,
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
    offset: Annotated[int, Query(ge=0, le=500, description="Skip this many results (paging)")] = 0,
    debug: Annotated[bool, Query(description="Add per-stage `timings` in milliseconds")] = False,
) -> JSONResponse:
    """Search the archive and summarize the answer with cited sentences."""
    request = SearchIn(q=q, k=k, mode=mode, summary=summary, words=words, sources=sources, outlet=outlet,
                       place=place, since=since, until=until, recency=recency, offset=offset, debug=debug)
    return run_search(service, request)


@router.post("/search", response_model=SearchOut, response_model_exclude_unset=True)
def search_post(service: ServiceDep, request: SearchIn) -> JSONResponse:
    """The same search with a JSON body, for long queries and many filters."""
    return run_search(service, request)


def search_options(request: SearchIn) -> dict:
    """SearchService keyword arguments (all but the question and `summary`) from validated parameters."""
    filters = Filters(
        outlets=tuple(request.outlet), places=tuple(request.place),
        since=request.since.isoformat() if request.since else None,
        until=request.until.isoformat() if request.until else None,
    )
    return {"k": request.k, "mode": request.mode, "words": request.words, "sources": request.sources,
            "filters": filters, "recency": request.recency, "offset": request.offset}


def run_search(service: SearchService, request: SearchIn) -> JSONResponse:
    """One search from validated parameters, as the JSON response.

    The body goes out as built: validating it again against SearchOut cost more than the brief at 20 kB
    (SearchOut stays the documented schema, and the tests hold every response to it).
    """
    started = time.perf_counter()
    body = service.search(request.q, summary=request.summary, debug=request.debug, **search_options(request)).to_dict()
    if request.debug:  # what turning the result into JSON-ready data cost, so it can be watched
        body["timings"]["serialize"] = round((time.perf_counter() - started) * 1000 - body["took_ms"], 2)
    return FastJSONResponse(body)


@router.get("/answer", response_model=AnswerOut)
def answer(service: ServiceDep, request: Annotated[AnswerIn, Query()]) -> dict:
    """Search, then have the configured model answer from the brief; only sentences its citations support are kept.

    Without SEMSEARCH_LLM_URL, or when the model fails, is too slow or too little of its answer is
    supported, `answer.fallback` says why and the extractive brief in `summary` stands.
    """
    return service.answer(request.q, **search_options(request)).to_dict(request.debug)


@router.post("/answer", response_model=AnswerOut)
def answer_post(service: ServiceDep, request: AnswerIn) -> dict:
    """The same answer with a JSON body."""
    return service.answer(request.q, **search_options(request)).to_dict(request.debug)


@router.get("/answer/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"}})
def answer_stream(service: ServiceDep, request: Annotated[AnswerIn, Query()]) -> StreamingResponse:
    """The answer as server-sent events: `evidence` (the /api/search JSON), one `sentence` per checked
    sentence as soon as the model has written it, then `done` (the `answer` object, with any fallback)."""
    response, stream = service.stream_answer(request.q, **search_options(request))
    return StreamingResponse(_events(response, stream, request.debug), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


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
    """One article with its full cleaned text."""
    view = service.article(article_id) if _valid_id(article_id) else None
    if view is None:
        raise HTTPException(404, "no article with that id")
    meta = view.meta
    # Where the server read it stays private (paths, internal hosts): readers get the article's own url.
    return {
        "article_id": meta.id, "title": meta.title, "outlet": meta.outlet, "published": meta.published,
        "url": meta.url, "place": meta.place, "from_rail": meta.extracted_from is not None, "text": view.text,
    }


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
    manifest = found.get("manifest") or {}
    body = {"status": found["status"], "version": found.get("version"), "counts": manifest.get("counts")}
    return JSONResponse(body, status_code=200 if found["status"] == "ok" else 503)


def redacted(source: str) -> str:
    """A source with any credentials in it (user:password@, apikey=... and the like) replaced by ***."""
    try:
        parts = urlsplit(source)
    except ValueError:  # not a url at all (an unclosed IPv6 bracket)
        return source
    if not parts.scheme or not parts.netloc:
        return source
    host = parts.netloc.rpartition("@")[2]
    netloc = f"***@{host}" if "@" in parts.netloc else host
    query = urlencode([(k, "***" if k.lower() in SECRET_PARAMS else v)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _valid_id(article_id: str) -> bool:
    """Article ids are 16 lower-case hex digits; anything else is not looked up."""
    return len(article_id) == 16 and all(c in "0123456789abcdef" for c in article_id)
