"""The small typed records every pipeline stage passes on."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from .text import checked_day, day_number


def error_body(code: str, message: str, field: str | None = None) -> dict:
    """The one error shape of every JSON answer and agent tool: {"error": {"code", "message", "field"}}."""
    return {"error": {"code": code, "message": message, "field": field}}


class Refusal(Exception):
    """A request refused, with what answers it: the HTTP status, an error code, a message and the field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def body(self) -> dict:
        """The refusal in the one error shape."""
        return error_body(self.code, self.message, self.field)


def about(description: str) -> dict[str, str]:
    """A dataclass field's metadata holding its description, which pydantic reads into the API's OpenAPI schema."""
    return {"description": description}


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    """A dataclass's field names (None for any other class), found once per class."""
    if cls not in _FIELD_NAMES:
        _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls)) if is_dataclass(cls) else None
    return _FIELD_NAMES[cls]


_SCALARS = frozenset((str, int, float, bool, type(None)))


def plain(value: object) -> Any:
    """A JSON-ready copy: dataclasses become dicts, tuples lists (asdict's deep copies cost ms per response)."""
    # No call per scalar (an exact type test instead): a response holds hundreds of values, and a call with
    # isinstance tests for each one was the larger part of encoding it.
    kind = type(value)
    if kind in _SCALARS:
        return value
    if isinstance(value, list | tuple):
        return [v if type(v) in _SCALARS else plain(v) for v in value]
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else plain(v) for k, v in value.items()}
    names = _field_names(kind)
    if names is None:
        return value
    return {name: v if type(v := getattr(value, name)) in _SCALARS else plain(v) for name in names}


def article_id_for(title: str, text: str) -> str:
    """A stable id derived from content, so the same story text always gets the same id."""
    digest = hashlib.sha256(f"{title.strip()}\n{text.strip()}".encode()).hexdigest()
    return digest[:16]


@dataclass(frozen=True, slots=True)
class Filters:
    """Metadata conditions applied inside both legs; empty means no condition."""

    outlets: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None

    def __post_init__(self) -> None:
        # An empty value (a form's blank "outlet=") is no condition, however the filter came in.
        object.__setattr__(self, "outlets", tuple(o for o in self.outlets if o))
        object.__setattr__(self, "places", tuple(p for p in self.places if p))
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                checked_day(name, value)

    @property
    def active(self) -> bool:
        """True when any condition is set."""
        return bool(self.outlets or self.places or self.since or self.until)

    def day_range(self) -> tuple[int, int] | None:
        """since/until as YYYYMMDD integers (0 and 99999999 when open), or None when no date condition is set."""
        if not (self.since or self.until):
            return None
        return (day_number(self.since), day_number(self.until) if self.until else 99_999_999)


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character range [start, end) into an article's text."""

    start: int
    end: int


@dataclass(slots=True)
class Article:
    """One cleaned news article, the unit that ids, citations and results refer to."""

    id: str
    title: str
    text: str
    source_path: str
    outlet: str | None = None
    published: str | None = None
    url: str | None = None
    place: str | None = None
    extracted_from: str | None = None
    duplicate_paths: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, title: str, text: str, source_path: str, **meta: Any) -> Article:
        """Build an article whose id is derived from its title and text."""
        return cls(id=article_id_for(title, text), title=title, text=text, source_path=source_path, **meta)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A run of whole sentences of one article, the unit that is embedded and searched."""

    article_id: str
    ordinal: int
    start: int
    end: int
    first_sentence: int
    last_sentence: int


@dataclass(frozen=True, slots=True)
class Skipped:
    """A source (file, line or item) that a build passed over, and why."""

    source: str
    reason: str


@dataclass(slots=True)
class Hit:
    """One article in a result list, with its best-matching sentences."""

    article_id: str
    title: str
    outlet: str | None
    published: str | None = field(metadata=about("YYYY-MM-DD, or --MM-DD when the year is unknown"))
    url: str | None
    score: float = field(metadata=about("Fused rank score (hybrid/lexical) or cosine (dense); higher is better"))
    snippet: str
    highlights: list[tuple[int, int]] = field(
        metadata=about("[start, end] spans of the article text shown in the snippet")
    )
    term_highlights: list[tuple[int, int]] = field(
        default_factory=list, metadata=about("[start, end] spans of query terms and phrases matched in the snippet")
    )
    story_id: str | None = field(default=None, metadata=about("Articles telling the same story share it"))
    also_reported_by: list[AlsoReported] = field(
        default_factory=list, metadata=about("The same story from other articles, collapsed into this result")
    )


@dataclass(frozen=True, slots=True)
class AlsoReported:
    """Another outlet's article of the same story as a hit."""

    article_id: str
    outlet: str | None
    title: str
    published: str | None


@dataclass(frozen=True, slots=True)
class Citation:
    """An exact span of a source article: text[start:end] is the quoted sentence."""

    n: int = field(metadata=about("Number of the source in the brief's `sources`"))
    article_id: str
    start: int
    end: int


@dataclass(slots=True)
class BriefSentence:
    """A verbatim sentence of the brief, where it is quoted from, and who else reports the fact.

    Every citation's span holds exactly ``text``; a corroboration points at another outlet's own
    sentence stating the same fact in other words.
    """

    text: str
    citations: list[Citation] = field(
        metadata=about("Spans whose text is exactly this sentence, the earliest published first")
    )
    corroborations: list[Citation] = field(
        default_factory=list,
        metadata=about("Other outlets' own sentences stating the same fact, the earliest published first"),
    )
    outlets: int = field(default=1, metadata=about("Named outlets among the citations and corroborations (at least 1)"))
    independent: int = field(
        default=1,
        metadata=about(
            "Of those outlets, how many report in their own words (a copy of another outlet's text is not independent)"
        ),
    )
    copies: list[CopyNote] = field(
        default_factory=list,
        metadata=about(
            "Citations and corroborations whose text is a word-for-word or near-duplicate copy of an earlier outlet's"
        ),
    )
    discrepancies: list[Discrepancy] = field(
        default_factory=list,
        metadata=about(
            "Another outlet's sentence stating this fact with a different number, name or date, side by side"
        ),
    )


