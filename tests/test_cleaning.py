"""Boilerplate detection on plain-text page scrapes, with pages written for these tests."""

from __future__ import annotations

import re

from semsearch.ingest.boilerplate import Kind, article_lines, classify, settle
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
