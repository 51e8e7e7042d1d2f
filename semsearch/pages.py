"""Server-rendered HTML pages: the search page with the brief, and the article view."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from .api import EngineDep, _valid_id
from .engine import QueryError
from .models import Hit
from .retrieval import MODES, SNIPPET_JOINER, Filters
from .writer import LLMConfig

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


@dataclass(slots=True)
class Piece:
    """A run of snippet text, marked when it is a matched query term."""

    text: str
    marked: bool



def snippet_pieces(hit: Hit) -> list[Piece]:
    """The hit's snippet split so its matched query terms can be marked (the snippet joins its sentences)."""
    pieces: list[Piece] = []
    offset = 0  # where the current sentence starts in the snippet
    for n, (start, end) in enumerate(hit.highlights):
        if n:
            pieces.append(Piece(SNIPPET_JOINER, False))
            offset += len(SNIPPET_JOINER)
        cursor = start
        for t_start, t_end in hit.term_highlights:
            if start <= t_start and t_end <= end and t_start >= cursor:
                pieces.append(Piece(hit.snippet[offset + cursor - start : offset + t_start - start], False))
                pieces.append(Piece(hit.snippet[offset + t_start - start : offset + t_end - start], True))
                cursor = t_end
        pieces.append(Piece(hit.snippet[offset + cursor - start : offset + end - start], False))
        offset += end - start
    return pieces or [Piece(hit.snippet, False)]


templates.env.globals["hit_pieces"] = snippet_pieces


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
    mode: Annotated[str, Query(max_length=10)] = "hybrid",
    outlet: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    answer: Annotated[bool, Query()] = False,
    stream: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """The search box with filters; with ?q= also the brief, its sources and the results.

    With answer=true (and a writer configured) the page also shows the model's checked answer: rendered
    here when the browser runs no script, or streamed by answer.js from /api/answer/stream (stream=true).
    """
    outlets = [o for o in outlet if o]
    writer = LLMConfig.from_settings(engine.settings)
    context: dict = {"q": q or "", "k": k, "mode": mode if mode in MODES else "hybrid", "modes": MODES,
                     "outlet": outlets, "since": since, "until": until, "outlets": [], "response": None,
                     "error": None, "ready": engine.ready, "writer": writer, "answer": answer and writer is not None,
                     "checked": None, "answer_stream": None}
    if context["ready"]:
        context["outlets"] = [name for name, _ in engine.index.outlets()]
    if q is not None and context["ready"]:
        try:
            filters = Filters(outlets=tuple(outlets), since=since or None, until=until or None)
        except ValueError as exc:
            context["error"] = str(exc)
        else:
            try:
                if context["answer"] and not stream:
                    result = engine.answer(q, k=k, mode=context["mode"], filters=filters)
                    context["response"], context["checked"] = result.search, result.answer
                else:
                    context["response"] = engine.search(q, k=k, mode=context["mode"], filters=filters)
            except QueryError as exc:
                context["error"] = str(exc)
            if context["answer"] and stream and context["response"]:
                params = [("q", q), ("k", k), ("mode", context["mode"])] + [("outlet", o) for o in outlets]
                params += [(name, value) for name, value in (("since", since), ("until", until)) if value]
                context["answer_stream"] = "/api/answer/stream?" + urlencode(params)
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
