"""`semsearch eval summary` on a tiny folder in the BBC News Summary layout, made here."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from semsearch.brief import BriefOptions
from semsearch.cli import main
from semsearch.config import get_settings
from semsearch.embedding import MODEL_NAME
from semsearch.evaluation.summary import QUERY_SIMILARITY, fill, fix_reference, load_pairs, sumy_ranking
from semsearch.index import Index

STORIES = {
    "business": [
        (
            "Harbour strike halts container traffic",
            [
                "Dockworkers at Port Calder walked out on Monday over plans to automate the cranes.",
                "The union says 400 jobs are at risk if the new software is installed.",
                "Shipping lines have diverted twelve vessels to other ports along the coast.",
                "He added that talks with the port authority would resume on Thursday.",
                "Analysts expect the dispute to cost exporters several million dollars a week.",
            ],
        ),
        (
            "Central bank holds rate at four percent",
            [
                "The central bank kept its policy rate at four percent on Thursday.",
                "Inflation slowed to 2.6 percent in the year to March, the statistics office said.",
                "The governor said borrowing costs would stay high until price growth eases further.",
                "Markets had expected the pause after two cuts earlier in the year.",
                "But some economists warned that the housing market is cooling fast.",
            ],
        ),
    ],
    "sport": [
        (
            "Late goal wins cup final for Riverside",
            [
                "Riverside won the cup final with a goal in the last minute of extra time.",
                "Striker Leo Marsh headed in a corner to beat Northgate two goals to one.",
                "It was the club's first trophy in more than thirty years of trying.",
                "Thousands of fans celebrated in the streets of the old town until dawn.",
                "The manager praised his players for never giving up after falling behind.",
            ],
        ),
    ],
}


def _write(folder: Path) -> None:
    for category, stories in STORIES.items():
        for n, (title, sentences) in enumerate(stories, start=1):
            name = f"{n:03d}.txt"
            article = folder / "News Articles" / category / name
            article.parent.mkdir(parents=True, exist_ok=True)
            article.write_text(f"{title}\n\n{' '.join(sentences[:3])}\n\n{' '.join(sentences[3:])}\n", "utf-8")
            summary = folder / "Summaries" / category / name
            summary.parent.mkdir(parents=True, exist_ok=True)
            summary.write_text("".join([sentences[0], sentences[2]]), "utf-8")  # run together, like BBC


def test_fix_reference_separates_run_together_sentences():
    assert (
        fix_reference('sales rose 2% to $11.1bn.For the year, it grew."We are pleased."The')
        == 'sales rose 2% to $11.1bn. For the year, it grew. "We are pleased." The'
    )


def test_fill_takes_ranked_sentences_that_fit():
    sentences = ["one two three", "a b c d e f g", "x y"]
    assert fill([1, 0, 2], sentences, 9) == [1, 2]


def test_sumy_ranking_is_a_permutation():
    sentences = STORIES["business"][0][1]
    for method in ("lexrank", "textrank"):
        assert sorted(sumy_ranking(method, sentences)) == list(range(len(sentences)))


def test_query_similarity_baseline_has_every_other_signal_off():
    # A weight or penalty added to the brief later must not leak into the plain baseline through its default.
    weights = [f.name for f in fields(BriefOptions) if f.name.startswith("w_") and f.name != "w_relevance"]
    assert weights and {name: getattr(QUERY_SIMILARITY, name) for name in weights} == dict.fromkeys(weights, 0.0)
    assert (QUERY_SIMILARITY.diversity, QUERY_SIMILARITY.article_penalty) == (0.0, 0.0)


def test_load_pairs_split_and_limit(tmp_path: Path):
    _write(tmp_path)
    assert len(load_pairs(tmp_path)) == 3
    assert {p.number for p in load_pairs(tmp_path, split="tune")} == {1}
    assert {p.number for p in load_pairs(tmp_path, split="test")} == {2}
    assert [p.category for p in load_pairs(tmp_path, limit=2)] == ["business", "sport"]


@pytest.mark.model
def test_eval_summary_command_on_a_tiny_folder(runner, tmp_path: Path, monkeypatch):
    data = tmp_path / "data"
    _write(data)
    work = tmp_path / "work"
    report = tmp_path / "report.md"
    result = runner.invoke(main, ["eval", "summary", str(data), "--work", str(work), "--output", str(report)])
    assert result.exit_code == 0, result.output
    for row in (
        "semsearch brief",
        "Lead",
        "LexRank (sumy)",
        "TextRank (sumy)",
        "query similarity",
        "single-article preset",
    ):
        assert row in result.output
    # Every brief the eval made was checked, and every citation in it is a verbatim span.
    checks = re.findall(r"(\d+) citations in (\d+) briefs .* (\d+) verbatim spans", result.output)
    assert checks and all(int(c) == int(v) and int(c) > 0 for c, _, v in checks if int(_) > 0)
    assert report.read_text("utf-8").count("| semsearch brief |") >= 2
    again = runner.invoke(main, ["eval", "summary", str(data), "--work", str(work), "--mode", "single"])
    assert again.exit_code == 0 and "Built index" not in again.output  # the index is reused
    # ... but not by an eval whose settings make vectors another way: it gets an index of its own making.
    single = ["eval", "summary", str(data), "--work", str(work), "--mode", "single"]
    monkeypatch.setenv("SEMSEARCH_VECTOR_PRECISION", "int8")
    get_settings.cache_clear()
    int8 = runner.invoke(main, single)
    assert int8.exit_code == 0, int8.output
    assert Index(work, MODEL_NAME).manifest.vector_precision == "int8"
