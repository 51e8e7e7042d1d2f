"""Precision and recall of "where outlets disagree" on labelled sentence pairs, and every alarm on an index.

Usage: python benchmarks/discrepancy_cases.py [INDEX_HOME]
The pairs below are written for this check (own words): each states one fact as two outlets might, labelled
True when they disagree on a figure, date or name, False when they agree, reword, or one adds a detail. With an
index home, also lists every discrepancy its stories' timelines show, for labelling by hand.
"""

from __future__ import annotations

import argparse

import numpy as np

from semsearch.config import Settings
from semsearch.discrepancies import SAME_FACT_COSINE, difference
from semsearch.embedding import get_embedder
from semsearch.service import SearchService

CASES = [
    (
        "About 2,300 dockworkers walked off the job on Monday.",
        "About 2,000 dockworkers walked off the job on Monday.",
        True,
    ),
    (
        "The operator plans 14 automated cranes at Terminal 4.",
        "The operator plans 12 automated cranes at Terminal 4.",
        True,
    ),
    ("The fire destroyed 340 hectares of forest.", "The blaze burned through some 430 hectares of woodland.", True),
    ("The council approved the charge by 31 votes to 14.", "Councillors backed the charge 29 votes to 16.", True),
    ("Inflation slowed to 2.6 percent in March.", "Annual inflation eased to 2.8 percent in March.", True),
    ("The bridge will reopen on Monday.", "The bridge is due to reopen on Thursday.", True),
    ("The painting was found in March.", "The painting was recovered in April.", True),
    ("Mediator Helena Brask led nine days of talks.", "Mediator Helena Lund led nine days of talks.", True),
    ("Chief executive Martin Sallow announced the cuts.", "Chief executive Martin Vale announced the cuts.", True),
    ("Brightloom will cut 1,150 jobs by the end of the year.", "Brightloom is to shed 1,500 jobs by year end.", True),
    (
        "About 2,300 dockworkers walked off the job on Monday.",
        "Some 2,300 members of the union began a strike on Monday.",
        False,
    ),
    ("The operator plans 14 automated cranes.", "The operator plans 14 automated cranes, costing 400 jobs.", False),
    ("The fire destroyed 340 hectares of forest.", "Firefighters said 340 hectares had burned by Sunday.", False),
    ("Inflation slowed to 2.6 percent in March.", "Prices rose 2.6 percent in the year to March.", False),
    ("The walkout started at 6 a.m.", "Picket lines formed before dawn.", False),
    ("Rosa Kettering said the union would not back down.", "Union leader Rosa Kettering vowed to fight on.", False),
    (
        "Thirty-eight ships were at anchor on Wednesday.",
        "Eleven ships were waiting at anchor by Tuesday afternoon.",
        False,
    ),
    ("The council approved the charge by 31 votes to 14.", "The measure passed by 31 votes to 14 on Tuesday.", False),
    ("Labour Minister Tobias Wren offered a mediator.", "The government was ready to appoint a mediator.", False),
    (
        "The library reopened on Saturday after two years.",
        "Readers returned to the central library on Saturday.",
        False,
    ),
    (
        "The port handles 1.8 million containers a year.",
        "The port moves about 1.8 million containers each year.",
        False,
    ),
    ("Varga won the mayoralty with 52 percent.", "Turnout in the mayoral election was 41 percent.", False),
]


def cases() -> None:
    embedder = get_embedder(settings=Settings())
    first = embedder.encode([a for a, _, _ in CASES])
    second = embedder.encode([b for _, b, _ in CASES])
    cosine = np.sum(first * second, axis=1)
    flagged = [bool(c >= SAME_FACT_COSINE and difference(a, b)) for (a, b, _), c in zip(CASES, cosine, strict=True)]
    truth = [label for _, _, label in CASES]
    tp = sum(f and t for f, t in zip(flagged, truth, strict=True))
    fp = sum(f and not t for f, t in zip(flagged, truth, strict=True))
    print(
        f"written pairs: {sum(truth)} true, {len(truth) - sum(truth)} false; flagged {sum(flagged)}: "
        f"TP {tp} FP {fp}; precision {tp / max(tp + fp, 1):.2f} recall {tp / sum(truth):.2f}"
    )
    for (a, b, t), c, f in zip(CASES, cosine, flagged, strict=True):
        if f != t:
            print(f"  {'missed' if t else 'false alarm'} (cos {c:.2f}): {a!r} / {b!r}")


def alarms(home: str) -> None:
    service = SearchService(Settings(index_dir=home))
    stories = {
        m.story_id for members in service.index.stories_of(service.index.article_ids()).values() for m in members
    }
    shown = 0
    for story in sorted(stories):
        timeline = service.story(story)
        for d in timeline.discrepancies:
            shown += 1
            print(f"  {d.kind} {d.differs}: {d.first.outlet}: {d.first.text!r} / {d.second.outlet}: {d.second.text!r}")
    print(f"{len(stories)} stories, {shown} discrepancies shown")


def main() -> None:
    """The written pairs' table, then, given an index home, every discrepancy shown across its stories."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", nargs="?", help="an index home whose stories are checked for false alarms")
    args = parser.parse_args()
    cases()
    if args.index:
        alarms(args.index)


if __name__ == "__main__":
    main()
