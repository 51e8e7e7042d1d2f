"""Hits → a query-focused extractive brief: verbatim sentences, each with exact-span citations.

Selection: every usable sentence of the top retrieved chunks is scored by relevance to the question
(stored sentence vector · query vector, plus overlap with the question's content words), by its
centrality among the candidates (LexRank over the stored vectors and TextRank over shared words, both
biased towards the question), by a news prior (an article's lead carries its key facts) and by the
retriever's rank of its article. Units (a sentence, or a sentence that leans on
its predecessor together with that predecessor) are then taken greedily under the word budget by
maximal marginal relevance; one that repeats a chosen sentence is never shown twice but lends that
sentence its citation (same words) or a corroboration (another outlet's own words).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .config import Settings
from .models import Brief, BriefSentence, Citation, Source
from .retrieval import Retrieval, query_terms
from .store import ArticleMeta, Index, StoredSentence

NOTHING_RETRIEVED = "Nothing in the archive matches this question closely enough to summarize."
NOTHING_RELEVANT = "No passage in the archive answers this question closely enough to quote."

# A sentence opening like this leans on the one before it ("He added ...", "But ...", "This ...").
_ANTECEDENT_OPENER = re.compile(
    r"^[\"“‘']?(?:he|she|it|its|they|them|their|his|her|hers|this|that|these|those|but|and|or|so|yet|also|"
    r"however|still|instead|then|thus|therefore|meanwhile|nevertheless|nonetheless|moreover|furthermore|"
    r"besides|otherwise|such|both|another|in addition|as a result|despite this|even so|the move|the decision|"
    r"the latter|the former)\b",
    re.I,
)
# ... or names its speaker only by a pronoun: '"We will appeal," he said.'
_PRONOUN_ATTRIBUTION = re.compile(
    r"[,\"”’]\s+(?:he|she|they)\s+(?:said|says|added|adds|told|explained|noted|argued|warned|insisted|claimed|"
    r"stressed|continued|asked)\b",
    re.I,
)
# Captions, credits, bylines, rails and other page furniture that is not a statement of fact.
_FURNITURE = re.compile(
    r"^(?:by|photo|photograph|image|picture|caption|credit|copyright|read more|related|click|follow|sign up|"
    r"subscribe|advertisement|share|reporting by|editing by|additional reporting|watch|listen|updated)\b"
    r"|©|all rights reserved|click here|contributed to this report|\(photo|getty images|\bAP photo\b",
    re.I,
)
_ENDS_LIKE_A_SENTENCE = re.compile(r"[.!]['\"”’)\]]*$")
_STEM_BUCKETS = 256
# Redundancy across outlets of one story (see _repeat_similarity); chosen on the sample's same-story pairs.
STORY_BONUS = 0.1
FIGURE_TWIN_COSINE = 0.55
_FIGURE = re.compile(r"\d[\d,.]*\d|\d")
# A sentence may bring at most this many predecessors it leans on ('He said ... But ...').
MAX_LEAN = 2


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
    w_lead: float = 0.3
    w_source: float = 0.3
    lead_decay: float = 0.5
    teleport: float = 0.15


@dataclass(slots=True)
class _Pool:
    """Candidate sentences (and the predecessors dependent ones need), with their vectors and scores."""

    sentences: list[StoredSentence]
    texts: list[str]
    vectors: np.ndarray
    units: list[tuple[int, ...]]
    rank: dict[str, int]
    stories: list[str] = field(default_factory=list)
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    relevance: np.ndarray = field(default_factory=lambda: np.zeros(0))
    similarity: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    repeat_similarity: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def brief_options(settings: Settings, words: int | None = None, max_sources: int | None = None) -> BriefOptions:
    """The options of one query's brief: the settings, with the request's word budget and source cap."""
    return BriefOptions(words=words or settings.brief_words, candidates=settings.brief_candidates,
                        max_sources=max_sources, min_similarity=settings.brief_min_similarity,
                        redundancy=settings.brief_redundancy)


def words_of(text: str) -> int:
    """Word count used for the budget."""
    return len(text.split())


def usable(text: str) -> bool:
    """Whether a sentence can stand in a brief: a full statement, not a question, fragment, caption or byline."""
    n = words_of(text)
    if not 6 <= n <= 80 or not (text[0].isalnum() or text[0] in "\"'“‘"):
        return False
    return bool(_ENDS_LIKE_A_SENTENCE.search(text)) and not text.isupper() and not _FURNITURE.search(text)


def needs_antecedent(text: str) -> bool:
    """Whether a sentence only makes sense after the one before it."""
    return bool(_ANTECEDENT_OPENER.match(text) or _PRONOUN_ATTRIBUTION.search(text))


def summarize(index: Index, retrieval: Retrieval, options: BriefOptions = BriefOptions()) -> Brief:
    """A brief of the sentences of the top retrieved chunks."""
    ranked = retrieval.chunks[: options.candidates]
    stored = index.chunks([r.chunk_id for r in ranked])
    rank: dict[str, int] = {}
    ranges = []
    for r in ranked:
        chunk = stored.get(r.chunk_id)
        if chunk is None:
            continue
        if chunk.article_id not in rank:
            if options.max_sources is not None and len(rank) >= options.max_sources:
                continue
            rank[chunk.article_id] = len(rank)
        ranges.append((chunk.first_sentence, chunk.last_sentence))
    return _brief(index, index.sentences_between(ranges), rank, retrieval.query_vector, retrieval.terms, options)


def summarize_articles(
    index: Index, article_ids: Sequence[str], query_vector: np.ndarray, question: str,
    options: BriefOptions = BriefOptions(),
) -> Brief:
    """A brief of whole given articles (the single-document evaluation uses one)."""
    sentences = [s for a in article_ids for s in index.article_sentences(a)]
    rank = {a: i for i, a in enumerate(article_ids)}
    return _brief(index, sentences, rank, query_vector, query_terms(question), options)


def _brief(
    index: Index, sentences: list[StoredSentence], rank: dict[str, int], query_vector: np.ndarray,
    terms: Sequence[str], options: BriefOptions,
) -> Brief:
    """Score, select, order and cite."""
    pool = _pool(index, sentences, rank)
    if not pool.units:
        return Brief(abstained=NOTHING_RETRIEVED)
    _score(pool, query_vector, terms, options)
    best = float(pool.relevance[sorted({i for u in pool.units for i in u})].max())
    if best < options.min_similarity:
        return Brief(abstained=NOTHING_RELEVANT)
    chosen, twins = _select(pool, max(options.min_similarity, options.relevance_floor * best), options)
    if not chosen:
        return Brief(abstained=f"No relevant sentence fits in {options.words} words; allow more words.")
    return _cite(index, pool, chosen, twins)


def _pool(index: Index, sentences: list[StoredSentence], rank: dict[str, int]) -> _Pool:
    """Usable candidates as units: alone, or after the predecessors they lean on."""
    texts_by_article = index.texts(list(rank))
    by_id = {s.id: s for s in sentences}
    text_of = lambda s: texts_by_article[s.article_id][s.start : s.end]  # noqa: E731
    candidates = [s for s in sentences if usable(text_of(s))]
    wanted = {s.id - k for s in candidates for k in range(1, min(MAX_LEAN, s.ordinal) + 1)} - by_id.keys()
    for s in index.sentences_between([(i, i) for i in wanted]):
        if s.article_id in texts_by_article:
            by_id[s.id] = s
    order = sorted(by_id)
    row = {sid: n for n, sid in enumerate(order)}
    items = [by_id[sid] for sid in order]
    texts = [text_of(s) for s in items]
    leans = [needs_antecedent(t) for t in texts]
    units: list[tuple[int, ...]] = []
    for s in candidates:
        run = [row[s.id]]
        while leans[run[0]] and len(run) <= MAX_LEAN:
            prev = by_id.get(items[run[0]].id - 1)
            adjacent = prev is not None and prev.article_id == s.article_id and prev.ordinal == items[run[0]].ordinal - 1
            if not adjacent or not usable(texts[row[prev.id]]):
                break
            run.insert(0, row[prev.id])
        if not leans[run[0]]:
            units.append(tuple(run))
    vectors = index.vectors_of(order) if order else np.zeros((0, 0), np.float32)
    story_of = {a: m.story_id for a, m in index.articles(list(rank)).items()}
    return _Pool(items, texts, vectors, units, rank, [story_of.get(s.article_id, s.article_id) for s in items])


def _stems(words: Sequence[str]) -> set[str]:
    """Crude stems (5-letter prefixes) so 'strikes' meets 'striking'."""
    return {w[:5] for w in words}


def _word_overlap(stems: Sequence[set[str]]) -> np.ndarray:
    """TextRank's sentence graph: shared content-word stems over the log lengths of the two sentences."""
    # Stems hashed into a few buckets keep this to one small matrix product at query time.
    rows = [r for r, words in enumerate(stems) for _ in words]
    cols = [zlib.crc32(w.encode()) % _STEM_BUCKETS for words in stems for w in words]
    bags = np.zeros((len(stems), _STEM_BUCKETS), dtype=np.float32)
    bags[rows, cols] = 1.0
    log_len = np.log(np.maximum([len(w) for w in stems], 2)).astype(np.float32)
    return (bags @ bags.T) / (log_len[:, None] + log_len[None, :])


