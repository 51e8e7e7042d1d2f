"""`semsearch eval retrieval`: nDCG@10, Recall@100 and MRR@10 of each retrieval mode on a BEIR folder."""

from __future__ import annotations

import csv
import json
import math
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from ..config import Settings, get_settings

Qrels = dict[str, dict[str, int]]


@dataclass(slots=True)
class BeirData:
    """A BEIR data set: documents by id, queries by id, and graded relevance per query."""

    corpus: dict[str, tuple[str, str]]
    queries: dict[str, str]
    qrels: Qrels


@dataclass(slots=True)
class ModeResult:
    """The metrics of one retrieval mode over every judged query."""

    mode: str
    queries: int
    ndcg_at_10: float
    recall_at_100: float
    mrr_at_10: float
    seconds: float


def _read_jsonl(path: Path) -> list[dict]:
    """Every JSON object of a .jsonl file, blank lines skipped."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_beir(folder: Path, split: str = "test") -> BeirData:
    """Read corpus.jsonl, queries.jsonl and qrels/<split>.tsv; only judged queries are kept."""
    corpus = {str(d["_id"]): (d.get("title") or "", d.get("text") or "") for d in _read_jsonl(folder / "corpus.jsonl")}
    qrels: Qrels = {}
    with (folder / "qrels" / f"{split}.tsv").open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if len(row) < 3 or not row[2].strip().lstrip("-").isdigit():
                continue  # the header line
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    queries = {str(q["_id"]): q["text"] for q in _read_jsonl(folder / "queries.jsonl") if str(q["_id"]) in qrels}
    return BeirData(corpus, queries, {q: qrels[q] for q in queries})


def ndcg_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains (as BEIR's pytrec_eval): sum rel/log2(rank+1) over the ideal order's sum."""
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranking[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int = 100) -> float:
    """Share of the relevant documents found in the first k."""
    wanted = {doc for doc, g in relevant.items() if g > 0}
    return len(wanted.intersection(ranking[:k])) / len(wanted) if wanted else 0.0


def mrr_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first relevant document within the first k, else 0."""
    for i, doc in enumerate(ranking[:k]):
        if relevant.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def build_beir_index(data: BeirData, settings: Settings, progress: bool = False) -> dict[str, list[str]]:
    """Index the corpus as articles; returns article id → BEIR doc ids (identical documents share an id)."""
    from ..build import build_articles
    from ..records import Article

    articles: dict[str, Article] = {}
    doc_ids: dict[str, list[str]] = {}
    for doc_id, (title, text) in data.corpus.items():
        if not (title + text).strip():
            continue
        article = Article.create(title=title, text=text or title, source_path=doc_id)
        articles.setdefault(article.id, article)
        doc_ids.setdefault(article.id, []).append(doc_id)
    build_articles(list(articles.values()), settings, progress=progress)
    return doc_ids


def run_mode(retriever, data: BeirData, doc_ids: dict[str, list[str]], mode: str) -> ModeResult:
    """Run every judged query in one mode and average the metrics."""
    started = time.perf_counter()
    ndcg = recall = mrr = 0.0
    for qid, text in data.queries.items():
        ranking = [doc for article_id, _ in retriever.rank(text, 100, mode) for doc in doc_ids.get(article_id, [])]
        relevant = data.qrels[qid]
        ndcg += ndcg_at(ranking, relevant, 10)
        recall += recall_at(ranking, relevant, 100)
        mrr += mrr_at(ranking, relevant, 10)
    n = max(len(data.queries), 1)
    return ModeResult(
        mode,
        len(data.queries),
        round(ndcg / n, 4),
        round(recall / n, 4),
        round(mrr / n, 4),
        round(time.perf_counter() - started, 1),
    )


def evaluate(
    folder: Path, split: str, modes: Sequence[str], settings: Settings, progress: bool = False
) -> tuple[list[ModeResult], float]:
    """Build a throwaway index of a BEIR corpus and measure each mode; also returns the build seconds."""
    from ..embedding import MODEL_NAME, get_embedder
    from ..index import Index
    from ..retrieval import Retriever

    data = load_beir(folder, split)
    with tempfile.TemporaryDirectory(prefix="semsearch-beir-") as home:
        local = settings.model_copy(
            update={"index_dir": Path(home), "cache_dir": settings.cache_dir or Path(home) / "cache"}
        )
        started = time.perf_counter()
        doc_ids = build_beir_index(data, local, progress)
        built = time.perf_counter() - started
        index = Index(Path(home), MODEL_NAME)
        try:
            retriever = Retriever(index, get_embedder())
            return [run_mode(retriever, data, doc_ids, m) for m in modes], built
        finally:
            index.close()


@click.command("retrieval")
@click.option(
    "--beir",
    "folder",
    required=True,
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="BEIR folder with corpus.jsonl, queries.jsonl and qrels/<split>.tsv.",
)
@click.option("--split", type=click.Choice(["test", "train", "dev"]), default="test", show_default=True)
@click.option("--mode", type=click.Choice(["dense", "lexical", "hybrid", "all"]), default="all", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def retrieval_cmd(folder: Path, split: str, mode: str, as_json: bool) -> None:
    """nDCG@10, Recall@100 and MRR@10 per retrieval mode on a BEIR folder, over a throwaway index."""
    if not (folder / "qrels" / f"{split}.tsv").is_file() or not (folder / "corpus.jsonl").is_file():
        raise click.ClickException(f"{folder} has no corpus.jsonl or qrels/{split}.tsv")
    modes = ["dense", "lexical", "hybrid"] if mode == "all" else [mode]
    results, built = evaluate(folder, split, modes, get_settings(), progress=not as_json)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "beir": str(folder),
                    "split": split,
                    "build_seconds": round(built, 1),
                    "results": [asdict(r) for r in results],
                },
                indent=2,
            )
        )
        return
    click.echo(f"{folder.name} ({split}): index built in {built:.1f}s")
    click.echo(f"{'mode':8} {'queries':>7} {'nDCG@10':>8} {'R@100':>7} {'MRR@10':>7} {'seconds':>8}")
    for r in results:
        click.echo(
            f"{r.mode:8} {r.queries:7d} {r.ndcg_at_10:8.4f} {r.recall_at_100:7.4f} {r.mrr_at_10:7.4f} {r.seconds:8.1f}"
        )
