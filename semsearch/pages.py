"""Server-rendered HTML pages: the search page with the brief, and the article view."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from .api import EngineDep, _valid_id
from .engine import QueryError

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(resources.files("semsearch.web").joinpath("templates")))
_HL = re.compile(r"^(\d{1,9})-(\d{1,9})$")


@dataclass(slots=True)
class Segment:
    """A piece of article text for the page: a sentence (with its anchor) or the gap between."""

    text: str
    start: int
    end: int
    sentence: bool
    marked: bool


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """A friendly error page; details stay in the log."""
    return templates.TemplateResponse(request, "error.html", {"status": status, "message": message},
                                      status_code=status)


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    engine: EngineDep,
    q: Annotated[str | None, Query(max_length=1000)] = None,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
) -> HTMLResponse:
    """The search box; with ?q= also the brief, its sources and the results."""
    context: dict = {"q": q or "", "k": k, "response": None, "error": None, "ready": engine.ready}
    if q is not None and context["ready"]:
        try:
            context["response"] = engine.search(q, k=k)
        except QueryError as exc:
            context["error"] = str(exc)
    status = 422 if context["error"] else 200
    return templates.TemplateResponse(request, "search.html", context, status_code=status)


def segments(text: str, spans: list[tuple[int, int]], marked: set[tuple[int, int]]) -> list[list[Segment]]:
    """The article text as paragraphs of segments, every sentence addressable by its start offset."""
    paragraphs: list[list[Segment]] = []
    for match in re.finditer(r"[^\n]+", text):
        p_start, p_end = match.span()
        pieces, cursor = [], p_start
        for start, end in spans:
            if start < p_start or end > p_end:
                continue
            if start > cursor:
                pieces.append(Segment(text[cursor:start], cursor, start, False, False))
            pieces.append(Segment(text[start:end], start, end, True, (start, end) in marked))
            cursor = end
        if cursor < p_end:
            pieces.append(Segment(text[cursor:p_end], cursor, p_end, False, False))
        paragraphs.append(pieces)
    return paragraphs


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(
    request: Request,
    engine: EngineDep,
    article_id: str,
    hl: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
) -> HTMLResponse:
    """One article, with the cited sentence highlighted and scrolled to by its anchor."""
    view = engine.article(article_id) if _valid_id(article_id) else None
    if view is None:
        return error_page(request, 404, "There is no article with that id in this index.")
    marked = {(int(m.group(1)), int(m.group(2))) for m in map(_HL.match, hl) if m}
    paragraphs = segments(view.text, view.sentences, marked)
    return templates.TemplateResponse(request, "article.html", {"article": view.meta, "paragraphs": paragraphs})
