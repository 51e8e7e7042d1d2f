"""Hits → a query-focused extractive brief: verbatim sentences, each with exact-span citations.

Selection: every usable sentence of the top retrieved chunks is scored by relevance to the question
(stored sentence vector · query vector, plus overlap with the question's content words), by its
centrality among the candidates (LexRank over the stored vectors and TextRank over shared words, both
biased towards the question), by a news prior (an article's lead carries its key facts) and by the
retriever's rank of its article. Units (a sentence, a sentence that leans on its predecessor together
with that predecessor, or one that may follow the sentence its pronoun goes back to) are then taken
greedily under the word budget by
maximal marginal relevance; one that repeats a chosen sentence is never shown twice but lends that
sentence its citation (same words) or a corroboration (another outlet's own words). A generic brief of
given articles (GENERIC) also weighs coverage: how many of the words its sentences keep repeating a
sentence carries.

Nothing is parsed per query that was parsed before: each stored sentence's text, flags and words are
derived once and kept in a bounded process-wide cache keyed by index version.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import ThreadpoolController

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
_PRONOUN_CLASS = {"his": "he", "him": "he", "her": "she", "hers": "she", "its": "it", "them": "they",
                  "their": "they"}
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
# Words are kept as 24-bit hashes: two of a pool's few thousand words rarely share one.
_WORD_MASK = (1 << 24) - 1
_WORD = re.compile(r"\w+")
# What a sentence is about is in its other words: these (and the pieces of "it's", "we'll") only hold it
# together. Reporting verbs are not among them: "said" ties a story's attributed statements together, and
# dropping it too cost 0.012 ROUGE-2 F1 on the BBC tune half (docs/benchmarks.md).
_FUNCTION_WORDS = frozenset(
    "a about above across after afterwards again against ago all almost along already also although always "
    "am among amongst an and another any anyone anything anyway anywhere are around as at away b be became "
    "because become becomes been before being below beside besides between beyond both but by c can cannot "
    "could d did do does doing done down during e each either else elsewhere enough etc even ever every everyone "
    "everything f few for former formerly from further g get gets getting got h had has have having he her "
    "here hers herself him himself his how however i if in indeed into is it its itself j just k l last later "
    "latter least less ll m many may me meanwhile might more moreover most mostly much must my myself n neither "
    "never nevertheless next no nobody none nor not nothing now nowhere o of off often on once one only onto "
    "or other others otherwise our ours ourselves out over own p per perhaps q quite r rather re s same several "
    "shall she should since so some somehow someone something sometimes still such t than that the their theirs "
    "them themselves then there thereby therefore these they this those though through throughout thus to together "
    "too toward towards u under unless until up upon us v ve very via w was we well were what whatever when "
    "whenever where whereas whether which while who whoever whom whose why will with within without would x "
    "y yet you your yours yourself yourselves z two three four five six seven eight nine ten"
    .split()
)
# Redundancy across outlets of one story (see _repeat_similarity); chosen on the sample's same-story pairs.
STORY_BONUS = 0.1
FIGURE_TWIN_COSINE = 0.55
_FIGURE = re.compile(r"\d[\d,.]*\d|\d")
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


# A generic brief of given articles (no real question: "summarize this story"): what the articles keep
# repeating comes first, not closeness to a headline. Chosen on the BBC tune half (700 articles), where it
# scores 0.724 ROUGE-2 F1 against 0.687 with the query-focused weights; those keep relevance first because
# coverage cost the query-focused checks (docs/benchmarks.md, "## Brief").
GENERIC = BriefOptions(w_coverage=16.0, w_word_centrality=2.0, w_lead=0.3, diversity=0.0, worth_by_words=True)


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the brief needs of one stored sentence; derived once per index version (see _FactCache)."""

    sentence: StoredSentence
    text: str
    words: int
    usable: bool
    leans: bool
    words_seen: np.ndarray  # hashed content words, distinct
    figures: frozenset[str]
    pronoun: str  # see leading_pronoun


def _derive(sentence: StoredSentence, text: str) -> _Facts:
    """The facts of one sentence from its text."""
    return _Facts(sentence, text, words_of(text), usable(text), needs_antecedent(text),
                  _hashed(content_words(text)), frozenset(_FIGURE.findall(text)), leading_pronoun(text))


