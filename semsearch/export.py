"""A search response as Markdown, CSV or an Atom feed, with everything a source wrote escaped for the format.

Sources are untrusted text: a headline may hold Markdown or HTML meant to inject a link, a CSV cell may start
a spreadsheet formula, and a snippet may hold characters XML forbids. Each renderer escapes for its own format.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlencode, urlsplit

from feedgen.feed import FeedGenerator

from .records import Brief, BriefSentence, Citation, Hit, Place, SearchResponse
from .text import calendar_day
from .watches import Watch

# Every character that opens a Markdown or HTML construct anywhere in a line (CommonMark lets a backslash
# escape any ASCII punctuation); the plain ones (, . ' " : ; ? / % = @) are left readable.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()<>#!|~&{}$^])")
# What opens a block (a list, a heading underline) only at the start of a line.
_MD_LIST_NUMBER = re.compile(r"^(\d+)([.)])")
_MD_BLOCK_MARK = re.compile(r"^([-+=])")
_BLANKS = re.compile(r"\s+")
# Characters XML 1.0 cannot carry at all; lxml (under feedgen) refuses a string holding one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Spreadsheets run a cell starting with these as a formula (OWASP's list: tab and CR too).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("rank", "score", "article_id", "title", "outlet", "published", "url", "story_id", "snippet")
MARKDOWN_TYPE = "text/markdown; charset=utf-8"
CSV_TYPE = "text/csv; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"


def md_text(value: str | None) -> str:
    """Source text as inert Markdown: one line, every mark that could open a construct backslash-escaped."""
    escaped = _MD_SPECIAL.sub(r"\\\1", _BLANKS.sub(" ", value or "").strip())
    return _MD_BLOCK_MARK.sub(r"\\\1", _MD_LIST_NUMBER.sub(r"\1\\\2", escaped))


def web_url(url: str | None) -> str | None:
    """An http(s) url, percent-encoding what could end or bend a Markdown link; None for any other scheme."""
    try:
        if not url or urlsplit(url.strip()).scheme.lower() not in ("http", "https"):
            return None
    except ValueError:  # not a url at all (an unclosed IPv6 bracket)
        return None
    return quote(url.strip(), safe="/:?#[]@!$&'*+,;=%~-._")


def md_link(text: str, url: str | None) -> str:
    """Escaped text, linked when the url is a web address (the destination in <>, which nothing can close)."""
    href = web_url(url)
    return f"[{md_text(text)}](<{href}>)" if href else md_text(text)


def article_url(base: str | None, citation: Citation) -> str | None:
    """Where the cited sentence is highlighted on the article page, or None without a server to point at."""
    if base is None:
        return None
    start, end = citation.start, citation.end
    return f"{base.rstrip('/')}/articles/{citation.article_id}?hl={start}-{end}#s{start}"


def markdown(
    response: SearchResponse, base: str | None = None, places: Mapping[tuple[str, int], Place] | None = None
) -> str:
    """The brief with numbered citations, its source list (where each quote sits), then the results."""
    places = places or {}
    lines = [f"# {md_text(response.query)}", ""]
    lines += _brief_lines(response.summary)
    if response.summary is not None and response.summary.sources:
        lines += ["", "## Sources", ""]
        lines += _source_lines(response.summary, base, places)
    lines += ["", "## Results", ""]
    lines += [_result_line(rank, hit, base) for rank, hit in enumerate(response.results, start=1)]
    return "\n".join(lines) + "\n"


def _brief_lines(brief: Brief | None) -> list[str]:
    """Each brief sentence, verbatim but escaped, followed by its citation numbers."""
    if brief is None:
        return ["_No brief was asked for._"]
    if not brief.sentences:
        return [f"_No brief: {md_text(brief.abstained or 'nothing to quote')}_"]
    return [f"{md_text(s.text)} {sentence_marks(s, _md_mark)}" for s in brief.sentences]


def _md_mark(n: int) -> str:
    """A source number as Markdown shows it: [n], its brackets escaped so they make no link."""
    return f"\\[{n}\\]"


def sentence_marks(sentence: BriefSentence, mark: Callable[[int], str]) -> str:
    """A brief sentence's source numbers, each once: those it is quoted from ("[1][3]"), then those reporting the
    same fact in their own words ("(same fact in other words: [2])"), whose sentences are not this one."""
    quoted = dict.fromkeys(c.n for c in sentence.citations)
    others = [n for n in dict.fromkeys(c.n for c in sentence.corroborations) if n not in quoted]
    marks = "".join(mark(n) for n in quoted)
    return marks + (f" (same fact in other words: {''.join(mark(n) for n in others)})" if others else "")


def _source_lines(brief: Brief, base: str | None, places: Mapping[tuple[str, int], Place]) -> list[str]:
    """One numbered entry per source: title, outlet, date, url, then where each sentence quoted from it sits."""
    quoted: dict[int, list[tuple[str, Citation]]] = {}
    for sentence in brief.sentences:
        for citation in sentence.citations:
            quoted.setdefault(citation.n, []).append(("quoted", citation))
        for citation in sentence.corroborations:
            quoted.setdefault(citation.n, []).append(("same fact in its own words", citation))
    lines = []
    for src in brief.sources:
        meta = ", ".join(md_text(x) for x in (src.outlet, src.published) if x)
        link = web_url(src.url)
        head = f"{src.n}. {md_text(src.title)}" + (f" — {meta}" if meta else "")
        lines.append(head + (f" — <{link}>" if link else ""))
        lines += [f"   - {how}: {_where(c, base, places)}" for how, c in quoted.get(src.n, [])]
    return lines


def _where(citation: Citation, base: str | None, places: Mapping[tuple[str, int], Place]) -> str:
    """Where a quoted sentence sits: sentence n of m, its characters, linked to the highlighted article."""
    place = places.get((citation.article_id, citation.start))
    said = f"sentence {place.sentence} of {place.of}, " if place else ""
    said += f"characters {citation.start}–{citation.end} of article {citation.article_id}"
    url = article_url(base, citation)
    return f"[{said}](<{url}>)" if url else said


def _result_line(rank: int, hit: Hit, base: str | None) -> str:
    """A numbered result: linked title, outlet and date, snippet."""
    href = f"{base.rstrip('/')}/articles/{hit.article_id}" if base else hit.url
    meta = ", ".join(md_text(x) for x in (hit.outlet, hit.published) if x)
    return f"{rank}. {md_link(hit.title, href)}" + (f" — {meta}" if meta else "") + f"  \n   {md_text(hit.snippet)}"


def csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: a string that would start a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(response: SearchResponse, offset: int = 0) -> str:
    """One row per result under a header row; every field quoted, formula starts defused."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for rank, hit in enumerate(response.results, start=offset + 1):
        row = (
            rank,
            round(hit.score, 4),
            hit.article_id,
            hit.title,
            hit.outlet,
            hit.published,
            hit.url,
            hit.story_id,
            hit.snippet,
        )
        writer.writerow([csv_cell("" if value is None else value) for value in row])
    return out.getvalue()


