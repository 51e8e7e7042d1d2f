"""One reader per file format: bytes on disk to raw documents, or a reason to skip."""

from __future__ import annotations

import codecs
import copy
import csv
import io
import json
import logging
import re
import statistics
import string
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.entities import html5
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin
from xml.etree import ElementTree

from charset_normalizer import from_bytes
from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.ElementTree import DefusedXMLParser

from ..records import Skipped
from .markup import plain_markdown, plain_tables

if TYPE_CHECKING:
    import lxml.html

log = logging.getLogger(__name__)

# Field names of a JSON record or CSV header, the earlier first, as field_key spells them (any case, with or
# without spaces, "_" or "-": "Article Body" and "publish_date" are articlebody and publishdate); they cover
# the common export shapes (schema.org's articleBody and datePublished, news APIs' publishedAt, webTitle).
TEXT_FIELDS = (
    "text",
    "body",
    "content",
    "articlebody",
    "bodytext",
    "fulltext",
    "articletext",
    "contentelements",
    "paragraphs",
    "description",
    "summary",
)
TITLE_FIELDS = ("title", "headline", "headlines", "webtitle")
OUTLET_FIELDS = ("outlet", "source", "publisher", "sitename", "sourcename", "publication", "newspaper")
DATE_FIELDS = (
    "published",
    "date",
    "publishedat",
    "datepublished",
    "publishdate",
    "publicationdate",
    "webpublicationdate",
    "pubdate",
    "datetime",
    "displaydate",
    "firstpublishdate",
)
URL_FIELDS = ("url", "link", "weburl", "permalink", "articleurl", "canonicalurl")


def field_key(name: object) -> str:
    """A field's name as the lists above spell it: lower case, without spaces, "_" or "-"."""
    return _NAME_JOINERS.sub("", str(name).lower())


_NAME_JOINERS = re.compile(r"[\s_-]+")
# How many levels of wrapper objects an export may hold its records under ({"data": {"items": [...]}}).
_LIST_DEPTH = 3


class SkipSource(Exception):
    """Raised by a reader when a whole source cannot be used; the message is the reason."""


@dataclass(slots=True)
class RawDoc:
    """What a reader found in a source, before cleaning."""

    title: str
    body: str
    source: str
    outlet: str | None = None
    published: str | None = None
    url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


# Checked longest first: a UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)""", re.I
)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = frozenset(("amp", "lt", "gt", "quot", "apos"))
# Embedding and direction controls (LRE..RLO, LRI..PDI) can make a stored title display as something else.
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
# Unicode categories no text is made of: controls, unassigned, private use, surrogates.
_NON_TEXT_CATEGORIES = frozenset(("Cc", "Cn", "Co", "Cs"))
_MAX_NON_TEXT_SHARE = 0.05
_MIN_LETTER_SHARE = 0.3
_SAMPLE_WINDOWS = 16
_SAMPLE_WINDOW_CHARS = 4096


def printable(text: str | Path) -> str:
    """Text safe to store and print, with the lone surrogates UTF-8 cannot encode replaced."""
    return _LONE_SURROGATE.sub(_surrogate_as_text, str(text))


def _surrogate_as_text(match: re.Match[str]) -> str:
    """A file name's undecodable byte (PEP 383) as \\xNN; any other lone surrogate as U+FFFD."""
    # Escaping keeps the byte visible and the name the same on every run, so an update still
    # matches the file to the path it stored.
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else "\ufffd"


def without_bidi_controls(text: str) -> str:
    """Text without the bidirectional embedding, override and isolate controls."""
    return text.translate(_BIDI_CONTROLS)


def decode_bytes(data: bytes) -> str:
    """Decode text robustly: byte-order mark, UTF-8, a declared charset, then detection; refuse binary."""
    text = _decode_marked(data)
    if text is None:
        if b"\x00" in data[:8192]:
            raise SkipSource("binary file (NUL bytes)")
        text = _decode_unmarked(data)
    if not text.strip():
        raise SkipSource("empty file")
    _refuse_non_text(text)
    return text


