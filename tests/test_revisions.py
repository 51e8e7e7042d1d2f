"""Which article an edited one became: pairing gone articles with new ones, and carrying earlier pairs."""

from __future__ import annotations

from semsearch.revisions import Version, current_ids, shared, successors

STRIKE = (
    "Dockworkers at Port Alder walked out on Monday over the planned automation of Terminal 4. "
    "The union said some 2,300 members had joined the strike, and container traffic came to a standstill."
)


def version(id: str, title: str, path: str, text: str = STRIKE, url: str | None = None, rail: str | None = None):
    return Version(id, title, text, url, path, rail)


def test_the_same_url_pairs_across_files_and_titles():
    gone = [version("a", "Port strike begins", "feed.xml#1", url="https://news.example/strike")]
    fresh = [version("b", "Port strike enters day two", "export.json#4", "Other words.", "https://news.example/strike")]
    assert successors(gone, fresh, shared_urls=set()) == {"a": "b"}
    # a url that names several articles (a live page, a homepage) pairs nothing
    assert successors(gone, fresh, shared_urls={"https://news.example/strike"}) == {}
    assert shared(["u", "v", None, "u", None]) == {"u"}


def test_an_edit_keeps_most_of_the_text_and_a_rotated_feed_item_does_not():
    edited = STRIKE.replace("2,300", "2,400")
    lanes = "The council approved new cycle lanes on the ring road."
    gone = [version("a", "Port strike", "feed.xml#1"), version("c", "Cycle lanes", "feed.xml#2", lanes)]
    fresh = [
        version("b", "Port strike", "feed.xml#1", edited),
        version("d", "Storm cuts power to 5,000 homes", "feed.xml#3", "Power was cut to 5,000 homes overnight."),
    ]
    assert successors(gone, fresh, shared_urls=set()) == {"a": "b"}
    # the only item left on each side of a feed is still no edit when the texts differ
    assert successors(gone[1:], fresh[1:], shared_urls=set()) == {}


def test_a_recurring_title_pairs_only_what_is_alike():
    briefing = "Morning briefing: the markets opened lower and the central bank meets on Thursday."
    gone = [version("a", "Morning briefing", "feed.xml#1", briefing)]
    fresh = [
        version("b", "Morning briefing", "feed.xml#1", "Morning briefing: a ferry ran aground near the harbour."),
        version("c", "Port strike", "feed.xml#2", STRIKE),
    ]
    assert successors(gone, fresh, shared_urls=set()) == {}


def test_a_file_of_one_article_holds_it_edited_whatever_the_change():
    gone = [version("a", "Concert review", "reviews/concert.txt", "The orchestra played to a full house.")]
    fresh = [version("b", "Concert review", "reviews/concert.txt", "A packed hall heard the orchestra on Sunday.")]
    assert successors(gone, fresh, shared_urls=set()) == {"a": "b"}


def test_different_urls_and_rail_pieces_never_pair_with_other_kinds():
    gone = [version("a", "Port strike", "feed.xml#1", url="https://news.example/one")]
    fresh = [version("b", "Port strike", "feed.xml#1", url="https://news.example/two")]
    assert successors(gone, fresh, shared_urls=set()) == {}
    gone = [version("a", "Port strike", "page.html", rail="page.html")]
    fresh = [version("b", "Port strike", "page.html")]
    assert successors(gone, fresh, shared_urls=set()) == {}


def test_earlier_pairs_follow_later_edits_and_an_undone_edit_is_its_own_version():
    # served: a was edited into b; this build edits b into c
    assert current_ids({"a": "b"}, {"b": "c"}, present={"c"}) == {"a": "c", "b": "c"}
    # this build undoes the edit: a is back, and b now leads to it
    assert current_ids({"a": "b"}, {"b": "a"}, present={"a"}) == {"b": "a"}
    # b is missing from this build (its feed was down): the pair stays for when it comes back
    assert current_ids({"a": "b"}, {}, present={"x"}) == {"a": "b"}
