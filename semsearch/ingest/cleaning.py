"""Cleaning of scraped news text: page junk, captions, datelines and related-article rails.

Every rule uses general signals (line shape, corpus-wide repetition, a user-extendable phrase
list), never one site's layout, and the result is the text every offset later refers to.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from importlib import resources
from pathlib import Path

from ..sentences import split_sentences
from ..text import english_date, is_written_day, is_yearless_day
from .boilerplate import CAPITALS, article_lines, headline_lines, is_sentence, word_count

_TERMINAL = ".!?:;\"'”’)…"
_SPACE_RUN = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_RELATIVE_TIME = re.compile(
    r"^(?:(?:an?|\d+)\s+(?:second|sec|minute|min|hour|hr|day|week|month|year)s?\s+ago|yesterday|just now|today)$",
    re.I,
)
_RAIL_HEADING = re.compile(
    r"^(?:related (?:articles|stories|news|content|coverage)|more (?:stories|news|articles)(?: from .*)?|"
    r"you (?:may|might) also like|recommended(?: for you)?|read next|most (?:read|popular|viewed)|"
    r"other (?:stories|news))\W*$",
    re.I,
)
_CREDIT_WORDS = {"pic", "pics", "photo", "photos", "picture", "pictures", "image", "images", "photograph", "file"}
_PAREN = re.compile(r"\(([^()]{1,80})\)")
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DATELINE = re.compile(
    # A place of one letter is an interview's speaker ("Q: …", "A: …"), never a city.
    r"^(?P<place>[A-Z][A-Z.'\-]+(?: [A-Z][A-Z.'\-]*){0,3})"
    # a state: "SAN JOSE, Calif. —", "PORTLAND, Ore., Jan. 5 —"
    r"(?:,\s*(?:[A-Z][a-z]{1,5}\.|[A-Z]\.[A-Z]\.|[A-Z]{2})(?=\s*[(:—–-]|,\s*[A-Z][a-z]{2}))?"
    r"(?:,\s*(?P<date>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}(?:,\s*\d{4})?))?"
    r"\s*(?:\((?P<outlet>[^()]{2,60})\))?\s*(?::|—|–|--?)\s+(?=\S)"
)
_TRAILING_CREDIT = re.compile(r"\s+[-–—]\s+[A-Z][\w.&' ]{1,40}$")
_URL_DATE = re.compile(r"(?:^|/)(20\d\d|19\d\d)[/-](\d{1,2})[/-](\d{1,2})(?:/|$|-|_)")


def _load_phrases(extra_file: Path | None) -> re.Pattern[str]:
    """Compile the packaged junk phrases plus a user's own file into one whole-line pattern."""
    lines = resources.files("semsearch.ingest").joinpath("junk_phrases.txt").read_text("utf-8").splitlines()
    if extra_file is not None:
        lines += Path(extra_file).read_text("utf-8").splitlines()
    patterns = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    return re.compile(r"^\W*(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\W*$", re.I)


@dataclass(slots=True)
class Cleaned:
    """One article's worth of cleaned text and the metadata found while cleaning."""

    title: str
    text: str
    outlet: str | None = None
    published: str | None = None
    place: str | None = None
    extracted_from: str | None = None


