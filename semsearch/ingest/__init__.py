"""Ingest: files and folders of news in many formats → cleaned, de-duplicated Articles."""

from __future__ import annotations

import hashlib
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..models import Article, Skipped
from .cleaning import Cleaner, complete_year, date_in_path, parse_date
from .readers import READERS, RawDoc, SkipSource, decode_bytes, read_feed

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestResult:
    """Articles ready for chunking plus every source passed over, with its reason."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0


def _is_url(source: str | Path) -> bool:
    """Feed URLs are sources too."""
    return str(source).startswith(("http://", "https://"))


def discover(sources: Iterable[str | Path], max_bytes: int) -> Iterator[Path | str | Skipped]:
    """Every readable file under the given files and folders, feed URLs as given, or why one is passed over."""
    for source in sources:
        if _is_url(source):
            yield str(source)
            continue
        source = Path(source)
        if not source.exists():
            yield Skipped(str(source), "no such file or folder")
            continue
        if source.is_dir():
            root = source.resolve()
            files = sorted(p for p in source.rglob("*") if p.is_file() or p.is_symlink())
            # hidden files and folders (.git, .DS_Store) are not articles
            files = [p for p in files if not any(part.startswith(".") for part in p.relative_to(source).parts)]
        else:
            root, files = source.resolve().parent, [source]
        for path in files:
            if path.suffix.lower() not in READERS:
                yield Skipped(str(path), f"unsupported file type '{path.suffix or '(none)'}'")
            elif path.is_symlink() and not path.resolve().is_relative_to(root):
                yield Skipped(str(path), "symlink pointing outside the source folder")
            elif not path.is_file():
                yield Skipped(str(path), "not a regular file (broken link?)")
            elif (size := path.stat().st_size) > max_bytes:
                yield Skipped(str(path), f"file too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB)")
            else:
                yield path


def read_raw(sources: Iterable[str | Path], settings: Settings) -> tuple[list[RawDoc], list[Skipped]]:
    """Read every source into raw documents; unreadable ones are listed, never fatal."""
    docs: list[RawDoc] = []
    skipped: list[Skipped] = []
    max_bytes = int(settings.max_file_mb * 1e6)
    for item in discover(sources, max_bytes):
        if isinstance(item, Skipped):
            skipped.append(item)
            continue
        try:
            if isinstance(item, str):
                found = read_feed(item, decode_bytes(fetch(item, settings.feed_timeout, max_bytes)))
            else:
                found = READERS[item.suffix.lower()](item, decode_bytes(item.read_bytes()))
            for piece in found:
                (skipped if isinstance(piece, Skipped) else docs).append(piece)
        except SkipSource as exc:
            skipped.append(Skipped(str(item), str(exc)))
        except OSError as exc:
            skipped.append(Skipped(str(item), f"unreadable: {exc.strerror or exc}"))
        except Exception as exc:  # a reader bug on one odd file must not stop the build
            log.exception("reader failed on %s", item)
            skipped.append(Skipped(str(item), f"could not be parsed: {type(exc).__name__}: {exc}"))
    return docs, skipped


def fetch(url: str, timeout: float, max_bytes: int) -> bytes:
    """Download a feed with a timeout and a size cap; failures become a skip reason."""
    request = urllib.request.Request(url, headers={"User-Agent": "semsearch feed reader"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
            data = response.read(max_bytes + 1)
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise SkipSource(f"feed could not be fetched: {getattr(exc, 'reason', exc)}") from None
    if len(data) > max_bytes:
        raise SkipSource(f"feed larger than {max_bytes / 1e6:.1f} MB")
    return data


def default_outlet(source: str, outlets: dict[str, str]) -> str | None:
    """The configured outlet for a source path, by the longest matching path fragment."""
    matches = [key for key in outlets if key in source]
    return outlets[max(matches, key=len)] if matches else None


def to_articles(docs: list[RawDoc], cleaner: Cleaner, outlets: dict[str, str] | None = None) -> IngestResult:
    """Clean raw documents into articles, storing exact duplicates once with every path."""
    result = IngestResult()
    by_text: dict[str, Article] = {}
    for doc in docs:
        pieces = cleaner.clean(doc.title, doc.body, doc.source)
        if not pieces:
            result.skipped.append(Skipped(doc.source, "no article text left after cleaning"))
            continue
        for piece in pieces:
            main = piece.extracted_from is None
            published = parse_date(doc.published) if main and doc.published else piece.published
            published = complete_year(published, parse_date(doc.published), doc.url, doc.source)
            if published is None and main:
                published = date_in_path(doc.url) or date_in_path(doc.source)
            outlet = piece.outlet
            if main:
                outlet = doc.outlet or piece.outlet or default_outlet(doc.source, outlets or {})
            article = Article.create(
                title=piece.title or piece.text.split("\n", 1)[0][:120],
                text=piece.text,
                source_path=doc.source,
                outlet=outlet,
                published=published,
                url=doc.url if main else None,
                place=piece.place,
                extracted_from=piece.extracted_from,
            )
            key = hashlib.sha256(" ".join(article.text.split()).encode()).hexdigest()
            if key in by_text:
                by_text[key].duplicate_paths.append(doc.source)
                result.duplicates += 1
                continue
            by_text[key] = article
            result.articles.append(article)
    return result


def ingest(sources: Iterable[str | Path], settings: Settings | None = None) -> IngestResult:
    """Read, clean and de-duplicate everything under the given sources."""
    settings = settings or Settings()
    docs, skipped = read_raw(sources, settings)
    cleaner = Cleaner.for_corpus(
        (d.body for d in docs), keep_rails=settings.rails == "split", phrases_file=settings.junk_phrases_file
    )
    result = to_articles(docs, cleaner, settings.source_outlets)
    result.skipped[:0] = skipped
    return result
