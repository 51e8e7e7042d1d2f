"""Synonyms in the writer check: a word of like meaning counts as stated, an opposite, a name or a negation never.

The sentences are written for these tests (not from the labelled set)."""

from __future__ import annotations

import numpy as np
import pytest

from semsearch.answer import SupportCheck
from semsearch.answer.related import ContextVectors, Synonyms
from semsearch.config import Settings
from semsearch.embedding import get_embedder
from semsearch.evaluation.answer import judge_labelled, load_labelled

from .test_answer_check import LABELLED

DEFAULT = Settings.model_fields["llm_synonym_similarity"].default  # chosen on the tune half (docs/quality.md)
INJURED = "Four climbers were injured when the ice bridge gave way."
HURT = "Four climbers were hurt when the ice bridge collapsed."


class SameVectorForEveryWord:
    """A fake for the model: every word gets one vector, so only the guards can keep a word uncovered."""

    def vectors(self, text: str) -> dict[str, np.ndarray]:
        return {w.lower(): np.ones(1) for w in text.split()}


@pytest.fixture(scope="module")
def synonyms() -> Synonyms:
    return Synonyms(ContextVectors(get_embedder()), DEFAULT)


@pytest.mark.model
def test_a_synonym_the_evidence_does_not_use_counts_as_stated(synonyms):
    assert synonyms.restated(["hurt"], HURT, INJURED) == {"hurt"}
    assert SupportCheck(0.8).judge(HURT, INJURED).problem is not None
    assert SupportCheck(0.8, synonyms).judge(HURT, INJURED).problem is None


@pytest.mark.model
@pytest.mark.parametrize(
    ("word", "sentence", "evidence"),
    [
        (
            "fell",
            "Ferry bookings fell sharply over the holiday weekend.",
            "Ferry bookings rose sharply over the holiday weekend.",
        ),
        (
            "rejected",
            "The harbour board rejected the tender for the pier.",
            "The harbour board accepted the tender for the pier.",
        ),
    ],
)
def test_an_opposite_is_never_a_synonym(synonyms, word, sentence, evidence):
    assert synonyms.restated([word], sentence, evidence) == set()
    assert SupportCheck(0.8, synonyms).judge(sentence, evidence).problem is not None


@pytest.mark.model
def test_a_changed_name_is_never_a_synonym(synonyms):
    sentence, evidence = "Skipper Olav Brenn steered the trawler home.", "Skipper Olaf Brenn steered the trawler home."
    assert synonyms.restated(["olav"], sentence, evidence) == set()
    assert "olav" in (SupportCheck(0.8, synonyms).judge(sentence, evidence).problem or "")


def test_the_guards_hold_even_where_every_word_looks_alike():
    alike = Synonyms(SameVectorForEveryWord(), 0.99)  # type: ignore[arg-type]
    assert alike.restated(["fell"], "they fell", "they rose") == set()
    assert alike.restated(["not"], "prices did not move", "prices did move") == set()
    assert alike.restated(["olav"], "Olav spoke", "Olaf spoke") == set()
    assert alike.restated(["grew"], "they grew", "they rose") == {"grew"}


@pytest.mark.model
def test_on_the_tune_half_the_default_synonyms_keep_more_and_drop_as_many(synonyms):
    items = [i for i in load_labelled(LABELLED) if i.half == "tune"]

    def kept(check: SupportCheck, supported: bool) -> int:
        return sum(j.kept for j in judge_labelled(check, items) if j.item.supported == supported)

    plain, similar = SupportCheck(0.8), SupportCheck(0.8, synonyms)
    assert kept(similar, True) > kept(plain, True)
    assert kept(similar, False) <= kept(plain, False)
