"""The BM25 inverted index: exact against SQLite's FTS5 bm25() and against scoring every chunk."""

from __future__ import annotations

import random
import sqlite3

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semsearch.index.lexical import TOP_LIST, Lexicon, LexiconWriter
from semsearch.text import STEMS

WORDS = (
    "harbor strike workers port crane union wages talks ship cargo flood river homes rain storm court "
    "judge trial bribery police chief fares rail train commuters station drug trial kidney patients"
).split()


def _corpus(seed: int, n: int, vocabulary: int = len(WORDS)) -> list[str]:
    rng = random.Random(seed)
    words = WORDS[:vocabulary]
    # Zipf-like: a few words are everywhere (they become MaxScore's optional terms), most are rare.
    weights = [1 / (i + 1) for i in range(len(words))]
    return [" ".join(rng.choices(words, weights, k=rng.randint(1, 40))) for _ in range(n)]


def _lexicon(tmp_path, texts: list[str], batches: int = 3) -> Lexicon:
    writer = LexiconWriter()
    step = max(1, len(texts) // batches)
    for i in range(0, len(texts), step):
        writer.add(texts[i : i + step])
    writer.write(tmp_path)
    return Lexicon(tmp_path)


def _every_score(lexicon: Lexicon, terms: list[str]) -> np.ndarray:
    return lexicon.scores(terms, range(lexicon.chunks))


def test_scores_equal_fts5_bm25(tmp_path):
    # Possessives: Porter stems their lone "s" to an empty term, which is not indexed but still counts
    # towards the chunk's length, as in FTS5.
    texts = [t.replace(" ", "'s ", 2) if i % 3 == 0 else t for i, t in enumerate(_corpus(1, 300))]
    lexicon = _lexicon(tmp_path, texts)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(body, tokenize='porter unicode61')")
    db.executemany("INSERT INTO f(rowid, body) VALUES (?, ?)", enumerate(texts))
    for query in (["strike", "workers"], ["kidney", "trial", "rain"], ["harbor"], ["bribery", "fares", "storm"]):
        expected = dict(
            db.execute("SELECT rowid, -bm25(f) FROM f WHERE f MATCH ?", [" OR ".join(f'"{w}"' for w in query)])
        )
        got = _every_score(lexicon, [STEMS.stem(w) for w in query])
        assert set(np.flatnonzero(got).tolist()) == set(expected)
        assert got[list(expected)] == pytest.approx(list(expected.values()), rel=1e-4)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(1, 60),
    n_terms=st.integers(1, 6),
    filtered=st.booleans(),
    n=st.sampled_from([50, 400, 1500]),
)
def test_top_k_is_exactly_the_best_k(tmp_path_factory, seed, k, n_terms, filtered, n):
    rng = random.Random(seed)
    lexicon = _lexicon(tmp_path_factory.mktemp("lex"), _corpus(seed, n))
    terms = [STEMS.stem(w) for w in rng.sample(WORDS, n_terms)]
    allowed = np.sort(np.asarray(rng.sample(range(n), n // 3), np.int64)) if filtered else None
    ids, scores = lexicon.top(terms, k, allowed)
    every = _every_score(lexicon, terms)
    if allowed is not None:
        keep = np.zeros(n, bool)
        keep[allowed] = True
        every[~keep] = 0
    expected = np.sort(every[every > 0])[::-1][:k]
    assert scores == pytest.approx(expected, rel=1e-5)
    assert every[ids] == pytest.approx(scores, rel=1e-5)
    assert len(set(ids.tolist())) == len(ids)
    left_out = np.setdiff1d(np.flatnonzero(every > 0), ids)
    assert len(ids) == min(k, int((every > 0).sum()))
    assert not len(left_out) or every[left_out].max() <= scores[-1] * (1 + 1e-5)  # nothing better was missed


def test_frequent_terms_use_top_lists_and_stay_exact(tmp_path):
    texts = _corpus(7, 3 * TOP_LIST + 100, vocabulary=6)
    lexicon = _lexicon(tmp_path, texts)
    terms = [STEMS.stem(w) for w in ("harbor", "strike", "crane")]
    assert len(lexicon.top_lists) > 0
    _ids, scores = lexicon.top(terms, 10)
    every = _every_score(lexicon, terms)
    assert scores == pytest.approx(np.sort(every)[::-1][:10], rel=1e-5)


def test_required_terms_must_all_occur(tmp_path):
    texts = ["crane operators walked out", "operators of the crane", "the crane fell", "operators met"]
    lexicon = _lexicon(tmp_path, texts)
    ids, _ = lexicon.top([STEMS.stem("walked")], 10, required=[STEMS.stem("crane"), STEMS.stem("operators")])
    assert sorted(ids.tolist()) == [0, 1]
    assert lexicon.top(["nowher"], 5, required=["nowher"])[0].tolist() == []


def test_remembered_terms_answer_as_a_fresh_read(tmp_path, monkeypatch):
    import semsearch.index.lexical as lexical

    texts = _corpus(3, 500)
    path = tmp_path / "lex"
    path.mkdir()
    lexicon = _lexicon(path, texts)
    queries = [["strike", "workers", "nowhere"], ["workers", "strike"], ["kidney", "rain", "strike"], ["zzz"]]
    queries = [[STEMS.stem(w) for w in q] for q in queries]
    fresh = [(lexicon.top(q, 20), lexicon.scores(q, range(500))) for q in queries]
    # A memo holding fewer terms than a question has is cleared on every question; answers must not change.
    monkeypatch.setattr(lexical, "TERMS_REMEMBERED", 2)
    for _ in range(2):  # the second round reads what the first remembered
        for q, ((ids, scores), every) in zip(queries, fresh, strict=True):
            again_ids, again_scores = lexicon.top(q, 20)
            assert again_ids.tolist() == ids.tolist()
            assert again_scores.tolist() == scores.tolist()  # the same sums in the same order: bit for bit
            assert lexicon.scores(q, range(500)).tolist() == every.tolist()
    # Terms of one question in any order are added in one order.
    assert lexicon.scores(queries[1][::-1], range(500)).tolist() == lexicon.scores(queries[1], range(500)).tolist()
    assert lexicon.top(queries[3], 5)[0].tolist() == []


TRICKY = (
    "Happy happiness studies studied agreed generalization Cafés café relational striking strikes "
    "dockworkers 2,300 workers' re-election reelected ponies pony Ireland irely sky skies day days key "
    "keys buying boy Zürich résumé élection Müller covid_19"
).split()


def test_analyzer_folds_accents_and_stems():
    assert STEMS.terms("Cafés RUNNING_fast") == ["cafe", "run", "fast"]


def test_marks_are_the_words_whose_term_is_wanted():
    text = "The mayor's strikes: Striking dockworkers' café in Zürich, a city's studies (STUDIED) of days."
    assert "" in STEMS.terms("the city's") and "" not in STEMS.searchable("it's the city's")
    wanted = STEMS.searchable("mayor's strike cafe zurich study day")
    marked = [text[a:b] for a, b in STEMS.marks(text, wanted)]
    assert marked == ["mayor", "strikes", "Striking", "café", "Zürich", "studies", "STUDIED", "days"]
    assert STEMS.marks(text, ["", "mayor"]) == STEMS.marks(text, ["mayor"])  # never the "s" of "'s"


def test_ties_go_to_the_lower_chunk_id(tmp_path):
    lexicon = _lexicon(tmp_path, ["harbor strike"] * 600)
    assert lexicon.top(["strike"], 5)[0].tolist() == [0, 1, 2, 3, 4]


def test_empty_index(tmp_path):
    lexicon = _lexicon(tmp_path, [])
    assert lexicon.top(["strike"], 5)[0].tolist() == []
    assert lexicon.scores(["strike"], []).tolist() == []
