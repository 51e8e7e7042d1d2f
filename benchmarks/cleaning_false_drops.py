"""How many real body sentences does cleaning drop? Runs the ingest stage on a folder of clean articles.

Usage: python benchmarks/cleaning_false_drops.py "DATA/bbc/BBC News Summary/News Articles"

Every file is a headline line followed by body paragraphs, so every sentence of the body must
survive cleaning. Prints the count of dropped sentences and the first few examples.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from semsearch.config import Settings
from semsearch.ingest import ingest
from semsearch.ingest.markup import strip_markup
from semsearch.ingest.readers import decode_bytes
from semsearch.sentences import split_sentences


def main(folder: Path) -> None:
    started = time.perf_counter()
    result = ingest([folder], Settings(source_outlets={}))
    seconds = time.perf_counter() - started
    cleaned = {a.source_path: a.text for a in result.articles}
    for a in result.articles:
        for path in a.duplicate_paths:
            cleaned[path] = a.text
    total = dropped = 0
    examples = []
    for path in sorted(folder.rglob("*.txt")):
        raw = decode_bytes(path.read_bytes())
        # Entity references are decoded at reading, before cleaning; compare with the body as cleaning saw it.
        body = strip_markup(raw.split("\n", 1)[1]) if "\n" in raw else ""
        text = cleaned.get(str(path), "")
        flat = " ".join(text.split())
        for span in split_sentences(body):
            sentence = " ".join(body[span.start : span.end].split())
            total += 1
            if sentence not in flat:
                dropped += 1
                if len(examples) < 10:
                    examples.append(f"{path.relative_to(folder)}: {sentence[:100]}")
    print(
        f"files: {len(list(folder.rglob('*.txt')))}  articles: {len(result.articles)}  "
        f"skipped: {len(result.skipped)}  ingest seconds: {seconds:.1f}"
    )
    print(f"body sentences: {total}  dropped by cleaning: {dropped} ({100 * dropped / max(total, 1):.3f}%)")
    for example in examples:
        print("  dropped:", example)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder of clean article files (headline line, then body)")
    main(parser.parse_args().folder)
