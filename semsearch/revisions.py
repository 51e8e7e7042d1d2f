"""Which article an edited one became.

An article's id comes from its title and text, so an edit gives it a new id, while links, citations, exports
and saved results name the old one. Each build pairs the served version's articles that are gone with the
new articles that replaced them, and the index keeps every earlier id with the id of its current version.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .ingest.readers import record_file
from .stories import shingles
from .text import words

# An edited text keeps at least this share of the shorter version's word 3-grams: a feed that drops one item
# and adds another, or a recurring headline ("Morning briefing"), shares far less.
ALIKE = 0.5
_ENDS = 12  # words at each end of a text that an edit in its middle leaves alone


@dataclass(frozen=True)
class Version:
    """What pairing reads of an article, stored or new."""

    id: str
    title: str
    text: str
    url: str | None
    source_path: str
    extracted_from: str | None

    @cached_property
    def grams(self) -> np.ndarray:
        return np.unique(shingles(self.text, 3))

    def anchors(self) -> list[str]:
        """What an edit seldom changes all of at once: the title, the opening words, the closing words."""
        tokens = words(self.text)
        return [f"t:{self.title}", f"a:{' '.join(tokens[:_ENDS])}", f"z:{' '.join(tokens[-_ENDS:])}"]

    def may_become(self, other: Version) -> bool:
        """Whether other can be this article edited: from the same list of another page or not, and without a
        url of its own that differs."""
        return self.extracted_from == other.extracted_from and (not self.url or not other.url or self.url == other.url)


def overlap(a: Version, b: Version) -> float:
    """The share of the shorter text's word 3-grams the other text also has."""
    shorter = min(len(a.grams), len(b.grams))
    return len(np.intersect1d(a.grams, b.grams, assume_unique=True)) / shorter if shorter else 0.0


def successors(gone: Sequence[Version], fresh: Sequence[Version], shared_urls: Collection[str]) -> dict[str, str]:
    """The new article each gone one became, one to one: the one with the same url (unless that url names
    several articles, ``shared_urls``); else, from the same file, the one sharing its title, opening or closing
    words whose text is most alike; else the only one left on each side of that file, if alike or if the file
    holds that one article alone."""
    by_url = {v.url: v for v in fresh if v.url and v.url not in shared_urls}
    pairs = {
        old.id: new.id for old in gone if old.url and (new := by_url.get(old.url)) is not None and old.may_become(new)
    }
    files: dict[str, tuple[list[Version], list[Version]]] = defaultdict(lambda: ([], []))
    taken = set(pairs.values())
    for side, versions in enumerate((gone, fresh)):
        for v in versions:
            if v.id not in pairs and v.id not in taken:
                files[record_file(v.source_path)][side].append(v)
    for before, after in files.values():
        pairs |= _within_file(before, after)
    return pairs


class Anchored:
    """New versions by file and anchor (Version.anchors), to find the ones an older version may have become
    without comparing it with every new one."""

    def __init__(self, versions: Sequence[Version]) -> None:
        self._at: dict[tuple[str, str], list[int]] = defaultdict(list)
        for j, v in enumerate(versions):
            for anchor in v.anchors():
                self._at[(record_file(v.source_path), anchor)].append(j)

    def near(self, old: Version) -> list[int]:
        """The new versions of old's file sharing an anchor with it."""
        place = record_file(old.source_path)
        return sorted({j for anchor in old.anchors() for j in self._at.get((place, anchor), ())})


def _within_file(old: Sequence[Version], new: Sequence[Version]) -> dict[str, str]:
    """Pairs of one file's gone and new articles, most alike first."""
    anchored = Anchored(new)
    scored = [(overlap(o, new[j]), i, j) for i, o in enumerate(old) for j in anchored.near(o) if o.may_become(new[j])]
    if len(old) == len(new) == 1 and old[0].may_become(new[0]):
        # A file read as one article both times (no record place in its path) holds that article, edited.
        whole = old[0].source_path == new[0].source_path == record_file(new[0].source_path)
        if whole or not scored:
            scored = [(1.0 if whole else overlap(old[0], new[0]), 0, 0)]
    pairs: dict[str, str] = {}
    used: set[int] = set()
    for score, i, j in sorted(scored, reverse=True):
        if score >= ALIKE and old[i].id not in pairs and j not in used:
            pairs[old[i].id] = new[j].id
            used.add(j)
    return pairs


def still_archived(stored: Sequence[Version], fresh: Sequence[Version]) -> list[str]:
    """Ids of the stored versions no fresh one stands for: not the same id or url, nor, for one without a url,
    an alike article of its file sharing its title, opening or closing words (it, edited). Another url is
    another item, whatever its title."""
    read = {v.id for v in fresh}
    urls = {v.url for v in fresh if v.url}
    anchored = Anchored(fresh)

    def read_again(old: Version) -> bool:
        if old.id in read or old.url in urls:
            return True
        return not old.url and any(overlap(old, fresh[j]) >= ALIKE for j in anchored.near(old))

    return [old.id for old in stored if not read_again(old)]


def shared(urls: Iterable[str | None]) -> set[str]:
    """The urls given for more than one article."""
    return {url for url, n in Counter(u for u in urls if u).items() if n > 1}


def current_ids(earlier: Mapping[str, str], edits: Mapping[str, str], present: Collection[str]) -> dict[str, str]:
    """Every earlier id with the id of its current version: the served version's pairs carried through this
    build's edits, and the edits themselves. An id that is in the index again (an edit undone) is its own
    current version. A pair whose current version is missing is kept: a source absent from one build (a
    feed down, a folder unmounted) brings its articles back under the same ids."""
    out = {}
    for old, current in (*earlier.items(), *edits.items()):
        if old not in present:
            out[old] = edits.get(current, current)
    return out
