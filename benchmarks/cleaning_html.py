"""How much of an HTML page's kept text is its article? The HTML twin of `semsearch eval cleaning`.

Usage: python benchmarks/cleaning_html.py HTML_DIR DATA/aeb_dev/truth.jsonl [--split tune|test|all]

HTML_DIR holds the pages as `<id>.html` or `<id>.html.gz` (the article-extraction benchmark's `html/`
folder); TRUTH holds one `{"id", "articleBody"}` per line. Only pages with a truth line are read, so a
folder of every page is scored on the truth file's pages alone. Scores are the same bag-of-words
precision, recall and F1 as `semsearch eval cleaning`, averaged over pages.
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
from pathlib import Path

from semsearch.config import Settings
from semsearch.evaluation.cleaning import Page, Tally, articles_by_page, best_kept, in_split, load_truth, score
from semsearch.ingest import ingest


def pages_in(html_dir: Path, truth: dict[str, str], into: Path) -> list[Page]:
    """Every page of html_dir that has a true body, written out as plain `.html` under into."""
    pages = []
    for path in sorted(html_dir.iterdir()):
        page_id = path.name.removesuffix(".gz").removesuffix(".html")
        if page_id not in truth:
            continue
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        target = into / f"{page_id}.html"
        target.write_bytes(data)
        pages.append(Page(page_id, target, truth[page_id]))
    return pages


def main(html_dir: Path, truth_file: Path, split: str) -> None:
    truth = {page_id: body for page_id, body in load_truth(truth_file).items() if in_split(page_id, split)}
    with tempfile.TemporaryDirectory() as work:
        pages = pages_in(html_dir, truth, Path(work))
        result = ingest([page.path for page in pages], Settings(source_outlets={}))
        by_page = articles_by_page(result.articles)
        tally = Tally()
        for page in pages:
            tally.add(score(best_kept(by_page.get(str(page.path), []), page.truth), page.truth))
    row = tally.summary()
    print(
        f"{len(pages)} HTML pages (split {split}): P {row['precision']:.3f}  R {row['recall']:.3f}  "
        f"F1 {row['f1']:.3f}  article found on {row['found']}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", type=Path, help="a folder of <id>.html or <id>.html.gz pages")
    parser.add_argument("truth", type=Path, help="truth.jsonl with one {id, articleBody} per page")
    parser.add_argument("--split", choices=["all", "tune", "test"], default="all", help="half of the pages by id")
    args = parser.parse_args()
    main(args.html_dir, args.truth, args.split)
