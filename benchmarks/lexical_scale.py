"""The BM25 index alone: SciFact quality against FTS5, then build time, size and latency at archive scale.

    python benchmarks/lexical_scale.py DATA/scifact --chunks 100000,1000000 [--fts5-up-to 100000]

Quality first: every real chunk indexed by both engines, each article scored by its best chunk, nDCG@10 and
Recall@100 over SciFact's test questions (no model involved). Then scale: chunks are real SciFact text (title
+ ~150-word windows of each abstract), replicated with " (r)" after the title, as benchmarks/scale_index.py
does, until the size is reached. Queries are SciFact's test questions (long, many common words: the hard case
for a lexical leg). For each size it prints the build time and size of semsearch's index, then per-query
latency of the top 100 (`Lexicon.top`) and of scoring 300 given chunks (`Lexicon.scores`), and, up to
--fts5-up-to chunks, the same top 100 from SQLite FTS5 with its overlap with ours (FTS5 scores are checked
equal on the shared ids).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from semsearch.evaluation.retrieval import load_beir, ndcg_at, recall_at
from semsearch.index.lexical import Lexicon, LexiconWriter
from semsearch.retrieval import lexical_query
from semsearch.text import question_words

WINDOW = 150


def chunks_of(corpus: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """(title, body) windows of every SciFact document, and the document id of each."""
    out, owners = [], []
    for line in (corpus / "corpus.jsonl").read_text().splitlines():
        doc = json.loads(line)
        words = doc.get("text", "").split()
        for i in range(0, max(len(words), 1), WINDOW):
            out.append((doc.get("title", ""), " ".join(words[i : i + WINDOW])))
            owners.append(str(doc["_id"]))
    return out, owners


def quality(base: list[tuple[str, str]], owners: list[str], beir: Path) -> None:
    """nDCG@10 and Recall@100 of best-chunk BM25 per document, FTS5 against semsearch's index."""
    data = load_beir(beir, "test")
    texts = [f"{t}\n{b}" for t, b in base]
    with tempfile.TemporaryDirectory() as tmp:
        writer = LexiconWriter()
        writer.add(texts)
        writer.write(Path(tmp))
        lexicon = Lexicon(Path(tmp))
        db = sqlite3.connect(":memory:")
        db.execute("CREATE VIRTUAL TABLE f USING fts5(body, tokenize='porter unicode61')")
        db.executemany("INSERT INTO f(rowid, body) VALUES (?, ?)", enumerate(texts))

        def ranking(scored: list[tuple[int, float]]) -> list[str]:
            best: dict[str, float] = {}
            for chunk, score in scored:
                best[owners[chunk]] = max(best.get(owners[chunk], 0.0), score)
            return sorted(best, key=lambda d: -best[d])

        rows = {"FTS5 bm25()": [], "semsearch index/lexical.py": []}
        for qid, question in data.queries.items():
            match = " OR ".join(f'"{w}"' for w in dict.fromkeys(question_words(question)))
            fts = db.execute("SELECT rowid, -bm25(f) FROM f WHERE f MATCH ?", [match]).fetchall() if match else []
            ids, scores = lexicon.top(lexical_query(question).every, 1000)
            for name, scored in (
                ("FTS5 bm25()", fts),
                ("semsearch index/lexical.py", list(zip(ids.tolist(), scores, strict=True))),
            ):
                ranked = ranking(scored)
                rows[name].append((ndcg_at(ranked, data.qrels[qid]), recall_at(ranked, data.qrels[qid])))
        print(f"quality on {len(texts):,} real chunks, {len(data.queries)} test questions (best chunk per document):")
        for name, values in rows.items():
            print(
                f"  {name:22} nDCG@10 {statistics.mean(v[0] for v in values):.4f}  "
                f"R@100 {statistics.mean(v[1] for v in values):.4f}"
            )


def replicated(base: list[tuple[str, str]], n: int) -> list[str]:
    """n chunk texts: the real ones, then copies with the replica number after the title."""
    return [
        f"{t} ({i // len(base)})\n{b}" if i >= len(base) else f"{t}\n{b}"
        for i in range(n)
        for t, b in [base[i % len(base)]]
    ]


def percentiles(ms: list[float]) -> str:
    """p50 / p95 / p99 of a list of milliseconds."""
    q = statistics.quantiles(ms, n=100)
    return f"{statistics.median(ms):7.2f} / {q[94]:7.2f} / {q[98]:7.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scifact", type=Path)
    parser.add_argument("--chunks", default="10000,100000,1000000")
    parser.add_argument("--fts5-up-to", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    base, owners = chunks_of(args.scifact)
    quality(base, owners, args.scifact)
    judged = {line.split("\t")[0] for line in (args.scifact / "qrels/test.tsv").read_text().splitlines()[1:]}
    queries = [
        json.loads(line)["text"]
        for line in (args.scifact / "queries.jsonl").read_text().splitlines()
        if json.loads(line)["_id"] in judged
    ][: args.queries]
    rng = np.random.default_rng(0)
    print(f"{len(base)} real chunks; {len(queries)} SciFact test questions")
    for n in map(int, args.chunks.split(",")):
        texts = replicated(base, n)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            started = time.perf_counter()
            writer = LexiconWriter()
            for i in range(0, n, 20_000):
                writer.add(texts[i : i + 20_000])
            writer.write(folder)
            build_s = time.perf_counter() - started
            size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
            lexicon = Lexicon(folder)
            top_ms, score_ms, fts_ms, overlap = [], [], [], []
            db = None
            if n <= args.fts5_up_to:
                db = sqlite3.connect(":memory:")
                db.execute("CREATE VIRTUAL TABLE f USING fts5(body, tokenize='porter unicode61')")
                db.executemany("INSERT INTO f(rowid, body) VALUES (?, ?)", enumerate(texts))
            for q in queries:
                terms = lexical_query(q).every
                t0 = time.perf_counter()
                ids, _scores = lexicon.top(terms, 100)
                top_ms.append((time.perf_counter() - t0) * 1000)
                some = rng.choice(n, 300, replace=False)
                t0 = time.perf_counter()
                lexicon.scores(terms, some)
                score_ms.append((time.perf_counter() - t0) * 1000)
                if db is not None:
                    match = " OR ".join(f'"{w}"' for w in dict.fromkeys(question_words(q)))
                    t0 = time.perf_counter()
                    rows = db.execute(
                        "SELECT rowid, -bm25(f) AS s FROM f WHERE f MATCH ? ORDER BY s DESC LIMIT 100", [match]
                    ).fetchall()
                    fts_ms.append((time.perf_counter() - t0) * 1000)
                    overlap.append(len({r for r, _ in rows} & set(ids.tolist())) / max(len(rows), 1))
            print(f"\n{n:,} chunks: build {build_s:.1f} s, {len(lexicon.postings):,} postings, {size:.0f} MB")
            print(f"  semsearch top 100          p50 / p95 / p99 ms {percentiles(top_ms)}")
            print(f"  semsearch 300 given chunks p50 / p95 / p99 ms {percentiles(score_ms)}")
            if fts_ms:
                print(
                    f"  FTS5 top 100 (ORDER BY bm25 LIMIT 100)   ms {percentiles(fts_ms)}"
                    f"   overlap with ours {statistics.mean(overlap):.3f}"
                )


if __name__ == "__main__":
    main()
