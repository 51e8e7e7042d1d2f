"""How relevant and how central each candidate sentence is, and whether it carries the question's names."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..index import Index
from ..sentence_traits import word_ids
from ..text import FUNCTION_WORDS, STEMS
from .citing import _story
from .options import FIGURE_TWIN_COSINE, STORY_BONUS, BriefOptions
from .pool import _Pool


def _bags(pool: _Pool) -> tuple[np.ndarray, np.ndarray]:
    """Every sentence's content words flattened into one array, with the pool row each belongs to."""
    words = [f.terms for f in pool.traits]
    rows = np.repeat(np.arange(len(words)), [len(w) for w in words])
    return (np.concatenate(words) if words else np.zeros(0, np.int64)), rows


def _word_overlap(rows: np.ndarray, inverse: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
    """TextRank's sentence graph: shared content words over the log lengths of the two sentences."""
    # Only words in two or more sentences link any: a pool's few hundred of them keep this one small product.
    shared = counts[inverse] > 1
    columns = np.cumsum(counts > 1) - 1
    bags = np.zeros((n, int(columns[-1]) + 1 if len(columns) else 0), dtype=np.float32)
    bags[rows[shared], columns[inverse[shared]]] = 1.0
    log_len = np.log(np.maximum(np.bincount(rows, minlength=n), 2)).astype(np.float32)
    return (bags @ bags.T) / (log_len[:, None] + log_len[None, :])


def _coverage(rows: np.ndarray, inverse: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
    """How many (other sentence, shared content word) pairs each sentence has; scaled so the best is 1.

    The words a set of sentences keeps repeating are what it is about, so a sentence that carries many
    of them is worth quoting (the unnormalized degree of the TextRank graph; SumBasic's intuition).
    """
    degree = np.bincount(rows, weights=counts[inverse] - 1.0, minlength=n)
    return degree / max(float(degree.max(initial=0.0)), 1e-9)


def _rank(links: np.ndarray, bias: np.ndarray, teleport: float) -> np.ndarray:
    """PageRank of a weighted graph, teleporting to bias; scaled so the best is 1."""
    links = np.clip(links, 0.0, None)
    np.fill_diagonal(links, 0.0)
    links /= np.maximum(links.sum(axis=1, keepdims=True), 1e-9)
    # Upcast once: a float32 matrix times the float64 rank was cast again on every step (half the time).
    step = np.ascontiguousarray((1 - teleport) * links.T, dtype=np.float64)
    base = teleport * bias
    rank = np.full(len(bias), 1.0 / len(bias))
    for _ in range(30):
        rank = step @ rank
        rank += base
    return rank / max(float(rank.max()), 1e-9)


def _score(pool: _Pool, query_vector: np.ndarray, terms: Sequence[str], options: BriefOptions) -> None:
    """Each sentence's worth: relevance, lexical overlap, centrality (vectors and words) and the lead prior."""
    n = len(pool.traits)
    relevance = pool.vectors @ query_vector
    flat, rows = _bags(pool)
    wanted = word_ids(w for w in terms if w not in FUNCTION_WORDS)
    lexical = np.bincount(rows, weights=np.isin(flat, wanted), minlength=n) / max(len(wanted), 1)
    pool.similarity = pool.vectors @ pool.vectors.T
    pool.repeat_similarity = _repeat_similarity(pool, options.redundancy)
    bias = np.clip(relevance, 1e-6, None)
    bias /= bias.sum()
    links = _link_weights(pool, options.intra_article)
    centrality = _rank(pool.similarity * links, bias, options.teleport)
    _, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    word_centrality = (
        _rank(_word_overlap(rows, inverse, counts, n) * links, bias, options.teleport)
        if options.w_word_centrality
        else 0.0
    )
    coverage = _coverage(rows, inverse, counts, n) if options.w_coverage else 0.0
    ordinals = np.fromiter((f.sentence.ordinal for f in pool.traits), dtype=np.float32, count=n)
    lead = (1.0 + ordinals) ** -options.lead_decay
    # The retriever's best articles are likelier to be about the question as a whole, not in passing.
    source = (
        np.fromiter((1.0 + pool.rank[f.sentence.article_id] for f in pool.traits), dtype=np.float32, count=n) ** -0.5
    )
    pool.relevance = relevance
    pool.scores = (
        options.w_relevance * relevance
        + options.w_lexical * lexical
        + options.w_centrality * centrality
        + options.w_word_centrality * word_centrality
        + options.w_coverage * coverage
        + options.w_lead * lead
        + options.w_source * source
    )


def _link_weights(pool: _Pool, intra_article: float) -> np.ndarray:
    """Per pair of sentences, the weight of their link in the centrality graphs: intra_article within one article.

    An article that repeats its topic phrase in every sentence ranks all of them central among themselves and
    would crowd out the other articles; what many articles say is the better sign of what matters. The rank
    normalises each sentence's links, so a pool of one article ranks exactly as without this, and the more
    articles a pool holds, the less a sentence's own article counts.
    """
    article = _codes([f.sentence.article_id for f in pool.traits])
    return np.where(article[:, None] == article[None, :], np.float32(intra_article), np.float32(1.0))


# The endings news gives a name ("russia": "russias", "russian"; "japan": "japanese"): added to the word itself,
# or to its stem (the word without a final "a" or "e").
_WORD_ENDINGS = ("s", "n", "ns", "i", "is")
_STEM_ENDINGS = ("an", "ans", "ian", "ians", "ese", "ean", "eans")


def name_forms(word: str) -> list[str]:
    """A name and the words news writes for it ("russia": "russian", "russians"; "japan": "japanese")."""
    stem = word[:-1] if word.endswith(("a", "e")) else word
    return [word, *(word + ending for ending in _WORD_ENDINGS), *(stem + ending for ending in _STEM_ENDINGS)]


def absent_names(index: Index, names: Sequence[Sequence[str]]) -> list[Sequence[str]]:
    """The question's names that occur nowhere in the archive in any of their forms.

    No sentence can answer a question about them, and the closest ones are about something else: a
    wildfire elsewhere for "the wildfire in California", a local cup for "the Champions League". A name
    of several words is there when any of its words is, and a word when any form of it or of what it may be
    formed from is ("Calderans" is there when "Calder" is).
    """
    # A letter alone ("O" of O'Brien) is in any archive: it tells nothing of the name.
    words = [[w for w in name if len(w) > 1] or list(name) for name in names]
    return [
        name
        for name, kept in zip(names, words, strict=True)
        if not index.knows_any(STEMS.searchable(" ".join(_kin(kept))))
    ]


def _kin(name: Sequence[str]) -> list[str]:
    """Every form of every word of a name and of the words it may be formed from (name_forms undone)."""
    bases = set(name)
    for word in name:
        for ending in (*_WORD_ENDINGS, *_STEM_ENDINGS):
            if word.endswith(ending) and len(word) > len(ending) + 2:
                stem = word[: -len(ending)]
                bases.update((stem, stem + "a", stem + "e"))
    return [form for base in sorted(bases) for form in name_forms(base)]


def _names_held(pool: _Pool, names: Sequence[Sequence[str]]) -> np.ndarray:
    """Per sentence, the share of the question's names it holds (a name of several words: any of them)."""
    held = np.zeros(len(pool.traits))
    flat, rows = _bags(pool)
    for name in names:
        forms = word_ids(f for w in name for f in name_forms(w))
        held += np.bincount(rows, weights=np.isin(flat, forms), minlength=len(pool.traits)) > 0
    return held / len(names)


def _codes(keys: Sequence[str]) -> np.ndarray:
    """Equal keys as equal small integers."""
    seen: dict[str, int] = {}
    return np.fromiter((seen.setdefault(k, len(seen)) for k in keys), dtype=np.int64, count=len(keys))


def _repeat_similarity(pool: _Pool, redundancy: float) -> np.ndarray:
    """Similarity for redundancy: two outlets' sentences of one story that share a figure state one fact.

    Outlets reword the same fact so freely ("About 2,300 dockworkers walked off" / "Container traffic
    stopped after some 2,300 workers...") that vectors alone put it below the threshold; within one
    story a shared number plus a moderate cosine is the stronger sign, and a small story bonus covers
    the rest.
    """
    n = len(pool.traits)
    articles = [f.sentence.article_id for f in pool.traits]
    story = _codes([_story(pool.metas[a]) if a in pool.metas else a for a in articles])
    article = _codes(articles)
    same_story = (story[:, None] == story[None, :]) & (article[:, None] != article[None, :])
    out = pool.similarity + STORY_BONUS * same_story
    with_figures = [r for r, f in enumerate(pool.traits) if f.figures]
    if not with_figures or not same_story.any():
        return out
    distinct: dict[int, int] = {}
    cols = [[distinct.setdefault(x, len(distinct)) for x in pool.traits[r].figures] for r in with_figures]
    bags = np.zeros((n, len(distinct)), dtype=np.float32)
    bags[np.repeat(with_figures, [len(c) for c in cols]), np.concatenate(cols)] = 1.0
    shared = (bags @ bags.T) > 0
    figure_twins = same_story & shared & (pool.similarity >= FIGURE_TWIN_COSINE)
    return np.where(figure_twins, np.maximum(out, redundancy), out)
