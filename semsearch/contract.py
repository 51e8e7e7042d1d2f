"""The search request, stated once: every field's bound, default and description.

The JSON API (GET parameters and POST bodies), the search page's query string and the CLI's `search` and
`ask` options are all read into these models, and `SearchRequest.filters` is the one place a request
becomes the engine's Filters record. The service trusts what it is handed: a request that exists is valid.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import cache
from typing import Annotated, Literal, get_origin

import annotated_types
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from .records import Filters
from .text import is_written_day, one_line

# Retrieval modes, stated here so a client of the contract need not import the retrieval code.
Mode = Literal["hybrid", "dense", "lexical"]
MAX_QUERY_CHARS = 1000
MAX_OFFSET = 500


def clean_question(q: str) -> str:
    """The question on one line; an error when nothing is left of it, or no word (emoji and punctuation alone
    match every article alike, so their answers would be noise)."""
    cleaned = one_line(q)
    if not cleaned:
        raise PydanticCustomError("empty_question", "the question is empty: type a few words")
    if not any(c.isalnum() for c in cleaned):
        raise PydanticCustomError("no_words", "the question has no words, only symbols: type a few words")
    return cleaned


Question = Annotated[str, Field(max_length=MAX_QUERY_CHARS), AfterValidator(clean_question)]


def not_a_flag(value: object) -> object:
    """A value unless it is true or false, which pydantic would otherwise read as the numbers 1 and 0."""
    if isinstance(value, bool):
        raise PydanticCustomError("flag_for_number", "a number is wanted here, not true or false")
    return value


def a_day(value: object) -> object:
    """A day as written YYYY-MM-DD (a number or "20250301" would be read as seconds since 1970); a blank one
    (a form's empty box, "since=") is not given, as a blank outlet or place is no condition."""
    if isinstance(value, str):
        value = value.strip()
        if not value or is_written_day(value):
            return value or None
    elif not isinstance(value, int | float):
        return value  # a date already
    raise PydanticCustomError("day_format", "a day is written YYYY-MM-DD, such as 2025-03-04")


def trimmed(values: object) -> object:
    """Names with their blanks as a name has them ("  Harbor  Ledger " is Harbor Ledger); a JSON null is no
    name, as a blank one is."""
    if values is None:
        return []
    return (
        [" ".join(v.split()) if isinstance(v, str) else v for v in values]
        if isinstance(values, list | tuple)
        else values
    )


Whole = Annotated[int, BeforeValidator(not_a_flag)]
Fraction = Annotated[float, BeforeValidator(not_a_flag)]
Day = Annotated[date | None, BeforeValidator(a_day)]
Names = Annotated[list[str], BeforeValidator(trimmed)]


class SearchRequest(BaseModel):
    """A question, how many articles to return, the filters, and what to compute besides the ranking."""

    q: Question = Field(description="The question or keywords")
    k: Whole = Field(10, ge=1, le=100, description="How many articles to return")
    mode: Mode = Field(
        "hybrid", description="hybrid: meaning and words; dense: meaning only (vectors); lexical: words only (BM25)"
    )
    summary: bool = Field(True, description="Also compute the brief")
    words: Whole | None = Field(
        None, ge=20, le=400, description="Word budget of the brief (default: SEMSEARCH_BRIEF_WORDS)"
    )
    sources: Whole | None = Field(None, ge=1, le=50, description="Most articles the brief draws on (default: no limit)")
    outlet: Names = Field(default_factory=list, description="Only these outlets, any case (repeat for several)")
    place: Names = Field(default_factory=list, description="Only these datelined places (repeat for several)")
    since: Day = Field(None, description="Published on or after this day (YYYY-MM-DD)")
    until: Day = Field(None, description="Published on or before this day (YYYY-MM-DD)")
    new_since: Day = Field(
        None,
        description="What is new since this day (YYYY-MM-DD): results and brief only from articles dated on "
        "or after it, leaving out facts an earlier or undated article had already reported",
    )
    recency: Fraction = Field(
        0.0,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="Preference for newer articles: 0 ignores dates, 1 ranks by date alone",
    )
    offset: Whole = Field(0, ge=0, le=MAX_OFFSET, description="Skip this many results first (paging)")
    debug: bool = Field(False, description="Add per-stage `timings` in milliseconds")

    @field_validator("until")
    @classmethod
    def _not_before_since(cls, until: date | None, info: ValidationInfo) -> date | None:
        """A range that ends before it starts is a mistake to name, not a question with no answer."""
        since = info.data.get("since")
        if until is not None and since is not None and until < since:
            raise PydanticCustomError(
                "range", "the last day ({until}) is before the first ({since})", {"until": until, "since": since}
            )
        return until

    def filters(self) -> Filters:
        """The engine's metadata conditions; Filters itself drops a blank outlet or place (a form's empty choice)."""
        return Filters(
            outlets=tuple(self.outlet), places=tuple(self.place), since=_day(self.since), until=_day(self.until)
        )

    @classmethod
    def form_values(cls, pairs: Iterable[tuple[str, str]]) -> dict[str, str | list[str]]:
        """What an HTML form sent for each field: a blank box means the default, so it is left out, and a list
        field's name repeats. Names that are not fields (a page's own switches) are left to the page."""
        values: dict[str, str | list[str]] = {}
        for name, value in pairs:
            info = cls.model_fields.get(name)
            if info is None or value == "":
                continue
            if get_origin(info.annotation) is list:
                values.setdefault(name, []).append(value)  # type: ignore[union-attr]
            else:
                values[name] = value
        return values

    @classmethod
    @cache
    def limits(cls) -> dict[str, dict[str, float]]:
        """Each bounded field's bounds as HTML input attributes (min, max, maxlength), for the search form."""
        found = {name: bounds(info) for name, info in cls.model_fields.items()}
        return {name: attributes for name, attributes in found.items() if attributes}


class AnswerRequest(SearchRequest):
    """A question for the writer model: the search's fields, with the brief always made (it is the evidence)."""

    summary: Literal[True] = Field(True, description="Always true: the brief is the evidence the answer cites")
    debug: bool = Field(
        False,
        description="Add per-stage `timings`, and list every answer sentence with its check, not only the kept ones",
    )


def problems(error: ValidationError) -> list[tuple[str, str]]:
    """Each problem of a request as (field, message), the message in words meant for whoever sent it."""
    return [
        (str(e["loc"][0]) if e["loc"] else "", _worded(e["type"], e["msg"], e.get("ctx") or {})) for e in error.errors()
    ]


# Pydantic's words for a day that is no day ("Input should be a valid date or datetime, day value is outside
# expected range") and a text too long, said as a reader would.
_NO_DAY = {"date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact", "date_type"}


def _worded(kind: str, message: str, context: dict) -> str:
    """A validation message in the contract's own words where pydantic's are a parser's."""
    if kind in _NO_DAY:
        return "not a day of the calendar: a day is written YYYY-MM-DD, such as 2025-03-04"
    if kind == "string_too_long":
        return f"too long: at most {context['max_length']:,} characters"
    return message


def bounds(info: FieldInfo) -> dict[str, float]:
    """A field's bounds by their HTML attribute names: min, max, maxlength (none when it has none)."""
    found: dict[str, float] = {}
    for rule in info.metadata:
        if isinstance(rule, annotated_types.Ge):
            found["min"] = rule.ge  # type: ignore[assignment]
        elif isinstance(rule, annotated_types.Le):
            found["max"] = rule.le  # type: ignore[assignment]
        elif isinstance(rule, annotated_types.MaxLen):
            found["maxlength"] = rule.max_length
    return found


def _day(value: date | None) -> str | None:
    """A day as Filters holds it (YYYY-MM-DD), or None."""
    return value.isoformat() if value else None
