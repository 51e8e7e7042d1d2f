"""`semsearch eval nuggets`: multi-document briefs scored by the facts they cover.

A development set is JSON lines, one question each: ``id``, ``question``, ``articles`` (Reuters-21578
NEWID numbers of the articles the question is about) and ``nuggets``: the atomic facts a complete answer
holds, each a ``fact`` in words and its ``keys``, groups of alternative words ("renault|46"). A nugget is
covered when one sentence of a brief holds, for every group, one of its words (compared as stems, so
"rejected" matches "rejects"); a sentence states a fact or does not, and keys let a brief word it as the
articles do. Nugget recall is the share of a question's nuggets covered. ROUGE-2 recall against the facts
written out is shown beside it.

Every question's articles make one index (so a question's brief may wander to another question's
articles, as in an archive), and each brief is asked of it. Questions numbered odd are the tune half,
even ones the held-out half.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import click
import numpy as np

from ..brief import SINGLE_ARTICLE, BriefOptions, brief_options, citation_problems, summarize
from ..config import Settings
from ..index import Index
from ..ingest import to_articles
from ..ingest.cleaning import Cleaner
from ..ingest.readers import RawDoc
from ..records import Article, Brief
from ..sentence_traits import words_of
from ..text import STEMS
from .summary import fill, make_scorer, open_index

OUTLET = "Reuters"
SOURCE_PREFIX = "reuters-21578/"
PLAIN_REDUNDANCY = 0.8  # the plain baseline skips a sentence this close (cosine) to one it took


@dataclass(frozen=True, slots=True)
class Nugget:
    """One fact a complete answer holds, and the word groups that must all occur in one sentence stating it."""

    fact: str
    keys: tuple[tuple[tuple[str, ...], ...], ...]  # groups of alternatives; each alternative a run of stems

    def covered_by(self, sentence_terms: set[str]) -> bool:
        """Whether a sentence with these stems states the fact."""
        return all(any(set(alt) <= sentence_terms for alt in group) for group in self.keys)


@dataclass(frozen=True, slots=True)
class Question:
    """A development-set question with its articles (NEWID numbers) and nuggets."""

    id: str
    question: str
    articles: tuple[str, ...]
    nuggets: tuple[Nugget, ...]

    @property
    def split(self) -> str:
        """'tune' for odd question numbers, 'test' for even ones."""
        return "tune" if int("".join(c for c in self.id if c.isdigit()) or 0) % 2 else "test"


def load_questions(path: Path, split: str = "all") -> list[Question]:
    """The development set's questions of one split ('tune', 'test' or 'all')."""
    questions = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        nuggets = tuple(Nugget(n["fact"], tuple(_group(k) for k in n["keys"])) for n in row["nuggets"])
        questions.append(Question(row["id"], row["question"], tuple(row["articles"]), nuggets))
    return [q for q in questions if split in ("all", q.split)]


def _group(key: str) -> tuple[tuple[str, ...], ...]:
    """A key's alternatives as stem runs ("40,000" is the run 40, 000)."""
    return tuple(tuple(STEMS.searchable(alt)) for alt in key.split("|"))


def reuters_articles(folder: Path, wanted: set[str]) -> dict[str, Article]:
    """The wanted Reuters-21578 stories (by NEWID) as articles, read and cleaned as a build reads them."""
    docs = []
    for path in sorted((folder / "json-data").glob("*.json")):
        for record in json.loads(path.read_text("utf-8")):
            newid = record.get("attrs", {}).get("newid")
            if newid in wanted and record.get("body"):
                docs.append(
                    RawDoc(
                        title=record.get("title", ""),
                        body=record["body"],
                        source=SOURCE_PREFIX + newid,
                        outlet=OUTLET,
                        published=_day(record.get("date", "")),
                    )
                )
    result = to_articles(docs, Cleaner.for_corpus(d.body for d in docs))
    return {a.source_path.removeprefix(SOURCE_PREFIX): a for a in result.articles}


def _day(value: str) -> str | None:
    """A Reuters-21578 date ('26-FEB-1987 15:02:20.00') as YYYY-MM-DD."""
    try:
        return datetime.strptime(value.strip()[:11].strip(), "%d-%b-%Y").date().isoformat()
    except ValueError:
        return None