def xml_text(value: str | None) -> str:
    """Text XML can carry (feedgen escapes markup itself; characters XML forbids are dropped)."""
    return _NOT_XML.sub("", value or "")


def day_time(published: str | None) -> datetime | None:
    """A publication day as midnight UTC; None for an unknown or yearless date."""
    day = calendar_day(published)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None


def new_feed(feed_id: str, title: str, self_url: str, alternate: str, updated: datetime) -> FeedGenerator:
    """An Atom feed's head: id, title, self and alternate links, updated time."""
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(xml_text(title))
    feed.link(href=self_url, rel="self")
    feed.link(href=alternate, rel="alternate")
    feed.author({"name": "semsearch"})
    feed.updated(updated)
    return feed


def entry_id(hit: Hit, base: str) -> str:
    """An Atom entry's id: its source's address where it has one, so an edited article (a new article id) stays
    the entry a feed reader already holds; hashed, since a source's address need not be a valid IRI."""
    if hit.url:
        return f"urn:sha256:{hashlib.sha256(hit.url.encode()).hexdigest()}"
    return f"{base.rstrip('/')}/articles/{hit.article_id}"


def search_atom(response: SearchResponse, base: str, self_url: str, page_url: str, built: datetime) -> bytes:
    """The matching articles, newest first, as an Atom feed; each entry links to the article page."""
    days = [day_time(h.published) for h in response.results]
    # Atom dates every entry: an undated article takes the oldest day of the dated ones and goes last, since
    # the build time would make it look like the newest news of all.
    oldest = min((d for d in days if d is not None), default=built)
    dated = [(day or oldest, day is not None, hit) for day, hit in zip(days, response.results, strict=True)]
    dated.sort(key=lambda entry: entry[:2], reverse=True)
    updated = max((day for day, _, _ in dated), default=built)
    feed = new_feed(self_url, f"semsearch: {response.query}", self_url, page_url, updated)
    # feedgen writes entries in reverse order of adding them: add oldest first so the feed reads newest first.
    ids: set[str] = set()
    for day, _, hit in reversed(dated):
        entry = feed.add_entry()
        # Two articles from one address (a page scraped twice) must still be two entries.
        chosen = entry_id(hit, base)
        entry.id(chosen if chosen not in ids else f"{base.rstrip('/')}/articles/{hit.article_id}")
        ids.add(chosen)
        entry.title(xml_text(hit.title))
        entry.link(href=f"{base.rstrip('/')}/articles/{hit.article_id}", rel="alternate")
        entry.updated(day)
        entry.summary(xml_text(hit.snippet))
        if hit.outlet:
            entry.author({"name": xml_text(hit.outlet)})
    return feed.atom_str(pretty=True)


