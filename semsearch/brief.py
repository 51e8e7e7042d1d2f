"""Hits → a query-focused extractive brief: verbatim sentences, each with exact-span citations.

Selection: every usable sentence of the top retrieved chunks is scored by relevance to the question
(stored sentence vector · query vector, plus overlap with the question's content words), by its
centrality among the candidates (LexRank over the stored vectors and TextRank over shared words, both
biased towards the question, a link within one article weighing less than one across articles), by a news
prior (an article's lead carries its key facts) and by the retriever's rank of its article. Units (a
sentence, a sentence that leans on its predecessor together with that predecessor, or one that may follow
the sentence its pronoun goes back to) are then taken greedily under the word budget by
maximal marginal relevance; one that repeats a chosen sentence is never shown twice but lends that
sentence its citation (same words) or a corroboration (another outlet's own words). A generic brief of
given articles (GENERIC) also weighs coverage: how many of the words its sentences keep repeating a
sentence carries.

Nothing is parsed per query: each stored sentence's flags, words and figures were found when the index
was built (semsearch.sentences) and are read from its layout arrays; only the quoted sentences' text is read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .config import Settings
from .index import ArticleMeta, Index, SentenceTraits
from .records import Brief, BriefSentence, Citation, Source
from .retrieval import Retrieval, question_names
from .sentence_traits import word_ids
from .text import FUNCTION_WORDS, question_words

NOTHING_RETRIEVED = "Nothing in the archive matches this question closely enough to summarize."
NOTHING_RELEVANT = "No passage in the archive answers this question closely enough to quote."

# Redundancy across outlets of one story (see _repeat_similarity); chosen on the sample's same-story pairs.
STORY_BONUS = 0.1
FIGURE_TWIN_COSINE = 0.55
# A sentence may bring at most this many predecessors it leans on ('He said ... But ...').
MAX_LEAN = 2
# The longest run of same-pronoun sentences a sentence may skip back over (see anchor).
_ANCHOR_REACH = 6


@dataclass(frozen=True, slots=True)
class BriefOptions:
    """How the brief selects sentences; the weights are tuned on half of BBC (docs/benchmarks.md)."""

    words: int = 120
    candidates: int = 30
    max_sources: int | None = None
    min_similarity: float = 0.35
    relevance_floor: float = 0.5
    redundancy: float = 0.8
    diversity: float = 0.1
    w_relevance: float = 1.0
    w_lexical: float = 0.3
    w_centrality: float = 0.3
    w_word_centrality: float = 2.0
    w_coverage: float = 0.0
    worth_by_words: bool = False  # a unit's score: the mean of its sentences, or of its words not yet quoted
    w_lead: float = 0.3
    w_source: float = 0.3
    lead_decay: float = 0.5
    teleport: float = 0.15
    # Multi-document briefs (issue #20; chosen on the tune half of benchmarks/data/nuggets_reuters.jsonl).
    # Each sentence already quoted from an article takes this off the gain of the article's other units: the
    # diminishing reward that spreads a brief over articles (on wire copy a facility-location coverage term
    # and fading the lead prior as relevant articles grow both measured no better or worse; docs/quality.md).
    article_penalty: float = 0.15
    w_names: float = 0.3  # taken off a sentence's score for the share of the question's names it lacks
    # The weight of a link between two sentences of one article in the centrality graphs (1: as any other
    # link); see _link_weights. 0.5 ties 0.2 on the tune half but lets the car-safety test's long piece take
    # five of nine sentences; 1.0 and 0.05 both score lower.
    intra_article: float = 0.2


# The brief as it was before issue #20 (no per-article penalty, no names, every link alike), to measure against.
BEFORE_COVERAGE = BriefOptions(article_penalty=0.0, w_names=0.0, intra_article=1.0)

# A generic brief of given articles (no real question: "summarize this story"): what the articles keep
# repeating comes first, not closeness to a headline. Chosen on the BBC tune half (700 articles), where it
# scores 0.724 ROUGE-2 F1 against 0.687 with the query-focused weights; those keep relevance first because
# coverage cost the query-focused checks (docs/benchmarks.md, "## Brief").
GENERIC = BriefOptions(w_coverage=16.0, w_word_centrality=2.0, w_lead=0.3, diversity=0.0, worth_by_words=True)


@dataclass(slots=True)
class _Pool:
    """Candidate sentences (and the predecessors dependent ones need), with their vectors and scores."""

    traits: list[SentenceTraits]
    vectors: np.ndarray
    units: list[tuple[int, ...]]
    anchors: list[int]  # per unit: the row that must already be chosen before it may be (-1: none)
    rank: dict[str, int]
    metas: dict[str, ArticleMeta]
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    relevance: np.ndarray = field(default_factory=lambda: np.zeros(0))
    similarity: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    repeat_similarity: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def members(self) -> np.ndarray:
        """Every sentence row that belongs to some unit."""
        return np.unique(np.fromiter((i for u in self.units for i in u), dtype=np.int64))


def brief_options(settings: Settings, words: int | None = None, max_sources: int | None = None) -> BriefOptions:
    """The options of one query's brief: the settings, with the request's word budget and source cap."""
    return BriefOptions(
        words=words or settings.brief_words,
        candidates=settings.brief_candidates,
        max_sources=max_sources,
        min_similarity=settings.brief_min_similarity,
        redundancy=settings.brief_redundancy,
    )


def anchor(pronouns: Sequence[str], leans: Sequence[bool], i: int) -> int | None:
    """The earlier sentence that sentence i may follow instead of its predecessor, in one article's sentences.

    In a run of sentences opening with the same pronoun ("He said ... He added ... His ..."), each means
    whom the first means, and the first leans on the sentence before the run; so any sentence of the run
    reads as well right after that sentence, provided it stands alone.
    """
    if not pronouns[i] or i < 2 or pronouns[i - 1] != pronouns[i]:
        return None
    j = i - 1
    while j > 0 and pronouns[j] == pronouns[i] and i - j <= _ANCHOR_REACH:
        j -= 1
    return None if leans[j] or pronouns[j] == pronouns[i] else j


class Novelty(Protocol):
    """What a "new since" brief must leave out (semsearch.novelty): a separate step, kept out of the scoring."""

    nothing_new: str  # the abstention when every relevant candidate had been reported before

    def judge(self, traits: Sequence[SentenceTraits], vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per candidate row: already reported (never quoted), and what to take off its score."""
        ...