def _refuse_non_text(text: str) -> None:
    """Refuse decoded bytes that are no text: random or binary data decodes to controls, or to few letters."""
    sample = _sample(text)
    if _non_text_share(sample) > _MAX_NON_TEXT_SHARE:
        raise SkipSource("binary file (control, unassigned or undecodable characters)")
    # ASCII punctuation is left out: JSON, CSV and markup are full of it and still text.
    visible = [ch for ch in sample if not ch.isspace() and ch not in string.punctuation]
    if sum(1 for ch in visible if ch.isalpha()) < len(visible) * _MIN_LETTER_SHARE:
        raise SkipSource("binary file (too few letters to be text)")


def _non_text_share(text: str) -> float:
    """The share of a text's characters no written text holds."""
    return sum(1 for ch in text if _is_non_text(ch)) / max(len(text), 1)


def _is_non_text(ch: str) -> bool:
    """A character no written text holds: a control other than whitespace, an unassigned code point, U+FFFD."""
    if ch == "\ufffd":
        return True
    return not ch.isspace() and unicodedata.category(ch) in _NON_TEXT_CATEGORIES


def _sample(text: str) -> str:
    """Windows spread over the whole text, so judging a large file costs as little as judging a small one."""
    if len(text) <= _SAMPLE_WINDOWS * _SAMPLE_WINDOW_CHARS:
        return text
    step = len(text) // _SAMPLE_WINDOWS
    return "".join(text[i : i + _SAMPLE_WINDOW_CHARS] for i in range(0, step * _SAMPLE_WINDOWS, step))


def _decode_marked(data: bytes) -> str | None:
    """Text behind a UTF-16 or UTF-32 byte-order mark, or None when there is no such mark."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                raise SkipSource(f"binary file (not {codec.upper()} despite its byte-order mark)") from None
    return None


def _decode_unmarked(data: bytes) -> str:
    """Bytes without a UTF-16/32 mark: UTF-8 when valid, else the declared or detected charset."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _declared_charset(data[:4096])
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):  # mislabelled, or a name that is no text codec
            pass
    # Detection needs a few KB to be reliable; a short legacy file is most often Windows-1252, unless that
    # reading is no text (a short Shift-JIS or GBK file), when detection is the better guess after all.
    western = _western(data)
    if len(data) < 2048 and _non_text_share(western) <= _MAX_NON_TEXT_SHARE:
        return western
    best = from_bytes(data).best()
    return western if best is None else str(best)


def _western(data: bytes) -> str:
    """Bytes read as Windows-1252, or as Latin-1 where a byte has no Windows-1252 character."""
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _declared_charset(head: bytes) -> str | None:
    """The charset a page or feed names in its first bytes: meta charset, http-equiv or XML declaration."""
    match = _DECLARED_CHARSET.search(head)
    if not match:
        return None
    try:
        codec = codecs.lookup((match.group(1) or match.group(2)).decode("ascii")).name
    except LookupError:
        return None
    # Bytes without a byte-order mark that contain no NULs are not UTF-16/32, whatever they claim.
    if codec.startswith(("utf-16", "utf-32")):
        return None
    # As in browsers: pages labelled Latin-1 or ASCII are Windows-1252, curly quotes and all.
    return "cp1252" if codec in ("iso8859-1", "ascii") else codec


def _as_text(value: object, joiner: str) -> str | None:
    """A field value as text: a string, strings of a list joined, or a {"name": ...} object's name (a
    {"rendered": ...} object's text, as WordPress exports title and content, a {"basic": ...} headline as
    Arc exports it); a list of a CMS's content blocks gives its text blocks' text, joined."""
    if isinstance(value, dict):  # e.g. {"source": {"name": "Outlet"}}
        value = value.get("name") or value.get("title") or value.get("rendered") or value.get("basic")
    if isinstance(value, list):
        value = joiner.join(t.strip() for v in value if isinstance(t := _block_text(v), str) and t.strip())
    if not isinstance(value, str) or not value.strip():
        return None  # a number or other value says nothing a reader could show
    return printable(value.strip())  # JSON can escape half a surrogate pair ("\ud800")


def _block_text(item: object) -> object:
    """A list item's text: a string, or a content block's ({"type": "text", "content": ...}); a block of
    another type (an image, an advertisement's raw HTML) has none, nor has an object without a type (a
    record of its own, as a page of an API's results holds under "content")."""
    if not isinstance(item, dict):
        return item
    if str(item.get("type", "")).lower() not in _TEXT_BLOCKS:
        return None
    return item.get("content", item.get("text"))