@dataclass(slots=True)
class Cleaner:
    """Cleans documents; built once per build so it can learn the corpus's repeated lines."""

    common_lines: set[str] = field(default_factory=set)
    keep_rails: bool = True
    phrases: re.Pattern[str] = field(default_factory=lambda: _load_phrases(None))

    @classmethod
    def for_corpus(cls, bodies: Iterable[str], keep_rails: bool = True, phrases_file: Path | None = None) -> Cleaner:
        """Learn lines that repeat across many documents (site furniture) from raw bodies."""
        df: Counter[str] = Counter()
        n = 0
        for body in bodies:
            n += 1
            df.update({_key(ln) for ln in body.splitlines() if _furniture_sized(ln)})
        threshold = max(5, int(0.05 * n))
        # A number repeated across pages ("0", "2019") is a table cell or a date, not site furniture.
        common = {line for line, count in df.items() if count >= threshold and _has_letter(line)}
        return cls(common_lines=common, keep_rails=keep_rails, phrases=_load_phrases(phrases_file))

    def is_marked_junk(self, line: str, title: str = "") -> bool:
        """Junk by a positive signal: the phrase list, corpus-wide repetition, the title again, a caption."""
        key = _key(line)
        return (
            key in self.common_lines
            or bool(self.phrases.match(line))
            or bool(title and key == _key(title))
            or is_caption_line(line)
        )

    def clean(self, title: str, body: str, source: str) -> list[Cleaned]:
        """Clean one document into its main article and, when it carries a rail, the rail's stories."""
        title = normalize_line(title)
        lines = without_labelled_captions([normalize_line(ln) for ln in normalize_text(body).split("\n")])
        main_lines, rail_lines = split_rail(lines)
        main = self._paragraphs(main_lines, title)
        found = self._masthead(title, main_lines, main, guessed=bool(_GUESSED_TITLE.search(source)))
        if found.title != title:
            title = found.title
            main = self._paragraphs(main_lines, title)
        # The masthead search needs a line of prose to find; a date line above the text dates it all the same.
        found.published = found.published or _opening_date(main_lines, main) or _closing_date(main_lines, main)
        if not title and len(main) > 1 and main[0][-1] not in _TERMINAL:
            title, main = main[0], main[1:]  # an untitled document that opens with its headline
        found.title = title
        main = _without_author_note(_take_dateline(main, found))
        found.text = "\n\n".join(main)
        if not found.text and not _PAGE_SOURCE.search(source):
            # A record whose whole text its headline repeats ("Schools closed.") is still what its export says.
            found.text = "\n\n".join(line for line in main_lines if line)
        if found.text and not found.title:
            found.title = title_from_text(found.text)
        out = [found] if _is_article(found.text, source) else []
        if self.keep_rails:
            for story in parse_rail(rail_lines):
                paragraphs = _take_dateline([strip_leading_caption(p) for p in story.paragraphs], story.cleaned)
                story.cleaned.text = "\n\n".join(p for p in paragraphs if p)
                story.cleaned.extracted_from = source
                if says_something(story.cleaned.text):
                    out.append(story.cleaned)
        return out

    def _masthead(self, title: str, lines: list[str], main: list[str], guessed: bool) -> Cleaned:
        """The headline, byline outlet and date a scrape states above its first sentence of prose.

        A scraped page may open with its menu or its outlet's name ("Home | World | Sport", "Coastal
        Times") where its first line, taken for the title, should be the headline: then the last headline-
        like line above the prose is the title (the one repeating the first line's headline, if one does), and a
        short name the page opened with is its outlet. Only a
        title the reader `guessed` (a text file's first line) is replaced; an export's own title stands.
        """
        # The head: the lines above the first prose, whether cleaning kept them (a page with no other
        # furniture keeps its menu) or not.
        # (A headline long enough to read as prose does not end like a sentence.)
        prose = next((p for p in main if is_prose(p) and p[-1] in _TERMINAL and not _masthead_line(p)), "")
        start = next((i for i, ln in enumerate(lines) if prose and ln and prose.startswith(ln[:40])), 0)
        head = [ln for ln in lines[:start][-_MASTHEAD_LINES:] if ln]
        found = Cleaned(title=title, text="")
        for line in head:  # page furniture by its phrases ("Published ...") still dates the page
            found.published = found.published or _date_line(line) or _byline_date(line)
            credit = _BYLINE.fullmatch(line) or _SOURCE_LINE.fullmatch(line)
            if credit and credit["outlet"]:
                found.outlet = found.outlet or credit["outlet"].strip()
        if guessed and found.outlet is None:
            found.outlet = _outlet_under(title, [ln for ln in lines[:start][:_MASTHEAD_LINES] if ln])
        # A one-word first line is a section's label ("World", "Menu"), not a headline.
        menu = title.count("|") >= 2 or self.is_marked_junk(title) or (bool(title) and len(title.split()) == 1)
        if not guessed or not (menu or _MASTHEAD_NAME.fullmatch(title) or not title):
            return found
        candidates = self._headline_candidates(head, title)
        if candidates:
            if _MASTHEAD_NAME.fullmatch(title):
                found.outlet = found.outlet or title
            # A page title that opens with the headline before its menu names which line it is.
            repeated = headline_lines(candidates, title)
            found.title = candidates[repeated[-1] if repeated else -1]
        return found

    def _headline_candidates(self, head: list[str], title: str) -> list[str]:
        """The lines of a page's head that may be its headline: lines that read as one, and a line of two words
        the page title opens with ("Classificação NASCAR | Autoracing"), which alone would read as a label."""
        named = {head[i] for i in headline_lines(head, title) if len(head[i].split()) >= 2}
        return [
            ln
            for ln in head
            if (_headline_like(ln) or ln in named) and not self.is_marked_junk(ln) and not _masthead_line(ln)
        ]

    def _paragraphs(self, lines: list[str], title: str) -> list[str]:
        """The article's lines as paragraphs: hard-wrapped lines joined first, then page furniture dropped."""
        blocks = unwrap(lines) if is_hard_wrapped(lines) else rejoin([ln for ln in lines if ln])
        # A byline or date line is the article's own metadata: it leaves the text, but as no furniture that
        # ends the article (a byline under a standfirst would cut the paragraphs after it).
        metadata = [_masthead_line(block) or _bare_byline(blocks, i) for i, block in enumerate(blocks)]
        marked = [self.is_marked_junk(block, title) and not meta for block, meta in zip(blocks, metadata, strict=True)]
        keep = article_lines(blocks, marked, title)
        kept = [block for block, k, meta in zip(blocks, keep, metadata, strict=True) if k and not meta]
        return [strip_leading_caption(block) for block in kept]


