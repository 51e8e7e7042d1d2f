"""Calibrate same-event grouping: pairwise precision/recall of story groups against labelled groups.

Usage: python benchmarks/story_thresholds.py [INDEX_DIR] [LABELS_JSON]
(defaults: the project's index/ built from index/sample, and benchmarks/sample_stories.json)

Labels list groups of article titles that report one event; every other pair is a different event.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from semsearch.embedding import MODEL_NAME
from semsearch.index import Index
from semsearch.stories import StoryRules, group_stories

HERE = Path(__file__).parent


def main(index_dir: Path, labels_path: Path) -> None:
    index = Index(index_dir, MODEL_NAME)
    rows = list(
        index.db.execute(
            "SELECT a.id, a.title, a.text, a.published, a.outlet, MIN(c.id) FROM articles a JOIN chunks c "
            "ON c.article_id = a.id GROUP BY a.id ORDER BY a.id"
        )
    )
    ids, titles, texts, dates, outlets = ([r[i] for r in rows] for i in range(5))
    leads = index.chunk_vectors([r[5] for r in rows])
    label = {t: g for g, group in enumerate(json.loads(labels_path.read_text())) for t in group}
    truth = {
        (i, j)
        for i, j in itertools.combinations(range(len(rows)), 2)
        if titles[i] in label and label.get(titles[i]) == label.get(titles[j])
    }
    sims = leads @ leads.T
    same = [float(sims[i, j]) for i, j in truth]
    print(
        f"{len(rows)} articles, {len(truth)} labelled same-event pairs; "
        f"their lead cosine: min {min(same):.3f}, mean {np.mean(same):.3f}"
    )
    print(f"{'threshold':>9} {'window':>6} {'pairs':>5} {'precision':>9} {'recall':>6}")
    for threshold in (0.65, 0.70, 0.72, 0.74, 0.76, 0.78, 0.80, 0.85):
        for window in (1, 3, 7):
            stories = group_stories(ids, texts, leads, dates, StoryRules(threshold, window), outlets=outlets)
            found = {(i, j) for i, j in itertools.combinations(range(len(rows)), 2) if stories[i] == stories[j]}
            precision = len(found & truth) / len(found) if found else 1.0
            recall = len(found & truth) / len(truth)
            print(f"{threshold:9.2f} {window:6d} {len(found):5d} {precision:9.2f} {recall:6.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "index", type=Path, nargs="?", default=HERE.parent / "index", help="index home (default: the project's index/)"
    )
    parser.add_argument(
        "labels",
        type=Path,
        nargs="?",
        default=HERE / "sample_stories.json",
        help="labelled groups (default: benchmarks/sample_stories.json)",
    )
    args = parser.parse_args()
    main(args.index, args.labels)
