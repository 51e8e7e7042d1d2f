"""How often the brief abstains, and why, for sets of questions asked of index homes.

    python benchmarks/abstention.py HOME=QUESTIONS.json [HOME=QUESTIONS.json ...] [--titles HOME --limit 80]

Each HOME=QUESTIONS pair asks every question of a file of that index home: a JSON list of strings or of
objects with a "question" (benchmarks/sample_questions.json), or JSON lines of such objects
(benchmarks/data/nuggets_reuters.jsonl). `--titles HOME`
also asks the home's own first `--limit` article titles, questions the archive answers by construction.
Pair answerable sets with sets the archive cannot answer: benchmarks/data/offtopic_questions.json (news of
the world, none of it in the sample corpus), or another archive's questions (a home's questions asked of a
different home). Per set: briefs with sentences, abstentions for a name the archive never mentions, and
other abstentions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from semsearch.config import get_settings
from semsearch.contract import SearchRequest
from semsearch.service import SearchService

MENTIONS = "Nothing in the archive mentions"


def service_at(home: Path) -> SearchService:
    """A service over one index home (query vectors not cached: each question is asked once anyway)."""
    return SearchService(get_settings().model_copy(update={"index_dir": home, "query_cache_size": 0}))


def titles(home: Path, limit: int) -> list[str]:
    """The first titles of a home's articles."""
    service = service_at(home)
    ids = service.index.article_ids()[:limit]
    metas = service.index.articles(ids)
    return [metas[i].title for i in ids if metas[i].title]


def questions_of(path: Path) -> list[str]:
    """The questions of a JSON list or JSON-lines file (strings, or objects with a "question")."""
    text = path.read_text("utf-8")
    items = (
        [json.loads(line) for line in text.splitlines() if line.strip()]
        if path.suffix == ".jsonl"
        else json.loads(text)
    )
    return [item["question"] if isinstance(item, dict) else item for item in items]


def row(label: str, home: Path, questions: list[str]) -> str:
    """One table row: how the briefs of these questions at this home came out."""
    service = service_at(home)
    reasons = [service.search(SearchRequest(q=q)).summary.abstained for q in questions]
    named = sum(1 for r in reasons if r and r.startswith(MENTIONS))
    other = sum(1 for r in reasons if r and not r.startswith(MENTIONS))
    briefs = len(reasons) - named - other
    return f"| {label} | {home.name} | {len(questions)} | {briefs} | {named} | {other} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pairs", nargs="*", help="HOME=QUESTIONS.json")
    parser.add_argument("--titles", type=Path, action="append", default=[], help="a home whose own titles to ask")
    parser.add_argument("--limit", type=int, default=80)
    args = parser.parse_args()
    print("| questions | home | asked | brief | abstained: name not in archive | abstained: other |")
    print("|---|---|---|---|---|---|")
    for home in args.titles:
        print(row("its own titles", home, titles(home, args.limit)), flush=True)
    for pair in args.pairs:
        home, _, questions = pair.partition("=")
        print(row(Path(questions).stem, Path(home), questions_of(Path(questions))), flush=True)


if __name__ == "__main__":
    main()