# Content blocks whose text is the story's: Arc's "text", other CMSs' "paragraph".
_TEXT_BLOCKS = {"text", "paragraph", "p"}


def _first(record: dict, names: tuple[str, ...], joiner: str = " ") -> str | None:
    """The first field among names that holds text, flattened to a string."""
    for name in names:
        value = _as_text(record.get(name), joiner)
        if value:
            return value
    return None


# HTML a text field may hold (WordPress's rendered content, a CMS's body): a closing tag of text markup, a
# line break or image, or such a tag with a quoted attribute. Plain text's "a<b", "<Private Road>" or an
# article quoting "<script>alert(1)</script>" is none of these, and news SGML's own tags (<TEXT>, <P> in an
# archive's capitals) are markup.py's.
_HTML_TAG = re.compile(
    r"</(?:p|div|span|a|b|i|em|strong|h[1-6]|li|ul|ol|figure|figcaption|blockquote)>"
    r"|<(?:br|hr|img)\b[^<>]*>"
    r"|<(?:p|div|span|a|figure|iframe)\s[^<>]*=\s*[\"'][^<>]*>"
)


def _plain(field: str) -> str:
    """A field's text; when it holds HTML (a CMS export's rendered content: paragraphs, links, images), its text."""
    return html_fragment_to_text(field) if _HTML_TAG.search(field) else field


def doc_from_record(record: object, source: str) -> RawDoc:
    """Map a JSON object or CSV row with the documented field names to a raw document."""
    if not isinstance(record, dict):
        raise SkipSource(f"expected an object, found {type(record).__name__}")
    lowered = _fields(record)
    body = without_cut_marks(_plain(_first(lowered, TEXT_FIELDS, joiner="\n\n") or ""))
    if not body:
        found = ", ".join(sorted(map(str, record))[:8]) or "none"
        raise SkipSource(f"no text in a text field (text, body, content, articleBody, bodyText); fields: {found}")
    if not any(c.isalpha() for c in body):  # a date or a number where the story should be: a row out of line
        raise SkipSource(f"its text field holds no words: {body[:40]!r}")
    outlet = _first(lowered, OUTLET_FIELDS)
    title = _plain(_first(lowered, TITLE_FIELDS) or "")
    return RawDoc(
        title=_without_site_name(title, outlet)[0] if outlet else title,
        body=body,
        source=source,
        outlet=outlet,
        published=_first(lowered, DATE_FIELDS),
        url=_first(lowered, URL_FIELDS),
    )


# How a feed or an API marks a story cut short, after its last words: a news API's count of what is left
# ("… [+1834 chars]"), an excerpt's "[…]", a link on to the rest ("Read more…", "Continue reading →", and in
# French, German, Spanish, Italian and Portuguese feeds "Lire la suite", "Weiterlesen", "Seguir leyendo", "Leggi
# tutto", "Leia mais") after a sentence's end (so "children who read more" stays). The cut text stays.
_CUT_MARK = re.compile(
    r"(?<![ \t])[ \t]*\[\+\d+ chars\][ \t]*$"  # the lookbehinds: a run of blanks is tried once, not from each
    r"|(?<![ \t])[ \t]*\[(?:…|\.\.\.)\][ \t]*$"
    r"|(?<=[.!?…\"”’)»])[ \t]+(?:read more|continue reading|read the full (?:story|article)|lire la suite|"
    r"weiterlesen|leer más|seguir leyendo|leggi tutto|continua a leggere|leia mais|continue lendo)\b[^.!?\n]{0,80}?"
    r"(?:\.\.\.|…|»|→|>>)?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,  # a paragraph's end: a feed's sign-off may follow
)


def without_cut_marks(text: str) -> str:
    """A story's text without the marks saying it was cut short."""
    return _CUT_MARK.sub("", text)


def _fields(record: dict) -> dict[str, object]:
    """A record's fields by lower-cased name, with those of the objects it nests ({"fields": {"bodyText": ...}},
    Elasticsearch's "_source") where the record itself has no field of that name."""
    lowered = {field_key(k): v for k, v in record.items()}
    for value in list(lowered.values()):
        if isinstance(value, dict):
            for key, inner in value.items():
                lowered.setdefault(field_key(key), inner)
    return lowered


