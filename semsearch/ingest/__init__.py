"""Ingest: files and folders of news in many formats → cleaned, de-duplicated Articles."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..config import Settings
from ..records import Article, Skipped, article_id_for
from .cleaning import Cleaner, complete_year, date_in_path, is_ambiguous_date, parse_date, writes_month_first
from .fetch import FEED_SCHEMES, FeedLimits, fetch, unsupported_scheme
from .markup import strip_markup, strip_title, without_controls
from .readers import READERS, RawDoc, SkipSource, decode_bytes, printable, read_feed, without_bidi_controls

log = logging.getLogger(__name__)

_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(slots=True)
class IngestResult:
    """Articles ready for chunking plus every source passed over, with its reason."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0
    outcomes: list[SourceOutcome] = field(default_factory=list)  # one per source given, in order


@dataclass(slots=True)
class SourceOutcome:
    """One source as a build read it: why it could not be read at all (None when it could), the ids of the
    articles it gave (an article read from two sources counts for both) and what in it was passed over."""

    source: str | Path
    error: str | None = None
    article_ids: set[str] = field(default_factory=set)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def failure(self) -> str | None:
        """Why the source gave nothing: it could not be read, or it held only files or records that were skipped
        (a folder of unsupported files is not a working source)."""
        if self.error is not None or self.article_ids or not self.skipped:
            return self.error
        return f"nothing in it could be read ({len(self.skipped)} skipped; the first: {self.skipped[0].reason})"


@dataclass(slots=True)
class SourceRead:
    """What reading one source gave: its raw documents, what it passed over, and why it failed as a whole."""

    source: str | Path
    docs: list[RawDoc] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    error: str | None = None


def url_scheme(source: str | Path) -> str | None:
    """The scheme of a source written as a URL ("https://..."), or None for a path."""
    match = _URL_SCHEME.match(str(source))
    return match.group(1).lower() if match else None


def source_problem(source: str | Path) -> str | None:
    """Why a source as given can be neither a path nor a URL, or None when it can be looked at."""
    if not str(source).strip():
        # Path("") is the working directory, which nobody means by an empty string.
        return "empty source (give a file, a folder or a feed URL)"
    if "\x00" in str(source):
        return "source contains a NUL character"
    return None


def discover(sources: Iterable[str | Path], max_bytes: int) -> Iterator[Path | str | Skipped]:
    """Every readable file under the given files and folders, feed URLs as given, or why one is passed over."""
    for source in sources:
        if problem := source_problem(source):
            yield Skipped(printable(source), problem)
            continue
        scheme = url_scheme(source)
        if scheme in FEED_SCHEMES:
            yield str(source)
            continue
        if scheme:  # kept whole: as a Path, "ftp://x/y" would become "ftp:/x/y"
            yield Skipped(printable(source), unsupported_scheme(scheme))
            continue
        try:
            yield from _files_under(Path(source), max_bytes)
        except OSError as exc:  # e.g. a name too long for the file system
            yield Skipped(printable(source), printable(f"cannot be read: {exc.strerror or exc}"))


def recorded_form(source: str | Path) -> str:
    """A source as an index records it: URLs as given, paths made absolute, unusable ones left as they are."""
    if url_scheme(source) or source_problem(source):
        return str(source)  # as a Path a URL loses a "/", and "" would become the working directory
    return str(Path(source).resolve())


def _files_under(source: Path, max_bytes: int) -> Iterator[Path | Skipped]:
    """The readable files a file or folder source stands for, or why each is passed over."""
    if not source.exists() and not source.is_symlink():
        yield Skipped(printable(source), "no such file or folder")
        return
    if source.is_dir():
        root = source.resolve()
        unreadable: list[Skipped] = []
        files = _entries(source, unreadable)
        yield from unreadable
    else:
        root, files = source.resolve().parent, [source]
    for path in files:
        reason = _unreadable_because(path, root, max_bytes)
        yield Skipped(printable(path), reason) if reason else path


def _entries(folder: Path, unreadable: list[Skipped]) -> list[Path]:
    """Everything under a folder but real folders and hidden names, so links, pipes and sockets get a reason
    rather than silence; a folder that cannot be listed is added to unreadable (a glob would skip it unsaid)."""

    def refused(error: OSError) -> None:
        unreadable.append(Skipped(printable(error.filename), f"folder cannot be read: {error.strerror or error}"))

    found = []
    for top, folders, names in os.walk(folder, onerror=refused):
        # hidden files and folders (.git, .DS_Store) are not articles; links to folders are listed, not followed
        folders[:] = [f for f in folders if not f.startswith(".")]
        links = [f for f in folders if (Path(top) / f).is_symlink()]
        found += [Path(top) / n for n in names + links if not n.startswith(".")]
    return sorted(found)


