"""Build a kept index of a BEIR corpus (optionally only its first N documents), with docids.json beside it.

    SEMSEARCH_CACHE_DIR=CACHE python benchmarks/beir_index.py DATA/scifact HOMES/scifact1000 --limit 1000

The home then serves `benchmarks/beir_kept_index.py` (re-scoring without rebuilding) and is the source
that `benchmarks/scale_index.py` replicates into archive-scale homes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from semsearch.config import get_settings
from semsearch.evaluation.retrieval import build_beir_index, load_beir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("beir", type=Path)
    parser.add_argument("home", type=Path, help="index home to create (keep it outside the repo)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents of the corpus")
    args = parser.parse_args()
    data = load_beir(args.beir, "test")
    if args.limit is not None:
        data.corpus = dict(list(data.corpus.items())[: args.limit])
    args.home.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    doc_ids = build_beir_index(data, get_settings().model_copy(update={"index_dir": args.home}), progress=True)
    (args.home / "docids.json").write_text(json.dumps(doc_ids))
    print(
        f"{len(doc_ids)} articles from {len(data.corpus)} documents in {time.perf_counter() - started:.0f} s "
        f"→ {args.home}"
    )


if __name__ == "__main__":
    main()
