"""Boilerplate detection for plain-text page scrapes: which run of lines is the article.

A scrape saved as plain text has one line per page block: menus, bylines, captions, the article's
paragraphs, share buttons, comments and lists of other stories. Each line is classified by what it
looks like (how much text it carries, sentence punctuation, share of function words, label- and
link-like shape), in the spirit of jusText's paragraph classification; the article is then the
densest contiguous run of prose below the page's headline, and short lines are judged by the lines
around them. Lists of other stories laid out as repeated cards, lines the page repeats and trails of
links are furniture; a numbered list the article begins is followed to its end.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from enum import Enum

from ..text import ANY_FUNCTION_WORDS, WORD

# Sentence-final punctuation, Latin and CJK; a line ending in a closing quote or bracket counts too.
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’)\]»]*$")
_SENTENCE_INSIDE = re.compile(r"[.!?。！？][\"'”’)»]*\s+\S")
# Scripts written without spaces (or with dense syllables) carry more text per character.
_WIDE_CHAR = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_LINK_LIKE = re.compile(r"https?://|www\.|\S+@\S+\.\w|\s[|›»•·]\s|^[|›»•·>]|[|›»]$")
# A separator between navigation items; a line holding two of them is a trail of links, whatever its ending.
_NAV_SEPARATOR = re.compile(r"\s[|›»•·]\s")
# The most words a menu item or breadcrumb step has ("Terms of use", "Local elections 2025").
_MENU_ITEM_WORDS = 8
# How a line linking to another story opens, before the story's headline ("Read more: ...", "Lire aussi : ...").
_READ_ALSO = (
    r"related|see also|also read|read also|read more|more on this story|"
    r"(?:à )?lire aussi|voir aussi|lesen sie auch|mehr zum thema|lea también|lee también|ver también|leggi anche|"
    r"leia também|leia mais|veja também|saiba mais"
)
# Capital letters of the Latin script, accented ones too ("À", "É", "Ñ"), as a character class's contents.
CAPITALS = "A-ZÀ-ÖØ-Þ"
# A headline's first character: a capital, a figure or an opening quote, never a lower-case word that would make
# the line a sentence ("Read more: the council published ...").
_HEADLINE_START = rf"(?-i:[{CAPITALS}0-9\"“‘'«„])"
# Parts of a line that interrupts an article's text, each in English and then in French, German, Spanish, Italian
# and Portuguese. Where an advertisement sat ("Advertisement", "Story continues below advertisement"):
_AD_MARK = (
    r"advertisements?|advert|ad|skip advertisement|publicité|anzeige|werbung|publicidad|pubblicità|publicidade|"
    r"(?:the )?(?:story|article) continues (?:below|after)(?: (?:this|the))?(?: advertisement| ad)?|"
    r"(?:la suite|l['’]article continue) après (?:cette|la) publicité|"
    r"(?:weiter|weiterlesen|artikel wird) nach der anzeige(?: fortgesetzt)?|"
    r"continua (?:depois|após) (?:da|a) publicidade"
)
# a link to another story ("Related: Textile exports hit five-year high", "Lire aussi | Les bus de nuit reviennent")
_STORY_LINK = rf"(?:{_READ_ALSO})\s*[:|]\s*{_HEADLINE_START}[^.!?]{{0,100}}"
# a link on to the rest, a paywall's count, and a share bar set out a line a button
_OTHER_INTERRUPTION = (
    r"continue reading(?: below| the main story)?|lire la suite|weiterlesen|seguir leyendo|sigue leyendo|"
    r"continua a leggere|continue lendo|"
    r"you have (?:\d+|one|two|three|no) free (?:articles?|stories|reads?) (?:left|remaining)(?: this (?:month|week))?|"
    r"il vous reste (?:\d+|un|deux|trois|aucun) articles? gratuits?(?: à lire)?(?: ce mois-ci)?|"
    r"share(?: this)?(?: article| story| page)?|facebook|twitter|x|whatsapp|e-?mail|linkedin|reddit|pinterest|"
    r"telegram|messenger|copy link|"
    r"partager(?: cet article)?|copier le lien|(?:artikel )?teilen|link kopieren|compartir|copiar (?:el )?enlace|"
    r"condividi|copia (?:il )?link|compartilhe|compartilhar|partilhar|copiar (?:o )?link"
)
# A line that interrupts an article's text: furniture, yet the article goes on after it.
_INTERRUPTION = re.compile(rf"^\W*(?:{_AD_MARK}|{_STORY_LINK}|{_OTHER_INTERRUPTION})\W*$", re.IGNORECASE)
# The interruptions that stand between an article's paragraphs and never under each teaser of a list of other
# stories (as a share bar or a "Continue reading" link may).
_IN_TEXT_MARK = re.compile(rf"^\W*(?:{_AD_MARK}|{_STORY_LINK})\W*$", re.IGNORECASE)
# An item of a numbered list: "1) Name", "2. Name", "(3) Name".
_ENUMERATOR = re.compile(r"^\(?(\d{1,3})[.)]\s+\S")
# Items of a numbered list lie at most this many lines apart (an item and a line or two of its own).
LIST_SPACING = 3
# Between a headline and the site's name in a page title ("Headline | Site", "Headline - Site").
_TITLE_SEPARATOR = re.compile(r"\s+(?:[|–—-]|::|«|»)\s+")
# A list of other stories repeats one card (a prose excerpt and the same few lines around it) at least this often.
MIN_CARDS = 3
CARD_SIZES = (2, 3, 4)
# A line repeats the headline when it holds at least this share of the headline's content words.
HEADLINE_COVER = 0.6


class Kind(Enum):
    """A line's class before its neighbours are considered."""

    GOOD = "good"  # reads as article prose
    MEDIUM = "medium"  # some text, but not clearly prose
    SHORT = "short"  # too little text to judge alone (a subheading, a label)
    BAD = "bad"  # page furniture by a positive signal


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Sizes in text weight (characters, wide script characters counted more)."""

    short: int = 50  # below this a line cannot be judged on its own
    good: int = 120  # a punctuated line at least this heavy is prose
    long: int = 300  # a line this heavy is prose unless it looks like a list of labels
    function_share: float = 0.18  # prose in a language with function words has at least this share
    bad_penalty: int = 40  # the least a junk line costs a run that would swallow it
    max_gap: int = 2  # at most this many lines between prose lines are kept as part of the article
    neutral_toll: int = 20  # the most a line that is neither prose nor furniture costs a run


DEFAULT = Thresholds()


def weight(line: str) -> int:
    """How much text a line carries; wide script characters hold about as much as a short word."""
    return len(line) + 2 * len(_WIDE_CHAR.findall(line))


def word_count(line: str) -> int:
    """Words a line holds, two wide script characters counting as one (Chinese and Japanese have no spaces)."""
    return len(line.split()) + len(_WIDE_CHAR.findall(line)) // 2


def function_share(line: str) -> float:
    """Share of a line's words that are function words (0 for scripts written without spaces)."""
    words = WORD.findall(line.lower())
    return sum(w in ANY_FUNCTION_WORDS for w in words) / len(words) if words else 0.0