def _unreadable_because(path: Path, root: Path, max_bytes: int) -> str | None:
    """Why a file found under root is passed over, or None when it can be read."""
    if path.is_symlink():
        if not path.exists():
            return "broken symlink: its target does not exist"
        if not path.resolve().is_relative_to(root):
            return "symlink pointing outside the source folder"
        if path.is_dir():
            return "symlink to a folder (not followed)"
    if path.suffix.lower() not in READERS:
        return f"unsupported file type '{path.suffix or '(none)'}'"
    if not path.is_file():
        return "not a regular file"
    if (size := path.stat().st_size) > max_bytes:
        return f"file too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB)"
    return None


def read_sources(sources: Iterable[str | Path], settings: Settings) -> list[SourceRead]:
    """Read each source into raw documents, keeping apart what each gave and whether it could be read at all."""
    max_bytes = int(settings.max_file_mb * 1e6)
    feeds = FeedLimits(settings.feed_timeout, max_bytes, settings.feed_allow_private)
    return [_read_source(source, settings, feeds, max_bytes) for source in sources]


def _read_source(source: str | Path, settings: Settings, feeds: FeedLimits, max_bytes: int) -> SourceRead:
    """One source read; a problem with the source itself (not one of its files or items) is its error."""
    read = SourceRead(source)
    # How a problem with the source itself is named: as given (a URL, a blank), or as a path.
    itself = {printable(source), printable(Path(source))}
    for item in discover([source], max_bytes):
        problem = item if isinstance(item, Skipped) else _read_item(item, settings, feeds, read)
        if problem is None:
            continue
        read.skipped.append(problem)
        if problem.source in itself and read.error is None:
            read.error = problem.reason
    return read


def _read_item(item: Path | str, settings: Settings, feeds: FeedLimits, read: SourceRead) -> Skipped | None:
    """Read one file or feed into `read`; why the whole file or feed could not be read, or None."""
    source = printable(item)
    try:
        data = fetch(item, feeds) if isinstance(item, str) else item.read_bytes()
        reader = read_feed if isinstance(item, str) else READERS[item.suffix.lower()]
        docs: list[RawDoc] = []
        for piece in reader(source, decode_bytes(data)):
            if isinstance(piece, RawDoc) and (too_large := over_limits(piece, settings)):
                piece = Skipped(source, too_large)
            if isinstance(piece, Skipped):
                read.skipped.append(piece)
            else:
                docs.append(_displayable(piece))
        read.docs.extend(_dates_in_file_order(source, docs))
    except SkipSource as exc:
        return Skipped(source, printable(str(exc)))
    except OSError as exc:
        return Skipped(source, printable(f"unreadable: {exc.strerror or exc}"))
    except Exception as exc:  # a reader bug on one odd file must not stop the build
        log.exception("reader failed on %s", source)
        return Skipped(source, printable(f"could not be parsed: {type(exc).__name__}: {exc}"))
    return None


def over_limits(doc: RawDoc, settings: Settings) -> str | None:
    """Why one article read from a source is too large to build, or None."""
    # The file cap alone does not bound a build: a million short lines or one endless line cost far more
    # to clean, split and embed than their bytes suggest. The caps are per article, so an export holding
    # many ordinary articles is never refused for its size.
    if (chars := len(doc.body)) > settings.max_article_chars:
        return f"article too long ({chars:,} characters > {settings.max_article_chars:,}, SEMSEARCH_MAX_ARTICLE_CHARS)"
    if (lines := len(doc.body.splitlines())) > settings.max_article_lines:
        return f"article has too many lines ({lines:,} > {settings.max_article_lines:,}, SEMSEARCH_MAX_ARTICLE_LINES)"
    return None


def _displayable(doc: RawDoc) -> RawDoc:
    """A raw document whose title, text and outlet cannot be displayed reordered by direction controls, and
    whose outlet and link hold no control characters (a terminal would obey an escape in an exported outlet)."""
    # Stripped before cleaning, so every offset into the stored text is an offset into the stripped text.
    doc.title = without_bidi_controls(doc.title)
    doc.body = without_bidi_controls(doc.body)
    doc.outlet = doc.outlet and strip_title(without_bidi_controls(doc.outlet))
    doc.url = doc.url and without_controls(doc.url)
    return doc