@dataclass(slots=True)
class Tally:
    """One system's scores over the questions."""

    recall: list[float] = field(default_factory=list)
    rouge2: list[float] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)
    words: list[int] = field(default_factory=list)

    def row(self, name: str) -> str:
        """A markdown table row of the means."""
        return (
            f"| {name} | {statistics.fmean(self.recall):.3f} | {statistics.fmean(self.rouge2):.4f} | "
            f"{statistics.fmean(self.sources):.1f} | {statistics.fmean(self.words):.0f} |"
        )


TABLE_HEAD = "| system | nugget recall | ROUGE-2 recall | articles quoted | words |\n|---|---|---|---|---|"


@dataclass(slots=True)
class Summary:
    """A system's output for one question: its sentences and the articles they come from."""

    sentences: list[str]
    articles: set[str]


def covered(nuggets: Sequence[Nugget], sentences: Sequence[str]) -> list[bool]:
    """Per nugget, whether some sentence states it."""
    terms = [set(STEMS.searchable(s)) for s in sentences]
    return [any(n.covered_by(t) for t in terms) for n in nuggets]


def plain_selection(index: Index, article_ids: Sequence[str], query_vector: np.ndarray, words: int) -> Summary:
    """The issue's baseline: every sentence of the question's articles by cosine to the question, one skipped
    when it is closer than PLAIN_REDUNDANCY to a sentence already taken, until the budget is full."""
    stored = [s for a in article_ids for s in index.article_sentences(a)]
    if not stored:
        return Summary([], set())
    vectors = index.vectors_of([s.id for s in stored]).astype(np.float32)
    texts = index.texts(list(article_ids))
    chosen: list[int] = []
    budget = words
    for i in np.argsort(-(vectors @ query_vector), kind="stable").tolist():
        text = texts[stored[i].article_id][stored[i].start : stored[i].end]
        if words_of(text) > budget or (chosen and float((vectors[chosen] @ vectors[i]).max()) > PLAIN_REDUNDANCY):
            continue
        chosen.append(i)
        budget -= words_of(text)
    return Summary(
        [texts[stored[i].article_id][stored[i].start : stored[i].end] for i in chosen],
        {stored[i].article_id for i in chosen},
    )


def newest_lead(index: Index, article_ids: Sequence[str], words: int) -> Summary:
    """The first sentences of the newest of the question's articles, to the budget."""
    metas = index.articles(list(article_ids))
    newest = max(article_ids, key=lambda a: metas[a].published or "")
    text = index.texts([newest])[newest]
    sentences = [text[s.start : s.end] for s in index.article_sentences(newest)]
    return Summary([sentences[i] for i in sorted(fill(range(len(sentences)), sentences, words))], {newest})


def brief_summary(brief: Brief) -> Summary:
    """A brief's sentences and the articles it quotes."""
    return Summary([s.text for s in brief.sentences], {s.article_id for s in brief.sources})


@dataclass(slots=True)
class NuggetRun:
    """Every system's tally on one run, and the citation check of each brief."""

    systems: dict[str, Tally] = field(default_factory=dict)
    briefs: int = 0
    citations: int = 0
    problems: list[str] = field(default_factory=list)
    missed: dict[str, list[str]] = field(default_factory=dict)  # per question: facts the main brief missed

    def score(self, system: str, question: Question, summary: Summary, scorer) -> list[bool]:
        """Record one system's summary of one question; return which nuggets it covered."""
        hits = covered(question.nuggets, summary.sentences)
        tally = self.systems.setdefault(system, Tally())
        tally.recall.append(sum(hits) / len(hits))
        reference = " ".join(f"{n.fact}." for n in question.nuggets)
        tally.rouge2.append(scorer.score(reference, " ".join(summary.sentences))["rouge2"].recall)
        tally.sources.append(len(summary.articles))
        tally.words.append(sum(words_of(s) for s in summary.sentences))
        return hits

    def check(self, brief: Brief, text_of: Callable[[str], str]) -> None:
        """Count a brief's citations and keep any that is not a verbatim span."""
        self.briefs += 1
        self.citations += sum(len(s.citations) for s in brief.sentences)
        self.problems.extend(citation_problems(brief, text_of))

    def table(self, title: str) -> str:
        """The run as a markdown table with its citation check."""
        rows = "\n".join(tally.row(name) for name, tally in self.systems.items())
        verdict = (
            f"{self.citations} citations in {self.briefs} briefs, {self.citations - len(self.problems)} verbatim spans"
        )
        return f"### {title}\n\n{TABLE_HEAD}\n{rows}\n\n{verdict}\n"


