"""Story grouping rules on synthetic lead vectors (the grouping itself, not the model, is under test)."""

from __future__ import annotations

import numpy as np

from semsearch.stories import StoryRules, group_stories


def leads_with_cosine(cosine: float) -> np.ndarray:
    """Two unit vectors whose cosine is exactly the given one."""
    return np.array([[1.0, 0.0], [cosine, np.sqrt(1 - cosine**2)]], dtype=np.float32)


def grouped(cosine: float, published: list[str | None], outlets: list[str | None]) -> bool:
    texts = ["The council approved the harbour budget on Monday.", "Ferry fares will rise in May, the operator said."]
    stories = group_stories(["a", "b"], texts, leads_with_cosine(cosine), published, StoryRules(), outlets=outlets)
    return stories[0] == stories[1]


def test_two_outlets_reporting_one_event_are_one_story_with_or_without_dates():
    assert grouped(0.8, ["2025-03-04", "2025-03-05"], ["Ledger", "Tribune"])
    assert grouped(0.8, [None, None], ["Ledger", "Tribune"])
    assert not grouped(0.8, ["2025-03-04", "2025-03-20"], ["Ledger", "Tribune"])  # a follow-up weeks later


def test_one_outlets_undated_articles_must_be_closer_to_be_one_story():
    # Without dates nothing keeps an outlet's follow-ups apart, so a close lead is not enough.
    assert not grouped(0.8, [None, None], ["Ledger", "Ledger"])
    assert not grouped(0.8, [None, None], [None, None])
    assert grouped(0.9, [None, None], [None, None])
    assert grouped(0.8, ["2025-03-04", "2025-03-04"], ["Ledger", "Ledger"])  # dated, within the window
