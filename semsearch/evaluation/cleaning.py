"""`semsearch eval cleaning`: how much of a scraped page's text is its article, before and after cleaning.

Reads a folder in the article-extraction-benchmark layout: ``text/<id>.txt`` (a page saved as plain
text, one block per line) and ``truth.jsonl`` (``{"id", "articleBody"}`` per page). Scores are the
benchmark's: bag-of-words precision, recall and F1 of lower-cased ``\\w+`` tokens, counts clipped,
averaged over pages.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import click

from ..config import Settings
from ..records import Article

log = logging.getLogger(__name__)

_WORD = re.compile(r"\w+")
# A page's article counts as found when the kept text holds at least this share of its words, so a
# rail story that shares a few common words with the article is not mistaken for it.
FOUND_RECALL = 0.5


@dataclass(slots=True)
class Page:
    """One scraped page and the true body of its article."""

    id: str
    path: Path
    truth: str


@dataclass(slots=True)
class Score:
    """Bag-of-words agreement of one kept text with the truth."""

    precision: float
    recall: float
    f1: float


@dataclass(slots=True)
class Tally:
    """Scores of one system over many pages."""

    scores: list[Score] = field(default_factory=list)
    found: int = 0

    def add(self, score: Score) -> None:
        self.scores.append(score)
        self.found += score.recall >= FOUND_RECALL

    def summary(self) -> dict[str, float | int]:
        n = max(len(self.scores), 1)
        return {
            "precision": round(sum(s.precision for s in self.scores) / n, 4),
            "recall": round(sum(s.recall for s in self.scores) / n, 4),
            "f1": round(sum(s.f1 for s in self.scores) / n, 4),
            "found": self.found,
        }


def bag(text: str) -> Counter[str]:
    """The text's lower-cased word tokens with their counts."""
    return Counter(_WORD.findall(text.lower()))


def score(kept: str, truth: str) -> Score:
    """Precision, recall and F1 of kept's words against truth's; keeping nothing scores zero."""
    kept_bag, truth_bag = bag(kept), bag(truth)
    common = sum((kept_bag & truth_bag).values())
    precision = common / sum(kept_bag.values()) if kept_bag else 0.0
    recall = common / sum(truth_bag.values()) if truth_bag else 1.0
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return Score(precision, recall, f1)


def in_split(page_id: str, split: str) -> bool:
    """Pages are halved by a hash of their id, so a page stays in its half whatever else the folder holds."""
    if split == "all":
        return True
    odd = hashlib.sha256(page_id.encode()).digest()[0] % 2 == 1
    return odd if split == "tune" else not odd


def load_truth(truth_file: Path) -> dict[str, str]:
    """Each page's true body by its id; a malformed line is logged and passed over."""
    truth: dict[str, str] = {}
    for lineno, line in enumerate(truth_file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            truth[str(record["id"])] = str(record["articleBody"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            log.warning("%s line %d passed over: %s", truth_file.name, lineno, exc)
    return truth


def load_pages(folder: Path, split: str = "all") -> list[Page]:
    """Pages that have both a scrape and a true body."""
    truth_file = folder / "truth.jsonl"
    if not truth_file.is_file() or not (folder / "text").is_dir():
        raise click.UsageError(f"{folder} needs a 'text/' folder and a 'truth.jsonl' file")
    pages = []
    for page_id, body in load_truth(truth_file).items():
        path = folder / "text" / f"{page_id}.txt"
        if not path.is_file():
            log.warning("no scrape for page %s (expected %s)", page_id, path)
            continue
        if in_split(page_id, split):
            pages.append(Page(page_id, path, body))
    return pages


def articles_by_page(articles: list[Article]) -> dict[str, list[Article]]:
    """Every stored article under each page it came from: main articles, copies and rail stories alike."""
    by_page: dict[str, list[Article]] = {}
    for article in articles:
        for source in {article.extracted_from or article.source_path, *article.duplicate_paths}:
            by_page.setdefault(source, []).append(article)
    return by_page


def best_kept(candidates: list[Article], truth: str) -> str:
    """The text of the stored article that best matches the truth, as a search for the article would find it."""
    texts = [a.text for a in candidates] or [""]
    return max(texts, key=lambda text: score(text, truth).f1)


def evaluate(pages: list[Page], settings: Settings) -> dict[str, Tally]:
    """Score the raw scrape and semsearch's cleaning of every page in one run."""
    from ..ingest import ingest

    result = ingest([p.path for p in pages], settings)
    by_page = articles_by_page(result.articles)
    tallies = {"raw": Tally(), "semsearch": Tally()}
    for page in pages:
        raw = page.path.read_text(encoding="utf-8", errors="replace")
        tallies["raw"].add(score(raw, page.truth))
        tallies["semsearch"].add(score(best_kept(by_page.get(str(page.path), []), page.truth), page.truth))
    return tallies


@click.command("cleaning")
@click.argument("folder", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--split",
    type=click.Choice(["all", "tune", "test"]),
    default="all",
    show_default=True,
    help="Half of the pages by a hash of their id (tune = the half cleaning was developed on).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def cleaning_cmd(folder: Path, split: str, as_json: bool) -> None:
    """Bag-of-words P/R/F1 of semsearch's cleaning of FOLDER's text scrapes, beside the raw scrape."""
    from ..config import get_settings

    pages = load_pages(folder, split)
    if not pages:
        raise click.UsageError(f"no page under {folder} has both a scrape and a true body")
    tallies = evaluate(pages, get_settings())
    report = {"pages": len(pages), "split": split, **{name: t.summary() for name, t in tallies.items()}}
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{'system':<10} {'P':>6} {'R':>6} {'F1':>6}  article found")
    for name, tally in tallies.items():
        row = tally.summary()
        click.echo(
            f"{name:<10} {row['precision']:>6.3f} {row['recall']:>6.3f} {row['f1']:>6.3f}  "
            f"{row['found']} of {len(pages)}"
        )
    click.echo(
        f"{len(pages)} pages (split {split}); "
        f"found = kept text holding at least {FOUND_RECALL:.0%} of the article's words"
    )