def _rank(links: np.ndarray, bias: np.ndarray, teleport: float) -> np.ndarray:
    """PageRank of a weighted graph, teleporting to bias; scaled so the best is 1."""
    links = np.clip(links, 0.0, None)
    np.fill_diagonal(links, 0.0)
    links /= np.maximum(links.sum(axis=1, keepdims=True), 1e-9)
    rank = np.full(len(bias), 1.0 / len(bias))
    for _ in range(30):
        rank = teleport * bias + (1 - teleport) * (links.T @ rank)
    return rank / max(float(rank.max()), 1e-9)


def _score(pool: _Pool, query_vector: np.ndarray, terms: Sequence[str], options: BriefOptions) -> None:
    """Each sentence's worth: relevance, lexical overlap, centrality (vectors and words) and the lead prior."""
    relevance = pool.vectors @ query_vector
    wanted = _stems(terms)
    stems = [_stems(query_terms(t)) for t in pool.texts]
    lexical = np.array([len(wanted & words) / len(wanted) if wanted else 0.0 for words in stems])
    pool.similarity = pool.vectors @ pool.vectors.T
    pool.repeat_similarity = _repeat_similarity(pool, options.redundancy)
    bias = np.clip(relevance, 1e-6, None)
    bias /= bias.sum()
    centrality = _rank(pool.similarity.copy(), bias, options.teleport)
    word_centrality = _rank(_word_overlap(stems), bias, options.teleport)
    ordinals = np.array([s.ordinal for s in pool.sentences], dtype=np.float32)
    lead = (1.0 + ordinals) ** -options.lead_decay
    # The retriever's best articles are likelier to be about the question as a whole, not in passing.
    source = np.array([1.0 + pool.rank[s.article_id] for s in pool.sentences], dtype=np.float32) ** -0.5
    pool.relevance = relevance
    pool.scores = (options.w_relevance * relevance + options.w_lexical * lexical
                   + options.w_centrality * centrality + options.w_word_centrality * word_centrality
                   + options.w_lead * lead + options.w_source * source)


