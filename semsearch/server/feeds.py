"""The archive in other formats: a search as Markdown, CSV or an Atom feed, and the saved questions' feeds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from .. import watches
from ..contract import SearchRequest
from ..export import ATOM_TYPE, CSV_TYPE, MARKDOWN_TYPE, csv_text, markdown, search_atom, watch_atom
from ..service import SearchService
from .api import ServiceDep
from .schemas import ErrorOut

router = APIRouter(tags=["export"], responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}})
WATCH_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}}


def _text(body: str | bytes, media_type: str, filename: str | None = None) -> Response:
    """A text response; with a filename the browser saves it (CSV) instead of showing it."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if filename else None
    return Response(body, media_type=media_type, headers=headers)


def _base(request: Request) -> str:
    """This server's address as the client reached it (Host is checked against SEMSEARCH_ALLOWED_HOSTS)."""
    return str(request.base_url).rstrip("/")


@router.get("/search.md", response_class=Response, responses={200: {"content": {"text/markdown": {}}}})
def search_markdown(service: ServiceDep, request: Request, asked: Annotated[SearchRequest, Query()]) -> Response:
    """The brief as Markdown with numbered citations and a source list (where each quote sits), then the results."""
    response = service.search(asked.model_copy(update={"summary": True}))
    body = markdown(response, _base(request), service.places(response.summary))
    return _text(body, MARKDOWN_TYPE)


@router.get("/search.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def search_csv(service: ServiceDep, asked: Annotated[SearchRequest, Query()]) -> Response:
    """One row per result: rank, score, article id, title, outlet, date, url, story id, snippet."""
    response = service.search(asked.model_copy(update={"summary": False}))
    return _text(csv_text(response, asked.offset), CSV_TYPE, "semsearch-results.csv")


@router.get("/search.atom", response_class=Response, responses={200: {"content": {"application/atom+xml": {}}}})
def search_feed(service: ServiceDep, request: Request, asked: Annotated[SearchRequest, Query()]) -> Response:
    """The articles matching any question, newest first, as an Atom feed (nothing needs saving)."""
    response = service.search(asked.model_copy(update={"summary": False}))
    page = f"{_base(request)}/?{urlencode(request.query_params.multi_items())}"
    return _text(search_atom(response, _base(request), str(request.url), page, service.built_at()), ATOM_TYPE)


def _watch(service: SearchService, name: str) -> watches.Watch | JSONResponse:
    """A saved question, or the error response for a bad or unknown name."""
    try:
        return watches.get(Path(service.settings.index_dir), name)
    except watches.WatchError as exc:
        return JSONResponse(exc.body(), status_code=exc.status)


@router.get("/api/watches", tags=["api"])
def list_watches(service: ServiceDep) -> list[dict]:
    """Every saved question with the entries its runs recorded, newest first."""
    return [w.public() for w in watches.load(Path(service.settings.index_dir)).values()]


@router.get("/api/watches/{name}", tags=["api"], responses=WATCH_NOT_FOUND)
def watch_json(service: ServiceDep, name: str) -> Response:
    """One saved question with the entries its runs recorded."""
    found = _watch(service, name)
    return found if isinstance(found, Response) else JSONResponse(found.public())


@router.get(
    "/watches/{name}.atom",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}, **WATCH_NOT_FOUND},
)
def watch_feed(service: ServiceDep, request: Request, name: str) -> Response:
    """A saved question's recorded runs as an Atom feed: each entry its new cited sentences and new articles."""
    found = _watch(service, name)
    if isinstance(found, Response):
        return found
    return _text(watch_atom(found, _base(request), str(request.url)), ATOM_TYPE)
