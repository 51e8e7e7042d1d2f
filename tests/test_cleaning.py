"""Boilerplate detection on plain-text page scrapes, with pages written for these tests."""

from __future__ import annotations

import json
import re

from semsearch.ingest.boilerplate import Kind, article_lines, card_runs, classify, settle
from semsearch.ingest.cleaning import Cleaner

BODY = [
    "The council of Marrowby voted on Tuesday to turn the disused tram depot into a covered market for local growers.",
    "Councillor Petra Lind said the building had stood empty for eleven years and cost the town money every winter.",
    "Work starts in March.",
    "Traders will pay a reduced rent for the first two years, and the market will open on three days a week.",
    "Residents who live near the depot asked for limits on delivery hours, which the council agreed to consider.",
]
MENU = ["Home", "News", "Sport", "Weather", "Local Politics", "Sign in", "Search"]
FOOTER = ["Share", "Tags", "Marrowby", "Markets", "Contact us", "www.marrowby-gazette.example/about"]
STORY_LIST = [
    "Most read",
    "Ferry Timetable Changes For Summer Season",
    "Gazette Writer",
    "Two Schools Merge After Long Consultation",
    "Gazette Writer",
    "New Cycle Lane Opens On Harbour Road",
]


def kept(lines: list[str]) -> list[str]:
    cleaner = Cleaner()
    text = cleaner.clean("Tram depot to become a market", "\n".join(lines), "page.txt")[0].text
    return text.split("\n\n")


def test_the_article_is_the_run_of_prose_between_menus_and_story_lists():
    assert kept([*MENU, "By Ada Croft", "12 May", *BODY, *FOOTER, *STORY_LIST]) == BODY


def test_a_short_line_between_prose_lines_stays_and_one_beside_furniture_goes():
    keep = article_lines(["Local News", *BODY, "Share"], [False] * 6 + [True])
    assert keep == [False, True, True, True, True, True, False]
    assert classify("Work starts in March.", marked=False) is Kind.SHORT


def test_a_long_run_of_labels_between_prose_lines_is_cut():
    lines = [BODY[0], "Politics", "Markets", "Transport", "Planning", BODY[1]]
    kinds = settle(lines, [classify(line, marked=False) for line in lines])
    assert kinds == [Kind.GOOD, Kind.BAD, Kind.BAD, Kind.BAD, Kind.BAD, Kind.GOOD]


def test_a_clean_article_with_a_list_of_names_keeps_every_line():
    lines = [BODY[0], "Best Actor: Tomas Wren (The Lantern Keeper)", "Best Film: Salt And Iron", BODY[1]]
    assert article_lines(lines, [False] * 4) == [True] * 4


def test_a_related_heading_inside_the_article_does_not_cut_it():
    page = MENU + BODY[:2] + ["Related stories", "Harbour Dues Rise Again"] + BODY[2:] + FOOTER
    text = "\n\n".join(kept(page))
    for paragraph in BODY:
        assert paragraph in text


def test_a_page_without_prose_keeps_its_fullest_lines():
    table = [
        "first round: 10 March at the airfield circuit, practice on the day before",
        "second round: 7 April on the coast road, to be confirmed by the organisers",
        "third round: 21 April at the airfield circuit again, with the night race",
    ]
    assert kept(MENU + table + FOOTER) == table


def test_the_classifier_works_without_the_phrase_list():
    cleaner = Cleaner(phrases=re.compile(r"(?!x)x"))  # a pattern that matches nothing
    page = [*MENU, "Home › Local › Marrowby", *BODY, *STORY_LIST]
    assert cleaner.clean("Tram depot", "\n".join(page), "page.txt")[0].text.split("\n\n") == BODY


RESULTS_TABLE = [
    "Pos",
    "Rider",
    "Points",
    "1",
    "Ines Varga",
    "212",
    "2",
    "Tomas Wren",
    "198",
    "3",
    "Olek Brandt",
    "176",
]