def _without_author_note(paragraphs: list[str]) -> list[str]:
    """The paragraphs without a note on the writer at their end ("Jonas Prell covers local government. Reach
    him at jp@wire.example or @jprell."): an address or handle and an invitation to write to the writer."""
    end = len(paragraphs)
    while end and len(paragraphs) - end < _NOTE_PARAGRAPHS and _AUTHOR_NOTE.search(paragraphs[end - 1]):
        end -= 1
    return paragraphs[:end]


def _bare_byline(blocks: list[str], i: int) -> bool:
    """A writer's name alone on its line ("Mira Lund", no "By") next to the page's date line near the top, below
    the first block (an untitled text's headline or a timeline's subheads stand beside dates too): a byline."""
    if not 0 < i <= _BYLINE_BLOCKS or not _NAME_LINE.fullmatch(blocks[i]):
        return False
    return any(0 <= j < len(blocks) and _date_line(blocks[j]) is not None for j in (i - 1, i + 1))


def _furniture_sized(line: str) -> bool:
    """A line that may be a site's furniture when many pages repeat it: short, and no sentence of a story. Wire
    copy that five outlets carry repeats its sentences too, and they are the story."""
    words = len(line.split())
    return 0 < words <= _FURNITURE_WORDS and not (words >= _STORY_SENTENCE_WORDS and is_sentence(line))


def _byline_date(line: str) -> str | None:
    """The full date a byline ends with ("By Jane Doe, Greenfield Herald — March 3, 2024"), or None."""
    credit = _BYLINE.fullmatch(line)
    found = parse_date(credit["when"]) if credit and credit["when"] else None
    return found if found and not found.startswith("--") else None


def _opening_date(lines: list[str], kept: list[str]) -> str | None:
    """The date of the first date line above the third paragraph kept: a standfirst, and a byline with the
    date under it, may come before the story's first paragraph."""
    stop = kept[min(_DATED_PARAGRAPHS, len(kept) - 1)][:40] if kept else None
    opening = itertools.takewhile(lambda line: stop is None or not line.startswith(stop), lines)
    return next((day for line in opening if line and (day := _date_line(line))), None)


def _closing_date(lines: list[str], kept: list[str]) -> str | None:
    """The date of a signed date line just below the last paragraph kept ("Posted by Jane Doe on 14 March
    2025 | 23 comments", as blogs sign off). Only a line saying posted or published counts: below the text,
    a bare date may be a related story's or a comment's."""
    last = kept[-1][:40] if kept else None
    end = next((i for i in range(len(lines) - 1, -1, -1) if last and lines[i].startswith(last)), None)
    if end is None:
        return None
    # Only the line right under the text, and only a post's own signature: a date further down, or a bare
    # "Published" line, may be a comment's or a related story's.
    below = next((line for line in lines[end + 1 :] if line), "")
    signed = _POSTED_BY.match(below) or (_SIGNED.match(below) and _COMMENT_COUNT.search(below))
    return _date_line(below) if signed else None


def _is_article(text: str, source: str) -> bool:
    """Whether cleaned text is an article: whatever text an export's record or a feed item holds (it was written
    as one), and from a page, more than a lone label."""
    return bool(text) and (not _PAGE_SOURCE.search(source) or says_something(text))


