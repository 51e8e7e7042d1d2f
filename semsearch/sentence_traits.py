"""What each sentence is, for the brief: a statement or page furniture, leaning on its predecessor or
not, its words and figures. Found once per sentence when an index is built and stored beside it, so a
query parses nothing.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .text import FIGURE, content_words

# A sentence opening like this leans on the one before it ("He added ...", "But ...", "This ...").
_ANTECEDENT_OPENER = re.compile(
    r"^[\"“‘']?(?:he|she|it|its|they|them|their|his|her|hers|this|that|these|those|but|and|or|so|yet|also|"
    r"however|still|instead|then|thus|therefore|meanwhile|nevertheless|nonetheless|moreover|furthermore|"
    r"besides|otherwise|such|both|another|in addition|as a result|despite this|even so|the move|the decision|"
    r"the latter|the former)\b"
    # Times told from the sentence before ("Seconds later", "Two days earlier", "Later that day", "Soon after,"),
    # not from the time of writing ("Later this year", "Shortly after the vote").
    r"|^[\"“‘']?(?:(?:\w+|a\s+few)\s+)?(?:second|minute|moment|hour|day|night|week|month|year)s?\s+"
    r"(?:later|earlier|afterwards?)\b"
    r"|^[\"“‘']?(?:(?:later|earlier)(?:\s*,|\s+that\b|\s+the\s+same\b)|afterwards?\b|after\s+that\b"
    r"|(?:shortly|soon|not\s+long|immediately)\s+(?:after(?:wards?)?|afterward)\s*(?:,|that\b)"
    r"|by\s+then\b|since\s+then\b|until\s+then\b|at\s+that\s+(?:point|time|moment)\b)",
    re.I,
)
# Openers of that kind that point at nothing before them: the time of writing ("This year", "These days"),
# a list of names ("Both Foxx and Swank"), "So far", "So-called", generic "Those who", and expletive "it"
# ("It is thought that ...", "It is not clear whether ..."; not "It is expected to ...", where "it" is a thing).
_SELF_CONTAINED_OPENER = re.compile(
    r"^[\"“‘']?(?:(?:this|these)\s+(?:year|week|weekend|month|season|summer|winter|spring|autumn|morning|days)\b"
    r"|both\s+(?-i:[A-Z])|so\s+far\b|so-called\b|those\s+(?:who|whose)\b"
    r"|it\s+(?:is|was|has\s+been)\s+(?:(?:not|now|also|widely|generally)\s+)?"
    r"(?:thought|hoped|understood|estimated|believed|expected|feared|predicted|reported|rumoured|announced|known|"
    r"said|claimed)\b(?!\s+to\b)"
    r"|it\s+(?:is|was)\s+(?:not\s+)?(?:clear|unclear|likely|unlikely|possible)\s+"
    r"(?:that|whether|if|how|why|what|when|where|who)\b)",
    re.I,
)
# ... or names its speaker only by a pronoun: '"We will appeal," he said.'
_PRONOUN_ATTRIBUTION = re.compile(
    r"[,\"”’]\s+(he|she|they)\s+(?:said|says|added|adds|told|explained|noted|argued|warned|insisted|claimed|"
    r"stressed|continued|asked)\b",
    re.I,
)
# A pronoun opening a sentence, or naming its speaker, with no connective before it: all the sentence needs
# from before is whom the pronoun means (see anchor).
_PRONOUN_OPENER = re.compile(r"^[\"“‘']?(he|his|him|she|her|hers|it|its|they|them|their)\b", re.I)
_PRONOUN_CLASS = {"his": "he", "him": "he", "her": "she", "hers": "she", "its": "it", "them": "they", "their": "they"}
# Captions, credits, bylines, rails and other page furniture that is not a statement of fact. Label words
# count only as labels ("Photo: ...", "Credit: ..."), and "By" only before a name, because news sentences
# open with "By contrast", "By 2008", "Image sensors ...", "Share prices ..." and "Credit card debt ...".
# Openings are matched at the start and the rest looked for as plain substrings: one case-blind alternation
# searched at every position took 30 µs a sentence, the largest part of parsing a sentence the first time.
_FURNITURE_OPENING = re.compile(
    r"(?:photo|photograph|image|picture|caption|credit|copyright|related|watch|listen|updated|advertisement)"
    r"\s*[:|\-–—]"
    r"|by\s+(?-i:[A-Z][\w'’.-]*\s+[A-Z])"
    r"|(?:read more|click|follow us|sign up|subscribe|share this|reporting by|editing by|additional reporting)\b",
    re.I,
)
_FURNITURE_ANYWHERE = ("©", "all rights reserved", "click here", "contributed to this report", "(photo", "getty images")
_AP_PHOTO = re.compile(r"\bap photo\b")
_ENDS_LIKE_A_SENTENCE = re.compile(r"[.!]['\"”’)\]]*$")
# Words are kept as 24-bit hashes (crc32, the same in every process): two of a brief's few thousand
# words rarely share one.
_WORD_MASK = (1 << 24) - 1


def words_of(text: str) -> int:
    """Word count used for the budget."""
    return len(text.split())


def usable(text: str) -> bool:
    """Whether a sentence can stand in a brief: a full statement, not a question, fragment, caption or byline."""
    n = words_of(text)
    if not 6 <= n <= 80 or not (text[0].isalnum() or text[0] in "\"'“‘£$€"):
        return False
    if not _ENDS_LIKE_A_SENTENCE.search(text) or text.isupper() or _FURNITURE_OPENING.match(text):
        return False
    lower = text.lower()
    return not any(p in lower for p in _FURNITURE_ANYWHERE) and not ("ap photo" in lower and _AP_PHOTO.search(lower))


def needs_antecedent(text: str) -> bool:
    """Whether a sentence only makes sense after the one before it."""
    opens = _ANTECEDENT_OPENER.match(text) and not _SELF_CONTAINED_OPENER.match(text)
    return bool(opens or _PRONOUN_ATTRIBUTION.search(text))


def leading_pronoun(text: str) -> str:
    """'he', 'she', 'it' or 'they' when all a sentence leans on its predecessor for is whom that pronoun means."""
    if not needs_antecedent(text):
        return ""
    match = _PRONOUN_OPENER.match(text)
    if match is None and not _ANTECEDENT_OPENER.match(text):
        match = _PRONOUN_ATTRIBUTION.search(text)
    if match is None:
        return ""
    word = match.group(1).lower()
    return _PRONOUN_CLASS.get(word, word)


def word_ids(words: Iterable[str]) -> np.ndarray:
    """Words as the hashed ids the brief compares, distinct and sorted."""
    # A sorted set, not np.unique: this runs for every sentence a query parses, and numpy's overhead dominated.
    return np.array(sorted({zlib.crc32(w.encode()) & _WORD_MASK for w in words}), dtype=np.int64)


PRONOUNS = ("", "he", "she", "it", "they")  # leading_pronoun's answers, by the code stored in the flags
USABLE, LEANS = 1, 2  # flag bits; the pronoun's code sits above them
PRONOUN_SHIFT = 2


@dataclass(slots=True)
class TraitArrays:
    """Facts of a run of sentences as arrays: flags and word counts per sentence, word and figure ids flattened."""

    flags: np.ndarray  # uint8: USABLE | LEANS | pronoun code << PRONOUN_SHIFT
    words: np.ndarray  # uint16 word counts (the budget's unit)
    terms: np.ndarray  # uint32 word_ids of every sentence, one after another
    term_counts: np.ndarray
    figures: np.ndarray  # uint32 hashes of the figures each sentence states
    figure_counts: np.ndarray


def trait_arrays(texts: Iterable[str]) -> TraitArrays:
    """The traits of each sentence text, as arrays."""
    flags, words, terms, term_counts, figures, figure_counts = [], [], [], [], [], []
    for text in texts:
        pronoun = PRONOUNS.index(leading_pronoun(text))
        flags.append(USABLE * usable(text) | LEANS * needs_antecedent(text) | pronoun << PRONOUN_SHIFT)
        words.append(min(words_of(text), 65535))
        ids = word_ids(content_words(text))
        terms.append(ids)
        term_counts.append(len(ids))
        found = {zlib.crc32(f.encode()) for f in FIGURE.findall(text)}
        figures.extend(sorted(found))
        figure_counts.append(len(found))
    return TraitArrays(
        np.asarray(flags, np.uint8),
        np.asarray(words, np.uint16),
        np.concatenate(terms).astype(np.uint32) if terms else np.zeros(0, np.uint32),
        np.asarray(term_counts, np.int64),
        np.asarray(figures, np.uint32),
        np.asarray(figure_counts, np.int64),
    )