def _dates_in_file_order(source: str, docs: list[RawDoc]) -> list[RawDoc]:
    """One file's documents with their dates in figures read the way round the file writes them, which its
    unambiguous dates show ("13/03/2025" day first, "03/13/2025" month first); day first when none does."""
    month_first = writes_month_first(d.published for d in docs)
    if month_first:
        for doc in docs:
            doc.published = parse_date(doc.published, month_first=True) or doc.published
    elif month_first is None and (ambiguous := [d.published for d in docs if is_ambiguous_date(d.published)]):
        log.warning(
            "%s: %d date(s) such as %s could be day or month first and no date of the file tells; read day first",
            source,
            len(ambiguous),
            printable(str(ambiguous[0])[:40]),
        )
    return docs


def default_outlet(source: str, outlets: dict[str, str]) -> str | None:
    """The configured outlet for a source path, by the longest matching path fragment."""
    matches = [key for key in outlets if key in source]
    return outlets[max(matches, key=len)] if matches else None


def to_articles(docs: list[RawDoc], cleaner: Cleaner, outlets: dict[str, str] | None = None) -> IngestResult:
    """Clean raw documents into articles, storing exact duplicates once with every path."""
    result = IngestResult()
    by_text: dict[tuple[str, str | None], Article] = {}
    texts_seen: set[str] = set()
    for doc in docs:
        # Every format may carry entity or SGML leftovers (an archive's &HT; in a title), so all pass through here.
        pieces = cleaner.clean(strip_title(doc.title), strip_markup(doc.body), doc.source)
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
                title=piece.title,
                text=piece.text,
                source_path=doc.source,
                outlet=outlet,
                published=published,
                url=doc.url if main else None,
                place=piece.place,
                extracted_from=piece.extracted_from,
            )
            text_key = hashlib.sha256(" ".join(article.text.split()).encode()).hexdigest()
            # Another outlet's word-for-word copy (a wire story run as is) is that outlet's article too, or
            # the outlet would vanish from filters and from "also reported by": kept, under an id of its own.
            key = (text_key, article.outlet.casefold() if article.outlet else None)
            if key in by_text:
                by_text[key].duplicate_paths.append(doc.source)
                result.duplicates += 1
                continue
            if text_key in texts_seen:
                article = replace(article, id=article_id_for(article.title, f"{article.text}\n{article.outlet}"))
            texts_seen.add(text_key)
            by_text[key] = article
            result.articles.append(article)
    result.articles = one_spelling_per_outlet(result.articles)
    return result


def one_spelling_per_outlet(articles: list[Article]) -> list[Article]:
    """Articles whose outlet is spelt in several cases ("Valley Wire", "VALLEY WIRE") under its most used
    spelling (on a tie, one in mixed case, then the first met): filters already ignore case, and counts,
    facets and "how many outlets" must too."""
    used = Counter(a.outlet for a in articles if a.outlet)

    def preference(name: str) -> tuple[int, bool]:
        return used[name], name not in (name.lower(), name.upper())

    best: dict[str, str] = {}
    for name in used:  # in the order first met, which a tie keeps
        if (key := name.casefold()) not in best or preference(name) > preference(best[key]):
            best[key] = name
    return [
        replace(a, outlet=best[a.outlet.casefold()]) if a.outlet and best[a.outlet.casefold()] != a.outlet else a
        for a in articles
    ]


def ingest(sources: Iterable[str | Path], settings: Settings | None = None) -> IngestResult:
    """Read, clean and de-duplicate everything under the given sources."""
    settings = settings or Settings()
    reads = read_sources(sources, settings)
    docs = [d for r in reads for d in r.docs]
    cleaner = Cleaner.for_corpus(
        (d.body for d in docs), keep_rails=settings.rails == "split", phrases_file=settings.junk_phrases_file
    )
    result = to_articles(docs, cleaner, settings.source_outlets)
    # A file given both alone and inside a given folder is read twice, and would be listed twice.
    result.skipped[:0] = list(dict.fromkeys(s for r in reads for s in r.skipped))
    result.outcomes = _outcomes(reads, result.articles)
    return result


def _outcomes(reads: list[SourceRead], articles: list[Article]) -> list[SourceOutcome]:
    """Each source's error and the articles it gave, found through the places its documents were read from."""
    outcomes = [SourceOutcome(r.source, r.error, skipped=r.skipped) for r in reads]
    origin = {doc.source: outcome for r, outcome in zip(reads, outcomes, strict=True) for doc in r.docs}
    for article in articles:
        for path in (article.source_path, *article.duplicate_paths):
            if (outcome := origin.get(path)) is not None:
                outcome.article_ids.add(article.id)
    return outcomes
