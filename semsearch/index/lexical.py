"""BM25 over chunk text: an inverted index written once per version, exact top-k by MaxScore.

SQLite's FTS5 computes BM25 for every chunk a query matches, and a question's common words match a
quarter or more of an archive: a second per query at a million chunks. Here each posting's share of
BM25 (its *impact*) is computed when the version is built, postings are stored term by term in chunk
order, and a query scores only chunks that can still reach the top k. MaxScore does that: terms whose
largest impacts together cannot lift a chunk above the k-th score found so far are looked up only for
the chunks the other terms bring. The answer is exactly BM25's top k, with FTS5's formula.

Files in a version folder::

    lexicon.sqlite   term → document frequency, postings offset, top-list offset, largest impact
    postings.i32     chunk ids, term after term, ascending within a term
    impacts.f32      each posting's BM25 impact
    toplists.i32     for frequent terms, the chunks of their TOP_LIST largest impacts (seeds the k-th score)
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..text import Stems
from .sqlite import thread_connection

LEXICON_DB = "lexicon.sqlite"
POSTINGS = "postings.i32"
IMPACTS = "impacts.f32"
TOP_LISTS = "toplists.i32"
FILES = (LEXICON_DB, POSTINGS, IMPACTS, TOP_LISTS)
K1, B = 1.2, 0.75  # FTS5's bm25() constants, so the fusion weights tuned on it still hold
# Best chunks kept per frequent term to seed the k-th score: retrieval asks for 100–200 (deeper pages
# still get the exact answer, with less pruning).
TOP_LIST = 256
SEED_TERMS = 3  # terms whose top lists seed the k-th score
# Below this many allowed chunks a filtered query scores them all directly instead of pruning.
DIRECT_SCORING = 20_000
# Query terms whose postings (or absence) are remembered: each search looks its terms up twice (the top chunks,
# then the candidates' scores), questions share words, and a version never changes.
TERMS_REMEMBERED = 50_000
_UNREAD = object()


class LexiconWriter:
    """Collects chunk texts in id order and writes the inverted index of a version."""

    def __init__(self) -> None:
        self._stems = Stems()
        self._vocabulary: dict[str, int] = {}
        self._term_ids: list[np.ndarray] = []
        self._tfs: list[np.ndarray] = []
        self._docs: list[np.ndarray] = []
        self._lengths: list[int] = []

    def add(self, texts: Iterable[str]) -> None:
        """Index the next chunks; the first text added is chunk 0."""
        vocabulary, first = self._vocabulary, len(self._lengths)
        codes: list[int] = []
        kept: list[int] = []  # indexed terms per chunk
        for text in texts:
            terms = self._stems.terms(text)
            self._lengths.append(len(terms))  # every word, as FTS5 counts a document's length
            before = len(codes)
            codes.extend(vocabulary.setdefault(t, len(vocabulary)) for t in terms if t)
            kept.append(len(codes) - before)
        if not codes:
            return
        docs = np.repeat(np.arange(first, len(self._lengths), dtype=np.int64), kept)
        # One sort per batch counts every (chunk, term) pair at once.
        pairs, counts = np.unique((docs << 32) | np.asarray(codes, np.int64), return_counts=True)
        self._docs.append((pairs >> 32).astype(np.int32))
        self._term_ids.append((pairs & 0xFFFFFFFF).astype(np.int32))
        self._tfs.append(counts.astype(np.int32))

    def write(self, folder: Path) -> None:
        """Write the index files into a version folder."""
        n_docs, n_terms = len(self._lengths), len(self._vocabulary)
        term_ids = np.concatenate(self._term_ids) if self._term_ids else np.zeros(0, np.int32)
        order = np.argsort(term_ids, kind="stable")  # stable: chunk ids stay ascending within a term
        docs = (np.concatenate(self._docs) if self._docs else np.zeros(0, np.int32))[order]
        tfs = (np.concatenate(self._tfs) if self._tfs else np.zeros(0, np.int32))[order].astype(np.float64)
        term_ids = term_ids[order]
        del order
        df = np.bincount(term_ids, minlength=n_terms)
        offsets = np.zeros(n_terms + 1, np.int64)
        np.cumsum(df, out=offsets[1:])
        idf = np.log((n_docs - df + 0.5) / (df + 0.5))
        idf[idf <= 0] = 1e-6  # FTS5's floor for terms in more than half the chunks
        lengths = np.asarray(self._lengths, np.float64)
        norm = K1 * (1 - B + B * lengths / max(lengths.mean() if n_docs else 1.0, 1e-9))
        impacts = (idf[term_ids] * tfs * (K1 + 1) / (tfs + norm[docs])).astype(np.float32)
        del tfs, term_ids
        largest = np.maximum.reduceat(impacts, offsets[:-1]) if n_terms else np.zeros(0, np.float32)
        top_start = np.full(n_terms, -1, np.int64)
        tops, filled = [], 0
        for t in np.flatnonzero(df > TOP_LIST):
            lo, hi = offsets[t], offsets[t + 1]
            best = np.argpartition(-impacts[lo:hi], TOP_LIST - 1)[:TOP_LIST]
            tops.append(np.sort(docs[lo:hi][best]))
            top_start[t], filled = filled, filled + TOP_LIST
        docs.astype(np.int32).tofile(folder / POSTINGS)
        impacts.tofile(folder / IMPACTS)
        (np.concatenate(tops) if tops else np.zeros(0, np.int32)).astype(np.int32).tofile(folder / TOP_LISTS)
        with contextlib.closing(sqlite3.connect(folder / LEXICON_DB)) as db, db:
            db.execute(
                "CREATE TABLE terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL, start INTEGER NOT NULL, "
                "top_start INTEGER NOT NULL, largest REAL NOT NULL) WITHOUT ROWID"
            )
            db.execute("CREATE TABLE facts (name TEXT PRIMARY KEY, value REAL NOT NULL)")
            db.executemany(
                "INSERT INTO terms VALUES (?,?,?,?,?)",
                zip(
                    self._vocabulary,
                    df.tolist(),
                    offsets[:-1].tolist(),
                    top_start.tolist(),
                    largest.tolist(),
                    strict=True,
                ),
            )
            db.executemany("INSERT INTO facts VALUES (?,?)", [("chunks", n_docs), ("postings", len(docs))])


@dataclass(frozen=True, slots=True)
class _Postings:
    """One query term's postings: chunk ids ascending, their impacts, its top list and largest impact."""

    docs: np.ndarray
    impacts: np.ndarray
    seeds: np.ndarray
    largest: float


