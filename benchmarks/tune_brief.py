"""Grid-search the brief's weights on the BBC 'tune' half (odd file numbers); the 'test' half is kept for reporting.

Single-document runs vary the generic profile (brief.GENERIC), --topics the query-focused defaults.

    SEMSEARCH_CACHE_DIR=CACHE python benchmarks/tune_brief.py "DATA/bbc/BBC News Summary" --limit 700 \
        --work WORK/tune700 [--topics]
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

from semsearch.brief import GENERIC, BriefOptions
from semsearch.config import get_settings
from semsearch.embedding import get_embedder
from semsearch.evaluation.summary import load_pairs, make_scorer, open_index, run_single, run_topics, topic_groups
from semsearch.retrieval import Retriever

GRID = {
    "w_coverage": [4.0, 8.0, 16.0, 32.0],
    "w_word_centrality": [0.0, 2.0, 4.0],
    "w_lead": [0.0, 0.3, 0.6],
    "diversity": [0.0, 0.1],
}


def main() -> None:
    """Print ROUGE-2 F1 (single-document) or recall (topic proxy) for every point of the grid."""
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--limit", type=int, default=700)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--topics", action="store_true", help="tune on the multi-document topic proxy instead")
    args = parser.parse_args()
    pairs = load_pairs(args.folder, args.limit, "tune")
    index = open_index([p.article for p in pairs], get_settings(), args.work)
    embedder = get_embedder()
    titles = {p.article.title: embedder.encode_query(p.article.title) for p in pairs}
    scorer = make_scorer()
    retriever = Retriever(index, embedder)
    groups = topic_groups(index, pairs) if args.topics else []
    results = []
    for values in itertools.product(*GRID.values()):
        # Single-document briefs are generic; the topic proxy is query-focused, like the search page.
        options = replace(BriefOptions() if args.topics else GENERIC, **dict(zip(GRID, values, strict=True)))
        if args.topics:
            run = run_topics(index, groups, lambda q: retriever.retrieve(q, k=10), scorer, options=options)
            value = sum(run.systems["semsearch brief"].rouge2_recall) / len(
                run.systems["semsearch brief"].rouge2_recall
            )
        else:
            run = run_single(index, pairs, titles.__getitem__, scorer, options, baselines=False)
            value = sum(run.systems["semsearch brief"].rouge2) / len(pairs)
        results.append((value, values))
        print(f"{value:.4f}  {dict(zip(GRID, values, strict=True))}", flush=True)
    print("best:", max(results))


if __name__ == "__main__":
    main()