MAIN = "semsearch brief"
SINGLE = "brief, single-article preset"
PLAIN = "plain selection (cosine, skip > 0.8)"
LEAD = "lead of the newest article"


def run_nuggets(
    index: Index,
    questions: Sequence[Question],
    ids: dict[str, str],
    retrieve: Callable,
    embed: Callable[[str], np.ndarray],
    scorer,
    options: BriefOptions,
) -> NuggetRun:
    """Every question's brief (and the baselines') at the options' word budget, scored by nugget recall."""
    run = NuggetRun()
    texts = index.texts(list(ids.values()))
    for question in questions:
        retrieval = retrieve(question.question)
        mine = [ids[a] for a in question.articles if a in ids]
        brief = summarize(index, retrieval, options)
        run.check(brief, texts.__getitem__)
        hits = run.score(MAIN, question, brief_summary(brief), scorer)
        run.missed[question.id] = [n.fact for n, hit in zip(question.nuggets, hits, strict=True) if not hit]
        single = summarize(
            index, retrieval, replace(SINGLE_ARTICLE, words=options.words, min_similarity=options.min_similarity)
        )
        run.score(SINGLE, question, brief_summary(single), scorer)
        run.score(PLAIN, question, plain_selection(index, mine, embed(question.question), options.words), scorer)
        run.score(LEAD, question, newest_lead(index, mine, options.words), scorer)
    return run


@click.command("nuggets")
@click.argument("devset", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--reuters",
    "reuters",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    required=True,
    help="The Reuters-21578 JSON conversion (a folder holding json-data/reut2-*.json).",
)
@click.option(
    "--split",
    type=click.Choice(["all", "tune", "test"]),
    default="all",
    show_default=True,
    help="tune = odd question numbers, test = even ones (held out).",
)
@click.option("--words", type=click.IntRange(20), default=250, show_default=True, help="The briefs' word budget.")
@click.option(
    "--work",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the evaluation index is built (default: beside the embedding cache); reused when it "
    "holds the same articles made the same way (chunk size, sentence vectors, precision).",
)
@click.option("--missed", is_flag=True, help="Also list, per question, the facts the brief did not cover.")
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the table to this markdown file.",
)
def nuggets_cmd(
    devset: Path, reuters: Path, split: str, words: int, work: Path | None, missed: bool, output: Path | None
) -> None:
    """Score multi-document briefs by the nuggets of DEVSET they cover, beside the plain baseline and a lead."""
    from ..config import get_settings
    from ..embedding import get_embedder
    from ..retrieval import Retriever
    from ..service import one_thread_per_query

    one_thread_per_query()
    settings = get_settings()
    every = load_questions(devset)
    questions = [q for q in every if split in ("all", q.split)]
    if not questions:
        raise click.UsageError(f"no question of split {split} in {devset}")
    # The index holds every question's articles, whatever the split: the same archive for both halves.
    articles = reuters_articles(reuters, {a for q in every for a in q.articles})
    index = open_index(list(articles.values()), settings, work or _default_work(settings, articles))
    ids = {newid: a.id for newid, a in articles.items()}
    embedder = get_embedder()
    retriever = Retriever(index, embedder)
    started = time.perf_counter()
    run = run_nuggets(
        index,
        questions,
        ids,
        lambda q: retriever.retrieve(q, k=10),
        embedder.encode_query,
        make_scorer(),
        brief_options(settings, words),
    )
    report = run.table(
        f"Nugget recall, {len(questions)} questions ({split}), {words}-word briefs, "
        f"{len(articles)} Reuters-21578 articles"
    )
    click.echo(report)
    if missed:
        for qid, facts in run.missed.items():
            click.echo(f"{qid} missed: " + "; ".join(facts))
    click.echo(f"{time.perf_counter() - started:.0f}s")
    if output:
        output.write_text(report, encoding="utf-8")
    if run.problems:
        for problem in run.problems[:20]:
            click.secho(f"citation problem: {problem}", fg="red", err=True)
        raise SystemExit(1)


def _default_work(settings: Settings, articles: dict[str, Article]) -> Path:
    """A folder beside the embedding cache named after the articles it indexes."""
    fingerprint = hashlib.sha256("".join(sorted(a.id for a in articles.values())).encode()).hexdigest()[:12]
    cache_home = Path(settings.cache_dir or Path(settings.index_dir) / "cache")
    return cache_home.parent / f"eval-nuggets-{fingerprint}"