@dataclass(frozen=True, slots=True)
class Quote:
    """One sentence of one article, shown as it stands: the article's text[start:end] is exactly `text`."""

    article_id: str
    start: int
    end: int
    text: str
    outlet: str | None
    published: str | None
    title: str


@dataclass(frozen=True, slots=True)
class CopyNote:
    """A source whose sentence copies another outlet's (the original is the earlier one)."""

    n: int = field(metadata=about("Number of the copying source in the brief's `sources`"))
    original: int = field(metadata=about("Number of the source it copies"))


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """Two outlets' sentences stating the same fact with a different figure, name or date."""

    kind: str = field(metadata=about("figure, name or date: what differs"))
    first: Quote = field(metadata=about("The earlier report (by publication date)"))
    second: Quote = field(metadata=about("The later (or undated) report"))
    differs: tuple[str, str] = field(metadata=about("What the first says and what the second says instead"))


@dataclass(slots=True)
class Source:
    """A numbered entry of the brief's source list."""

    n: int
    article_id: str
    title: str
    outlet: str | None
    published: str | None
    url: str | None


@dataclass(slots=True)
class Brief:
    """The query-focused extractive brief; empty sentences with a reason (`abstained`) means it abstained."""

    sentences: list[BriefSentence] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    abstained: str | None = None


@dataclass(frozen=True, slots=True)
class NewSince:
    """How a "new since" brief was made: only articles dated on or after `day`, minus facts reported earlier."""

    day: str = field(metadata=about("YYYY-MM-DD: articles dated on or after it count as new"))
    earlier_articles: int = field(
        metadata=about(
            "Earlier (or undated) articles among the question's candidates and the new articles' stories "
            "compared against"
        )
    )
    left_out: int = field(metadata=about("New sentences left out because an earlier article had reported their fact"))


@dataclass(slots=True)
class SearchResponse:
    """Everything one question returns: ranked hits and the brief."""

    query: str
    took_ms: float
    results: list[Hit]
    summary: Brief | None
    timings: dict[str, float] | None = field(
        default=None, metadata=about("With debug=true: milliseconds spent in embed, retrieve, brief and serialize")
    )
    new_since: NewSince | None = field(
        default=None, metadata=about("With new_since: the day counted from and what the brief was compared against")
    )

    def to_dict(self) -> dict:
        """The JSON shape shared by the API and the CLI's --json (timings only when asked for)."""
        out = plain(self)
        out["took_ms"] = round(self.took_ms, 2)
        if self.timings is None:
            del out["timings"]
        else:
            out["timings"] = {stage: round(ms, 2) for stage, ms in self.timings.items()}
        if self.new_since is None:  # present only when asked for, like timings
            del out["new_since"]
        for hit in out["results"]:  # JSON has no NaN: a damaged vector must not fail the whole response
            hit["score"] = round(hit["score"], 4) if math.isfinite(hit["score"]) else 0.0
        return out


@dataclass(frozen=True, slots=True)
class StoryArticle:
    """An article of a story, in date order, and whose text it copies if it is a near-duplicate of an earlier one."""

    article_id: str
    title: str
    outlet: str | None
    published: str | None
    url: str | None
    copy_of: str | None = field(default=None, metadata=about("The earlier article whose text this one copies"))


@dataclass(slots=True)
class Development:
    """A fact of a story, quoted from the article that reported it first, with who carried it later."""

    first: Quote
    later: list[Quote] = field(default_factory=list, metadata=about("Later articles' sentences stating the fact"))
    copied: list[str] = field(
        default_factory=list, metadata=about("Ids of the later articles whose sentence is a copy of the first's text")
    )


@dataclass(frozen=True, slots=True)
class RelatedStory:
    """Another story close in subject but outside the story window (a follow-up, an earlier episode)."""

    story_id: str
    title: str
    outlet: str | None
    published: str | None
    similarity: float


@dataclass(slots=True)
class StoryTimeline:
    """One story: its articles by date, its developments in date order, where outlets disagree, related stories."""

    story_id: str
    title: str
    articles: list[StoryArticle]
    developments: list[Development]
    discrepancies: list[Discrepancy]
    related: list[RelatedStory]

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return plain(self)


@dataclass(slots=True)
class BuildReport:
    """What a build did: counts, skipped sources with reasons, time taken."""

    index_dir: str
    version: str
    articles: int = 0
    chunks: int = 0
    sentences: int = 0
    stories: int = 0
    duplicates: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded_texts: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    published: bool = True  # False: the served version was made from the same inputs, and still serves
    # The articles new or edited against the version served before, with their published dates, for the saved
    # questions; not reported (a first build's would list the whole archive).
    arrivals: dict[str, str | None] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        """JSON-ready form of the report."""
        return {f.name: plain(getattr(self, f.name)) for f in fields(self) if f.name != "arrivals"}


@dataclass(frozen=True, slots=True)
class Place:
    """Where a quoted sentence sits in its article: its number among the article's sentences, and of how many."""

    sentence: int
    of: int