class _FactCache:
    """Facts of recently used sentences by (index version, sentence id), so a query seldom reads or parses text.

    Published versions never change, so an entry stays true for as long as its version exists.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int], _Facts] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, index: Index, ids: Iterable[int]) -> dict[int, _Facts]:
        """Facts of the stored sentences among ids (ids that are not stored are left out)."""
        version = str(index.path)
        found: dict[int, _Facts] = {}
        missing = []
        with self._lock:
            for i in ids:
                facts = self._items.get((version, i))
                if facts is None:
                    missing.append(i)
                else:
                    self._items.move_to_end((version, i))
                    found[i] = facts
        if missing:
            rows = index.sentences_between([(i, i) for i in missing])
            texts = index.texts(list({s.article_id for s in rows}))
            fresh = {s.id: _derive(s, texts[s.article_id][s.start : s.end]) for s in rows}
            with self._lock:
                for i, facts in fresh.items():
                    self._items[(version, i)] = facts
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            found.update(fresh)
        return found


# The brief's matrices are ~150 wide: waking a second BLAS thread costs more than the product itself, and on
# a busy machine (a server answering other requests) it made each product 30x slower (0.2 ms -> 7 ms).
_BLAS = ThreadpoolController()

# About 30 MB: the sentences of some 2,000 articles, far more than the recent queries of one process touch.
_FACTS = _FactCache(50_000)


@dataclass(slots=True)
class _Pool:
    """Candidate sentences (and the predecessors dependent ones need), with their vectors and scores."""

    facts: list[_Facts]
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
    return BriefOptions(words=words or settings.brief_words, candidates=settings.brief_candidates,
                        max_sources=max_sources, min_similarity=settings.brief_min_similarity,
                        redundancy=settings.brief_redundancy)


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


def summarize(index: Index, retrieval: Retrieval, options: BriefOptions = BriefOptions()) -> Brief:
    """A brief of the sentences of the top retrieved chunks."""
    ranked = retrieval.chunks[: options.candidates]
    stored = index.chunks([r.chunk_id for r in ranked])
    rank: dict[str, int] = {}
    ids: dict[int, None] = {}
    for r in ranked:
        chunk = stored.get(r.chunk_id)
        if chunk is None:
            continue
        if chunk.article_id not in rank:
            if options.max_sources is not None and len(rank) >= options.max_sources:
                continue
            rank[chunk.article_id] = len(rank)
        ids.update(dict.fromkeys(range(chunk.first_sentence, chunk.last_sentence + 1)))
    return _brief(index, sorted(ids), rank, retrieval.query_vector, retrieval.terms, options)


def summarize_articles(
    index: Index, article_ids: Sequence[str], query_vector: np.ndarray, question: str,
    options: BriefOptions = BriefOptions(),
) -> Brief:
    """A brief of whole given articles (the single-document evaluation uses one)."""
    ids = [s.id for s in index.sentences_of(list(article_ids))]
    rank = {a: i for i, a in enumerate(article_ids)}
    return _brief(index, ids, rank, query_vector, query_terms(question), options)


def _brief(
    index: Index, ids: list[int], rank: dict[str, int], query_vector: np.ndarray, terms: Sequence[str],
    options: BriefOptions,
) -> Brief:
    """Score, select, order and cite."""
    pool = _pool(index, ids, rank)
    if not pool.units:
        return Brief(abstained=NOTHING_RETRIEVED)
    with _BLAS.limit(limits=1, user_api="blas"):
        _score(pool, query_vector, terms, options)
    best = float(pool.relevance[pool.members()].max())
    if best < options.min_similarity:
        return Brief(abstained=NOTHING_RELEVANT)
    chosen, twins = _select(pool, max(options.min_similarity, options.relevance_floor * best), options)
    if not chosen:
        return Brief(abstained=f"No relevant sentence fits in {options.words} words; allow more words.")
    return _cite(pool, chosen, twins)


def _pool(index: Index, ids: list[int], rank: dict[str, int]) -> _Pool:
    """Usable candidates as units: alone, after the predecessors they lean on, or after their anchor."""
    by_id = {i: f for i, f in _FACTS.get(index, ids).items() if f.sentence.article_id in rank}
    candidates = [by_id[i] for i in ids if i in by_id and by_id[i].usable]
    # Predecessors are read only for the sentences that lean on them, one step back at a time.
    leaning = [f for f in candidates if f.leans]
    for _ in range(MAX_LEAN):
        wanted = {f.sentence.id - 1 for f in leaning if f.sentence.ordinal > 0} - by_id.keys()
        for i, f in _FACTS.get(index, wanted).items():
            if f.sentence.article_id in rank:
                by_id[i] = f
        leaning = [by_id[f.sentence.id - 1] for f in leaning
                   if f.sentence.id - 1 in by_id and by_id[f.sentence.id - 1].leans]
    order = sorted(by_id)
    row = {sid: n for n, sid in enumerate(order)}
    facts = [by_id[sid] for sid in order]
    units: list[tuple[int, ...]] = []
    anchors: list[int] = []
    for f in candidates:
        run = [row[f.sentence.id]]
        while facts[run[0]].leans and len(run) <= MAX_LEAN:
            first = facts[run[0]].sentence
            prev = by_id.get(first.id - 1)
            adjacent = (prev is not None and prev.sentence.article_id == first.article_id
                        and prev.sentence.ordinal == first.ordinal - 1)
            if not adjacent or not prev.usable:
                break
            run.insert(0, row[prev.sentence.id])
        if not facts[run[0]].leans:
            units.append(tuple(run))
            anchors.append(-1)
        if f.pronoun:
            found = _anchor_of(f, by_id)
            if found is not None:
                units.append((row[f.sentence.id],))
                anchors.append(row[found])
    vectors = index.vectors_of(order) if order else np.zeros((0, 0), np.float32)
    return _Pool(facts, vectors, units, anchors, rank, index.articles(list(rank)))


def _anchor_of(f: _Facts, by_id: dict[int, _Facts]) -> int | None:
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


def content_words(text: str) -> set[str]:
    """The distinct lower-cased words of a text that are not function words."""
    return {w for w in (m.lower() for m in _WORD.findall(text)) if w not in _FUNCTION_WORDS}


def _hashed(words: Iterable[str]) -> np.ndarray:
    """Words as the hashed ids _Facts keeps."""
    # A sorted set, not np.unique: this runs for every sentence a query parses, and numpy's overhead dominated.
    return np.array(sorted({zlib.crc32(w.encode()) & _WORD_MASK for w in words}), dtype=np.int64)


def _bags(pool: _Pool) -> tuple[np.ndarray, np.ndarray]:
    """Every sentence's content words flattened into one array, with the pool row each belongs to."""
    words = [f.words_seen for f in pool.facts]
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
    step = (1 - teleport) * links.T
    base = teleport * bias
    rank = np.full(len(bias), 1.0 / len(bias))
    for _ in range(30):
        rank = base + step @ rank
    return rank / max(float(rank.max()), 1e-9)


