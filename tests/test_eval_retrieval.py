"""`semsearch eval retrieval`: the metrics on hand-computed cases, and the command end to end on a tiny BEIR folder."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from semsearch.cli import main
from semsearch.evaluation.retrieval import load_beir, mrr_at, ndcg_at, recall_at


def test_ndcg_on_a_hand_computed_case():
    ranking = ["d3", "d1", "d9", "d2"]
    relevant = {"d1": 2, "d2": 1, "d5": 0}
    # DCG = 0/log2(2) + 2/log2(3) + 0/log2(4) + 1/log2(5); ideal order d1 (2), d2 (1).
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(ranking, relevant, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at(ranking, relevant, 10) == pytest.approx(0.6433, abs=1e-4)
    assert ndcg_at(ranking, relevant, 2) == pytest.approx((2 / math.log2(3)) / idcg)
    assert ndcg_at(["d1", "d2"], relevant) == pytest.approx(1.0)
    assert ndcg_at(["x"], {}) == 0.0


def test_recall_and_mrr():
    relevant = {"a": 1, "b": 1, "c": 0}
    assert recall_at(["x", "a", "y"], relevant, 100) == 0.5
    assert recall_at(["x", "a", "b"], relevant, 2) == 0.5
    assert mrr_at(["x", "c", "b"], relevant, 10) == pytest.approx(1 / 3)
    assert mrr_at(["x"] * 10 + ["a"], relevant, 10) == 0.0


DOCS = [
    (
        "d1",
        "Volcanic ash grounds flights",
        "An eruption sent an ash cloud over the north, and airlines cancelled flights.",
    ),
    ("d2", "Wheat harvest hits record", "Farmers brought in the largest wheat harvest on record after a mild spring."),
    ("d3", "Chess prodigy wins title", "A twelve-year-old won the national chess championship in a tie-break."),
    ("d4", "Bridge closed for repairs", "The old river bridge will close for three months while engineers fix cracks."),
    (
        "d5",
        "Heatwave strains power grid",
        "Record temperatures pushed electricity demand to a peak and caused outages.",
    ),
]
QUERIES = [
    ("q1", "ash cloud cancels airline flights"),
    ("q2", "record wheat harvest"),
    ("q3", "young chess champion"),
    ("q4", "electricity outages in heatwave"),
]


@pytest.fixture
def beir_folder(tmp_path):
    (tmp_path / "qrels").mkdir()
    with (tmp_path / "corpus.jsonl").open("w") as fh:
        for doc_id, title, text in DOCS:
            fh.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (tmp_path / "queries.jsonl").open("w") as fh:
        for qid, text in [*QUERIES, ("q9", "an unjudged query")]:
            fh.write(json.dumps({"_id": qid, "text": text}) + "\n")
    rows = ["query-id\tcorpus-id\tscore"] + [f"q{i}\td{i if i < 4 else 5}\t1" for i in range(1, 5)]
    (tmp_path / "qrels" / "test.tsv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_load_beir_keeps_judged_queries(beir_folder):
    data = load_beir(beir_folder, "test")
    assert set(data.queries) == {"q1", "q2", "q3", "q4"}
    assert data.qrels["q4"] == {"d5": 1}
    assert data.corpus["d2"][0] == "Wheat harvest hits record"


@pytest.mark.model
def test_eval_retrieval_end_to_end(beir_folder, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SEMSEARCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    from semsearch.config import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["eval", "retrieval", "--beir", str(beir_folder), "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert [r["mode"] for r in report["results"]] == ["dense", "lexical", "hybrid"]
    for r in report["results"]:
        assert r["queries"] == 4
        assert r["ndcg_at_10"] == pytest.approx(1.0)  # each query names its one document plainly
        assert r["recall_at_100"] == 1.0 and r["mrr_at_10"] == 1.0
    table = CliRunner().invoke(main, ["eval", "retrieval", "--beir", str(beir_folder), "--mode", "lexical"])
    assert table.exit_code == 0 and "nDCG@10" in table.output and "lexical" in table.output
    missing = CliRunner().invoke(main, ["eval", "retrieval", "--beir", str(beir_folder), "--split", "train"])
    assert missing.exit_code != 0 and "qrels/train.tsv" in missing.output