def says_something(text: str) -> bool:
    """Whether cleaned text can be an article: a few words, or a sentence however short ("Schools closed."). A
    lone label ("Home", "Copyright 2025") is what a page without an article leaves."""
    return word_count(text) >= _LEAST_WORDS or (text[-1:] in ".!?。！？" and _has_letter(text))


def _outlet_under(title: str, head: list[str]) -> str | None:
    """The outlet's name on the line under a scrape's headline ("Meridian Post"), when a byline below it names
    someone else or the outlet itself ("By Meridian Post staff"); a name alone there could be the author's.
    The head is the text's opening lines above its prose: the headline was the file's first line, so the text
    opens under it unless it repeats it."""
    at = head.index(title) + 1 if title in head else 0
    if at >= len(head) or not _MASTHEAD_NAME.fullmatch(name := head[at]):
        return None
    below = head[at + 1 :]
    authors = [credit["name"] for ln in below if (credit := _BYLINE.fullmatch(ln))]
    by_outlet = any(ln.casefold().startswith(f"by {name.casefold()}") for ln in below)
    return name if by_outlet or (authors and name not in authors) else None


def _headline_like(line: str) -> bool:
    """A line that reads as a headline: a few words or more, not a sentence's end or a clause cut off, no
    menu of items."""
    return 3 <= len(line.split()) <= 30 and line[-1] not in ".!?:;,-" and line.count("|") < 2 and _has_letter(line)


def _masthead_line(line: str) -> bool:
    """A byline, source or date line: the page's metadata, never its prose."""
    return bool(_BYLINE.fullmatch(line) or _SOURCE_LINE.fullmatch(line) or _date_line(line))


def _date_line(line: str) -> str | None:
    """The full date a line consists of ("March 4, 2025", "Published 2025-03-05 09:30"), or None; a count of
    comments after it ("Posted by NAME on DATE | 12 comments") is no part of it. A line giving the date it was
    published and then the date it was updated is a date line of the first."""
    line = _COMMENT_COUNT.sub("", line).strip("_*")  # Markdown's "_Published: 2025-08-19_"
    first, *updated = _UPDATED_NEXT.split(line, maxsplit=1)
    published = _full_date(first) if updated and _full_date(updated[0]) else None
    return published or _full_date(line)


def _full_date(line: str) -> str | None:
    """The full date a line gives under its label, None when it gives none or no year."""
    match = _DATE_LINE.fullmatch(line)
    found = parse_date(match["date"]) if match else None
    return found if found and not found.startswith("--") else None


def title_from_text(text: str, limit: int = 120) -> str:
    """A title for an article that came without one: its first sentence, cut at a word if long."""
    head = text[: limit * 8]  # the first sentence is near the start; segmenting all of a long text is slow
    span = split_sentences(head)[0]
    sentence = head[span.start : span.end]
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1]
    # A single huge token (a URL, an unspaced script) has no word break to cut at.
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:-–—") + "…"


def is_prose(line: str) -> bool:
    """A line that reads as article text: long, or a punctuated sentence of a few words."""
    words = line.split()
    return len(words) > 8 or (len(words) >= 2 and line[-1] in _TERMINAL)


def _has_letter(line: str) -> bool:
    """True when a line holds at least one letter of any script."""
    return any(char.isalpha() for char in line)


def _key(line: str) -> str:
    """Comparison key for a line: lower case, inner spaces folded, punctuation at the ends ignored."""
    return " ".join(line.lower().split()).strip(" .:;,-–—|•·*#>")