def title_case_share(line: str) -> float:
    """Share of words that start with a capital letter: high in menus, labels and headlines."""
    words = [w for w in line.split() if w[:1].isalpha()]
    return sum(w[0].isupper() for w in words) / len(words) if words else 0.0


def is_link_like(line: str) -> bool:
    """A URL, an e-mail address or a breadcrumb ("Home » News") outside a sentence: navigation, not text."""
    items = _NAV_SEPARATOR.split(line)
    # A menu's items are a few words each; prose may hold separators too ("their banner read Pay | Respect.").
    if len(items) >= 3 and max(len(item.split()) for item in items) <= _MENU_ITEM_WORDS:
        return True
    return bool(_LINK_LIKE.search(line)) and not is_sentence(line)


def classify(line: str, marked: bool, limits: Thresholds = DEFAULT) -> Kind:
    """A line's class by its own shape: furniture, too short to tell, some text, or prose."""
    if marked or is_link_like(line) or is_interruption(line):
        return Kind.BAD
    heavy = weight(line)
    if heavy < limits.short:
        return Kind.SHORT
    punctuated = bool(_SENTENCE_END.search(line) or _SENTENCE_INSIDE.search(line))
    wordy = function_share(line) >= limits.function_share or bool(_WIDE_CHAR.search(line))
    if heavy >= limits.long and (punctuated or wordy):
        return Kind.GOOD
    if heavy >= limits.good and punctuated and wordy:
        return Kind.GOOD
    if not punctuated and not _WIDE_CHAR.search(line) and not _ENUMERATOR.match(line) and title_case_share(line) > 0.6:
        return Kind.BAD  # a headline in a list of other stories, or a run of menu labels
    return Kind.MEDIUM


