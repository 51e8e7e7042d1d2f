"""`semsearch eval summary`: the brief against reference summaries, beside Lead, LexRank and TextRank.

The data layout is the BBC News Summary one: ``News Articles/<cat>/NNN.txt`` (headline on line 1, then
the body) and ``Summaries/<cat>/NNN.txt`` (extractive reference, sentences run together).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from ..brief import (
    GENERIC,
    SINGLE_ARTICLE,
    BriefOptions,
    citation_problems,
    summarize,
    summarize_articles,
)
from ..config import Settings
from ..index import Index
from ..records import Article, Brief
from ..sentence_traits import words_of

if TYPE_CHECKING:  # the retriever is imported where the command runs
    from ..retrieval import Retrieval

OUTLET = "BBC News"
# Reference summaries glue sentences together ("$10.9bn.For the year"): put the space back.
_RUN_TOGETHER = re.compile(r"(?<=[a-z0-9%)][.!?])([\"”]?)(?=[\"“A-Z])")


@dataclass(slots=True)
class Pair:
    """One article with its reference summary."""

    article: Article
    reference: str
    category: str
    number: int


def fix_reference(text: str) -> str:
    """A reference summary with a space after each full stop it ran together."""
    text = " ".join(text.split())

    def space(match: re.Match) -> str:
        # A straight quote after the stop closes a quotation when an odd number of them came before.
        closing = match.group(1) == "”" or (match.group(1) == '"' and text.count('"', 0, match.start()) % 2 == 1)
        return f"{match.group(1)} " if closing or not match.group(1) else f" {match.group(1)}"

    return _RUN_TOGETHER.sub(space, text)


def _read(path: Path) -> str:
    """A data file's text (one BBC file has a stray Latin-1 byte)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def load_pairs(folder: Path, limit: int | None = None, split: str = "all") -> list[Pair]:
    """Articles and references of a folder; split 'tune' keeps odd file numbers, 'test' even ones.

    With a limit, categories take turns so a small run still covers every category. Exact
    duplicate articles (the same id) are kept once.
    """
    articles_dir, summaries_dir = folder / "News Articles", folder / "Summaries"
    if not articles_dir.is_dir() or not summaries_dir.is_dir():
        raise click.UsageError(f"{folder} needs 'News Articles/' and 'Summaries/' subfolders")
    by_category: list[list[Pair]] = []
    for cat_dir in sorted(p for p in articles_dir.iterdir() if p.is_dir()):
        pairs = []
        for path in sorted(cat_dir.glob("*.txt")):
            number = int(path.stem) if path.stem.isdigit() else 0
            if (split == "tune" and number % 2 == 0) or (split == "test" and number % 2 == 1):
                continue
            summary = summaries_dir / cat_dir.name / path.name
            if not summary.is_file():
                continue
            title, _, body = _read(path).strip().partition("\n")
            body = body.strip()
            if not title.strip() or not body:
                continue
            article = Article.create(title.strip(), body, f"{cat_dir.name}/{path.name}", outlet=OUTLET)
            pairs.append(Pair(article, fix_reference(_read(summary)), cat_dir.name, number))
        by_category.append(pairs)
    out: list[Pair] = []
    seen: set[str] = set()
    for row in range(max((len(p) for p in by_category), default=0)):
        for pairs in by_category:
            if row < len(pairs) and pairs[row].article.id not in seen:
                seen.add(pairs[row].article.id)
                out.append(pairs[row])
    return out[:limit] if limit else out


def open_index(articles: Sequence[Article], settings: Settings, home: Path) -> Index:
    """An index of exactly these articles at home, made as these settings make one: reused when it is, else built."""
    from ..build import build_articles
    from ..embedding import MODEL_NAME, get_embedder, sentence_method
    from ..index import IndexMissing

    wanted = {a.id for a in articles}
    precision = get_embedder(settings=settings).vector_precision  # what a build here would really run
    try:
        index = Index(home, MODEL_NAME)
        if set(index.article_ids()) == wanted and index.manifest.made_like(
            settings.chunk_tokens, sentence_method(settings.sentence_vectors), precision
        ):
            return index
        index.close()
    except IndexMissing:
        pass
    build_articles(list(articles), settings.model_copy(update={"index_dir": home}), progress=True)
    return Index(home, MODEL_NAME)