def _records(data: object) -> object:
    """What an export holds: of the data itself and the lists of objects and records found a few levels down its
    wrappers ({"payload": {"items": [...]}}), the one holding the most text, so the stories win over a feed's
    own description or a list of tags or authors beside them; the data when none holds text."""
    if isinstance(data, list):  # a list of records as it is: no need to weigh a large export's text
        return data
    found, level = [], [data]
    for _ in range(_LIST_DEPTH + 1):
        found += [node for node in level if _holds_records(node)]
        level = [child for node in level if isinstance(node, dict) for child in _wrapped(node)]
    # A story's own content blocks ({"content_elements": [...]}) are its text, not records beside it.
    bodies = {id(value) for node in found if isinstance(node, dict) for value in _text_values(node)}
    return max((node for node in found if id(node) not in bodies), key=_text_size, default=data)


def _text_values(record: dict) -> list[object]:
    """The values of a record's text fields."""
    fields = _fields(record)
    return [fields[name] for name in TEXT_FIELDS if name in fields]


def _holds_records(node: object) -> bool:
    """Whether a JSON value is a list of objects or an object with a text field."""
    if isinstance(node, list):
        return any(isinstance(item, dict) for item in node)
    return isinstance(node, dict) and _text_size(node) > 0


def _text_size(node: object) -> int:
    """How much text the records of a JSON value (an object or a list of them) hold in their text fields."""
    records = node if isinstance(node, list) else [node]
    return sum(len(_first(_fields(r), TEXT_FIELDS) or "") for r in records if isinstance(r, dict))


def _wrapped(node: dict) -> list[object]:
    """The lists and objects a JSON object holds."""
    return [value for value in node.values() if isinstance(value, (list, dict))]


def read_text(source: str, text: str) -> Iterator[RawDoc]:
    """Plain text or Markdown: the first non-empty line is the title, unless it is a whole sentence of
    prose (a wire item or a note with no headline), which is the text's start; cleaning then names it. A pipe
    table is read as rows of cells."""
    lines = plain_tables(text).splitlines()
    for i, line in enumerate(lines):
        if line.strip():
            title = line.strip().lstrip("#").strip()
            alone = not any(rest.strip() for rest in lines[i + 1 :])  # a one-line file is all text
            if alone or (_SENTENCE_LINE.search(title) and len(title.split()) > _TITLE_WORDS):
                yield RawDoc(title="", body="\n".join(lines[i:]), source=source)
            else:
                yield RawDoc(title=title, body="\n".join(lines[i + 1 :]), source=source)
            return
    raise SkipSource("empty file")


def read_markdown(source: str, text: str) -> Iterator[RawDoc]:
    """Markdown: read as plain text once its marks are gone (a quote's "> ", bold's "**", a link's url)."""
    return read_text(source, plain_markdown(text))


# A first line that ends a sentence and is longer than most headlines is prose, not a title.
_SENTENCE_LINE = re.compile(r"[.!?][\"'”’)]?$")
_TITLE_WORDS = 12