BEFORE_TABLE = [
    "Ines Varga won the Marrowby hill climb on Sunday, taking the lead on the second run and holding it through a "
    "final climb that was slowed by rain.",
    "The race drew the largest field in its history, with riders coming from four counties and two clubs entering "
    "a full team for the first time.",
]
AFTER_TABLE = [
    "Varga said the last bend had been wet all afternoon and that she had braked far earlier there than she had in "
    "practice on Saturday.",
    "The next round is on the coast road in April, where Wren won last year by less than a second on a bike he has "
    "since sold to a club in the north.",
]


def test_a_table_between_two_parts_of_the_article_is_kept():
    page = MENU + BEFORE_TABLE + RESULTS_TABLE + AFTER_TABLE + FOOTER + STORY_LIST
    assert kept(page) == BEFORE_TABLE + RESULTS_TABLE + AFTER_TABLE


def test_a_table_after_the_headline_wins_over_a_sidebars_prose():
    sidebar = [
        "Listen to the weekly podcast, where our two presenters talk over every race of the season in depth.",
        "Watch the highlights",
        "Every race of the season is on the video page, with the best overtakes picked out for you by our editors.",
    ]
    page = [*MENU, "Marrowby hill climb standings", "Share", *RESULTS_TABLE, "Share", "Tags", *sidebar]
    cleaner = Cleaner()
    text = cleaner.clean("Marrowby hill climb standings | Gazette", "\n".join(page), "page.txt")[0].text
    assert text.split("\n\n") == RESULTS_TABLE


def test_numbers_repeated_across_pages_are_not_learned_as_furniture():
    pages = [f"Story {n}\nShare\n0\n1\n2019" for n in range(6)]
    cleaner = Cleaner.for_corpus(pages)
    assert "share" in cleaner.common_lines
    assert not {"0", "1", "2019"} & cleaner.common_lines


def test_a_sentence_in_a_script_without_spaces_counts_as_one():
    from semsearch.ingest.boilerplate import is_sentence

    assert is_sentence("市場は火曜日に開かれた。")
    assert not is_sentence("市場のニュース")


HEADLINE = "Tram depot to become a market | Marrowby Gazette"
OTHER_STORIES = [
    "Ferry Timetable Changes For Summer Season",
    "Ola Brandt",
    "Tuesday 14 May",
    "The harbour company will run two extra crossings on weekdays from June, after a busy spring left "
    "long queues of cars and vans on the quay.",
    "Two Schools Merge After Long Consultation",
    "Ines Varga",
    "Tuesday 14 May",
    "Parents backed the plan by a narrow margin, and the combined school will open in the old grammar "
    "building in the autumn term.",
    "New Cycle Lane Opens On Harbour Road",
    "Tomas Wren",
    "Monday 13 May",
    "Riders now have a separate lane along the whole seafront, which the county says will cut accidents "
    "at the busy junction.",
    "Library Extends Its Opening Hours",
    "Ola Brandt",
    "Monday 13 May",
    "The reading room will stay open until nine on Thursdays, with volunteers from the local history "
    "society staffing the desk.",
]


def kept_under(title: str, lines: list[str]) -> list[str]:
    return Cleaner().clean(title, "\n".join(lines), "page.txt")[0].text.split("\n\n")


def test_a_list_of_other_stories_laid_out_as_cards_is_not_the_article():
    page = [*MENU, "Tram depot to become a market", *BODY, "Share", "More from the Gazette", *OTHER_STORIES, *FOOTER]
    assert kept_under(HEADLINE, page) == BODY


def test_cards_that_speak_of_the_headlines_subject_are_the_article():
    cards = [
        "When will the market open?",
        "The depot market opens in the spring, once the roof over the old tram sheds has been repaired and "
        "inspected by the county.",
        "Who can trade at the market?",
        "Any grower from the district can apply for a stall at the depot, and the first year's rent at the "
        "market is reduced by half.",
        "What happens to the tram depot's old rails?",
        "The rails stay in the floor of the depot as a reminder of the trams, covered by thick glass panels "
        "near the entrance hall.",
    ]
    page = [*MENU, "Tram depot market: what we know", *cards, *FOOTER]
    assert card_runs([classify(line, marked=False) for line in page]) == [range(len(MENU) + 1, len(MENU) + 7)]
    assert kept_under("Tram depot market: what we know | Marrowby Gazette", page) == cards


