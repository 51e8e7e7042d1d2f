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


REPORT = (
    "The national unemployment rate rose to {rate} percent in {month}, the statistics office said on Friday. "
    "Economists had expected the rate to hold steady, and the office said hiring in construction and retail "
    "slowed for a third month while manufacturing payrolls were little changed over the period."
)


def stories_of_texts(texts: list[str], published: list[str]) -> list[str]:
    apart = np.eye(len(texts), dtype=np.float32)  # leads far apart: only the texts can group them
    return group_stories([f"a{i}" for i in range(len(texts))], texts, apart, published, StoryRules())


def test_a_monthly_report_from_one_template_is_a_story_each_month_but_a_reprint_joins_its_story():
    months = [("5.1", "January"), ("5.3", "February"), ("5.4", "March")]
    texts = [REPORT.format(rate=rate, month=month) for rate, month in months]
    monthly = stories_of_texts(texts, ["2025-02-07", "2025-03-07", "2025-04-04"])
    assert len(set(monthly)) == 3
    longer = texts[0] + " A survey in the autumn had put the rate at 4.9 percent."  # a reprint with a paragraph more
    reprint = stories_of_texts([texts[0], longer, texts[1]], ["2025-02-07", "2025-09-01", "2025-02-08"])
    assert reprint[0] == reprint[1]  # the same text months later: a reprint of that story
    assert reprint[2] == reprint[0]  # another month's figures, but within the window: one story