def read_html(source: str, text: str) -> Iterator[RawDoc | Skipped]:
    """HTML page: main text and metadata by trafilatura, which never fetches anything; a listing page gives
    one document per teaser."""
    import trafilatura  # heavy import, only paid when HTML is present

    root = _page_root(text)
    teasers, listing = _teasers(root) if root is not None else ([], False)
    if root is not None and listing:
        yield from _read_teasers(source, text, root, teasers)
        return
    for teaser in teasers:  # other stories beside the page's own, which trafilatura would run into it
        teaser.drop_tree()
    doc = trafilatura.bare_extraction(
        root if teasers else text,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        # Dates from markup and the page's url only: the text search took a footer's "© 2023" for 2023-01-01.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None or not (doc.text or "").strip():
        raise SkipSource("no main text found in HTML")
    title, site = _without_site_name((doc.title or "").strip(), doc.sitename)
    body = doc.text
    first, _, rest = body.partition("\n")
    if title and first.strip() == title:  # trafilatura repeats the <h1> as the first line
        body = rest
    # trafilatura falls back to the host name when a page declares no site name: a name the page gives is better.
    declared = doc.sitename if doc.sitename and not _HOST_NAME.fullmatch(doc.sitename) else None
    outlet = declared or site or _publisher(text) or _page_title_site(text) or doc.sitename
    yield RawDoc(title=title, body=body, source=source, outlet=outlet, published=doc.date, url=doc.url)


# A listing page (a front page, a section, a search's results) holds several <article> teasers of like size,
# each under a headline below the page's own <h1>, and little text besides. An <article> with an <h1>, or far
# longer than the others, is a story (the others its related links or comments): trafilatura reads such a
# page. Teasers in a rail (<aside>, <nav>) or in markup never shown (<template>, <noscript>) are no listing.
_LIKE_SIZE = 3  # the longest teaser at most this many times the median one
_HEADLINES = ("h1", "h2", "h3", "h4")
_RAILS = {"aside", "nav", "header", "footer"}
_NOT_SHOWN = {"script", "style", "noscript", "template"}
_SHOWN_TEXT = ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"


def _teasers(root: lxml.html.HtmlElement) -> tuple[list[lxml.html.HtmlElement], bool]:
    """The page's teasers, and whether they are the page (a listing) rather than other stories beside a story
    of the page's own outside them (at least twice their words); none where the page is a story's."""
    tops = [a for a in root.iter("article") if not any(p.tag in _NOT_SHOWN | {"article"} for p in a.iterancestors())]
    if len(tops) < 2 or any(p.tag in _RAILS for a in tops for p in a.iterancestors()):
        return [], False
    if any(_headline(a) is None or next(a.iter("h1"), None) is not None for a in tops):
        return [], False
    sizes = [_words(a) for a in tops]
    if max(sizes) > _LIKE_SIZE * statistics.median(sizes):
        return [], False
    own = _words(root) - sum(_words(rail) for rail in root.iter(*_RAILS)) - sum(sizes)
    if own <= max(sizes):
        return tops, True
    return (tops, False) if own >= 2 * sum(sizes) else ([], False)


def _words(element: lxml.html.HtmlElement) -> int:
    """How many words an element shows (scripts and styles are not shown)."""
    return sum(len(text.split()) for text in element.xpath(_SHOWN_TEXT))


def _page_root(page: str) -> lxml.html.HtmlElement | None:
    """The parsed page, or None where lxml cannot read it (trafilatura then tries on its own)."""
    import lxml.etree
    import lxml.html

    try:
        return lxml.html.document_fromstring(page)
    except (ValueError, lxml.etree.ParserError):
        return None


def _headline(teaser: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The first headline element inside a teaser."""
    return next(teaser.iter(*_HEADLINES), None)


def _read_teasers(
    source: str, page: str, root: lxml.html.HtmlElement, teasers: list[lxml.html.HtmlElement]
) -> Iterator[RawDoc | Skipped]:
    """One document per teaser: its headline, its text, its own date and link, the page's outlet."""
    import lxml.html

    base = _meta(root, "canonical") or _meta(root, "og:url")
    outlet = _meta(root, "og:site_name") or _publisher(page) or _page_title_site(page)
    for n, teaser in enumerate(teasers, 1):
        where = f"{source}#{n}"
        headline = _headline(teaser)
        assert headline is not None  # a listing's teasers all have one
        title = " ".join(headline.text_content().split())
        # the headline's link (inside it, or around it), never one in the teaser's text
        link = next(headline.iter("a"), next((p for p in headline.iterancestors("a")), None))
        time = next(teaser.iter("time"), None)
        published = (time.get("datetime") or time.text_content()).strip() if time is not None else None
        for used in (headline, time):
            if used is not None:
                used.drop_tree()
        body = html_fragment_to_text(lxml.html.tostring(teaser, encoding="unicode", with_tail=False)).strip()
        if not body:
            yield Skipped(where, "a listing's teaser with a headline only")
            continue
        url = _absolute(link.get("href"), base) if link is not None else None
        if url and not url.startswith(("http://", "https://")):  # a page's own path leads nowhere from here
            url = None
        yield RawDoc(title=title, body=body, source=where, outlet=outlet, published=published or None, url=url)


def _meta(root: lxml.html.HtmlElement, name: str) -> str | None:
    """A page's canonical link or a <meta property/name> value."""
    if name == "canonical":
        values = root.xpath('//link[@rel="canonical"]/@href')
    else:
        values = root.xpath(f'//meta[@property="{name}" or @name="{name}"]/@content')
    return next((v.strip() for v in values if v.strip()), None)


# "Ferry timetable changes | Bay News": a page title often ends with its site's name after a separator.
_SITE_SUFFIX = re.compile(r"^(?P<title>.{12,}?)\s+[|–—-]\s+(?P<site>[A-Z][\w&'’.-]*(?: [A-Z&][\w&'’.-]*){0,3})$")


def _without_site_name(title: str, sitename: str | None) -> tuple[str, str | None]:
    """A page title without the site name it ends with, and that name; a site name the page declares must
    be the one ending the title, else the title stands."""
    match = _SITE_SUFFIX.match(title)
    if not match or (sitename and match["site"].casefold() != sitename.casefold()):
        return title, None
    return match["title"], match["site"]


_JSON_LD = re.compile(r'<script[^>]*type=["\']application/ld\+json["\'][^>]*>(.*?)</script>', re.IGNORECASE | re.DOTALL)
_PAGE_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
# Sections a page title may end with in place of its site's name.
_SECTIONS = frozenset(
    {
        *"news world uk us politics business money sport sports opinion comment editorial letters analysis".split(),
        *"culture arts entertainment lifestyle health science technology tech travel video live obituaries".split(),
        "local news",
        "world news",
    }
)
_HOST_NAME = re.compile(r"[\w-]+(?:\.[\w-]+)+")
_ARTICLE_TYPES = {"newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "blogposting", "report"}


def _publisher(page: str) -> str | None:
    """The publisher's name an article's schema.org JSON-LD gives (in an object, a list or an @graph)."""
    names = (_publisher_name(node) for block in _JSON_LD.findall(page) for node in _ld_nodes(block))
    return next((name for name in names if name), None)


def _ld_nodes(block: str) -> list[object]:
    """The objects of one JSON-LD block: itself, the items of its list, or those of its @graph."""
    try:
        data = json.loads(block)
    except (json.JSONDecodeError, RecursionError):
        return []
    if isinstance(data, list):
        return data
    graph = data.get("@graph") if isinstance(data, dict) else None
    return [data, *(graph if isinstance(graph, list) else [])]


def _publisher_name(node: object) -> str | None:
    """The publisher name of a JSON-LD article object, else None."""
    if not isinstance(node, dict):
        return None
    kinds = node.get("@type")
    if not {str(k).lower() for k in (kinds if isinstance(kinds, list) else [kinds])} & _ARTICLE_TYPES:
        return None
    publisher = node.get("publisher")
    if isinstance(publisher, list):  # several publishers: the first names the outlet
        publisher = publisher[0] if publisher else None
    name = publisher.get("name") if isinstance(publisher, dict) else publisher
    return " ".join(name.split()) if isinstance(name, str) and name.strip() else None


def _page_title_site(page: str) -> str | None:
    """The site name a page's <title> ends with ("Hospital strike averted - Northfield Gazette"), unless it is
    a section's name ("... - Opinion")."""
    match = _PAGE_TITLE.search(page)
    site = _without_site_name(" ".join(html_fragment_to_text(match[1]).split()), None)[1] if match else None
    return None if site is None or site.casefold() in _SECTIONS else site


# Where one record of a file stands, as the readers below name it: "export.json#3", "wire.jsonl:12",
# "rows.csv:7", "feed.xml#item2".
_RECORD_PLACE = re.compile(r"(?:#(?:item)?\d+|:\d+)$")


def record_file(where: str) -> str:
    """The file or feed a record came from: its source with the record's place left off."""
    return _RECORD_PLACE.sub("", where)


def read_json(source: str, text: str) -> Iterator[RawDoc | Skipped]:
    """A JSON object, a list of objects, or an object holding them in wrappers a few levels down."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SkipSource(f"malformed JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise SkipSource("JSON nested too deeply to read") from None
    data = _records(data)
    records = data if isinstance(data, list) else [data]
    if not records:
        raise SkipSource("no records: the JSON holds an empty list")
    for i, record in enumerate(records):
        where = f"{source}#{i}" if len(records) > 1 else source
        try:
            yield doc_from_record(record, where)
        except SkipSource as exc:
            yield Skipped(where, str(exc))


def read_jsonl(source: str, text: str) -> Iterator[RawDoc | Skipped]:
    """One JSON object per line; a malformed line is skipped on its own."""
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source}:{lineno}"
        try:
            yield doc_from_record(json.loads(line), where)
        except json.JSONDecodeError as exc:
            yield Skipped(where, f"malformed JSON line {lineno}: {exc.msg}")
        except RecursionError:
            yield Skipped(where, f"line {lineno}: JSON nested too deeply to read")
        except SkipSource as exc:
            yield Skipped(where, f"line {lineno}: {exc}")


def read_csv(source: str, text: str) -> Iterator[RawDoc | Skipped]:
    """CSV with a header row naming the same fields as JSON, its fields separated by commas, semicolons or tabs."""
    csv.field_size_limit(1 << 26)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
        for rowno, row in enumerate(reader, start=2):
            where = f"{source}:{rowno}"
            try:
                yield doc_from_record(row, where)
            except SkipSource as exc:
                yield Skipped(where, f"row {rowno}: {exc}")
    except csv.Error as exc:
        raise SkipSource(f"malformed CSV: {exc}") from None


def _delimiter(text: str) -> str:
    """The header row's field separator: a comma, or the semicolon or tab that many European and spreadsheet
    exports use instead, whichever the header holds most of."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    return max(",;\t", key=header.count)


def _local(tag: str) -> str:
    """An XML tag without its namespace."""
    return tag.rsplit("}", 1)[-1].lower()


def _child_text(elem: ElementTree.Element, *names: str) -> str | None:
    """Text of a child with one of the given local names, the earlier names first: a feed item's full story
    (`content:encoded`) wherever it stands beside its teaser (`description`)."""
    for wanted in names:
        for child in elem:
            name = _local(child.tag)
            if name != wanted:
                continue
            if name == "link" and child.get("href"):
                return child.get("href")
            if child.get("type") == "xhtml" and len(child):
                return _inner_xhtml(child)
            if child.text and child.text.strip():
                return child.text.strip()
    return None


def _inner_xhtml(elem: ElementTree.Element) -> str:
    """The markup inside an Atom `type="xhtml"` element (its XHTML `div`), as HTML without namespaces."""
    inner = copy.deepcopy(elem)
    for node in inner.iter():
        node.tag = _local(node.tag)
    return "".join(ElementTree.tostring(node, encoding="unicode") for node in inner)


def _plain_title(title: str) -> str:
    """A feed title as text: an HTML title (Atom `type="html"`, CDATA) loses its tags and entities."""
    if "<" not in title and "&" not in title:
        return title
    return " ".join(html_fragment_to_text(title).split())


def _absolute(url: str | None, base: str | None) -> str | None:
    """A feed item's link made absolute against the feed's own link ("/news/x" on https://site.example/)."""
    if not url or not base or not base.startswith(("http://", "https://")):
        return url
    return urljoin(base, url)


def html_fragment_to_text(fragment: str) -> str:
    """Text of an HTML fragment (feed descriptions, an export's rendered body), paragraphs kept apart; an
    image's caption is no part of the story's text, as on a page."""
    import lxml.html

    if "<" not in fragment and "&" not in fragment:  # entities left in CDATA still need decoding
        return fragment
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    for hidden in list(root.iter("script", "style", "noscript", "template", "figcaption")):  # not the story's text
        hidden.drop_tree()
    preformatted = {node for pre in root.iter("pre") for node in pre.iter()}
    for node in root.iter():  # markup wrapped over lines ("<p>The post ...\nappeared first on ...</p>")
        if node not in preformatted:
            node.text = node.text and _unwrapped(node.text)
        if node.getparent() not in preformatted:
            node.tail = node.tail and _unwrapped(node.tail)
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter(*_BLOCKS):
        block.text = "\n\n" + (block.text or "")
        block.tail = "\n\n" + (block.tail or "")
    return root.text_content().strip()


def _unwrapped(text: str) -> str:
    """Markup's text with a line break inside a paragraph read as the space it shows as; a blank line between
    paragraphs of plain text stays."""
    return _LONE_NEWLINE.sub(" ", _BLANKS_AT_BREAK.sub("\n", text))


# Elements that stand as paragraphs of their own: text after one starts a new paragraph.
_BLOCKS = ("p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tr")
_BLANKS_AT_BREAK = re.compile(r"(?<![ \t])[ \t]*\n[ \t]*")
_LONE_NEWLINE = re.compile(r"(?<!\n)\n(?!\n)")


def _numeric_entities(text: str) -> str:
    """HTML's named entities (&nbsp; &mdash;) as numeric references, which XML reads without a DTD."""

    def numeric(match: re.Match[str]) -> str:
        chars = html5.get(match.group(1) + ";")
        if chars is None or match.group(1) in _XML_ENTITIES:
            return match.group(0)
        return "".join(f"&#{ord(ch)};" for ch in chars)

    # Names HTML does not know are left alone, so a document's own entities still reach the parser's refusal.
    return _NAMED_ENTITY.sub(numeric, text)


class _FeedParser(DefusedXMLParser):
    """Refuses entity declarations and any internal DTD subset; a bare public DOCTYPE (RSS 0.91) is harmless."""

    def defused_start_doctype_decl(
        self, name: str, sysid: str | None, pubid: str | None, has_internal_subset: bool
    ) -> None:
        if has_internal_subset:
            raise DTDForbidden(name, sysid, pubid)


def parse_feed_xml(text: str) -> ElementTree.Element:
    """The root of a feed's XML; a feed declaring its own DTD or entities is refused before anything expands."""
    parser = _FeedParser(target=ElementTree.TreeBuilder(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        # Fed as text: the bytes were decoded already, and an encoding declaration must not apply twice.
        parser.feed(_numeric_entities(text))
        return parser.close()
    except DefusedXmlException:
        raise SkipSource("XML declares a DTD or entities, which feeds may not (expansion and file-read risk)") from None
    except ElementTree.ParseError as exc:
        raise SkipSource(f"malformed XML: {exc}") from None


def read_feed(source: str, text: str) -> Iterator[RawDoc | Skipped]:
    """RSS 2.0 or Atom: each item or entry is an article; the channel title is the outlet."""
    root = parse_feed_xml(text)
    channel = next((e for e in root.iter() if _local(e.tag) == "channel"), root)
    outlet = _child_text(channel, "title")
    home = _child_text(channel, "link")
    items = [e for e in root.iter() if _local(e.tag) in ("item", "entry")]
    if not items:
        raise SkipSource("XML file is not an RSS or Atom feed (no items)")
    for i, item in enumerate(items):
        where = f"{source}#item{i + 1}"
        body = _child_text(item, "encoded", "content", "description", "summary")
        if not body:
            yield Skipped(where, f"feed item {i + 1}: no text")
            continue
        origin = _origin(item)
        title = _plain_title(_child_text(item, "title") or "")
        yield RawDoc(
            title=_without_site_name(title, origin)[0] if origin else title,
            body=without_cut_marks(html_fragment_to_text(body)),
            source=where,
            outlet=origin or outlet,
            published=_child_text(item, "pubdate", "published", "updated", "date"),
            url=_absolute(_child_text(item, "link"), home or source) or _child_text(item, "guid"),
        )


_SOURCE_TAGS = {"source", "{http://www.w3.org/2005/Atom}source"}


def _origin(item: ElementTree.Element) -> str | None:
    """The outlet an aggregator's item came from, whose name the item's title may end with: RSS's
    `<source>` names it, Atom's `<source>` holds the original feed's `<title>`."""
    source = next((child for child in item if child.tag in _SOURCE_TAGS), None)  # not Dublin Core's dc:source
    if source is None:
        return None
    text = source.text.strip() if source.text else ""
    return text or _plain_title(_child_text(source, "title") or "") or None


READERS = {
    ".txt": read_text,
    ".md": read_markdown,
    ".text": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".json": read_json,
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".csv": read_csv,
    ".tsv": read_csv,
    ".xml": read_feed,
    ".rss": read_feed,
    ".atom": read_feed,
}
