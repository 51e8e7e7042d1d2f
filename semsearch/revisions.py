"""Which article an edited one became.

An article's id comes from its title and text, so an edit gives it a new id, while links, citations, exports
and saved results name the old one. Each build pairs the served version's articles that are gone with the
new articles that replaced them, and the index keeps every earlier id with the id of its current version.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Protocol

from .ingest.readers import record_file


class Version(Protocol):
    """What pairing reads of an article, stored or new."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def source_path(self) -> str: ...


def successors(gone: Sequence[Version], fresh: Sequence[Version]) -> dict[str, str]:
    """The new article each gone one became, one to one: the one with the same url; else, from the same file,
    the one with the same title; else the only one left on each side of that file. Nothing is paired when a
    key names several articles on either side (which of them was edited cannot be told)."""
    pairs = _by_key(gone, fresh, lambda v: v.url or None)
    gone = [v for v in gone if v.id not in pairs]
    taken = set(pairs.values())
    fresh = [v for v in fresh if v.id not in taken]
    files: dict[str, tuple[list[Version], list[Version]]] = defaultdict(lambda: ([], []))
    for side, versions in enumerate((gone, fresh)):
        for v in versions:
            files[record_file(v.source_path)][side].append(v)
    for old, new in files.values():
        found = _by_key(old, new, lambda v: v.title)
        pairs |= found
        left = [v for v in old if v.id not in found], [v for v in new if v.id not in found.values()]
        if len(left[0]) == 1 and len(left[1]) == 1:
            pairs[left[0][0].id] = left[1][0].id
    return pairs


def _by_key(old: Sequence[Version], new: Sequence[Version], key: Callable[[Version], str | None]) -> dict[str, str]:
    """Pairs whose key (not None) names exactly one article on each side."""
    old_counts = Counter(k for v in old if (k := key(v)) is not None)
    new_by_key: dict[str, list[Version]] = defaultdict(list)
    for v in new:
        if (k := key(v)) is not None:
            new_by_key[k].append(v)
    return {
        v.id: new_by_key[k][0].id
        for v in old
        if (k := key(v)) is not None and old_counts[k] == 1 and len(new_by_key[k]) == 1
    }


def current_ids(earlier: Mapping[str, str], edits: Mapping[str, str], present: Collection[str]) -> dict[str, str]:
    """Every earlier id with the id of its current version: the served version's pairs carried through this
    build's edits, and the edits themselves. An id that is in the index again (an edit undone) is its own
    current version, and an article whose current version is gone altogether has none."""
    out = {}
    for old, current in (*earlier.items(), *edits.items()):
        current = edits.get(current, current)
        if current in present and old not in present:
            out[old] = current
    return out