def _score(pool: _Pool, query_vector: np.ndarray, terms: Sequence[str], options: BriefOptions) -> None:
    """Each sentence's worth: relevance, lexical overlap, centrality (vectors and words) and the lead prior."""
    n = len(pool.facts)
    relevance = pool.vectors @ query_vector
    flat, rows = _bags(pool)
    wanted = _hashed(w for w in terms if w not in _FUNCTION_WORDS)
    lexical = np.bincount(rows, weights=np.isin(flat, wanted), minlength=n) / max(len(wanted), 1)
    pool.similarity = pool.vectors @ pool.vectors.T
    pool.repeat_similarity = _repeat_similarity(pool, options.redundancy)
    bias = np.clip(relevance, 1e-6, None)
    bias /= bias.sum()
    centrality = _rank(pool.similarity.copy(), bias, options.teleport)
    _, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    word_centrality = (_rank(_word_overlap(rows, inverse, counts, n), bias, options.teleport)
                       if options.w_word_centrality else 0.0)
    coverage = _coverage(rows, inverse, counts, n) if options.w_coverage else 0.0
    ordinals = np.fromiter((f.sentence.ordinal for f in pool.facts), dtype=np.float32, count=n)
    lead = (1.0 + ordinals) ** -options.lead_decay
    # The retriever's best articles are likelier to be about the question as a whole, not in passing.
    source = np.fromiter((1.0 + pool.rank[f.sentence.article_id] for f in pool.facts), dtype=np.float32,
                         count=n) ** -0.5
    pool.relevance = relevance
    pool.scores = (options.w_relevance * relevance + options.w_lexical * lexical
                   + options.w_centrality * centrality + options.w_word_centrality * word_centrality
                   + options.w_coverage * coverage + options.w_lead * lead + options.w_source * source)


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
    n = len(pool.facts)
    articles = [f.sentence.article_id for f in pool.facts]
    story = _codes([_story(pool.metas[a]) if a in pool.metas else a for a in articles])
    article = _codes(articles)
    same_story = (story[:, None] == story[None, :]) & (article[:, None] != article[None, :])
    out = pool.similarity + STORY_BONUS * same_story
    with_figures = [r for r, f in enumerate(pool.facts) if f.figures]
    if not with_figures or not same_story.any():
        return out
    distinct: dict[str, int] = {}
    cols = [[distinct.setdefault(x, len(distinct)) for x in pool.facts[r].figures] for r in with_figures]
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
    cost = np.fromiter((f.words for f in pool.facts), dtype=np.int64, count=len(pool.facts))[members] * present
    worth = pool.scores[members] * cost
    unit_score = (pool.scores[members] * present).sum(axis=1) / present.sum(axis=1)
    overlap = np.full(len(pool.facts), -1.0)  # each sentence's highest similarity to a chosen one
    is_chosen = np.zeros(len(pool.facts), dtype=bool)
    alive = np.ones(len(members), dtype=bool)
    chosen: list[int] = []
    budget = options.words
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
        pick = int(np.argmax(np.where(pickable, gain, -np.inf)))
        budget -= int(unit_cost[pick])
        picked = members[pick][fresh[pick]]
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
    sims = pool.repeat_similarity[np.ix_(others, chosen)]
    close = sims.max(axis=1) >= redundancy
    for i, k in zip(others[close].tolist(), sims.argmax(axis=1)[close].tolist()):
        twin = chosen[k]
        if pool.facts[twin].sentence.article_id != pool.facts[i].sentence.article_id:
            twins.setdefault(twin, []).append(i)
    return twins


