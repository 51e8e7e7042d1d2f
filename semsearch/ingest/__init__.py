"""Ingest: files and folders of news in many formats → cleaned, de-duplicated Articles."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..models import Article, Skipped
from .cleaning import Cleaner, complete_year, date_in_path, parse_date
from .readers import READERS, RawDoc, SkipSource, decode_bytes

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestResult:
    """Articles ready for chunking plus every source passed over, with its reason."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0


def discover(sources: Iterable[Path], max_bytes: int) -> Iterator[Path | Skipped]:
    """Every readable file under the given files and folders, or why one is passed over."""
    for source in sources:
        source = Path(source)
        if not source.exists():
            yield Skipped(str(source), "no such file or folder")
            continue
        root = source.resolve() if source.is_dir() else source.resolve().parent
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        for path in files:
            if any(part.startswith(".") for part in path.relative_to(source).parts) if source.is_dir() else False:
                continue  # hidden files and folders (.git, .DS_Store) are not articles
            if path.suffix.lower() not in READERS:
                yield Skipped(str(path), f"unsupported file type '{path.suffix or '(none)'}'")
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                yield Skipped(str(path), "symlink pointing outside the source folder")
                continue
            size = path.stat().st_size
            if size > max_bytes:
                yield Skipped(str(path), f"file too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB)")
                continue
            yield path


def read_raw(sources: Iterable[Path], max_bytes: int) -> tuple[list[RawDoc], list[Skipped]]:
    """Read every source file into raw documents; unreadable ones are listed, never fatal."""
    docs: list[RawDoc] = []
    skipped: list[Skipped] = []
    for item in discover(sources, max_bytes):
        if isinstance(item, Skipped):
            skipped.append(item)
            continue
        try:
            text = decode_bytes(item.read_bytes())
            for found in READERS[item.suffix.lower()](item, text):
                (skipped if isinstance(found, Skipped) else docs).append(found)
        except SkipSource as exc:
            skipped.append(Skipped(str(item), str(exc)))
        except OSError as exc:
            skipped.append(Skipped(str(item), f"unreadable: {exc.strerror or exc}"))
        except Exception as exc:  # a reader bug on one odd file must not stop the build
            log.exception("reader failed on %s", item)
            skipped.append(Skipped(str(item), f"could not be parsed: {type(exc).__name__}: {exc}"))
    return docs, skipped


def to_articles(docs: list[RawDoc], cleaner: Cleaner) -> IngestResult:
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
            article = Article.create(
                title=piece.title or piece.text.split("\n", 1)[0][:120],
                text=piece.text,
                source_path=doc.source,
                outlet=(doc.outlet if main and doc.outlet else piece.outlet),
                published=published,
                url=doc.url if main else None,
                place=piece.place,
                extracted_from=piece.extracted_from,
            )
            key = hashlib.sha256(" ".join(article.text.split()).lower().encode()).hexdigest()
            if key in by_text:
                by_text[key].duplicate_paths.append(doc.source)
                result.duplicates += 1
                continue
            by_text[key] = article
            result.articles.append(article)
    return result


def ingest(sources: Iterable[Path], max_bytes: int, keep_rails: bool = True) -> IngestResult:
    """Read, clean and de-duplicate everything under the given sources."""
    docs, skipped = read_raw(sources, max_bytes)
    cleaner = Cleaner.for_corpus((d.body for d in docs), keep_rails=keep_rails)
    result = to_articles(docs, cleaner)
    result.skipped[:0] = skipped
    return result