@dataclass(slots=True)
class Scores:
    """ROUGE of one system over a run."""

    rouge1: list[float] = field(default_factory=list)
    rouge2: list[float] = field(default_factory=list)
    rougeL: list[float] = field(default_factory=list)
    rouge2_recall: list[float] = field(default_factory=list)
    words: list[int] = field(default_factory=list)

    def add(self, summary: str, reference: str, scorer) -> None:
        """Score one summary against one reference (F1 for all, and ROUGE-2 recall)."""
        result = scorer.score(reference, summary)
        self.rouge1.append(result["rouge1"].fmeasure)
        self.rouge2.append(result["rouge2"].fmeasure)
        self.rougeL.append(result["rougeL"].fmeasure)
        self.rouge2_recall.append(result["rouge2"].recall)
        self.words.append(words_of(summary))

    def row(self, name: str) -> str:
        """A markdown table row of the means."""
        mean = lambda xs: statistics.fmean(xs) if xs else 0.0  # noqa: E731
        return (
            f"| {name} | {mean(self.rouge1):.4f} | {mean(self.rouge2):.4f} | {mean(self.rougeL):.4f} | "
            f"{mean(self.rouge2_recall):.4f} | {mean(self.words):.0f} |"
        )


TABLE_HEAD = "| system | ROUGE-1 F1 | ROUGE-2 F1 | ROUGE-L F1 | ROUGE-2 recall | words |\n|---|---|---|---|---|---|"


def make_scorer():
    """ROUGE-1/2/L with stemming (the rouge-score package)."""
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def fill(ranked: Sequence[int], sentences: Sequence[str], budget: int) -> list[int]:
    """Sentences taken in ranked order while they fit the word budget (the rule every system shares)."""
    taken = []
    for i in ranked:
        cost = words_of(sentences[i])
        if cost <= budget:
            taken.append(i)
            budget -= cost
    return taken


class _Tokenizer:
    """sumy's tokenizer interface over semsearch's own splitter (sumy cannot fetch NLTK data here)."""

    language = "english"

    @staticmethod
    def to_sentences(paragraph: str) -> list[str]:
        from ..sentences import split_sentences

        return [paragraph[s.start : s.end] for s in split_sentences(paragraph)]

    @staticmethod
    def to_words(sentence: str) -> list[str]:
        return re.findall(r"\w+", sentence)


class _FullRanking:
    """Mixed in before a sumy summarizer: sumy returns its top-N in document order; keep its full ranking."""

    @staticmethod
    def _get_best_sentences(sentences, count, rating, *args, **kwargs):
        rate = rating.__getitem__ if isinstance(rating, dict) else (lambda s: rating(s, *args, **kwargs))
        return sorted(sentences, key=rate, reverse=True)