def summarize(
    index: Index, retrieval: Retrieval, options: BriefOptions = BriefOptions(), novelty: Novelty | None = None
) -> Brief:
    """A brief of the sentences of the top retrieved chunks."""
    ranked = retrieval.chunks[: options.candidates].tolist()
    stored = index.chunks(ranked)
    rank: dict[str, int] = {}
    ids: dict[int, None] = {}
    for chunk_id in ranked:
        chunk = stored.get(chunk_id)
        if chunk is None:
            continue
        if chunk.article_id not in rank:
            if options.max_sources is not None and len(rank) >= options.max_sources:
                continue
            rank[chunk.article_id] = len(rank)
        ids.update(dict.fromkeys(range(chunk.first_sentence, chunk.last_sentence + 1)))
    return _brief(index, sorted(ids), rank, retrieval.query_vector, retrieval.terms, options, retrieval.names, novelty)


def summarize_articles(
    index: Index,
    article_ids: Sequence[str],
    query_vector: np.ndarray,
    question: str,
    options: BriefOptions = BriefOptions(),
) -> Brief:
    """A brief of whole given articles (the single-document evaluation uses one)."""
    ids = index.sentence_ids_of(list(article_ids))
    rank = {a: i for i, a in enumerate(article_ids)}
    return _brief(index, ids, rank, query_vector, question_words(question), options, question_names(question))


