"""Turn the BBC News corpus into a BEIR folder: each headline is a query whose only relevant document is
its own article body (the headline is removed from the corpus, so the title cannot match itself).

    python benchmarks/bbc_headlines_beir.py "DATA/bbc/BBC News Summary/News Articles" OUT/bbc-beir --per-category 60
    SEMSEARCH_CACHE_DIR=CACHE semsearch eval retrieval --beir OUT/bbc-beir
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    """Write corpus.jsonl, queries.jsonl and qrels/test.tsv from the first --per-category articles of each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", type=Path, help="the 'News Articles' folder (one subfolder per category)")
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-category", type=int, default=100, help="articles per category (keeps builds short)")
    args = parser.parse_args()
    (args.out / "qrels").mkdir(parents=True, exist_ok=True)
    corpus, queries, qrels = [], [], ["query-id\tcorpus-id\tscore"]
    for category in sorted(p for p in args.articles.iterdir() if p.is_dir()):
        for path in sorted(category.glob("*.txt"))[: args.per_category]:
            raw = path.read_bytes().decode("utf-8", errors="replace")
            headline, _, body = raw.strip().partition("\n")
            doc_id = f"{category.name}-{path.stem}"
            corpus.append({"_id": doc_id, "title": "", "text": body.strip()})
            queries.append({"_id": doc_id, "text": headline.strip()})
            qrels.append(f"{doc_id}\t{doc_id}\t1")
    with (args.out / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in corpus)
    with (args.out / "queries.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(q, ensure_ascii=False) + "\n" for q in queries)
    (args.out / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n", encoding="utf-8")
    print(f"{len(corpus)} documents and queries written to {args.out}")


if __name__ == "__main__":
    main()