def sumy_ranking(method: str, sentences: Sequence[str]) -> list[int]:
    """Sentence indices ranked best first by sumy's LexRank or TextRank."""
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    class LexRanking(_FullRanking, LexRankSummarizer):
        """LexRank, keeping its full ranking."""

    class TextRanking(_FullRanking, TextRankSummarizer):
        """TextRank, keeping its full ranking."""

    # sumy is untyped, so both classes are its Any to mypy, which their join (_FullRanking) would forget.
    ranking: type[Any] = {"lexrank": LexRanking, "textrank": TextRanking}[method]
    tokenizer = _Tokenizer()
    objects = [Sentence(s, tokenizer) for s in sentences]
    summarizer = ranking(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    position = {id(o): i for i, o in enumerate(objects)}
    by_text: dict[str, int] = {}
    for i, s in enumerate(sentences):
        by_text.setdefault(s, i)
    ranked = summarizer(ObjectDocumentModel([Paragraph(objects)]), len(objects))
    return [position.get(id(o), by_text[str(o)]) for o in ranked]


@dataclass(slots=True)
class Run:
    """Per-system scores of one evaluation mode, and the citation check of every brief it made."""

    title: str
    systems: dict[str, Scores] = field(default_factory=dict)
    briefs: int = 0
    abstained: int = 0
    citations: int = 0
    problems: list[str] = field(default_factory=list)

    def score(self, system: str, summary: str, reference: str, scorer) -> None:
        """Record one summary of one system."""
        self.systems.setdefault(system, Scores()).add(summary, reference, scorer)

    def check(self, brief: Brief, text_of: Callable[[str], str]) -> None:
        """Count the brief's citations and keep any that is not a verbatim span."""
        self.briefs += 1
        self.abstained += brief.abstained is not None
        self.citations += sum(len(s.citations) for s in brief.sentences)
        self.problems.extend(citation_problems(brief, text_of))

    def table(self) -> str:
        """The run as a markdown table with its citation check."""
        rows = "\n".join(scores.row(name) for name, scores in self.systems.items())
        verdict = (
            f"{self.citations} citations in {self.briefs} briefs ({self.abstained} abstained), "
            f"{self.citations - len(self.problems)} verbatim spans"
        )
        return f"### {self.title}\n\n{TABLE_HEAD}\n{rows}\n\n{verdict}\n"


def brief_text(brief: Brief) -> str:
    """The brief as plain text in reading order."""
    return " ".join(s.text for s in brief.sentences)


def run_single(
    index: Index,
    pairs: Sequence[Pair],
    embed: Callable[[str], np.ndarray],
    scorer,
    options: BriefOptions = GENERIC,
    baselines: bool = True,
) -> Run:
    """Generic one-article briefs (question = headline) at the reference's length, beside the baselines."""
    run = Run(f"Single-document, {len(pairs)} articles")
    texts: dict[str, str] = {}
    for pair in pairs:
        a = pair.article
        texts[a.id] = a.text
        budget = words_of(pair.reference)
        stored = index.article_sentences(a.id)
        sentences = [a.text[s.start : s.end] for s in stored]
        # A given article is relevant by definition: a generic brief never abstains.
        brief = summarize_articles(
            index,
            [a.id],
            embed(a.title),
            a.title,
            replace(options, words=budget, min_similarity=-1.0, relevance_floor=-1.0),
        )
        run.check(brief, texts.__getitem__)
        run.score("semsearch brief", brief_text(brief), pair.reference, scorer)
        if not baselines:
            continue
        order = list(range(len(sentences)))
        run.score("Lead", _joined(sentences, fill(order, sentences, budget)), pair.reference, scorer)
        for method, name in (("lexrank", "LexRank (sumy)"), ("textrank", "TextRank (sumy)")):
            picked = fill(sumy_ranking(method, sentences), sentences, budget)
            run.score(name, _joined(sentences, picked), pair.reference, scorer)
    return run


def _joined(sentences: Sequence[str], picked: Sequence[int]) -> str:
    """Picked sentences in document order."""
    return " ".join(sentences[i] for i in sorted(picked))


# Plain selection by query similarity with a redundancy skip: the brief with every other signal off.
DEFAULT_BRIEF = BriefOptions()  # frozen, so one instance serves as every default
QUERY_SIMILARITY = BriefOptions(
    w_lexical=0.0,
    w_centrality=0.0,
    w_word_centrality=0.0,
    w_lead=0.0,
    w_source=0.0,
    w_names=0.0,
    diversity=0.0,
    article_penalty=0.0,
    relevance_floor=-1.0,
)
# The presets the multi-document modes score beside the brief's own options. The single-article preset has no
# per-article penalty, question names or weaker same-article links; a BBC reference is one article's
# extract, so the options that spread a brief over articles cost here what they gain on several stories.
COMPARED = {
    "brief, single-article preset (SINGLE_ARTICLE)": SINGLE_ARTICLE,
    "query similarity + redundancy skip": QUERY_SIMILARITY,
}


def run_multi(
    index: Index, pairs: Sequence[Pair], retrieve: Callable, scorer, options: BriefOptions = DEFAULT_BRIEF
) -> Run:
    """Headline as the question against the whole index; the brief is scored against that article's reference."""
    run = Run(f"Multi-document (headline against all {len(index.article_ids())} articles), {len(pairs)} questions")
    text_of = _text_cache(index)
    for pair in pairs:
        budget = words_of(pair.reference)
        retrieval = retrieve(pair.article.title)
        brief, outputs = _compared_briefs(index, retrieval, options, budget)
        run.check(brief, text_of)
        outputs["Lead of top result"] = _lead(index, retrieval, budget, text_of)
        for name, text in outputs.items():
            run.score(name, text, pair.reference, scorer)
    return run


def _compared_briefs(
    index: Index, retrieval: Retrieval, options: BriefOptions, words: int
) -> tuple[Brief, dict[str, str]]:
    """The brief at these options, and the text of it and of every compared preset at this word budget."""
    brief = summarize(index, retrieval, replace(options, words=words))
    outputs = {"semsearch brief": brief_text(brief)}
    for name, preset in COMPARED.items():
        outputs[name] = brief_text(summarize(index, retrieval, replace(preset, words=words)))
    return brief, outputs


def _text_cache(index: Index) -> Callable[[str], str]:
    """Article text by id, read once."""
    cache: dict[str, str] = {}

    def text_of(article_id: str) -> str:
        if article_id not in cache:
            cache[article_id] = index.article_text(article_id) or ""
        return cache[article_id]

    return text_of


def _lead(index: Index, retrieval, budget: int, text_of: Callable[[str], str]) -> str:
    """The first sentences of the top-ranked article, to the budget."""
    if not retrieval.hits:
        return ""
    top = retrieval.hits[0].article_id
    sentences = [text_of(top)[s.start : s.end] for s in index.article_sentences(top)]
    return _joined(sentences, fill(range(len(sentences)), sentences, budget))


def topic_groups(index: Index, pairs: Sequence[Pair], similarity: float = 0.8, size: int = 5) -> list[list[Pair]]:
    """Groups of 3 to `size` articles of one category telling one story (mean sentence vectors this close)."""
    groups = []
    for category in sorted({p.category for p in pairs}):
        members = [p for p in pairs if p.category == category]
        vectors = np.stack([_article_vector(index, p.article.id) for p in members])
        sims = vectors @ vectors.T
        used = np.zeros(len(members), dtype=bool)
        for seed in range(len(members)):
            if used[seed]:
                continue
            near = [j for j in np.argsort(-sims[seed]) if j != seed and not used[j] and sims[seed, j] >= similarity]
            if len(near) >= 2:
                chosen = [seed, *near[: size - 1]]
                used[chosen] = True
                groups.append([members[j] for j in chosen])
    return groups


def _article_vector(index: Index, article_id: str) -> np.ndarray:
    """An article's direction: the normalized mean of its sentence vectors."""
    vector = index.vectors_of([s.id for s in index.article_sentences(article_id)]).mean(axis=0)
    return vector / max(float(np.linalg.norm(vector)), 1e-9)


def run_topics(
    index: Index,
    groups: Sequence[Sequence[Pair]],
    retrieve: Callable,
    scorer,
    words: int = 250,
    options: BriefOptions = DEFAULT_BRIEF,
) -> Run:
    """DUC-shaped proxy: a story's first headline as the question, a 250-word brief from the whole index,
    ROUGE against each member's reference (averaged)."""
    run = Run(f"Multi-document topic proxy ({len(groups)} stories of 3-5 articles, {words} words)")
    text_of = _text_cache(index)
    for group in groups:
        retrieval = retrieve(group[0].article.title)
        brief, outputs = _compared_briefs(index, retrieval, options, words)
        run.check(brief, text_of)
        outputs["Lead of top result"] = _lead(index, retrieval, words, text_of)
        for name, text in outputs.items():
            for member in group:
                run.score(name, text, member.reference, scorer)
    return run


@click.command("summary")
@click.argument("folder", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--mode",
    "modes",
    type=click.Choice(["single", "multi", "topics"]),
    multiple=True,
    help="Evaluation modes (repeat; default all three).",
)
@click.option(
    "--limit", type=click.IntRange(1), default=None, help="At most this many articles (categories alternate)."
)
@click.option(
    "--split",
    type=click.Choice(["all", "tune", "test"]),
    default="all",
    show_default=True,
    help="tune = odd file numbers, test = even ones (the weights were tuned on 'tune').",
)
@click.option(
    "--work",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the evaluation index is built (default: a folder beside the embedding cache); reused "
    "when it holds the same articles made the same way (chunk size, sentence vectors, precision).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the tables to this markdown file.",
)
def summary_cmd(
    folder: Path, modes: tuple[str, ...], limit: int | None, split: str, work: Path | None, output: Path | None
) -> None:
    """Score the brief with ROUGE against FOLDER's reference summaries, beside Lead, LexRank and TextRank."""
    import hashlib

    from ..config import get_settings
    from ..embedding import get_embedder
    from ..retrieval import Retriever
    from ..service import one_thread_per_query

    one_thread_per_query()  # every brief here is one query's, timed as the server runs it
    settings = get_settings()
    pairs = load_pairs(folder, limit, split)
    if not pairs:
        raise click.UsageError(f"no article with a reference summary under {folder}")
    fingerprint = hashlib.sha256("".join(sorted(p.article.id for p in pairs)).encode()).hexdigest()[:12]
    cache_home = Path(settings.cache_dir or Path(settings.index_dir) / "cache")
    index = open_index([p.article for p in pairs], settings, work or cache_home.parent / f"eval-summary-{fingerprint}")
    embedder = get_embedder()
    retriever = Retriever(index, embedder)
    retrieve = lambda q: retriever.retrieve(q, k=10)  # noqa: E731
    scorer = make_scorer()
    started = time.perf_counter()
    runs = []
    for mode in modes or ("single", "multi", "topics"):
        if mode == "single":
            runs.append(run_single(index, pairs, embedder.encode_query, scorer))
        elif mode == "multi":
            runs.append(run_multi(index, pairs, retrieve, scorer))
        else:
            runs.append(run_topics(index, topic_groups(index, pairs), retrieve, scorer))
    report = "\n".join(run.table() for run in runs)
    click.echo(report)
    click.echo(f"{len(pairs)} articles (split {split}), {time.perf_counter() - started:.0f}s")
    if output:
        output.write_text(report, encoding="utf-8")
    problems = [p for run in runs for p in run.problems]
    if problems:
        for problem in problems[:20]:
            click.secho(f"citation problem: {problem}", fg="red", err=True)
        raise SystemExit(1)