def _brief(
    index: Index,
    ids: list[int],
    rank: dict[str, int],
    query_vector: np.ndarray,
    terms: Sequence[str],
    options: BriefOptions,
    names: Sequence[Sequence[str]] = (),
    novelty: Novelty | None = None,
) -> Brief:
    """Score, select, order and cite."""
    pool = _pool(index, ids, rank)
    if not pool.units:
        return Brief(abstained=novelty.nothing_new if novelty else NOTHING_RETRIEVED)
    _score(pool, query_vector, terms, options)
    if options.w_names and names:
        pool.scores -= options.w_names * (1.0 - _names_held(pool, names))
    if novelty is not None and not _leave_out_reported(pool, novelty):
        return Brief(abstained=novelty.nothing_new)
    best = float(pool.relevance[pool.members()].max())
    if best < options.min_similarity:
        return Brief(abstained=NOTHING_RELEVANT)
    chosen, twins = _select(pool, max(options.min_similarity, options.relevance_floor * best), options)
    if not chosen:
        return Brief(abstained=f"No relevant sentence fits in {options.words} words; allow more words.")
    return _cite(pool, chosen, twins, _quoted_texts(index, pool, chosen, twins))


def _leave_out_reported(pool: _Pool, novelty: Novelty) -> bool:
    """Drop every unit holding an already reported sentence and lower the rest by the novelty's penalty; False
    when no unit is left."""
    reported, penalty = novelty.judge(pool.traits, pool.vectors)
    pool.scores = pool.scores - penalty
    kept = [n for n, unit in enumerate(pool.units) if not reported[list(unit)].any()]
    pool.units = [pool.units[n] for n in kept]
    pool.anchors = [pool.anchors[n] for n in kept]
    return bool(pool.units)


def _quoted_texts(index: Index, pool: _Pool, chosen: list[int], twins: dict[int, list[int]]) -> dict[int, str]:
    """The text of each chosen sentence and of its repeats: the only text a brief reads."""
    rows = set(chosen).union(*twins.values())
    texts = index.texts(list({pool.traits[i].sentence.article_id for i in rows}))
    return {i: texts[(s := pool.traits[i].sentence).article_id][s.start : s.end] for i in rows}


def _pool(index: Index, ids: list[int], rank: dict[str, int]) -> _Pool:
    """Usable candidates as units: alone, after the predecessors they lean on, or after their anchor."""
    by_id = {i: f for i, f in index.sentence_traits(ids).items() if f.sentence.article_id in rank}
    candidates = [by_id[i] for i in ids if i in by_id and by_id[i].usable]
    # Predecessors are read only for the sentences that lean on them, one step back at a time.
    leaning = [f for f in candidates if f.leans]
    for _ in range(MAX_LEAN):
        wanted = {f.sentence.id - 1 for f in leaning if f.sentence.ordinal > 0} - by_id.keys()
        for i, f in index.sentence_traits(wanted).items():
            if f.sentence.article_id in rank:
                by_id[i] = f
        leaning = [
            by_id[f.sentence.id - 1] for f in leaning if f.sentence.id - 1 in by_id and by_id[f.sentence.id - 1].leans
        ]
    order = sorted(by_id)
    row = {sid: n for n, sid in enumerate(order)}
    traits = [by_id[sid] for sid in order]
    units: list[tuple[int, ...]] = []
    anchors: list[int] = []
    for f in candidates:
        run = [row[f.sentence.id]]
        while traits[run[0]].leans and len(run) <= MAX_LEAN:
            first = traits[run[0]].sentence
            prev = by_id.get(first.id - 1)
            if prev is None or not prev.usable:
                break
            if prev.sentence.article_id != first.article_id or prev.sentence.ordinal != first.ordinal - 1:
                break
            run.insert(0, row[prev.sentence.id])
        if not traits[run[0]].leans:
            units.append(tuple(run))
            anchors.append(-1)
        if f.pronoun:
            found = _anchor_of(f, by_id)
            if found is not None:
                units.append((row[f.sentence.id],))
                anchors.append(row[found])
    vectors = index.vectors_of(order) if order else np.zeros((0, 0), np.float32)
    return _Pool(traits, vectors, units, anchors, rank, index.articles(list(rank)))


