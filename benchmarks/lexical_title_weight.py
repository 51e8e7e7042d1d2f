"""Document-level FTS5 BM25 (porter tokenizer) on a BEIR split, by title weight, from an in-memory table.

    python benchmarks/lexical_title_weight.py /work/shared/data/scifact train
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from semsearch.eval_retrieval import load_beir, ndcg_at
from semsearch.retrieval import fts_expression


def main() -> None:
    """Print nDCG@10 for each title weight."""
    folder, split = Path(sys.argv[1]), sys.argv[2]
    data = load_beir(folder, split)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(title, body, tokenize='porter unicode61')")
    ids = list(data.corpus)
    db.executemany("INSERT INTO f(rowid, title, body) VALUES (?,?,?)", [(i, *data.corpus[d]) for i, d in enumerate(ids)])
    for title_weight in (1.0, 1.5, 2.0, 3.0):
        total = 0.0
        for qid, query in data.queries.items():
            rows = db.execute("SELECT rowid FROM f WHERE f MATCH ? ORDER BY bm25(f, ?, 1.0) LIMIT 10",
                              (fts_expression(query), title_weight)).fetchall()
            total += ndcg_at([ids[r[0]] for r in rows], data.qrels[qid])
        print(f"{split} title_weight {title_weight}: nDCG@10 {total / len(data.queries):.4f}")


if __name__ == "__main__":
    main()