def test_an_article_below_a_rail_of_other_stories_starts_at_its_headline():
    rail = [line for line in OTHER_STORIES if len(line) > 80]
    article = BEFORE_TABLE + AFTER_TABLE
    page = [*MENU, *rail, "Latest", "Varga wins the Marrowby hill climb", "By Ada Croft", *article, *FOOTER]
    assert kept_under("Varga wins the Marrowby hill climb - Gazette", page) == article


def test_a_numbered_list_the_article_begins_is_kept_to_its_last_item():
    intro = "The market's first traders were chosen by lot on Friday, and the council published the list of stalls:"
    items = ["1) Orchard Fruit From Kell Farm", "2) Cheeses Of The Upper Valley", "3) Honey And Wax From Brandt Hives"]
    page = [*MENU, BODY[0], intro, *items, "Share", "Tags", *STORY_LIST]
    assert kept_under(HEADLINE, page) == [BODY[0], intro, *items]


def test_a_trail_of_links_is_navigation_even_when_it_ends_like_a_sentence():
    from semsearch.ingest.boilerplate import is_link_like

    assert is_link_like("Home » Local news » Tram depot to become a…")
    assert not is_link_like("The depot, he said, is ready.")


def test_an_export_s_one_paragraph_story_holding_separators_is_kept(tmp_path):
    """A JSON story is one line; separators inside its prose make no menu of it (and lose no article)."""
    from semsearch.ingest import ingest
    from semsearch.ingest.boilerplate import is_link_like

    story = (
        "Ferry crews at Brindle Quay stopped work on Monday over night-shift pay. They say the operator has ignored "
        "their letters for a year. Their placards read Pay | Safety | Respect."
    )
    (tmp_path / "crews.jsonl").write_text(json.dumps({"title": "Ferry crews stop work", "text": story}) + "\n")
    result = ingest([tmp_path])
    assert [a.text for a in result.articles] == [story] and result.skipped == []
    assert is_link_like("Home | News | Sport | Weather | Terms of use")


def test_a_long_paragraph_without_a_final_stop_that_follows_prose_is_kept():
    unfinished = (
        "The council will publish the stall rents on its website next week, and the first review of the prices is due "
        "in the summer of 2026"
    )
    page = [*MENU, *BEFORE_TABLE, unfinished, *FOOTER]
    assert kept_under(HEADLINE, page) == [*BEFORE_TABLE, unfinished]


def test_a_subheading_that_repeats_the_headline_does_not_cut_the_article():
    article = [BEFORE_TABLE[0], "How Varga won the Marrowby hill climb", BEFORE_TABLE[1], *AFTER_TABLE]
    page = [*MENU, *article, *FOOTER]
    assert kept_under("Varga wins the Marrowby hill climb - Gazette", page) == article


def test_a_bar_the_page_repeats_under_each_paragraph_is_furniture():
    bar = "Share on Facebook Share on Twitter Share by email Print this page"
    page = [*MENU, BEFORE_TABLE[0], bar, BEFORE_TABLE[1], bar, *FOOTER]
    assert kept_under("Varga wins the Marrowby hill climb - Gazette", page) == BEFORE_TABLE


def test_on_a_page_without_prose_the_table_under_the_headline_is_the_article():
    rounds = [f"Round {n}: {day} – {place}" for n, (day, place) in enumerate(CALENDAR, start=1)]
    notes = [
        "* Dates of the hill climb may change when the airfield is needed for other events",
        "* Published by the club after its annual meeting in January",
    ]
    page = [*MENU, "Marrowby hill climb calendar 2026", *rounds, *notes, "Share", "Tags", *STORY_LIST]
    assert kept_under("Marrowby hill climb calendar 2026 | Gazette", page) == rounds + notes


CALENDAR = [("10 March", "airfield"), ("7 April", "coast road"), ("21 April", "airfield"), ("5 May", "quarry lane")]
