"""One reader per file format: bytes on disk to raw documents, or a reason to skip."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from charset_normalizer import from_bytes

from ..models import Skipped

log = logging.getLogger(__name__)

TEXT_FIELDS = ("text", "body", "content", "description", "summary")
OUTLET_FIELDS = ("outlet", "source", "publisher", "site_name", "sitename")
DATE_FIELDS = ("published", "date", "published_at", "pubdate", "datetime")


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


def decode_bytes(data: bytes) -> str:
    """Decode text robustly: UTF-8 first, then the detected encoding; refuse binary."""
    if not data.strip():
        raise SkipSource("empty file")
    head = data[:8192]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SkipSource("binary file (NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Detection needs a few KB to be reliable; a short legacy file is most often Windows-1252.
    best = None if len(data) < 2048 else from_bytes(data).best()
    if best is not None:
        text = str(best)
    else:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > len(text[:4096]) * 0.05:
        raise SkipSource("binary file (control characters)")
    return text


def _first(record: dict, names: tuple[str, ...]) -> str | None:
    """The first non-empty field among names, flattened to a string."""
    for name in names:
        value = record.get(name)
        if isinstance(value, dict):  # e.g. {"source": {"name": "Outlet"}}
            value = value.get("name") or value.get("title")
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def doc_from_record(record: object, source: str) -> RawDoc:
    """Map a JSON object or CSV row with the documented field names to a raw document."""
    if not isinstance(record, dict):
        raise SkipSource(f"expected an object, found {type(record).__name__}")
    lowered = {str(k).lower(): v for k, v in record.items()}
    body = _first(lowered, TEXT_FIELDS)
    if not body:
        raise SkipSource("no text field (text, body or content)")
    title = _first(lowered, ("title", "headline")) or ""
    return RawDoc(
        title=title,
        body=body,
        source=source,
        outlet=_first(lowered, OUTLET_FIELDS),
        published=_first(lowered, DATE_FIELDS),
        url=_first(lowered, ("url", "link")),
    )


def read_text(path: Path, text: str) -> Iterator[RawDoc]:
    """Plain text or Markdown: the first non-empty line is the title."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip():
            title = line.strip().lstrip("#").strip()
            yield RawDoc(title=title, body="\n".join(lines[i + 1 :]), source=str(path))
            return
    raise SkipSource("empty file")


def read_html(path: Path, text: str) -> Iterator[RawDoc]:
    """HTML page: main text and metadata by trafilatura, which never fetches anything."""
    import trafilatura  # heavy import, only paid when HTML is present

    doc = trafilatura.bare_extraction(
        text, with_metadata=True, include_comments=False, include_tables=False, include_images=False
    )
    if doc is None or not (doc.text or "").strip():
        raise SkipSource("no main text found in HTML")
    title = (doc.title or "").strip()
    body = doc.text
    first, _, rest = body.partition("\n")
    if title and first.strip() == title:  # trafilatura repeats the <h1> as the first line
        body = rest
    yield RawDoc(title=title, body=body, source=str(path), outlet=doc.sitename, published=doc.date, url=doc.url)


def read_json(path: Path, text: str) -> Iterator[RawDoc | Skipped]:
    """A JSON object, a list of objects, or an object holding them under articles/items/data."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SkipSource(f"malformed JSON: {exc.msg} at line {exc.lineno}") from None
    if isinstance(data, dict):
        for key in ("articles", "items", "data", "results"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    records = data if isinstance(data, list) else [data]
    for i, record in enumerate(records):
        where = f"{path}#{i}" if len(records) > 1 else str(path)
        try:
            yield doc_from_record(record, where)
        except SkipSource as exc:
            yield Skipped(where, str(exc))


def read_jsonl(path: Path, text: str) -> Iterator[RawDoc | Skipped]:
    """One JSON object per line; a malformed line is skipped on its own."""
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            yield doc_from_record(json.loads(line), where)
        except json.JSONDecodeError as exc:
            yield Skipped(where, f"malformed JSON line {lineno}: {exc.msg}")
        except SkipSource as exc:
            yield Skipped(where, f"line {lineno}: {exc}")


def read_csv(path: Path, text: str) -> Iterator[RawDoc | Skipped]:
    """CSV with a header row naming the same fields as JSON."""
    csv.field_size_limit(1 << 26)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        for rowno, row in enumerate(reader, start=2):
            where = f"{path}:{rowno}"
            try:
                yield doc_from_record(row, where)
            except SkipSource as exc:
                yield Skipped(where, f"row {rowno}: {exc}")
    except csv.Error as exc:
        raise SkipSource(f"malformed CSV: {exc}") from None


def _local(tag: str) -> str:
    """An XML tag without its namespace."""
    return tag.rsplit("}", 1)[-1].lower()


def _child_text(elem: ElementTree.Element, *names: str) -> str | None:
    """Text of the first child with one of the given local names."""
    for child in elem:
        name = _local(child.tag)
        if name in names:
            if name == "link" and child.get("href"):
                return child.get("href")
            if child.text and child.text.strip():
                return child.text.strip()
    return None


def html_fragment_to_text(fragment: str) -> str:
    """Text of an HTML fragment (feed descriptions), paragraphs kept apart."""
    import lxml.html

    if "<" not in fragment:
        return fragment
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter("p", "div", "li", "h1", "h2", "h3", "h4"):
        block.tail = "\n\n" + (block.tail or "")
    return root.text_content()


def read_feed(path: Path | str, text: str) -> Iterator[RawDoc | Skipped]:
    """RSS 2.0 or Atom: each item or entry is an article; the channel title is the outlet."""
    try:
        root = ElementTree.fromstring(text.encode("utf-8"))
    except ElementTree.ParseError as exc:
        raise SkipSource(f"malformed XML: {exc}") from None
    channel = next((e for e in root.iter() if _local(e.tag) == "channel"), root)
    outlet = _child_text(channel, "title")
    items = [e for e in root.iter() if _local(e.tag) in ("item", "entry")]
    if not items:
        raise SkipSource("XML file is not an RSS or Atom feed (no items)")
    for i, item in enumerate(items):
        where = f"{path}#item{i + 1}"
        body = _child_text(item, "encoded", "content", "description", "summary")
        if not body:
            yield Skipped(where, f"feed item {i + 1}: no text")
            continue
        yield RawDoc(
            title=_child_text(item, "title") or "",
            body=html_fragment_to_text(body),
            source=where,
            outlet=outlet,
            published=_child_text(item, "pubdate", "published", "updated", "date"),
            url=_child_text(item, "link", "guid"),
        )


READERS = {
    ".txt": read_text,
    ".md": read_text,
    ".text": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".json": read_json,
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".csv": read_csv,
    ".xml": read_feed,
    ".rss": read_feed,
    ".atom": read_feed,
}
