"""Sentence spans with exact character offsets into an article's text."""

from __future__ import annotations

import importlib
import pkgutil
import re
import types
from collections.abc import Callable, Sequence
from functools import lru_cache

from .records import Span

_PARAGRAPH = re.compile(r"[^\n]+")
WINDOW = 2000  # characters pysbd segments at once (see _paragraph_spans)
# Fallback boundary when the segmenter's output cannot be located: end punctuation,
# optional closing quotes, whitespace, then a capital, digit or opening quote.
_FALLBACK = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
# Quotes that close a quotation when a sentence starts with them: the wire's '' and a curly ” always, a
# straight " or ’ when a space follows (an opening quote is followed by its first word).
_LEADING_CLOSE = re.compile(r"(''|”|[\"’](?=\s))")
MAX_QUOTED_SENTENCES = 4  # sentences a quotation may run over and still be kept whole
PATTERNS_KEPT = 8192  # pysbd's patterns compiled once; its abbreviations make a few thousand at most


@lru_cache(maxsize=1)
def _segmenter():
    """pysbd handles abbreviations and initials well; built once per process."""
    import pysbd

    _keep_compiled_patterns(pysbd)
    return pysbd.Segmenter(language="en", clean=False)


class _CompiledPatterns(types.SimpleNamespace):
    """The ``re`` module as pysbd's modules see it, with every pattern compiled once per process.

    pysbd builds a pattern per abbreviation it meets and hands it to ``re.sub``/``re.findall``; those
    are more patterns than ``re``'s own cache holds, so most were compiled again for every paragraph,
    which was most of the time sentence splitting took (benchmarks/sentence_split.py).
    """

    def __init__(self) -> None:
        super().__init__(**{name: getattr(re, name) for name in dir(re) if not name.startswith("__")})
        compiled = lru_cache(maxsize=PATTERNS_KEPT)(re.compile)
        self.compile = compiled
        for method in ("search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer"):
            setattr(self, method, _through(compiled, method))


def _through(compiled: Callable[..., re.Pattern], method: str) -> Callable[..., object]:
    """re.<method>(pattern, ..., flags=) as the compiled pattern's own method."""

    def call(pattern, *args, flags: int = 0, **kwargs):
        return getattr(compiled(pattern, flags), method)(*args, **kwargs)

    return call


def _keep_compiled_patterns(package: types.ModuleType) -> None:
    """Give every module of the package that uses ``re`` the compiling-once stand-in."""
    patterns = _CompiledPatterns()
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        if getattr(module, "re", None) is re:
            module.re = patterns  # type: ignore[attr-defined]


def _locate(paragraph: str, pieces: Sequence[str], base: int) -> list[Span] | None:
    """Offsets of the segmenter's pieces in the paragraph, or None if any piece is not verbatim."""
    spans, cursor = [], 0
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        at = paragraph.find(piece, cursor)
        if at < 0:
            return None
        spans.append(Span(base + at, base + at + len(piece)))
        cursor = at + len(piece)
    return spans


def _fallback(paragraph: str, base: int) -> list[Span]:
    """Regex split, used only when the segmenter altered the text."""
    spans, start = [], 0
    for match in _FALLBACK.finditer(paragraph):
        spans.append(Span(base + start, base + match.start()))
        start = match.end()
    spans.append(Span(base + start, base + len(paragraph.rstrip())))
    return [s for s in spans if s.end > s.start]


def split_sentences(text: str) -> list[Span]:
    """Sentence spans of a text; text[s.start:s.end] is always the sentence, trimmed."""
    spans: list[Span] = []
    for match in _PARAGRAPH.finditer(text):
        if match.group().strip():
            spans.extend(_quotations_whole(text, _trimmed(text, _paragraph_spans(match.group(), match.start()))))
    return spans


def _quotations_whole(text: str, spans: list[Span]) -> list[Span]:
    """One paragraph's sentences with each closing quote at the end of its quotation, and a quotation of
    several sentences kept in one ("``Engine fire procedure. Shut down engine two.''").

    The segmenter knows curly and straight quotes but not the wire's ``...'', so it ends a sentence inside
    such a quotation and starts the next one with the closing quote.
    """
    moved: list[Span] = []
    for span in spans:
        closing = _leading_close(text[span.start : span.end])
        if moved and closing:
            moved[-1] = Span(moved[-1].start, span.start + closing)
            rest = text[span.start + closing : span.end]
            span = Span(span.end - len(rest.lstrip()), span.end)
        if span.end > span.start:
            moved.append(span)
    merged: list[Span] = []
    i = 0
    while i < len(moved):
        end = _closing_sentence(text, moved, i)
        merged.append(Span(moved[i].start, moved[end].end))
        i = end + 1
    return merged


def _closing_sentence(text: str, spans: list[Span], i: int) -> int:
    """The sentence that closes the quotation sentence i opens, if within reach; else i itself.

    A quotation the paragraph never closes (a wire's quote running over paragraphs) stays as split.
    """
    if not _unclosed(text[spans[i].start : spans[i].end]):
        return i
    for j in range(i + 1, min(i + 1 + MAX_QUOTED_SENTENCES, len(spans))):
        if not _unclosed(text[spans[i].start : spans[j].end]):
            return j
    return i


def _leading_close(sentence: str) -> int:
    """How many characters of closing quotation open a sentence (0: none)."""
    match = _LEADING_CLOSE.match(sentence)
    return match.end(1) if match else 0


def _unclosed(sentence: str) -> bool:
    """Whether a sentence opens a quotation it does not close."""
    opened = sentence.count("``") - sentence.count("''") + sentence.count("“") - sentence.count("”")
    return opened > 0 or sentence.count('"') % 2 == 1


def _paragraph_spans(paragraph: str, base: int) -> list[Span]:
    """One paragraph's sentences, segmented a window at a time.

    pysbd's time grows with the square of what it is given: a scrape with 1.4 MB on one line took 13
    minutes. So it sees at most WINDOW characters at once; the window's last sentence may be cut short,
    so it is set aside and starts the next window.
    """
    spans: list[Span] = []
    start = 0
    while True:
        window = paragraph[start : start + WINDOW]
        found = _locate(window, _segmenter().segment(window), base + start) or _fallback(window, base + start)
        if start + WINDOW >= len(paragraph):
            return spans + found
        if len(found) > 1:
            spans.extend(found[:-1])
            start = found[-1].start - base
        else:  # one "sentence" longer than a window (a list or a table flattened): cut it at a space
            cut = window.rfind(" ") if window.rfind(" ") > 0 else len(window)
            spans.append(Span(base + start, base + start + cut))
            start += cut


def _trimmed(text: str, spans: list[Span]) -> list[Span]:
    """Spans without surrounding whitespace, empty ones dropped."""
    out = []
    for span in spans:
        piece = text[span.start : span.end]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece) - len(piece.rstrip())
        if span.end - trail > span.start + lead:
            out.append(Span(span.start + lead, span.end - trail))
    return out