def settle(lines: list[str], kinds: list[Kind], limits: Thresholds = DEFAULT) -> list[Kind]:
    """Judge the lines between prose lines by their neighbours, as jusText does with short blocks.

    A short gap between two prose lines is a subheading or a one-line paragraph; a longer gap is a
    list of labels (tags, bylines, a box of other stories). Sentences that touch prose are prose.
    """
    if Kind.GOOD not in kinds:
        # A page without prose (a results table, a list of dates, a one-sentence item): its fullest lines and
        # its sentences are the article.
        kinds = [
            Kind.GOOD if kind is Kind.MEDIUM or (kind is Kind.SHORT and is_sentence(line)) else kind
            for kind, line in zip(kinds, lines, strict=True)
        ]
    settled = [Kind.GOOD if kind is Kind.GOOD else Kind.BAD for kind in kinds]
    for start, end in _gaps(kinds):
        inner = start > 0 and end < len(kinds)
        stops = [kinds[i] is Kind.BAD and not is_interruption(lines[i]) for i in range(start, end)]
        if inner and end - start <= limits.max_gap and not any(stops):
            settled[start:end] = [Kind.GOOD] * (end - start)
            continue
        if start > 0:
            _promote_sentences(lines, kinds, settled, range(start, end), limits)
        if end < len(kinds):
            _promote_sentences(lines, kinds, settled, range(end - 1, start - 1, -1), limits)
    return settled


def _gaps(kinds: list[Kind]) -> list[tuple[int, int]]:
    """Start and end (exclusive) of every maximal run of lines that are not prose."""
    gaps: list[tuple[int, int]] = []
    start: int | None = None
    for i, kind in enumerate([*kinds, Kind.GOOD]):
        if kind is not Kind.GOOD and start is None:
            start = i
        elif kind is Kind.GOOD and start is not None:
            gaps.append((start, i))
            start = None
    return gaps


def _promote_sentences(
    lines: list[str], kinds: list[Kind], settled: list[Kind], walk: range, limits: Thresholds
) -> None:
    """Walking away from a prose line, keep the sentences that follow on from it, up to the first non-sentence.

    A long line with the function words of prose counts as a sentence even when it lacks the final stop
    (a paragraph that ends in a number or a code).
    """
    for i in walk:
        line = lines[i]
        if is_interruption(line):  # left out, but the article goes on past it
            continue
        wordy = weight(line) >= limits.good and function_share(line) >= limits.function_share
        if kinds[i] is Kind.BAD or not (wordy or is_sentence(line)):
            return
        settled[i] = Kind.GOOD


def is_interruption(line: str) -> bool:
    """Whether a line only marks where an advertisement interrupts the article ("Advertisement", "Story
    continues below advertisement")."""
    return bool(_INTERRUPTION.match(line))


def is_sentence(line: str) -> bool:
    """A line of a few words (or of a script written without spaces) that ends like a sentence."""
    wordy = len(line.split()) >= 3 or bool(_WIDE_CHAR.search(line))
    return wordy and bool(_SENTENCE_END.search(line))


