"""Sentence splitting with pysbd's patterns compiled once against pysbd as shipped, paired in one run.

Usage: python benchmarks/sentence_split.py FOLDER [--rounds 4]

Splits every .txt file of FOLDER (read as text, no cleaning) with semsearch's splitter, alternating
rounds between pysbd's modules using the ``re`` module itself (A) and the compiling-once stand-in the
splitter installs (B). Prints each round's seconds, the medians, and whether both gave the same spans.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

from semsearch import sentences
from semsearch.records import Span


def pysbd_modules() -> list:
    """The pysbd modules that read patterns through a module named ``re``."""
    import sys

    sentences._segmenter()  # installs the stand-in
    return [m for name, m in sys.modules.items() if name.startswith("pysbd") and hasattr(m, "re")]


def split_all(texts: list[str]) -> tuple[float, list[list[Span]]]:
    """Seconds to split every text, and the spans."""
    started = time.perf_counter()
    spans = [sentences.split_sentences(text) for text in texts]
    return time.perf_counter() - started, spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(args.folder.glob("*.txt"))]
    modules = pysbd_modules()
    stand_in = modules[0].re
    seconds: dict[str, list[float]] = {"A: re as shipped": [], "B: compiled once": []}
    results = {}
    for round_no in range(args.rounds):
        for side, use in (("A: re as shipped", re), ("B: compiled once", stand_in))[:: 1 if round_no % 2 else -1]:
            for module in modules:
                module.re = use
            took, results[side] = split_all(texts)
            seconds[side].append(took)
            print(f"round {round_no + 1} {side}: {took:.2f} s", flush=True)
    print(f"{len(texts)} files, {sum(map(len, texts)):,} characters")
    for side, times in seconds.items():
        print(f"{side}: median {statistics.median(times):.2f} s")
    print("same spans:", results["A: re as shipped"] == results["B: compiled once"])


if __name__ == "__main__":
    main()
