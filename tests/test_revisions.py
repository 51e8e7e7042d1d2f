"""Which article an edited one became: pairing gone articles with new ones, and carrying earlier pairs."""

from __future__ import annotations

from dataclasses import dataclass

from semsearch.revisions import current_ids, successors


@dataclass(frozen=True)
class Version:
    id: str
    title: str
    source_path: str
    url: str | None = None


def test_the_same_url_pairs_across_files_and_titles():
    gone = [Version("a", "Port strike begins", "feed.xml#1", "https://news.example/strike")]
    fresh = [Version("b", "Port strike enters day two", "export.json#4", "https://news.example/strike")]
    assert successors(gone, fresh) == {"a": "b"}


def test_the_same_title_pairs_within_one_file_only():
    gone = [Version("a", "Rates held", "export.json#1"), Version("c", "Ferry report", "export.json#2")]
    fresh = [Version("b", "Rates held", "export.json#1"), Version("d", "Rates held", "other.json")]
    # "Ferry report" went with no new article of its file left to take its place
    assert successors(gone, fresh) == {"a": "b"}


def test_the_only_article_left_on_each_side_of_a_file_pairs():
    gone = [Version("a", "Heatwave strains grid", "scrape.txt")]
    fresh = [Version("b", "Heatwave strains the grid", "scrape.txt"), Version("c", "New story", "new.txt")]
    assert successors(gone, fresh) == {"a": "b"}


def test_a_key_that_names_several_articles_pairs_none_of_them():
    gone = [Version("a", "Briefing", "export.json#1"), Version("c", "Briefing", "export.json#2")]
    fresh = [Version("b", "Briefing", "export.json#1"), Version("d", "Briefing", "export.json#2")]
    assert successors(gone, fresh) == {}
    shared_url = "https://news.example/live"
    gone = [Version("a", "Live: day one", "x.json", shared_url)]
    fresh = [Version("b", "Live: day two", "y.json", shared_url), Version("d", "Live: day three", "z.json", shared_url)]
    assert successors(gone, fresh) == {}


def test_earlier_pairs_follow_later_edits_and_an_undone_edit_is_its_own_version():
    # served: a was edited into b; this build edits b into c
    assert current_ids({"a": "b"}, {"b": "c"}, present={"c"}) == {"a": "c", "b": "c"}
    # this build undoes the edit: a is back, and b now leads to it
    assert current_ids({"a": "b"}, {"b": "a"}, present={"a"}) == {"b": "a"}
    # b was deleted, not edited: a has no current version any more
    assert current_ids({"a": "b"}, {}, present={"x"}) == {}