def _anchor_of(f: SentenceTraits, by_id: dict[int, SentenceTraits]) -> int | None:
    """The id of the sentence f may follow instead of its predecessor (see anchor), when by_id holds the run."""
    run = [f]
    while len(run) <= _ANCHOR_REACH + 1:
        prev = by_id.get(run[-1].sentence.id - 1)
        if prev is None or prev.sentence.article_id != f.sentence.article_id:
            break
        run.append(prev)
    run.reverse()
    found = anchor([x.pronoun for x in run], [x.leans for x in run], len(run) - 1)
    return None if found is None else run[found].sentence.id


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


def name_forms(word: str) -> list[str]:
    """A name and the words news writes for it ("russia": "russian", "russians"; "japan": "japanese")."""
    stem = word[:-1] if word.endswith(("a", "e")) else word
    return [
        word,
        word + "s",
        word + "n",
        word + "ns",
        word + "i",
        word + "is",
        stem + "an",
        stem + "ans",
        stem + "ian",
        stem + "ians",
        stem + "ese",
        stem + "ean",
        stem + "eans",
    ]


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


def _select(pool: _Pool, floor: float, options: BriefOptions) -> tuple[list[int], dict[int, list[int]]]:
    """Greedy MMR over units under the word budget; returns chosen sentence rows and each one's repeats."""
    members = np.full((len(pool.units), MAX_LEAN + 1), -1)
    for n, unit in enumerate(pool.units):
        members[n, : len(unit)] = unit
    present = members >= 0
    members = np.where(present, members, 0)
    keep = np.where(present, pool.relevance[members], -np.inf).max(axis=1) >= floor
    members, present = members[keep], present[keep]
    anchors = np.asarray(pool.anchors, dtype=np.int64)[keep]
    anchored = anchors >= 0
    if not len(members):
        return [], {}
    cost = np.fromiter((f.words for f in pool.traits), dtype=np.int64, count=len(pool.traits))[members] * present
    worth = pool.scores[members] * cost
    unit_score = (pool.scores[members] * present).sum(axis=1) / present.sum(axis=1)
    overlap = np.full(len(pool.traits), -1.0)  # each sentence's highest similarity to a chosen one
    is_chosen = np.zeros(len(pool.traits), dtype=bool)
    alive = np.ones(len(members), dtype=bool)
    chosen: list[int] = []
    budget = options.words
    article = _codes([f.sentence.article_id for f in pool.traits])[members[:, 0]]
    quoted = np.zeros(int(article.max()) + 1)  # sentences quoted so far per article
    while True:
        fresh = present & ~is_chosen[members]
        repeat = np.where(fresh, overlap[members], -1.0).max(axis=1)
        unit_cost = (fresh * cost).sum(axis=1)
        # Budget and overlap only tighten, so a unit ruled out now stays out.
        alive &= fresh.any(axis=1) & (unit_cost <= budget) & (repeat < options.redundancy)
        # An anchored unit waits for its anchor, so it may become pickable later.
        pickable = alive & (~anchored | is_chosen[np.where(anchored, anchors, 0)])
        if not pickable.any():
            break
        if options.worth_by_words:
            # What its words not yet quoted are worth: once its predecessor is in, a sentence brings only itself.
            unit_score = (worth * fresh).sum(axis=1) / np.maximum(unit_cost, 1)
        gain = (1 - options.diversity) * unit_score - options.diversity * np.clip(repeat, 0.0, None)
        gain -= options.article_penalty * quoted[article]
        pick = int(np.argmax(np.where(pickable, gain, -np.inf)))
        budget -= int(unit_cost[pick])
        picked = members[pick][fresh[pick]]
        quoted[article[pick]] += len(picked)
        is_chosen[picked] = True
        chosen.extend(picked.tolist())
        overlap = np.maximum(overlap, pool.repeat_similarity[:, picked].max(axis=1))
    return chosen, _repeats(pool, chosen, options.redundancy)