def _story(meta: ArticleMeta) -> str:
    """The story (event) an article reports, so the brief tells one story before the next."""
    return meta.story_id or meta.id


def _cite(pool: _Pool, chosen: list[int], twins: dict[int, list[int]]) -> Brief:
    """Order the chosen sentences as a paragraph (story, date, position) and number their sources."""
    metas = pool.metas
    story_weight: dict[str, float] = {}
    for i in chosen:
        key = _story(metas[pool.facts[i].sentence.article_id])
        story_weight[key] = max(story_weight.get(key, -1e9), float(pool.scores[i]))

    def reading_order(i: int) -> tuple:
        s = pool.facts[i].sentence
        meta = metas[s.article_id]
        # Undated articles sort after dated ones of the same story; '--MM-DD' sorts before full dates.
        return (-story_weight[_story(meta)], meta.published is None, meta.published or "", pool.rank[s.article_id],
                s.ordinal)

    numbers: dict[str, int] = {}

    def cite(i: int) -> Citation:
        s = pool.facts[i].sentence
        return Citation(n=numbers.setdefault(s.article_id, len(numbers) + 1), article_id=s.article_id,
                        start=s.start, end=s.end)

    sentences = []
    for i in sorted(chosen, key=reading_order):
        same = [j for j in twins.get(i, []) if pool.facts[j].text == pool.facts[i].text]
        # One corroboration per other article: its sentence closest to the quoted one.
        closest: dict[str, int] = {}
        for j in twins.get(i, []):
            article = pool.facts[j].sentence.article_id
            if pool.facts[j].text != pool.facts[i].text and article != pool.facts[i].sentence.article_id and (
                article not in closest or pool.similarity[i, j] > pool.similarity[i, closest[article]]
            ):
                closest[article] = j
        other = sorted(closest.values())
        sentences.append(BriefSentence(text=pool.facts[i].text, citations=[cite(i)] + [cite(j) for j in same],
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