def _repeat_similarity(pool: _Pool, redundancy: float) -> np.ndarray:
    """Similarity for redundancy: two outlets' sentences of one story that share a figure state one fact.

    Outlets reword the same fact so freely ("About 2,300 dockworkers walked off" / "Container traffic
    stopped after some 2,300 workers...") that vectors alone put it below the threshold; within one
    story a shared number plus a moderate cosine is the stronger sign, and a small story bonus covers
    the rest.
    """
    n = len(pool.texts)
    story = np.array(pool.stories, dtype=object)
    article = np.array([s.article_id for s in pool.sentences], dtype=object)
    same_story = (story[:, None] == story[None, :]) & (article[:, None] != article[None, :])
    figures = [set(_FIGURE.findall(t)) for t in pool.texts]
    distinct = {f: k for k, f in enumerate({f for fs in figures for f in fs})}
    bags = np.zeros((n, max(len(distinct), 1)), dtype=np.float32)
    for row, fs in enumerate(figures):
        bags[row, [distinct[f] for f in fs]] = 1.0
    shared = (bags @ bags.T) > 0
    out = pool.similarity + STORY_BONUS * same_story
    figure_twins = same_story & shared & (pool.similarity >= FIGURE_TWIN_COSINE)
    return np.where(figure_twins, np.maximum(out, redundancy), out)