def _repeats(pool: _Pool, chosen: list[int], redundancy: float) -> dict[int, list[int]]:
    """Other outlets' candidate sentences that state a chosen sentence's fact, keyed by that sentence."""
    twins: dict[int, list[int]] = {}
    if not chosen:
        return twins
    others = np.setdiff1d(pool.members(), chosen)
    if not len(others):
        return twins
    sims = pool.repeat_similarity[np.ix_(others, np.asarray(chosen))]
    close = sims.max(axis=1) >= redundancy
    for i, k in zip(others[close].tolist(), sims.argmax(axis=1)[close].tolist(), strict=True):
        twin = chosen[k]
        if pool.traits[twin].sentence.article_id != pool.traits[i].sentence.article_id:
            twins.setdefault(twin, []).append(i)
    return twins


def _story(meta: ArticleMeta) -> str:
    """The story (event) an article reports, so the brief tells one story before the next."""
    return meta.story_id or meta.id


def _cite(pool: _Pool, chosen: list[int], twins: dict[int, list[int]], text: dict[int, str]) -> Brief:
    """Order the chosen sentences as a paragraph (story, date, position) and number their sources."""
    metas = pool.metas
    story_weight: dict[str, float] = {}
    for i in chosen:
        key = _story(metas[pool.traits[i].sentence.article_id])
        story_weight[key] = max(story_weight.get(key, -1e9), float(pool.scores[i]))

    def reading_order(i: int) -> tuple:
        s = pool.traits[i].sentence
        meta = metas[s.article_id]
        # Undated articles sort after dated ones of the same story; '--MM-DD' sorts before full dates.
        return (
            -story_weight[_story(meta)],
            meta.published is None,
            meta.published or "",
            pool.rank[s.article_id],
            s.ordinal,
        )

    numbers: dict[str, int] = {}

    def cite(i: int) -> Citation:
        s = pool.traits[i].sentence
        return Citation(
            n=numbers.setdefault(s.article_id, len(numbers) + 1), article_id=s.article_id, start=s.start, end=s.end
        )

    sentences = []
    for i in sorted(chosen, key=reading_order):
        same = [j for j in twins.get(i, []) if text[j] == text[i]]
        # One corroboration per other article: its sentence closest to the quoted one.
        closest: dict[str, int] = {}
        for j in twins.get(i, []):
            article = pool.traits[j].sentence.article_id
            if (
                text[j] != text[i]
                and article != pool.traits[i].sentence.article_id
                and (article not in closest or pool.similarity[i, j] > pool.similarity[i, closest[article]])
            ):
                closest[article] = j
        other = sorted(closest.values())
        sentences.append(
            BriefSentence(
                text=text[i], citations=[cite(i)] + [cite(j) for j in same], corroborations=[cite(j) for j in other]
            )
        )
    sources = [
        Source(
            n=n,
            article_id=a,
            title=metas[a].title,
            outlet=metas[a].outlet,
            published=metas[a].published,
            url=metas[a].url,
        )
        for a, n in numbers.items()
    ]
    return Brief(sentences=sentences, sources=sources)


def citation_problems(brief: Brief, text_of: Callable[[str], str]) -> list[str]:
    """Every way a brief breaks the citation contract (empty when each citation is a verbatim span)."""
    problems = []
    numbers = {s.n: s.article_id for s in brief.sources}
    for sentence in brief.sentences:
        if not sentence.citations:
            problems.append(f"uncited: {sentence.text[:60]!r}")
        for c in sentence.citations + sentence.corroborations:
            if numbers.get(c.n) != c.article_id:
                problems.append(f"citation [{c.n}] does not match the source list")
        for c in sentence.citations:
            if text_of(c.article_id)[c.start : c.end] != sentence.text:
                problems.append(f"[{c.n}] {c.article_id}:{c.start}-{c.end} is not {sentence.text[:60]!r}")
        for c in sentence.corroborations:
            if not text_of(c.article_id)[c.start : c.end].strip():
                problems.append(f"corroboration [{c.n}] {c.article_id}:{c.start}-{c.end} is empty")
    return problems