def normalize_text(text: str) -> str:
    """Unify newlines and drop invisible characters; the only edits before line cleaning."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\v", "\n")
    return _INVISIBLE.sub("", text)


def normalize_line(line: str) -> str:
    """Fold runs of spaces (including non-breaking ones) and trim a line."""
    return _SPACE_RUN.sub(" ", line).strip()


def is_hard_wrapped(lines: list[str]) -> bool:
    """True when most lines are broken at a fixed width mid-sentence (wire copy, e-mail)."""
    lengths = [len(ln) for ln in lines if ln]
    if len(lengths) < 4:
        return False
    wrapped = sum(1 for ln in lines if 40 <= len(ln) <= 100 and ln[-1] not in _TERMINAL)
    return wrapped >= 0.4 * len(lengths) and max(lengths) <= 120


def rejoin(lines: list[str]) -> list[str]:
    """Lines with each sentence broken in two made whole again: a line of prose cut after a comma or a word,
    and the next going on in lower case ("... after ten years," / "according to a survey ...")."""
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        if (
            len(previous.split()) >= _BROKEN_WORDS
            and previous[-1] not in _TERMINAL
            and (previous[-1] == "," or previous[-1].isalpha())
            and line[0].islower()
            and len(line.split()) >= _BROKEN_WORDS
            and not (_LABELLED.match(previous) or _LABELLED.match(line))  # a list's "second round: ..." items
        ):
            out[-1] = f"{previous} {line}"
        else:
            out.append(line)
    return out


def without_labelled_captions(lines: list[str]) -> list[str]:
    """The lines without a picture's labelled credit and caption, as a page's screen-reader labels put them in
    a scrape ("Image source, Getty Images" / "Image caption," / the caption): a caption standing among the
    paragraphs or above the first reads as a headline and would take the title or split the story."""
    kept: list[str] = []
    caption_next = False
    for line in lines:
        if caption_next and line:
            caption_next = False
            if len(line.split()) <= _CAPTION_WORDS:
                continue
        if _CAPTION_LABEL.fullmatch(line):
            caption_next = True
        elif not _CREDIT_LABEL.fullmatch(line):
            kept.append(line)
    return kept


def unwrap(lines: list[str]) -> list[str]:
    """Join hard-wrapped lines into paragraphs separated by blank lines."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _credit(inner: str) -> bool:
    """True for a parenthetical photo credit such as "(Agency/AP pic)" or "(Photo/Agency)"."""
    tokens = [t for t in re.split(r"[\s/:,]+", inner.lower()) if t]
    return len(tokens) >= 2 and any(t.strip(".") in _CREDIT_WORDS for t in tokens)


def is_caption_line(line: str) -> bool:
    """A whole line that ends with a photo credit is an image caption: "(AP Photo/Luis Ortega)", or
    "Photo: Ana Ruiz/Reuters" after the caption's own sentence."""
    if _CREDIT_TAIL.search(line):
        return True
    matches = list(_PAREN.finditer(line))
    match = matches[-1] if matches else None
    return bool(match and match.end() >= len(line.rstrip(" .")) and _credit(match.group(1)))


_CREDIT_TAIL = re.compile(
    r"[.!?]\s+(?i:photo(?:graph)?|picture|image|credit)s?\s*:\s*[A-Z][\w'’. -]{1,40}(?:/[\w'’. -]{1,40})?\.?$"
)


def strip_leading_caption(paragraph: str) -> str:
    """Drop an image caption glued to the start of a paragraph ("Caption. (X pic) BEIJING : ...")."""
    for match in _PAREN.finditer(paragraph[:400]):
        before = paragraph[: match.start()].rstrip()
        if _credit(match.group(1)) and before and before[-1] in _TERMINAL:
            rest = paragraph[match.end() :].lstrip()
            return rest if rest else paragraph
    return paragraph


def split_rail(lines: list[str]) -> tuple[list[str], list[str]]:
    """Split at a "Related articles"-style heading that a list of other stories follows.

    A heading with no such list after it (a "Related news" box inside the article, a "Most read"
    list of bare headlines) does not end the article: its lines are left to the boilerplate classifier.
    """
    for i, line in enumerate(lines):
        if _RAIL_HEADING.match(line) and parse_rail(lines[i + 1 :]):
            return lines[:i], lines[i + 1 :]
    return lines, []


@dataclass(slots=True)
class RailStory:
    """A story found in a related-articles rail."""

    cleaned: Cleaned
    paragraphs: list[str]


def parse_rail(lines: list[str]) -> list[RailStory]:
    """Stories of a rail laid out as: outlet, relative time, "- outlet", headline, text."""
    rows = [ln for ln in lines if ln]
    marks = [i for i, ln in enumerate(rows) if _RELATIVE_TIME.match(ln)]
    stories = []
    for n, i in enumerate(marks):
        end = marks[n + 1] - 1 if n + 1 < len(marks) else len(rows)
        outlet = rows[i - 1] if i > 0 and len(rows[i - 1].split()) <= 6 else None
        j = i + 1
        if j < len(rows) and rows[j].startswith(("-", "–", "—")) and len(rows[j].split()) <= 7:
            outlet = outlet or rows[j].lstrip("-–— ")
            j += 1
        if j + 1 > end - 1:
            continue
        body = [_TRAILING_CREDIT.sub("", p) for p in rows[j + 1 : end]]
        stories.append(RailStory(Cleaned(title=rows[j], text="", outlet=outlet), body))
    return stories