def _memmap(path: Path, dtype: type) -> np.ndarray:
    """A file of one dtype, memory-mapped read-only (numpy cannot map an empty file)."""
    if path.stat().st_size == 0:
        return np.zeros(0, dtype)
    # A plain ndarray view of the map: slicing a np.memmap adds Python work to every slice.
    return np.memmap(path, dtype=dtype, mode="r").view(np.ndarray)


def _best(candidates: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best (chunk id, score) among candidates with a positive score, best first, ties by lower id."""
    positive = scores > 0
    candidates, scores = candidates[positive], scores[positive]
    if len(scores) > k:  # keep every chunk tied with the k-th, so the id decides among them
        keep = scores >= np.partition(scores, len(scores) - k)[len(scores) - k]
        candidates, scores = candidates[keep], scores[keep]
    order = np.lexsort((candidates, -scores))[:k]
    return candidates[order].astype(np.int64), scores[order].astype(np.float64)


def _members(candidates: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Which candidates occur in an ascending id array."""
    if not len(sorted_ids):
        return np.zeros(len(candidates), bool)
    at = np.minimum(np.searchsorted(sorted_ids, candidates), len(sorted_ids) - 1)
    return sorted_ids[at] == candidates


class Lexicon:
    """A version's inverted index opened for reading; safe to share between threads."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._scratch_arrays: list[np.ndarray] = []  # zeroed between uses
        self._known: dict[str, _Postings | None] = {}  # by term; None: not in the index
        self.postings = _memmap(self.folder / POSTINGS, np.int32)
        self.impacts = _memmap(self.folder / IMPACTS, np.float32)
        self.top_lists = _memmap(self.folder / TOP_LISTS, np.int32)
        facts = dict(self._db.execute("SELECT name, value FROM facts"))
        self.chunks = int(facts["chunks"])
        if int(facts["postings"]) != len(self.postings) or len(self.impacts) != len(self.postings):
            raise ValueError(f"lexical index in {self.folder} is truncated")

    @property
    def _db(self) -> sqlite3.Connection:
        return thread_connection(self._local, self.folder / LEXICON_DB)

    def _lists(self, terms: Sequence[str]) -> dict[str, _Postings]:
        """The postings of the query terms the index knows, in the terms' (UTF-8) order, so scores add up alike."""
        known = self._known
        # One read of each entry: another thread may clear the memo at any moment.
        found: dict[str, object] = {t: known.get(t, _UNREAD) for t in dict.fromkeys(terms)}
        missing = [t for t, p in found.items() if p is _UNREAD]
        if missing:
            read = self._read(missing)
            if len(known) + len(missing) > TERMS_REMEMBERED:
                known.clear()
            for term in missing:
                found[term] = known[term] = read.get(term)
        return {t: p for t in sorted(found, key=str.encode) if isinstance(p := found[t], _Postings)}

    def _read(self, terms: Sequence[str]) -> dict[str, _Postings]:
        """The postings of the given terms that the index knows, from its term table."""
        rows = self._db.execute(
            f"SELECT term, df, start, top_start, largest FROM terms WHERE term IN ({','.join('?' * len(terms))})",
            list(terms),
        )
        out = {}
        for term, df, start, top_start, largest in rows:
            docs = self.postings[start : start + df]
            seeds = docs if top_start < 0 else self.top_lists[top_start : top_start + TOP_LIST]
            out[term] = _Postings(docs, self.impacts[start : start + df], seeds, largest)
        return out

    @contextlib.contextmanager
    def _scratch(self) -> Iterator[np.ndarray]:
        """A zeroed float32 array with a slot per chunk, lent for one use; the user leaves it zeroed.

        Reused across queries (one per query in flight): a fresh one costs more than the scatter into it, as
        every page of it must be faulted in and zeroed.
        """
        with self._lock:
            array = self._scratch_arrays.pop() if self._scratch_arrays else None
        if array is None:
            array = np.zeros(self.chunks, np.float32)
        try:
            yield array
        except BaseException:
            array.fill(0)  # the user may have stopped half-way
            raise
        finally:
            with self._lock:
                self._scratch_arrays.append(array)

    def _gather(self, candidates: np.ndarray, lists: Sequence[_Postings]) -> np.ndarray:
        """The summed impacts of each candidate chunk (int32 ids, ascending, unique) over the given terms."""
        out = np.zeros(len(candidates), np.float32)
        if not len(candidates):
            return out
        with contextlib.ExitStack() as borrowed:
            scratch = None  # borrowed only if some list needs it
            for p in lists:
                n, m = len(candidates), len(p.docs)
                if not m:
                    continue
                if min(n, m) * 16 > n + 2 * m:
                    # Many candidates against a long list (the tail of long questions at scale: 300k partial
                    # scores, lists of 100k): binary searches miss the cache at every step, while spreading the
                    # list over the scratch array and reading it back at the candidates are two ordered passes
                    if scratch is None:
                        scratch = borrowed.enter_context(self._scratch())
                    scratch[p.docs] = p.impacts
                    out += scratch[candidates]
                    scratch[p.docs] = 0
                # Else binary-search the shorter side in the longer one: cost ~ min(n, m) · log(max(n, m)).
                elif m <= n:
                    at = np.minimum(np.searchsorted(candidates, p.docs), n - 1)
                    hit = candidates[at] == p.docs
                    out[at[hit]] += p.impacts[hit]
                else:
                    at = np.minimum(np.searchsorted(p.docs, candidates), m - 1)
                    hit = p.docs[at] == candidates
                    out[hit] += p.impacts[at[hit]]
        return out

    def _accumulate(self, lists: Sequence[_Postings]) -> tuple[np.ndarray, np.ndarray]:
        """Every chunk in any of the lists (int32 ids, ascending) with its summed impacts."""
        total = sum(len(p.docs) for p in lists)
        if not total:
            return np.zeros(0, np.int32), np.zeros(0, np.float32)
        # Measured: past a fifth of the archive, a scatter into one array and a scan of it beat merging.
        if total * 5 > self.chunks:
            with self._scratch() as accumulator:
                for p in lists:
                    # One pass per list; `accumulator[p.docs] += p.impacts` gathers, adds and scatters, slower.
                    np.add.at(accumulator, p.docs, p.impacts)
                # Impacts are positive. Testing floats for non-zero branches on each one; a boolean array's scan
                # does not, and is an order of magnitude faster over a million chunks.
                candidates = np.flatnonzero(accumulator > 0).astype(np.int32)
                scores = accumulator[candidates]
                accumulator[candidates] = 0
            return candidates, scores
        # Sparse: a stable sort of already sorted runs is a merge; then one sum per run of equal ids.
        docs = np.concatenate([p.docs for p in lists])
        order = np.argsort(docs, kind="stable")
        docs, impacts = docs[order], np.concatenate([p.impacts for p in lists])[order]
        starts = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]])
        return docs[starts], np.add.reduceat(impacts, starts)

    def knows_any(self, terms: Sequence[str]) -> bool:
        """Whether any of the index terms occurs in some chunk."""
        return bool(self._lists(terms))

    def scores(self, terms: Sequence[str], chunk_ids: Sequence[int]) -> np.ndarray:
        """BM25 of the given chunks for the terms (0 where none occurs), in the order given."""
        ids = np.asarray(chunk_ids, np.int32)
        lists = list(self._lists(terms).values())
        if not lists or not len(ids):
            return np.zeros(len(ids))
        unique, back = np.unique(ids, return_inverse=True)
        return self._gather(unique, lists)[back].astype(np.float64)

    def top(
        self,
        terms: Sequence[str],
        k: int,
        allowed: np.ndarray | None = None,
        required: Sequence[str] = (),
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k chunks with the highest BM25 for the OR of the terms, as (ids, scores) best first.

        `allowed` (ascending chunk ids) limits the answer to those chunks; every `required` term must
        occur in a chunk for it to count (the words of a quoted phrase).
        """
        lists = self._lists([*terms, *required])
        every = list(lists.values())
        if k <= 0 or not every or any(t not in lists for t in required):
            return np.zeros(0, np.int64), np.zeros(0)
        if required:  # a conjunction is selective: intersect, then score what is left
            need = sorted((lists[t] for t in dict.fromkeys(required)), key=lambda p: len(p.docs))
            candidates = need[0].docs
            for p in need[1:]:
                candidates = candidates[_members(candidates, p.docs)]
            if allowed is not None:
                candidates = candidates[_members(candidates, allowed.astype(np.int32))]
            return _best(candidates, self._gather(candidates, every), k)
        if allowed is not None and len(allowed) <= DIRECT_SCORING:
            candidates = allowed.astype(np.int32)
            return _best(candidates, self._gather(candidates, every), k)
        mask = None
        if allowed is not None:
            mask = np.zeros(self.chunks, bool)
            mask[allowed] = True
        # A lower bound on the final k-th score: the exact scores of the best chunks of the rarest terms,
        # where the top k most likely sit.
        rarest = sorted(every, key=lambda p: -p.largest)[:SEED_TERMS]
        seeds = np.unique(np.concatenate([p.seeds for p in rarest]))
        if mask is not None:
            seeds = seeds[mask[seeds]]
        seed_scores = self._gather(seeds, every)
        theta = float(np.partition(seed_scores, len(seeds) - k)[len(seeds) - k]) if len(seeds) >= k else 0.0
        # Terms whose largest impacts sum below theta cannot put a chunk in the top k on their own.
        ordered = sorted(every, key=lambda p: p.largest)
        bound, cut = 0.0, 0
        while cut < len(ordered) and bound + ordered[cut].largest < theta * (1 - 1e-6):
            bound += ordered[cut].largest
            cut += 1
        optional, essential = ordered[:cut], ordered[cut:]
        candidates, scores = self._accumulate(essential)
        if mask is not None:
            keep = mask[candidates]
            candidates, scores = candidates[keep], scores[keep]
        # Partial sums are lower bounds of final scores, so each can only raise theta; add the optional terms
        # largest first, dropping every chunk that can no longer reach theta before looking up the next one.
        remaining = bound
        for p in reversed(optional):
            if len(scores) >= k:
                theta = max(theta, float(np.partition(scores, len(scores) - k)[len(scores) - k]))
            alive = scores + remaining >= theta * (1 - 1e-6)
            candidates = candidates[alive]
            scores = scores[alive] + self._gather(candidates, [p])
            remaining -= p.largest
        return _best(candidates, scores, k)