def densest_run(
    lines: list[str], raw: list[Kind], kinds: list[Kind], limits: Thresholds = DEFAULT, first: int = 0
) -> tuple[int, int]:
    """Start and end (exclusive) of the run of lines with the most prose net of junk; (0, 0) if none.

    Prose lines add their weight, furniture subtracts its weight (at least a fixed cost, so a long list
    of short furniture cannot be crossed for free); a line that is neither costs less, so the rows of a
    table or list between two parts of the article do not split it.
    """
    best, best_span = 0, (0, 0)
    total, start = 0, first
    for i in range(first, len(lines)):
        line = lines[i]
        if total <= 0:
            total, start = 0, i
        total += _gain(line, raw[i], kinds[i], limits)
        if total > best:
            best, best_span = total, (start, i + 1)
    return best_span


def _gain(line: str, raw: Kind, settled: Kind, limits: Thresholds) -> int:
    """What a line adds to a run of article: prose its weight, furniture minus its weight, others a toll.

    The toll is smallest for a sentence that is merely short, so the one-line paragraphs of an article do
    not split it.
    """
    if settled is Kind.GOOD:
        return weight(line)
    if is_interruption(line):
        return -limits.neutral_toll
    if raw is Kind.BAD:
        return -max(weight(line), limits.bad_penalty)
    if is_sentence(line):
        return -limits.neutral_toll
    # A line that is not even a sentence (a headline, a label) is likelier furniture than a one-line paragraph.
    return -min(max(weight(line), limits.neutral_toll), limits.bad_penalty)


def telling_words(text: str) -> set[str]:
    """Lower-cased words that tell one line from another: no function words of any language, no single characters."""
    return {w for w in WORD.findall(text.lower()) if len(w) > 1 and w not in ANY_FUNCTION_WORDS}


def headline(title: str) -> set[str]:
    """The content words of a page title's headline: its longest part once the site name is split off."""
    parts = _TITLE_SEPARATOR.split(title)
    return telling_words(max(parts, key=weight)) if parts else set()


def headline_lines(lines: list[str], title: str) -> list[int]:
    """Lines that repeat the page's headline: the most of its content words, and most of theirs from it."""
    words = headline(title)
    if not words:
        return []
    cover = [_cover(words, telling_words(line)) for line in lines]
    best = max(cover, default=0.0)
    return [i for i, c in enumerate(cover) if c == best] if best >= HEADLINE_COVER else []


def _cover(words: set[str], line_words: set[str]) -> float:
    """Share of the headline's words a line holds, zero when most of the line is something else."""
    shared = len(words & line_words)
    return shared / len(words) if 2 * shared >= len(line_words) else 0.0


def anchor(lines: list[str], raw: list[Kind], span: tuple[int, int], title: str) -> tuple[int, int]:
    """Check the article's span against the page's headline, which the article follows.

    A span that shares no word with the headline is a rail or sidebar: the lines after the headline,
    up to the next wall of furniture, are the article instead (a table, a list of dates, an article
    too short to outweigh a sidebar's prose). On a page without prose the span's fullest lines may be
    notes under a table, which starts right after the headline.
    """
    start, end = span
    heads = [i for i in headline_lines(lines, title) if i < start]
    if not heads or start == end:
        return span
    head = heads[-1]
    words = headline(title)
    if not any(words & telling_words(lines[i]) for i in range(start, end)):
        return head + 1, _wall(raw, head + 1)
    if Kind.GOOD not in raw:
        return head + 1, end  # a table under the headline, with notes below it
    return span


def _wall(raw: list[Kind], i: int) -> int:
    """Index of the first of two furniture lines in a row from i on (the end of the page if none)."""
    for j in range(i, len(raw) - 1):
        if raw[j] is Kind.BAD and raw[j + 1] is Kind.BAD:
            return j
    return len(raw)


def article_lines(lines: list[str], marked: list[bool], title: str = "", limits: Thresholds = DEFAULT) -> list[bool]:
    """For each line, whether it belongs to the article: in the article's span and not furniture itself."""
    if not any(flag or is_link_like(line) or is_interruption(line) for line, flag in zip(lines, marked, strict=True)):
        # Nothing on the page is furniture (a clean article, a feed item): no line is cut for its shape alone,
        # since a list of names or titles in a clean article looks much like a menu.
        return [True] * len(lines)
    marked = [flag or again for flag, again in zip(marked, repeated(lines, limits), strict=True)]
    raw = drop_cards([classify(line, flag, limits) for line, flag in zip(lines, marked, strict=True)], lines, title)
    kinds = settle(lines, raw, limits)
    start, end = anchor(lines, raw, below_headline(lines, raw, kinds, title, limits), title)
    end = list_end(lines, start, end)
    return [start <= i < end and raw[i] is not Kind.BAD for i in range(len(lines))]


