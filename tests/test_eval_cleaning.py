"""`semsearch eval cleaning` on a two-page folder written for this test."""

from __future__ import annotations

import json

from click.testing import CliRunner

from semsearch.cli import main
from semsearch.evaluation.cleaning import score

ARTICLE = (
    "The lighthouse at Cape Orrin will be repainted this summer, the harbour trust said on Monday.\n"
    "Volunteers will scrape the old paint by hand because the tower is too narrow for machines to reach."
)
PAGE = "\n".join(
    [
        "Cape Orrin keeps its light",
        "Home",
        "News",
        "Boats",
        "Tides",
        "Sign in",
        ARTICLE,
        "Share",
        "Comments",
        "Harbour Dues Rise Again",
        "Tide Tables For June",
    ]
)


def test_score_counts_words_clipped_and_an_empty_text_scores_zero():
    exact = score("the light the light", "the light")
    assert (exact.precision, exact.recall) == (0.5, 1.0)
    assert score("", "the light").f1 == 0.0


def test_eval_cleaning_beats_the_raw_scrape_and_finds_the_article(tmp_path):
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "p1.txt").write_text(PAGE, encoding="utf-8")
    (tmp_path / "truth.jsonl").write_text(
        json.dumps({"id": "p1", "articleBody": ARTICLE}) + "\n" + "{broken\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["eval", "cleaning", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert report["pages"] == 1 and report["semsearch"]["found"] == 1
    assert report["semsearch"]["f1"] == 1.0 > report["raw"]["f1"]


def test_a_folder_in_another_layout_gets_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["eval", "cleaning", str(tmp_path)])
    assert result.exit_code == 2 and "needs a 'text/' folder" in result.output