def _select(pool: _Pool, floor: float, options: BriefOptions) -> tuple[list[int], dict[int, list[int]]]:
    """Greedy MMR over units under the word budget; returns chosen sentence rows and each one's repeats."""
    units = [u for u in pool.units if float(pool.relevance[list(u)].max()) >= floor]
    if not units:
        return [], {}
    members = np.full((len(units), MAX_LEAN + 1), -1)
    for n, unit in enumerate(units):
        members[n, : len(unit)] = unit
    present = members >= 0
    members = np.where(present, members, 0)
    unit_score = np.array([float(pool.scores[list(u)].mean()) for u in units])
    cost = np.array([words_of(t) for t in pool.texts])
    overlap = np.full(len(pool.texts), -1.0)  # each sentence's highest similarity to a chosen one
    is_chosen = np.zeros(len(pool.texts), dtype=bool)
    alive = np.ones(len(units), dtype=bool)
    chosen: list[int] = []
    budget = options.words
    while True:
        fresh = present & ~is_chosen[members]
        repeat = np.where(fresh, overlap[members], -1.0).max(axis=1)
        unit_cost = (fresh * cost[members]).sum(axis=1)
        # Budget and overlap only tighten, so a unit ruled out now stays out.
        alive &= fresh.any(axis=1) & (unit_cost <= budget) & (repeat < options.redundancy)
        if not alive.any():
            break
        gain = (1 - options.diversity) * unit_score - options.diversity * np.clip(repeat, 0.0, None)
        pick = int(np.argmax(np.where(alive, gain, -np.inf)))
        budget -= int(unit_cost[pick])
        for i in members[pick][fresh[pick]].tolist():
            is_chosen[i] = True
            chosen.append(i)
            overlap = np.maximum(overlap, pool.repeat_similarity[:, i])
    return chosen, _repeats(pool, chosen, options.redundancy)


def _repeats(pool: _Pool, chosen: list[int], redundancy: float) -> dict[int, list[int]]:
    """Other outlets' candidate sentences that state a chosen sentence's fact, keyed by that sentence."""
    twins: dict[int, list[int]] = {}
    if not chosen:
        return twins
    others = np.array(sorted({i for u in pool.units for i in u} - set(chosen)), dtype=np.int64)
    if not len(others):
        return twins
    sims = pool.repeat_similarity[np.ix_(others, chosen)]
    close = sims.max(axis=1) >= redundancy
    for i, k in zip(others[close].tolist(), sims.argmax(axis=1)[close].tolist()):
        twin = chosen[k]
        if pool.sentences[twin].article_id != pool.sentences[i].article_id:
            twins.setdefault(twin, []).append(i)
    return twins


def _story(meta: ArticleMeta) -> str:
    """The story (event) an article reports, so the brief tells one story before the next."""
    return meta.story_id or meta.id


def _cite(index: Index, pool: _Pool, chosen: list[int], twins: dict[int, list[int]]) -> Brief:
    """Order the chosen sentences as a paragraph (story, date, position) and number their sources."""
    metas = index.articles(list({pool.sentences[i].article_id for i in chosen + sum(twins.values(), [])}))
    story_weight: dict[str, float] = {}
    for i in chosen:
        key = _story(metas[pool.sentences[i].article_id])
        story_weight[key] = max(story_weight.get(key, -1e9), float(pool.scores[i]))

    def reading_order(i: int) -> tuple:
        s = pool.sentences[i]
        meta = metas[s.article_id]
        # Undated articles sort after dated ones of the same story; '--MM-DD' sorts before full dates.
        return (-story_weight[_story(meta)], meta.published is None, meta.published or "", pool.rank[s.article_id],
                s.ordinal)

    numbers: dict[str, int] = {}

    def cite(i: int) -> Citation:
        s = pool.sentences[i]
        return Citation(n=numbers.setdefault(s.article_id, len(numbers) + 1), article_id=s.article_id,
                        start=s.start, end=s.end)

    sentences = []
    for i in sorted(chosen, key=reading_order):
        same = [j for j in twins.get(i, []) if pool.texts[j] == pool.texts[i]]
        # One corroboration per other article: its sentence closest to the quoted one.
        closest: dict[str, int] = {}
        for j in twins.get(i, []):
            article = pool.sentences[j].article_id
            if pool.texts[j] != pool.texts[i] and article != pool.sentences[i].article_id and (
                article not in closest or pool.similarity[i, j] > pool.similarity[i, closest[article]]
            ):
                closest[article] = j
        other = sorted(closest.values())
        sentences.append(BriefSentence(text=pool.texts[i], citations=[cite(i)] + [cite(j) for j in same],
                                       corroborations=[cite(j) for j in other]))
    sources = [Source(n=n, article_id=a, title=metas[a].title, outlet=metas[a].outlet,
                      published=metas[a].published, url=metas[a].url) for a, n in numbers.items()]
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
