"""Server-rendered HTML pages: the search page with the brief, and the article view."""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Annotated, get_args
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from ..answer import LLMConfig
from ..contract import MAX_OFFSET, AnswerRequest, Mode, SearchRequest, problems
from ..records import Brief, BriefSentence, Hit, SearchResponse, Source
from ..retrieval import SNIPPET_JOINER
from ..service import SearchService
from ..source_health import summary
from ..text import day_parts, one_line
from .api import ServiceDep

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


def readable_date(value: str | None) -> str:
    """ "2025-03-04" → "4 Mar 2025"; a day without a year ("--03-04") → "4 Mar"."""
    parts = day_parts(value)
    if parts is None:
        return value or ""
    year, month, day = parts
    return f"{day} {calendar.month_abbr[month]}" + (f" {year}" if year else "")


templates.env.filters["date"] = readable_date


def month_label(value: str) -> str:
    """ "2026-11" → "Nov ’26": a month bar's label, which "26-11" made read like a day."""
    match = re.fullmatch(r"\d\d(\d\d)-(\d\d)", value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        return value
    return f"{calendar.month_abbr[int(match.group(2))]} ’{match.group(1)}"


templates.env.filters["month"] = month_label


def web_link(url: str | None) -> str | None:
    """The url when it is an http(s) address, else None: a source's javascript: or data: url is never a link."""
    try:
        return url if url and urlsplit(url.strip()).scheme.lower() in ("http", "https") else None
    except ValueError:  # not a url at all (an unclosed IPv6 bracket)
        return None


templates.env.filters["web_link"] = web_link


# Date presets of the Refine panel: a radio button the server turns into `since`, so they work without script
# and a bookmarked "past week" stays the past week.
PRESETS: dict[str, int] = {"week": 7, "month": 31, "year": 366}
# Brief lengths as a reader names them, sent as the contract's `words` itself (nothing to translate back).
LENGTHS: dict[str, int] = {"short": 40, "medium": 120, "long": 250}
ALSO_SHOWN = 3  # outlets of "also reported by" listed before "and N more"


def apply_preset(sent: dict, when: str | None, today: date) -> str:
    """Set `since` (and clear `until`) from a date preset; the preset that ends up selected in the form.

    A custom range, or none, leaves the typed dates alone: "custom" is what a typed date means.
    """
    if when in PRESETS:
        sent["since"] = (today - timedelta(days=PRESETS[when])).isoformat()
        sent.pop("until", None)
        return when
    return "custom" if sent.get("since") or sent.get("until") else "any"


@dataclass(slots=True)
class Length:
    """One brief-length choice of the form: its label and the `words` value it sends."""

    name: str
    words: int
    checked: bool


def lengths(words: str | None, default: int) -> list[Length]:
    """The brief-length radios; a `words` value that is none of them (from a link or the API) gets its own."""
    chosen = int(words) if words and str(words).isdigit() else default
    choices = [Length(name, n, n == chosen) for name, n in LENGTHS.items()]
    if not any(c.checked for c in choices):
        choices.append(Length(f"{chosen} words", chosen, True))
    return choices


def refine_summary(context: dict) -> list[str]:
    """What the Refine panel has set, in words, for its closed summary line (empty when nothing is)."""
    said: list[str] = []
    if context["outlet"]:
        shown = ", ".join(context["outlet"][:2])
        more = len(context["outlet"]) - 2
        said.append(shown + (f" and {more} more" if more > 0 else ""))
    if context["place"]:
        said.append("in " + ", ".join(context["place"]))
    when = context["when"]
    if when in PRESETS:
        said.append(f"past {when}")
    elif context.get("since") or context.get("until"):
        since, until = readable_date(context.get("since")), readable_date(context.get("until"))
        said.append(f"{since or '…'} – {until or 'now'}")
    if context.get("new_since"):
        said.append(f"new since {readable_date(str(context['new_since']))}")
    chosen = next((c for c in context["lengths"] if c.checked), None)
    if chosen and context.get("words"):
        said.append(f"{chosen.name} brief")
    if context.get("sources"):
        said.append(f"from at most {context['sources']} articles")
    if context.get("mode", "hybrid") != "hybrid":
        said.append(f"{context['mode']} mode")
    return said


# A wire dateline opening a sentence ("WASHINGTON _ ", "NEW YORK, March 3 (AP) -- "): muted on display only,
# since the citation's span is the whole sentence. Place words must be all capitals, so an ordinary opening
# ("Officials said: ...") is never taken for one.
_DATELINE = re.compile(
    r"^[A-Z][A-Z.'\-]+(?: [A-Z][A-Z.'\-]+){0,3}"
    r"(?:,? (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}(?:,? \d{4})?)?"
    r"(?: ?\([^()]{2,40}\))? ?(?:_|--?|—|–|:) (?=\S)"
)


@dataclass(slots=True)
class Line:
    """One sentence of the brief as shown: its dateline (muted) and the rest; together exactly the quote."""

    dateline: str
    rest: str
    sentence: BriefSentence
    outlets: int


@dataclass(slots=True)
class Block:
    """Consecutive brief sentences drawn from one source story, shown as one paragraph."""

    source: Source | None
    lines: list[Line] = field(default_factory=list)


def brief_blocks(brief: Brief) -> list[Block]:
    """The brief's sentences grouped by the source their first citation quotes, in the brief's own order."""
    by_n = {src.n: src for src in brief.sources}
    blocks: list[Block] = []
    for sentence in brief.sentences:
        source = by_n.get(sentence.citations[0].n) if sentence.citations else None
        if not blocks or blocks[-1].source is not source:
            blocks.append(Block(source))
        match = _DATELINE.match(sentence.text)
        cut = match.end() if match else 0
        outlets = len({c.article_id for c in sentence.citations + sentence.corroborations})
        blocks[-1].lines.append(Line(sentence.text[:cut], sentence.text[cut:], sentence, outlets))
    return blocks


templates.env.globals["brief_blocks"] = brief_blocks
templates.env.globals["ALSO_SHOWN"] = ALSO_SHOWN


@dataclass(slots=True)
class Bar:
    """One bar of a coverage chart: its label, count, size as a share of the largest, and filter link."""

    label: str
    count: int
    share: float
    href: str


def url_with(request: Request, **changes: str | list[str] | None) -> str:
    """This page's URL with some parameters replaced (None removes one), so every view can be bookmarked."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes and k != "offset"]
    for key, value in changes.items():
        if isinstance(value, list):
            params.extend((key, v) for v in value)
        elif value is not None:
            params.append((key, value))
    return "/?" + urlencode(params)


def coverage(request: Request, response: SearchResponse) -> dict[str, list[Bar]]:
    """Articles behind the results by month and by outlet (stories counted with all their outlets)."""
    items = [(h.outlet, h.published) for h in response.results]
    items += [(o.outlet, o.published) for h in response.results for o in h.also_reported_by]
    months = Counter(p[:7] for _, p in items if p and p[:4].isdigit())
    outlets = Counter(o for o, _ in items if o)
    top_month, top_outlet = max(months.values(), default=1), max(outlets.values(), default=1)
    return {
        "months": [
            Bar(m, n, n / top_month, url_with(request, since=f"{m}-01", until=f"{m}-{_last_day(m):02d}", when=None))
            for m, n in sorted(months.items())
        ],
        "outlets": [Bar(o, n, n / top_outlet, url_with(request, outlet=[o])) for o, n in outlets.most_common()],
    }


def _last_day(month: str) -> int:
    """Days in a YYYY-MM month."""
    year, mon = int(month[:4]), int(month[5:7])
    return calendar.monthrange(year, mon)[1]


def time_ago(iso: str, now: datetime) -> str:
    """How long before now an ISO time was, in the largest whole unit: "just now", "14 min ago", "3 days ago"."""
    seconds = (now - datetime.fromisoformat(iso)).total_seconds()
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if unit == 'day' and n > 1 else ''} ago"
    return "just now"


def sources_line(service: SearchService, now: datetime) -> dict | None:
    """What the page's status line says of the sources: how many, when last read, how many flagged."""
    found = summary(service.source_statuses())
    if not found.total or found.updated is None:
        return None
    return {"found": found, "ago": time_ago(found.updated, now)}


# The form's own words for the request fields it sends: a reader sees "From", not "since". The question's
# error stands under its box, so it needs no name.
_FORM_LABELS = {
    "q": "",
    "since": "From",
    "until": "To",
    "new_since": "New since",
    "words": "Exact brief length",
    "sources": "Brief draws on at most",
    "mode": "Matching",
    "outlet": "Outlets",
}


def _shown_problem(name: str, message: str) -> str:
    """One request problem as the page words it."""
    label = _FORM_LABELS.get(name, name)
    return f"{label}: {message}" if label else message[:1].upper() + message[1:]


def as_listed(ticked: list[str], listed: list[tuple[str, int]]) -> list[str]:
    """Ticked names as the list spells them ("port alder" is the listed "Port Alder"), each once, as the search
    reads them (case aside)."""
    spelled = {name.casefold(): name for name, _ in listed}
    return list(dict.fromkeys(spelled.get(t.casefold(), t) for t in ticked))


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """A friendly error page; details stay in the log."""
    return templates.TemplateResponse(request, "error.html", {"status": status, "message": message}, status_code=status)


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    service: ServiceDep,
    answer: Annotated[bool, Query()] = False,
    stream: Annotated[bool, Query()] = False,
    when: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """The search box with filters; with ?q= also the brief, its sources and the results.

    The rest of the query string is a SearchRequest, read as a form sends it (a blank box means the default).
    `when` (week, month, year) is a date preset that sets `since` from today.
    With answer=true (and a writer configured) the page also shows the model's checked answer: rendered
    here when the browser runs no script, or streamed by answer.js from /api/answer/stream (stream=true).
    """
    sent = SearchRequest.form_values(request.query_params.multi_items())
    if "q" in request.query_params:
        sent.setdefault("q", "")  # a blank box is still a question asked: it gets the empty question's message
    when = apply_preset(sent, when, date.today())
    writer = LLMConfig.from_settings(service.settings)
    answering = answer and writer is not None
    # The form shows what was sent, so a rejected value stays in its box beside the error.
    context: dict = {
        "q": "",
        "outlet": [],
        "place": [],
        **sent,
        "modes": get_args(Mode),
        "limits": SearchRequest.limits(),
        "outlets": [],
        "places": [],
        "response": None,
        "error": None,
        "ready": service.ready,
        "writer": writer,
        "answer": answering,
        "checked": None,
        "answer_stream": None,
        "offset": 0,
        "examples": [],
        "coverage": None,
        "more": None,
        "back": None,
        # The page's question and filters for the export links, a date preset as the dates it stands for.
        "export_query": urlencode({k: v for k, v in sent.items() if v}, doseq=True),
        "when": when,
        "presets": list(PRESETS),
        "lengths": lengths(_single(sent.get("words")), service.settings.brief_words),
        # What app.js leaves out of a search's address when the reader keeps it: the defaults in force.
        "form_defaults": {
            "mode": SearchRequest.model_fields["mode"].default,
            "words": str(service.settings.brief_words),
        },
    }
    context["sources_line"] = sources_line(service, datetime.now(UTC))
    if context["ready"] and "q" not in request.query_params:
        context["outlets"] = service.outlets()
        context["places"] = service.dateline_places()
        context["examples"] = service.examples()
    if "q" in request.query_params:
        try:
            asked = (AnswerRequest if answering else SearchRequest).model_validate(sent)
        except ValidationError as exc:
            context["error"] = "; ".join(_shown_problem(name, message) for name, message in problems(exc))
            asked = None
        # Shown back in its box and the title as it was read: no control characters.
        context["q"] = asked.q if asked else one_line(str(context["q"]))
        if context["ready"]:
            # Counted within the page's other filters, so a number is what ticking its box can find.
            kept = service.search_filters(asked) if asked else None
            context["outlets"] = service.outlets(kept)
            context["places"] = service.dateline_places(kept)
            if asked:
                _answer_page(request, service, asked, stream, context)
    context["outlet"] = as_listed(context["outlet"], context["outlets"])
    context["place"] = as_listed(context["place"], context["places"])
    context["refined"] = refine_summary(context)
    status = 422 if context["error"] else 200
    return templates.TemplateResponse(request, "search.html", context, status_code=status)


def _answer_page(request: Request, service: SearchService, asked: SearchRequest, stream: bool, context: dict) -> None:
    """Run the page's search (or answer) and fill in its results, coverage, paging and answer stream."""
    if isinstance(asked, AnswerRequest) and not stream:
        result = service.answer(asked)
        response, context["checked"] = result.search, result.answer
    else:
        response = service.search(asked)
    context["response"], context["offset"] = response, asked.offset
    context["coverage"] = coverage(request, response)
    if not response.results and (asked.since or asked.until or asked.new_since):
        # Presets count back from today; an archive of past years holds nothing in "the past week".
        stats = service.stats()
        context["archive_dates"] = (stats["published_from"], stats["published_until"])
    if len(response.results) == asked.k and asked.offset + asked.k <= MAX_OFFSET:
        context["more"] = url_with(request, offset=str(asked.offset + asked.k))
    if asked.offset:
        context["back"] = url_with(request, offset=str(asked.offset - asked.k) if asked.offset > asked.k else None)
    if isinstance(asked, AnswerRequest) and stream:
        # The streamed answer must draw on the brief this page shows: every setting the page used.
        given = asked.model_dump(mode="json", exclude_defaults=True)
        context["answer_stream"] = "/api/answer/stream?" + urlencode(given, doseq=True)


_LINE = re.compile(r"[^\n]+")


def segments(
    text: str, spans: Iterable[tuple[int, int]], marked: set[tuple[int, int]], start: int = 0, end: int | None = None
) -> list[list[Segment]]:
    """The lines of text[start:end] as paragraphs of segments, every sentence addressable by its start offset.

    Lines and spans (sorted by start) are merged in one pass, so the work grows with lines + spans; a
    span that crosses a line break is shown as plain text.
    """
    paragraphs: list[list[Segment]] = []
    pending = iter(spans)
    span = next(pending, None)
    for match in _LINE.finditer(text, start, len(text) if end is None else end):
        p_start, p_end = match.span()
        pieces, cursor = [], p_start
        while span is not None and span[0] <= p_end:
            s_start, s_end = span
            if s_start >= p_start and s_end <= p_end:
                if s_start > cursor:
                    pieces.append(Segment(text[cursor:s_start], cursor, s_start, False, False))
                pieces.append(Segment(text[s_start:s_end], s_start, s_end, True, span in marked))
                cursor = s_end
            span = next(pending, None)
        if cursor < p_end:
            pieces.append(Segment(text[cursor:p_end], cursor, p_end, False, False))
        paragraphs.append(pieces)
    return paragraphs


@dataclass(slots=True)
class Part:
    """The slice of a long article one page shows: whole lines from `start` to `end`, part `n` of `count`."""

    n: int
    count: int
    start: int
    end: int


def _line_start_from(text: str, offset: int) -> int:
    """The first line start at or after offset (the text's length when there is none)."""
    if offset <= 0:
        return 0
    if offset >= len(text) or text[offset - 1] == "\n":
        return min(offset, len(text))
    found = text.find("\n", offset)
    return len(text) if found < 0 else found + 1


def article_part(text: str, size: int, part: int | None, anchor: int | None) -> Part:
    """The part to show: the one asked for, else the one holding the anchor's line, else the first.

    Part n holds the lines that start in [n * size, (n + 1) * size), so a page never cuts a line.
    """
    count = max(1, -(-len(text) // size))
    if part is None and anchor is not None:
        part = (text.rfind("\n", 0, min(anchor, len(text))) + 1) // size
    n = min(part or 0, count - 1)
    return Part(n, count, _line_start_from(text, n * size), _line_start_from(text, (n + 1) * size))


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(
    request: Request,
    service: ServiceDep,
    article_id: str,
    hl: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    part: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> HTMLResponse:
    """One article, with the cited sentence highlighted and scrolled to by its anchor; a long one in parts."""
    view = service.article(article_id)
    if view is None:
        return error_page(request, 404, "There is no article with that id in this index.")
    if view.previous_id:  # the highlights name places in the text as it was before the edit
        hl = []
    marked = {(int(m.group(1)), int(m.group(2))) for m in map(_HL.match, hl) if m}
    anchor = min(marked)[0] if marked else None
    shown = article_part(view.text, service.settings.article_part_chars, None if part is None else part - 1, anchor)
    spans = view.sentences[bisect_left(view.sentences, (shown.start,)) :]
    paragraphs = segments(view.text, spans, marked, shown.start, shown.end)
    return templates.TemplateResponse(
        request,
        "article.html",
        {
            "article": view.meta,
            "edited": view.previous_id is not None,
            "paragraphs": paragraphs,
            "same_story": view.same_story,
            "part": shown,
            "hl": [("hl", h) for h in hl if _HL.match(h)],
        },
    )


@router.get("/stories/{story_id}", response_class=HTMLResponse)
def story_page(request: Request, service: ServiceDep, story_id: str) -> HTMLResponse:
    """A story over time: articles by date, developments with who reported them first, disagreements, follow-ups."""
    timeline = service.story(story_id)
    if timeline is None:
        return error_page(request, 404, "There is no story with that id in this index.")
    return templates.TemplateResponse(request, "story.html", {"story": timeline})


def _single(value: str | list[str] | None) -> str | None:
    """A form field that takes one value (a repeated one counts as not given)."""
    return value if isinstance(value, str) else None