def watch_atom(watch: Watch, base: str, self_url: str) -> bytes:
    """The feed of one saved question: an entry per run that found something new, newest first."""
    updated = datetime.fromisoformat(watch.entries[0]["at"] if watch.entries else watch.created)
    page = f"{base}/?{urlencode({'q': watch.request.get('q', '')})}"
    feed = new_feed(self_url, f"semsearch: {watch.name}: {watch.request.get('q', '')}", self_url, page, updated)
    for entry in reversed(watch.entries):  # feedgen lists the last added first
        item = feed.add_entry()
        item.id(f"{self_url}#{entry['version']}")
        item.title(
            xml_text(
                f"{_counted(len(entry['sentences']), 'new sentence')}, "
                f"{_counted(len(entry['articles']), 'new article')} (version {entry['version']})"
            )
        )
        item.link(href=page, rel="alternate")
        item.updated(datetime.fromisoformat(entry["at"]))
        item.content(xml_text(entry_html(entry, base)), type="html")
    return feed.atom_str(pretty=True)


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def entry_html(entry: dict, base: str) -> str:
    """A run's findings as HTML, every source string escaped: quoted sentences with linked citations, then articles."""
    quotes = "".join(
        f"<li><q>{html.escape(s['text'])}</q> {_citation_links(s['citations'], base)}</li>" for s in entry["sentences"]
    )
    articles = "".join(
        f'<li><a href="{html.escape(base)}/articles/{html.escape(a["article_id"])}">'
        f"{html.escape(a['title'])}</a> {html.escape(_meta(a))}</li>"
        for a in entry["articles"]
    )
    return (f"<h3>New sentences</h3><ol>{quotes}</ol>" if quotes else "") + (
        f"<h3>New articles</h3><ul>{articles}</ul>" if articles else ""
    )


def _citation_links(citations: list[dict], base: str) -> str:
    """Each citation as a link to the highlighted sentence on its article page, named by outlet and date."""
    links = []
    for c in citations:
        href = f"{base}/articles/{c['article_id']}?hl={c['start']}-{c['end']}#s{c['start']}"
        label = _meta(c) or c["article_id"]
        links.append(f'<a href="{html.escape(href)}">[{html.escape(label)}]</a>')
    return " ".join(links)


def _meta(item: dict) -> str:
    """Outlet and date of a source, as far as known."""
    return ", ".join(x for x in (item.get("outlet"), item.get("published")) if x)


def now() -> datetime:
    """The current time, timezone-aware (Atom requires an offset)."""
    return datetime.now(UTC)
