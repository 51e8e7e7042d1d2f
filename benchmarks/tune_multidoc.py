"""Nugget recall of brief option variants on one half of the multi-document development set.

    python benchmarks/tune_multidoc.py benchmarks/data/nuggets_reuters.jsonl DATA/reuters21578 HOMES/nuggets \
        [--split tune] [--words 250]

The index is the one `semsearch eval nuggets ... --work HOMES/nuggets` builds (built here when missing).
Each variant changes one thing of the defaults, so the table shows what each part of the brief is worth.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from semsearch.brief import SINGLE_ARTICLE, BriefOptions
from semsearch.config import get_settings
from semsearch.embedding import get_embedder
from semsearch.evaluation.nuggets import MAIN, TABLE_HEAD, load_questions, reuters_articles, run_nuggets
from semsearch.evaluation.summary import make_scorer, open_index
from semsearch.retrieval import Retriever


def variants(words: int) -> dict[str, BriefOptions]:
    """The defaults, the single-article preset, and the defaults with one part changed."""
    base = BriefOptions(words=words)
    return {
        "defaults": base,
        "single-article preset": replace(SINGLE_ARTICLE, words=words),
        "no per-article penalty": replace(base, article_penalty=0.0),
        "per-article penalty 0.05": replace(base, article_penalty=0.05),
        "per-article penalty 0.3": replace(base, article_penalty=0.3),
        "no name rule": replace(base, w_names=0.0),
        "links within an article as any other (1.0)": replace(base, intra_article=1.0),
        "links within an article 0.5": replace(base, intra_article=0.5),
        "links within an article 0.05": replace(base, intra_article=0.05),
        "lead prior 0.5": replace(base, w_lead=0.5),
    }


def main() -> None:
    """Print one row per variant."""
    parser = argparse.ArgumentParser()
    parser.add_argument("devset", type=Path)
    parser.add_argument("reuters", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("--split", default="tune", choices=["tune", "test", "all"])
    parser.add_argument("--words", type=int, default=250)
    args = parser.parse_args()
    every = load_questions(args.devset)
    questions = [q for q in every if args.split in ("all", q.split)]
    articles = reuters_articles(args.reuters, {a for q in every for a in q.articles})
    index = open_index(list(articles.values()), get_settings(), args.work)
    ids = {newid: a.id for newid, a in articles.items()}
    embedder = get_embedder()
    retriever = Retriever(index, embedder)
    scorer = make_scorer()
    print(TABLE_HEAD.replace("| system |", "| variant |"))
    for name, options in variants(args.words).items():
        run = run_nuggets(
            index, questions, ids, lambda q: retriever.retrieve(q, k=10), embedder.encode_query, scorer, options
        )
        print(run.systems[MAIN].row(name))


if __name__ == "__main__":
    main()