def _take_dateline(paragraphs: list[str], into: Cleaned) -> list[str]:
    """Move a leading dateline ("BEIJING, May 15 (Agency):") out of the text into metadata."""
    if not paragraphs:
        return paragraphs
    match = _DATELINE.match(paragraphs[0])
    if not match:
        return paragraphs
    into.place = match.group("place").title()
    if match.group("outlet") and not into.outlet:
        into.outlet = match.group("outlet").strip()
    if match.group("date"):
        into.published = dateline_date(match.group("date"))
    return [paragraphs[0][match.end() :], *paragraphs[1:]]


# The lines above a scrape's first prose that may hold its headline, byline and date.
_MASTHEAD_LINES = 12
_LEAST_WORDS = 3  # of an article that does not end like a sentence
# A capital letter of a name, accented ones too ("Élodie Roux", "Ángel Ruiz", "Écho du Sud").
_CAP = f"[{CAPITALS}]"
# An outlet's name where a byline or source line gives one: up to six capitalised words ("Harbor Ledger"), with the
# particles other languages' names hold between them ("Le Courrier de Valmont", "Corriere della Sera").
_OUTLET = (
    rf"(?P<outlet>{_CAP}[\w&'’.-]*"
    rf"(?: (?:(?:de|du|des|del|della|di|do|da|dos|das|la|le|el) ){{0,2}}[{CAPITALS}&][\w&'’.-]*){{0,5}})"
)
_SPECIAL_TO = r"(?:[Ss]pecial\s+to\s+(?:the\s+)?)"
# The particles of a person's name ("Ana de la Cruz") and the words joining two writers' names ("et", "und").
_PARTICLES = "van|von|de|da|der|di|du|del|dos|la|le|al|bin"
_JOINERS = "and|et|und|y|e"
# A writer's name alone after another language's opener: two to four capitalised words, particles between them.
_PERSON = rf"{_CAP}[\w'’.-]*(?:\s+(?:(?:{_PARTICLES})\s+){{0,2}}{_CAP}[\w'’.-]*){{1,3}}"
# "By Mira Castell, Harbor Ledger" (or "Von", "Par", "Por", "Di", "Door"): a byline is names alone ("By early
# 2005 the net..." is a sentence).
_BYLINE = re.compile(
    # another language's opener only before a name and an outlet, or before a name alone that is no more than a
    # name ("Par Jeanne Martin", "Von Klara Becker und Jonas Roth"): "Von Der Leyen Wins Second Term" is a headline
    rf"(?:[Bb][Yy]|(?:[Vv]on|[Pp]ar|[Pp]or|[Dd]i|[Dd]oor)"
    rf"(?=\s[^,]{{2,60}},\s*{_CAP}|\s+{_PERSON}(?:\s+(?:{_JOINERS})\s+{_PERSON})?\s*$))"
    rf"\s+(?P<name>{_CAP}[\w'’.-]*(?:\s+(?:{_CAP}[\w'’.-]*|{_JOINERS}|{_PARTICLES})){{0,6}})"
    # a role before the outlet: "By Dr. Sam Okafor, contributor, Greenfield Herald", "..., Senior Correspondent, ..."
    r"(?:\s*,\s*(?P<role>[a-z][a-z'’ -]{1,40}?|[A-Z][A-Za-z'’ -]{1,40}?(?=\s*,\s*[A-Z])))?"
    # the outlet, or the one a contributor writes for: "By Tom Reed, Special to The Bay News"
    rf"(?:\s*[,|·•–—]\s*{_SPECIAL_TO}?{_OUTLET})?"
    # and a date with its year: "By Jane Doe, Greenfield Herald — March 3, 2024"
    r"(?:\s*[|·•–—]\s*(?P<when>[^|·•–—]{0,30}\b(?:19|20)\d\d\b[^|·•–—]{0,12}))?\s*"
)
# "Source: Tram Weekly" (or "Special to the Harbour Courier") above a story names its outlet.
_SOURCE_LINE = re.compile(rf"(?:(?i:source|publisher)\s*:\s*|{_SPECIAL_TO}){_OUTLET}\s*")
# A line of a sentence broken in two has at least this many words on each side of the break.
_BROKEN_WORDS = 4
_CAPTION_LABEL = re.compile(r"(?:(?:image|media|video|photo|picture) )?caption\s*[,:]?", re.IGNORECASE)
_CREDIT_LABEL = re.compile(r"(?:image|media|video|photo|picture) (?:source|credit)s?\s*[,:]\s*.{1,60}", re.IGNORECASE)
_CAPTION_WORDS = 30
_LABELLED = re.compile(r"^(?:\S+\s+){0,3}?\S+:\s")
# Sources whose reader took the first line for the title (text files), which a masthead may correct.
_GUESSED_TITLE = re.compile(r"\.(?:txt|text|md)$", re.IGNORECASE)
_PAGE_SOURCE = re.compile(r"\.(?:txt|text|md|html?)$", re.IGNORECASE)
# An outlet's name as a page's first line: two to four capitalised words ("Coastal Times", "The Daily Post").
_MASTHEAD_NAME = re.compile(r"(?:The )?[A-Z][\w&'’.-]*(?: [A-Z][\w&'’.-]*){1,3}")
# A time of day: "14:05", "2.05 pm BST", "14:05 Uhr", "14:05 h", and the French "14h05", "14 h 05", "14h".
_CLOCK = r"\d{1,2}(?:[:.]\d{2}|\s?h(?:\s?\d{2})?)(?:\s*[ap]\.?m\.?)?(?:\s+(?:[A-Z]{2,4}|h))?"
# The label a date line opens with, in English and in French, German, Spanish, Italian and Portuguese
# ("Published", "Publié le", "Mis à jour le", "Veröffentlicht am", "Stand:", "Publicado el", "Pubblicato il").
_DATE_LABEL = (
    r"(?:(?:first|last|zuletzt) )?(?:published|updated|posted|publiée?|mise? à jour|modifiée?|actualisée?|"
    r"veröffentlicht|aktualisiert|stand|publicado|actualizado|pubblicato|aggiornato|atualizado)"
)
_ON_DAY = r"(?:on|le|am|el|il|em)"
_DATE_LINE = re.compile(
    rf"(?:{_DATE_LABEL}(?: (?:by|par|von|por|da) [^,:]{{1,40}}? {_ON_DAY}| {_ON_DAY})?(?:\s?:)?\s+)?"
    rf"(?:{_CLOCK},?\s+)?(?P<date>.+?)"  # "Last updated: 14:05 BST, 2 April 2025"
    # "at 14:05", "à 14h05", "um 14:05 Uhr", "a las 14:05", "alle 14:05", "às 14h05", "- 14h05"
    rf"(?:(?:,|\s[-–—|])?\s+(?:(?:at|à|um|a las|alle|às)\s+)?{_CLOCK})?"
    r"(?:\s+in\s+[\w&' ,-]{1,40})?",  # "Posted by Newsroom Staff on 2025-02-27 in Business, Politics"
    re.I,
)
# Where a date line goes on to the date it was updated ("Publié le 3 avril 2025 à 14h05, mis à jour le 4 avril
# 2025", "Published 2 April 2025 Updated 3 April 2025"); only the start of a run of separators splits, so a long
# run costs linear time.
_UPDATED_NEXT = re.compile(
    r"(?<![\s,;|·•–—-])[\s,;|·•–—-]+(?=(?:last |zuletzt )?(?:updated|modified|mise? à jour|modifiée?|actualisée?|"
    r"aktualisiert|actualizado|aggiornato|atualizado)\b)",
    re.I,
)
# A person's name as a line of its own: two to four capitalised words ("Mira Lund", "Ana de la Cruz").
_NAME_LINE = re.compile(r"[A-Z][\w'’.-]+(?: (?:[A-Z][\w'’.-]+|van|von|de|da|der|la|le)){1,3}")
_DATED_PARAGRAPHS = 2
_BYLINE_BLOCKS = 4  # how far down a page's name-and-date lines may stand
_FURNITURE_WORDS = 12  # the longest line learnt as furniture from its repetition across pages
_STORY_SENTENCE_WORDS = 6  # a sentence of this many words is a story's, however many pages repeat it
# "Reach him at ...@..." / "Follow her on X @...": him or her, so a reader told to contact the police or the
# organisers at an address is news, not a note on the writer.
_AUTHOR_NOTE = re.compile(
    r"\b(?:reach|contact|email|e-mail|follow|write to)\s+(?:him|her|the (?:author|writer|reporter))\b"
    r"[^.!?]{0,80}?(?:[\w.+-]+@[\w-]+\.[\w.-]+|@\w{2,})",
    re.IGNORECASE,
)
_NOTE_PARAGRAPHS = 2  # paragraphs kept that a page's own date line may stand below
_SIGNED = re.compile(r"(?:posted|published)\b", re.IGNORECASE)
_COMMENT_COUNT = re.compile(r"\s*[|·•]\s*\d[\d,]*\s+comments?\s*$", re.IGNORECASE)
_POSTED_BY = re.compile(r"(?:posted|published) by ", re.IGNORECASE)
_WEEKDAY = re.compile(r"^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+(?=\w)", re.IGNORECASE)
# A date in figures whose first two fields may be day and month either way round.
_SLASHED_DATE = re.compile(r"\s*(?P<first>\d{1,2})/(?P<second>\d{1,2})/\d{4}\b")
_ORDINAL_DAY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|er)\b", re.IGNORECASE)