def below_headline(
    lines: list[str], raw: list[Kind], kinds: list[Kind], title: str, limits: Thresholds = DEFAULT
) -> tuple[int, int]:
    """The densest run of prose, or the densest after the page's headline when the run crosses it below furniture.

    The headline opens its article, so a run that crosses it began in a rail above the article; a line
    like the headline right after prose is a subheading of the article itself.
    """
    span = densest_run(lines, raw, kinds, limits)
    head = min(headline_lines(lines, title), default=-1)
    if span[0] < head < span[1] and kinds[head - 1] is not Kind.GOOD:
        return densest_run(lines, raw, kinds, limits, first=head + 1)
    return span


def repeated(lines: list[str], limits: Thresholds = DEFAULT) -> list[bool]:
    """Lines the page shows more than once that are not sentences: a menu or form drawn twice, a share bar per card.

    Table cells (too short to judge) and sentences (an interview's recurring question) may repeat in an article.
    """
    counts = Counter(lines)
    return [counts[line] > 1 and weight(line) >= limits.short and not is_sentence(line) for line in lines]


def drop_cards(raw: list[Kind], lines: list[str], title: str) -> list[Kind]:
    """Mark as furniture each run of repeated cards none of whose excerpts shares a word with the headline.

    A section of the article laid out as cards (a heading and one paragraph each) speaks of the
    article's subject; a list of other stories does not.
    """
    words = headline(title)
    if not words:
        return raw
    # Paragraphs with an advertisement's marker or a link to another story between each two are no cards: the
    # cards are looked for without those lines.
    shown = [i for i, line in enumerate(lines) if not _IN_TEXT_MARK.match(line)]
    kinds = list(raw)
    for run in card_runs([raw[i] for i in shown]):
        first, last = shown[run.start], shown[run.stop - 1]
        if not any(words & telling_words(lines[i]) for i in shown[run.start : run.stop] if raw[i] is Kind.GOOD):
            kinds[first : last + 1] = [Kind.BAD] * (last + 1 - first)
    return kinds


def card_runs(kinds: list[Kind]) -> list[range]:
    """Runs of at least MIN_CARDS cards in a row, each a prose line with lines of the same kinds around it."""
    runs: list[range] = []
    i = 0
    while i < len(kinds):
        end = max(_cards_end(kinds, i, size) for size in CARD_SIZES)
        if end > i:
            runs.append(range(i, end))
        i = max(end, i + 1)
    return runs


def _cards_end(kinds: list[Kind], start: int, size: int) -> int:
    """Where cards of `size` lines like the one at start stop repeating; start if fewer than MIN_CARDS repeat."""
    card = kinds[start : start + size]
    if len(card) < size or card.count(Kind.GOOD) != 1:
        return start
    end = start
    while kinds[end : end + size] == card:
        end += size
    return end if end - start >= MIN_CARDS * size else start


def item_number(line: str) -> int | None:
    """The number a numbered-list item opens with, None for any other line."""
    match = _ENUMERATOR.match(line)
    return int(match.group(1)) if match else None


def list_end(lines: list[str], start: int, end: int) -> int:
    """Extend an article's span over the rest of a numbered list it begins (an article that is a list of items).

    The list is followed by its numbering, so a list of other stories after the article (which
    starts again at 1) is never taken for the article's own.
    """
    items = [i for i in range(start, min(end + 1, len(lines))) if item_number(lines[i]) is not None]
    if not items:
        return end
    last = items[-1]
    expected = (item_number(lines[last]) or 0) + 1
    spacing = 1
    for i in range(last + 1, len(lines)):
        if i - last > LIST_SPACING:
            break
        if item_number(lines[i]) == expected:
            spacing, last, expected = i - last, i, expected + 1
    return max(end, min(last + spacing, len(lines)))