def dateline_date(text: str) -> str | None:
    """ "May 15" → "--05-15" (ISO month-day, year unknown); "May 15, 2025" → "2025-05-15"."""
    match = re.match(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s*(\d{4}))?", text)
    if not match or match.group(1).lower() not in _MONTHS:
        return None
    month, day = _MONTHS.index(match.group(1).lower()) + 1, int(match.group(2))
    year = match.group(3)
    return f"{year}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


def parse_date(value: str | None, month_first: bool = False) -> str | None:
    """Normalise ISO 8601, RFC 822 and "Month D, YYYY" dates to YYYY-MM-DD; None if unparseable. A date in
    figures with slashes is read day first ("12/03/2025" is 12 March) unless month_first says its file
    writes the month first, or no day-first reading exists ("12/31/2025")."""
    if not value:
        return None
    value = _ORDINAL_DAY.sub(r"\1", value.strip())  # "March 3rd, 2025", "3rd March 2025"
    value = _WEEKDAY.sub("", value)  # "Tuesday, March 4, 2025"
    value = english_date(value)  # "5. März 2025", "4 mars 2025", "2025年2月8日"
    if is_yearless_day(value):
        return value
    iso = value.replace("Z", "+00:00")
    for candidate in (iso, iso[:10]):
        try:
            return datetime.fromisoformat(candidate).date().isoformat()
        except ValueError:
            pass
    try:
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    slashed = ("%m/%d/%Y", "%d/%m/%Y") if month_first else ("%d/%m/%Y", "%m/%d/%Y")
    formats = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y/%m/%d", "%Y.%m.%d", "%d.%m.%Y")
    for fmt in (*formats, *slashed):
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            pass
    return dateline_date(value)


def writes_month_first(values: Iterable[str | None]) -> bool | None:
    """Whether one file's dates in figures ("03/12/2025") put the month first (True) or the day first
    (False), as its unambiguous ones show: a field above 12 is the day. None when none of them tells, or
    they disagree."""
    day_first = month_first = False
    for value in values:
        match = _SLASHED_DATE.match(value or "")
        if match:
            day_first |= int(match["first"]) > 12
            month_first |= int(match["second"]) > 12
    return month_first if day_first != month_first else None


def is_ambiguous_date(value: str | None) -> bool:
    """Whether a date in figures reads as two different days ("12/03/2025", not "12/12/2025" or "13/03/2025")."""
    match = _SLASHED_DATE.match(value or "")
    if not match:
        return False
    first, second = int(match["first"]), int(match["second"])
    return first != second and max(first, second) <= 12


def date_in_path(path: str | None) -> str | None:
    """A full date written into a URL or file path (".../2025/03/04/..." or "2025-03-04-title.txt")."""
    match = _URL_DATE.search(path or "")
    if not match:
        return None
    return parse_date(f"{match.group(1)}-{int(match.group(2)):02d}-{int(match.group(3)):02d}")


def complete_year(published: str | None, *evidence: str | None) -> str | None:
    """Give a year-less "--MM-DD" date the year found in other evidence (a dated URL, a full date)."""
    if not published or not published.startswith("--"):
        return published
    for item in evidence:
        if not item:
            continue
        if is_written_day(item):
            return f"{item[:4]}{published[1:]}"
        match = _URL_DATE.search(item)
        if match:
            return f"{match.group(1)}{published[1:]}"
    return published
