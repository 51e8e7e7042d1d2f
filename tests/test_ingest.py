"""Readers and cleaning on fixture files written for these tests."""

from __future__ import annotations

import codecs
import json
import logging
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

from semsearch.build import build, update
from semsearch.config import Settings
from semsearch.embedding import MODEL_NAME
from semsearch.index import Index
from semsearch.ingest import ingest
from semsearch.ingest.cleaning import Cleaner, dateline_date, is_prose, parse_date
from semsearch.ingest.readers import SkipSource, decode_bytes, html_fragment_to_text

from .conftest import CORPUS
from .reading import read_raw


@pytest.fixture(scope="module")
def result():
    return ingest([CORPUS])


def by_title(result, fragment: str):
    matches = [a for a in result.articles if fragment.lower() in a.title.lower()]
    assert len(matches) == 1, [a.title for a in result.articles]
    return matches[0]


def test_bad_files_are_skipped_with_reasons(result):
    reasons = {Path(s.source).name: s.reason for s in result.skipped}
    assert reasons["broken.txt"].startswith("binary")
    assert reasons["empty.txt"] == "empty file"
    assert "malformed JSON line 3" in reasons["wire.jsonl:3"]
    # and the good lines around the malformed one are kept
    by_title(result, "Central bank holds rate")
    by_title(result, "Security researcher")


def test_text_title_is_first_line_and_latin1_is_decoded(result):
    cafe = by_title(result, "terrace tax")
    assert cafe.title.startswith("Café owners in Sainte-Aurélie")
    assert "40 cafés" in cafe.text


def test_html_main_text_and_metadata(result):
    tribune = by_title(result, "strands ships")
    assert tribune.outlet == "Northgate Tribune"
    assert tribune.published == "2025-03-04"
    assert "cookies" not in tribune.text.lower()
    assert "Most read" not in tribune.text
    assert tribune.text.startswith("Fourteen cargo ships")


def test_json_field_aliases(result):
    cup = by_title(result, "Cup final")
    assert cup.outlet == "Riverside Herald" and cup.published == "2025-05-24"
    assert cup.text.startswith("Sixteen-year-old striker")


def test_csv_and_feed(result):
    mine = by_title(result, "Kestrel pit")
    assert mine.outlet == "Coastline Daily" and mine.url == "https://coastline.example/kestrel"
    heat = by_title(result, "Heatwave")
    assert heat.outlet == "Valley Wire" and heat.published == "2025-06-12"
    assert "\n\n" in heat.text  # feed paragraphs stay apart


def test_scraped_page_loses_junk_and_keeps_every_body_sentence(result):
    flood = by_title(result, "River Mell")
    for junk in (
        "Share",
        "Follow us",
        "Listen to this article",
        "min read",
        "Advertisement",
        "Comments",
        "newsletter",
        "Related Articles",
        "Photo pic",
        "Ferry",
        "Museum",
    ):
        assert junk not in flood.text
    for sentence in (
        "forcing about 900 residents of Lowbridge to leave their homes.",
        "the town's sports hall was opened as a shelter.",
        "the fastest rise recorded in the town since 1968.",
        "to peak on Thursday afternoon.",
    ):
        assert sentence in flood.text
    assert flood.place == "Lowbridge" and flood.outlet == "Valley Wire"
    assert flood.published == "--04-09"  # the page says April 9 and nothing gives a year


def test_rail_stories_become_their_own_articles(result):
    ferry = by_title(result, "Ferry fares")
    museum = by_title(result, "Museum reopens")
    assert ferry.outlet == "Coastline Daily" and museum.outlet == "The Lantern"
    assert ferry.extracted_from.endswith("scraped_flood_page.txt")
    assert ferry.text.startswith("The island ferry operator Bluewake")


def test_dateline_in_first_line_moves_to_metadata(result):
    ledger = by_title(result, "walk out over automation")
    assert ledger.outlet == "Harbor Ledger" and ledger.place == "Port Calder"
    assert ledger.text.startswith("About 2,400 dockworkers")


def test_rails_can_be_dropped():
    found = ingest([CORPUS / "scraped_flood_page.txt"], Settings(rails="drop"))
    assert [a.title for a in found.articles] == ["River Mell bursts its banks, forcing 900 residents from homes"]


@pytest.mark.model
def test_another_outlets_word_for_word_copy_keeps_its_outlet(tmp_path):
    from semsearch.contract import SearchRequest
    from semsearch.service import SearchService

    story = {
        "title": "Mill reopens",
        "text": "The old paper mill in Ashby reopened on Monday with 140 jobs. "
        "Its new owner plans to hire 60 more by spring.",
    }
    lines = [
        dict(story, outlet="Finance Daily"),
        dict(story, outlet="Wire Service"),
        dict(story, outlet="Wire Service"),
    ]
    (tmp_path / "feed.jsonl").write_text("\n".join(json.dumps(line) for line in lines))
    found = ingest([tmp_path / "feed.jsonl"])
    assert sorted(a.outlet for a in found.articles) == ["Finance Daily", "Wire Service"] and found.duplicates == 1
    assert len({a.id for a in found.articles}) == 2

    settings = Settings(index_dir=tmp_path / "idx")
    build([tmp_path / "feed.jsonl"], settings)
    wire = SearchService(settings).search(SearchRequest(q="paper mill jobs", outlet=["Wire Service"], summary=False))
    assert [h.outlet for h in wire.results] == ["Wire Service"]
    assert [a.outlet for a in wire.results[0].also_reported_by] == ["Finance Daily"]


def test_a_copyright_year_is_not_a_publication_date(tmp_path):
    body = (
        "<article><h1>Bridge closes</h1><p>The old river bridge in Dunmore closed on Monday after inspectors "
        "found cracks in two of its piers.</p><p>The council said repairs could take until the autumn.</p>"
        "</article><footer>© 2023 Dunmore Gazette. All rights reserved.</footer>"
    )
    (tmp_path / "undated.html").write_text(f"<html><head><title>Bridge closes</title></head><body>{body}</body></html>")
    (tmp_path / "dated.html").write_text(
        '<html><head><title>Bridge closes</title><meta property="article:published_time" content="2025-04-02">'
        f"</head><body>{body.replace('Monday', 'Tuesday')}</body></html>"
    )
    published = {Path(a.source_path).name: a.published for a in ingest([tmp_path]).articles}
    assert published == {"undated.html": None, "dated.html": "2025-04-02"}


def test_exact_duplicates_are_stored_once(tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text((CORPUS / "harbor_strike_ledger.txt").read_text())
    found = ingest([tmp_path])
    assert len(found.articles) == 1 and found.duplicates == 1
    assert found.articles[0].duplicate_paths == [str(tmp_path / "b.txt")]


def test_large_files_unknown_types_and_outside_symlinks_are_skipped(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.txt").write_text("Title\n\n" + "word " * 1000)
    (src / "notes.docx").write_bytes(b"PK")
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret\n\nThis file lives outside the source folder.")
    (src / "link.txt").symlink_to(outside)
    docs, skipped = read_raw([src], Settings(max_file_mb=0.001))
    reasons = {Path(s.source).name: s.reason for s in skipped}
    assert "too large" in reasons["big.txt"]
    assert "unsupported" in reasons["notes.docx"]
    assert "outside" in reasons["link.txt"]
    assert docs == []


def test_decode_refuses_binary_and_empty():
    with pytest.raises(SkipSource):
        decode_bytes(b"   \n")
    with pytest.raises(SkipSource):
        decode_bytes(b"\x00\x01\x02abc")
    assert decode_bytes("naïve".encode("cp1252")) == "naïve"


def test_short_label_lines_are_junk_but_sentences_are_not():
    cleaner = Cleaner()
    assert cleaner.is_marked_junk("Share on Facebook")
    assert cleaner.is_marked_junk("Try Our AI Features")
    assert not is_prose("Top stories")  # a label at the page's edge: dropped there as no prose
    prose = "The mayor said the bridge would reopen on Friday, weeks ahead of schedule, after repairs to its deck."
    [page] = cleaner.clean("Bridge reopens", f"Share on Facebook\n{prose}\nTop stories\n", "page.txt")
    assert page.text == prose
    assert not cleaner.is_marked_junk("Prices rose.") and is_prose("Prices rose.")
    assert not cleaner.is_marked_junk("The mayor said the bridge would reopen on Friday, weeks ahead of schedule.")


def test_dates():
    assert dateline_date("May 15") == "--05-15"
    assert dateline_date("Sept. 3, 2024") == "2024-09-03"
    assert parse_date("Thu, 12 Jun 2025 09:15:00 GMT") == "2025-06-12"
    assert parse_date("2025-03-04T07:30:00Z") == "2025-03-04"
    assert parse_date("not a date") is None
    # ordinal days, a day-first dotted date, and a month with a year is no day
    assert parse_date("March 3rd, 2025") == parse_date("3rd March 2025") == "2025-03-03"
    assert parse_date("4.3.2025") == "2025-03-04" and parse_date("March 21st") == "--03-21"
    assert parse_date("May 2025") is None
    # a weekday before the date, a month-first date no day-first reading allows, a dotted ISO date
    assert parse_date("Tuesday, March 4, 2025") == "2025-03-04" and parse_date("03/14/2025") == "2025-03-14"
    assert parse_date("12/03/2025") == "2025-03-12" and parse_date("2025.08.19") == "2025-08-19"


def test_a_file_s_dates_in_figures_are_read_the_way_round_its_unambiguous_ones_show(tmp_path, caplog):
    header = "title,text,date\n"
    row = "Story {n},The council met on Monday and agreed the budget for next year in full.,{date}\n"

    def dates(name: str, *written: str) -> list[str | None]:
        path = tmp_path / name
        path.write_text(header + "".join(row.format(n=n, date=d) for n, d in enumerate(written)))
        docs, _ = read_raw([path], Settings())
        return [parse_date(d.published) for d in docs]

    assert dates("us.csv", "12/03/2025", "03/14/2025") == ["2025-12-03", "2025-03-14"]
    assert dates("eu.csv", "12/03/2025", "14/03/2025") == ["2025-03-12", "2025-03-14"]
    with caplog.at_level("WARNING", logger="semsearch.ingest"):
        assert dates("unsure.csv", "12/03/2025", "04/05/2025") == ["2025-03-12", "2025-05-04"]
    assert "unsure.csv: 2 date(s) such as 12/03/2025 could be day or month first" in caplog.text


def reasons_by_name(skipped) -> dict[str, str]:
    return {Path(s.source).name: s.reason for s in skipped}


@pytest.mark.model
def test_a_file_name_that_is_not_utf8_is_indexed_under_an_escaped_stable_path(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    odd = src / os.fsdecode(b"concert\xffreview.txt")
    odd.write_text("Concert review\n\nThe orchestra played to a full house on Saturday. Critics praised it.\n")
    (src / os.fsdecode(b"notes\xfe.docx")).write_bytes(b"PK")
    settings = Settings(index_dir=tmp_path / "idx")
    first = build([src], settings)  # SQLite refused the raw name, which stopped the whole build
    assert [s.source for s in first.skipped] == [f"{src}/notes\\xfe.docx"]
    index = Index(settings.index_dir, MODEL_NAME)
    assert {path for _, path in index.locators().values()} == {f"{src}/concert\\xffreview.txt"}
    odd.write_text("Concert review\n\nThe orchestra played to a packed hall on Sunday. Critics loved it.\n")
    again = update([], settings)
    # the same escaped path both times, so the edit counts as a change rather than a removal plus an addition
    assert (again.added, again.changed, again.removed) == (0, 1, 0)


def test_records_without_a_title_are_kept_and_named_by_their_first_sentence(tmp_path):
    (tmp_path / "feed.xml").write_text(
        "<rss><channel><title>Test Wire</title>"
        "<item><description>Volunteers handed out blankets at the arena on Monday. The Red Cross said 300 "
        "families had been helped. More supplies come on Tuesday.</description></item>"
        "<item><title></title><description>Police closed the main bridge on Wednesday. Engineers will "
        "inspect it this week.</description></item></channel></rss>"
    )
    (tmp_path / "feed.atom").write_text(
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Wire</title><entry>'
        "<summary>The ferry to the island resumed on Friday after the storm. Tickets sold out.</summary>"
        "</entry></feed>"
    )
    (tmp_path / "wire.jsonl").write_text(
        json.dumps({"text": "Farmers brought in a record apple crop this autumn. Cider makers expect a good year."})
        + "\n"
        + json.dumps({"body": "Library reopens after flood\n\nThe town library reopened on Monday. Readers queued."})
        + "\n"
        + json.dumps(
            {
                "text": "The regional council, meeting in an extraordinary session that ran late into the "
                "night, approved the long-delayed budget with a narrow majority of two votes. It passed."
            }
        )
    )
    (tmp_path / "rows.csv").write_text(
        'text,outlet\n"The harbour reopened on Friday after a storm. Ferries resumed their crossings.",Sud Wire\n'
    )
    found = ingest([tmp_path])
    assert found.skipped == []
    titles = {a.title: a for a in found.articles}
    for sentence in (
        "Volunteers handed out blankets at the arena on Monday.",
        "Police closed the main bridge on Wednesday.",
        "The ferry to the island resumed on Friday after the storm.",
        "Farmers brought in a record apple crop this autumn.",
        "The harbour reopened on Friday after a storm.",
    ):
        assert titles[sentence].text.startswith(sentence)  # the sentence stays in the text as well
    assert titles["The harbour reopened on Friday after a storm."].outlet == "Sud Wire"
    # a first line shaped like a headline still becomes the title and leaves the text
    assert titles["Library reopens after flood"].text == "The town library reopened on Monday. Readers queued."
    long = next(a for a in found.articles if a.text.startswith("The regional council"))
    assert long.title.endswith("…") and len(long.title) <= 120 and "council" in long.title


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_text_with_a_utf16_or_utf32_byte_order_mark_is_decoded(tmp_path, codec):
    def write(name: str, text: str) -> None:
        (tmp_path / name).write_bytes(("\ufeff" + text).encode(codec))

    write("note.txt", "Élection à Lille\n\nLes électeurs de Lille ont choisi un nouveau maire dimanche.\n")
    write("rows.csv", 'title,text\nPort rouvert,"Le port de Sète a rouvert vendredi après la tempête."\n')
    found = ingest([tmp_path])
    assert found.skipped == []
    assert {a.title: a.text for a in found.articles} == {
        "Élection à Lille": "Les électeurs de Lille ont choisi un nouveau maire dimanche.",
        "Port rouvert": "Le port de Sète a rouvert vendredi après la tempête.",
    }


def test_a_short_file_in_an_east_asian_legacy_encoding_is_read() -> None:
    """Too short for detection to be the first guess, and no Windows-1252 text: detection is asked after all."""
    story = "東京で新しい地下鉄路線が開業\n\n東京で新しい地下鉄路線が月曜日に開業し、多くの乗客が利用した。\n"
    assert decode_bytes(story.encode("shift_jis")) == story
    assert decode_bytes("Café owners said the déjà vu was real.".encode("cp1252")).startswith("Café")


def test_a_byte_order_mark_on_binary_is_still_refused():
    with pytest.raises(SkipSource, match="binary"):
        decode_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8\x41\x00")  # a high surrogate with no partner


CYRILLIC_PAGE = (
    "<html><head>{meta}<title>Новая станция метро</title></head><body><article><h1>Новая станция метро</h1>"
    "<p>В понедельник в городе открылась новая станция метро. Тысячи пассажиров проехали по новой линии "
    "в первый же день, а мэр пообещал построить ещё три станции до конца года.</p></article></body></html>"
)


@pytest.mark.parametrize(
    "meta",
    ['<meta charset="windows-1251">', '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'],
)
def test_a_declared_html_charset_is_honoured(tmp_path, meta):
    (tmp_path / "metro.html").write_bytes(CYRILLIC_PAGE.format(meta=meta).encode("cp1251"))
    [article] = ingest([tmp_path]).articles
    assert article.title == "Новая станция метро"
    assert article.text.startswith("В понедельник в городе открылась новая станция метро.")


def test_a_page_labelled_latin1_is_read_as_windows_1252_like_browsers_do():
    page = '<meta charset="iso-8859-1"><p>\u201cWe are ready,\u201d the caf\u00e9 owner said.</p>'.encode("cp1252")
    assert decode_bytes(page).endswith("<p>\u201cWe are ready,\u201d the caf\u00e9 owner said.</p>")


def test_a_feed_in_its_declared_encoding_is_not_decoded_twice(tmp_path):
    feed = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><title>Le Café</title><item>'
        "<title>Fête à Nîmes</title><description>La fête a réuni des milliers de personnes à Nîmes samedi. "
        "Les cafés étaient pleins.</description></item></channel></rss>"
    )
    (tmp_path / "fete.xml").write_bytes(feed.encode("latin-1"))
    [article] = ingest([tmp_path]).articles
    assert (article.outlet, article.title) == ("Le Café", "Fête à Nîmes")
    assert article.text.startswith("La fête a réuni")


def test_malformed_and_unsupported_urls_get_a_one_line_reason(caplog):
    docs, skipped = read_raw(["http://[::1", "ftp://files.example/news.xml"], Settings())
    assert docs == []
    assert [(s.source, s.reason.split(":")[0]) for s in skipped] == [
        ("http://[::1", "feed could not be fetched"),
        ("ftp://files.example/news.xml", "unsupported URL scheme 'ftp' (only http and https feeds are read)"),
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_server_that_does_not_speak_http_gets_a_one_line_reason(caplog):
    with socket.create_server(("127.0.0.1", 0)) as server:

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"no status line here\r\n\r\n")

        threading.Thread(target=answer, daemon=True).start()
        _, [skip] = read_raw(
            [f"http://127.0.0.1:{server.getsockname()[1]}/feed.xml"], Settings(feed_allow_private=True)
        )
    assert skip.reason.startswith("feed could not be fetched")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_json_nested_too_deeply_skips_only_its_own_line(tmp_path, caplog):
    article = {"title": "Wing opens", "text": "The museum opened a new wing on Friday. Visitors praised it."}
    (tmp_path / "wire.jsonl").write_text("[" * 100_000 + "\n" + json.dumps(article) + "\n")
    (tmp_path / "deep.json").write_text("[" * 100_000)
    found = ingest([tmp_path])
    assert [a.title for a in found.articles] == ["Wing opens"]
    assert reasons_by_name(found.skipped) == {
        "deep.json": "JSON nested too deeply to read",
        "wire.jsonl:1": "line 1: JSON nested too deeply to read",
    }
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_json_fields_that_are_not_strings(tmp_path):
    lines = [
        {"title": ["Flood", "warning"], "text": ["The river rose two metres on Monday.", "Schools closed early."]},
        {"title": 1, "text": 12345},
        {"title": 7, "text": "The school board approved a new calendar on Tuesday. Parents had asked for it."},
    ]
    (tmp_path / "wire.jsonl").write_text("\n".join(json.dumps(line) for line in lines))
    found = ingest([tmp_path])
    by_line = {a.source_path.rsplit(":", 1)[1]: a for a in found.articles}
    assert by_line["1"].title == "Flood warning"
    assert by_line["1"].text == "The river rose two metres on Monday.\n\nSchools closed early."
    reason = "line 2: no text in a text field (text, body, content, articleBody, bodyText); fields: text, title"
    assert reasons_by_name(found.skipped) == {"wire.jsonl:2": reason}
    assert by_line["3"].title == "The school board approved a new calendar on Tuesday."  # a number is no title


def test_half_a_surrogate_pair_escaped_in_json_becomes_a_replacement_character(tmp_path):
    record = {"title": "Bridge \ud800 closed", "text": "Police closed the bridge on Wednesday. Engineers will look."}
    (tmp_path / "wire.jsonl").write_text(json.dumps(record))  # json writes it as the escape "\ud800"
    [article] = ingest([tmp_path]).articles  # Article ids hash UTF-8, which has no lone surrogates
    assert article.title == "Bridge \ufffd closed"


def test_html_entities_in_feeds_are_understood(tmp_path):
    (tmp_path / "feed.rss").write_text(
        "<rss><channel><title>Coast&nbsp;Wire</title><item><title>Storm&nbsp;hits coast</title>"
        "<description>A storm hit the coast on Monday &mdash; power was cut to 50,000 homes. Crews &amp; "
        "volunteers worked all night.</description></item><item><title>Harbour closes</title>"
        "<description><![CDATA[The harbour master&rsquo;s office closed the port on Tuesday. Boats stayed in.]]>"
        "</description></item></channel></rss>"
    )
    found = ingest([tmp_path])
    texts = {a.title: a.text for a in found.articles}
    assert texts["Storm hits coast"].startswith("A storm hit the coast on Monday — power was cut")
    assert "Crews & volunteers" in texts["Storm hits coast"]
    assert texts["Harbour closes"].startswith("The harbour master’s office closed the port")
    assert {a.outlet for a in found.articles} == {"Coast Wire"}  # read as a title is: one space between words


def test_a_scrape_that_opens_with_its_menu_or_outlet_keeps_its_headline_byline_outlet_and_date(tmp_path):
    body = (
        "Ferry crews stopped work on Friday after the operator cut two night sailings from the timetable.\n"
        "The union said the change would cost forty jobs over the winter months.\n"
    )
    (tmp_path / "menu.txt").write_text(
        "Home | News | Sport | Weather | Contact\nShare on Facebook Share on Twitter Email\n"
        f"Ferry crews walk out over night sailings\nBy Lena Ostrova, Bay Courier\nMarch 7th, 2025\n{body}"
    )
    (tmp_path / "outlet.txt").write_text(
        f"Harbour Herald\nPublished 2025-03-08 09:30\nFerry strike hits island commuters\n{body}"
    )
    (tmp_path / "plain.txt").write_text(
        f"Night sailings cut from ferry timetable\nBy Lena Ostrova\n8 March 2025\n\n{body}"
    )
    (tmp_path / "sentence.txt").write_text(
        "New domains approved for the net\n\nBy early 2005 the net could have two new domain names.\n"
        "The names still need a final vote.\n"
    )
    found = {Path(a.source_path).name: a for a in ingest([tmp_path]).articles}
    menu, outlet, plain = found["menu.txt"], found["outlet.txt"], found["plain.txt"]
    assert (menu.title, menu.outlet, menu.published) == (
        "Ferry crews walk out over night sailings",
        "Bay Courier",
        "2025-03-07",
    )
    assert (outlet.title, outlet.outlet, outlet.published) == (
        "Ferry strike hits island commuters",
        "Harbour Herald",
        "2025-03-08",
    )
    assert (plain.title, plain.outlet, plain.published) == (
        "Night sailings cut from ferry timetable",
        None,
        "2025-03-08",
    )
    assert all(a.text.startswith("Ferry crews stopped work") for a in (menu, outlet, plain))
    assert found["sentence.txt"].text.startswith("By early 2005 the net")  # a sentence, no byline
    # the outlet's name under the headline, above a byline naming someone else (a body of their own: copies of
    # one text are read once)
    body = "Island commuters faced a second day without the late boat on Saturday.\nTaxis ran a shuttle instead.\n"
    (tmp_path / "under.txt").write_text(
        f"Ferry unions halt island sailings\nBay Courier\nShare\n3 min read\nBy Lena Ostrova\n7 March 2025\n{body}"
    )
    # a name alone under the headline may be the author's: no outlet is guessed from it
    (tmp_path / "author.txt").write_text(
        f"Island ferry timetable loses its night runs\nLena Ostrova\n8 March 2025\n{body}"
    )
    # or a byline naming the outlet itself
    (tmp_path / "staff.txt").write_text(
        "Night boat returns to the island\nBay Courier\nBy Bay Courier staff\n"
        "The late boat to the island ran again on Sunday after a week off.\nCommuters welcomed it at the pier.\n"
    )
    found = {Path(a.source_path).name: a for a in ingest([tmp_path]).articles}
    under, author = found["under.txt"], found["author.txt"]
    assert found["staff.txt"].outlet == "Bay Courier"
    assert (under.title, under.outlet, under.published) == (
        "Ferry unions halt island sailings",
        "Bay Courier",
        "2025-03-07",
    )
    assert author.outlet is None and under.text.startswith("Island commuters faced")
    (tmp_path / "notes.md").write_text(
        "# Tram line approved\n\n_Published: 2025.08.19_\n\nSource: Tram Weekly\n\nThe assembly approved the line.\n"
    )
    notes = next(a for a in ingest([tmp_path]).articles if a.source_path.endswith("notes.md"))
    assert (notes.outlet, notes.published, notes.text) == (
        "Tram Weekly",
        "2025-08-19",
        "The assembly approved the line.",
    )


def test_a_text_file_of_one_line_or_opening_with_prose_keeps_its_text(tmp_path):
    (tmp_path / "one.txt").write_text("The tunnel under the river opened on Monday.\n")
    (tmp_path / "wire.txt").write_text(
        "Engineers opened the first tunnel under the river in fifty years on Monday, the city said.\n"
        "Traffic on the old bridge fell by a third within hours.\n"
    )
    found = {Path(a.source_path).name: a for a in ingest([tmp_path]).articles}
    assert found["one.txt"].text == "The tunnel under the river opened on Monday."
    assert found["wire.txt"].text.startswith("Engineers opened the first tunnel")
    assert found["wire.txt"].title.startswith("Engineers opened")  # named by its first sentence


def test_json_exports_nested_in_wrappers_or_with_nested_fields_are_read(tmp_path):
    story = "Beekeepers reported a strong honey harvest after a warm spring."
    (tmp_path / "wrapped.json").write_text(json.dumps({"data": {"items": [{"title": "Bees thrive", "text": story}]}}))
    (tmp_path / "api.json").write_text(
        json.dumps(
            {
                "response": {
                    "results": [
                        {
                            "webTitle": "Museum returns bronzes",
                            "webPublicationDate": "2025-04-01T10:00:00Z",
                            "webUrl": "https://news.example/bronzes",
                            "fields": {"bodyText": "A museum returned looted bronzes after a decade of talks."},
                        }
                    ]
                }
            }
        )
    )
    (tmp_path / "schema.json").write_text(
        json.dumps(
            {"headline": "Ferry back", "articleBody": "The ferry returned on Friday.", "datePublished": "2025-05-02"}
        )
    )
    (tmp_path / "odd.json").write_text(json.dumps({"heading": "No text", "para": 3}))
    found = ingest([tmp_path])
    by_title = {a.title: a for a in found.articles}
    assert by_title["Bees thrive"].text == story
    bronzes = by_title["Museum returns bronzes"]
    assert (bronzes.published, bronzes.url) == ("2025-04-01", "https://news.example/bronzes")
    assert by_title["Ferry back"].published == "2025-05-02"
    assert "fields: heading, para" in reasons_by_name(found.skipped)["odd.json"]


def test_a_page_title_loses_its_site_name_and_a_written_out_share_bar_is_furniture(tmp_path):
    (tmp_path / "page.html").write_text(
        "<html><head><title>Ferry timetable changes | Bay News - Latest headlines</title></head><body><div>"
        "<h2>Ferry timetable changes</h2><p>The bay ferry company will cut its winter timetable to four "
        "sailings a day from November, it said on Tuesday.</p><p>Share this: Facebook Twitter</p>"
        "<p>Commuters said the change would make the morning crossing harder.</p></div></body></html>"
    )
    [page] = ingest([tmp_path]).articles
    assert (page.title, page.outlet) == ("Ferry timetable changes", "Bay News")
    assert page.text.startswith("The bay ferry company") and "Share this" not in page.text


def test_a_sentence_broken_across_two_lines_is_made_whole(tmp_path):
    (tmp_path / "seals.csv").write_text(
        'title,text\r\nSeals return,"Seals returned to the harbour after ten years,\r\naccording to a marine '
        'survey published on Friday.\r\nVolunteers counted 40 pups."\r\n'
    )
    [seals] = ingest([tmp_path]).articles
    assert seals.text.startswith("Seals returned to the harbour after ten years, according to a marine survey")


def test_csv_fields_may_be_separated_by_semicolons_or_tabs(tmp_path):
    (tmp_path / "export.csv").write_bytes(
        '\ufefftitle;text;date\r\nBridge closes;"The old bridge closed on Wednesday; detours took 40 minutes.";'
        "2025-04-02\r\n".encode()
    )
    (tmp_path / "export.tsv").write_text("title\ttext\nFerry returns\tThe ferry returned to service on Friday.\n")
    found = {a.title: a for a in ingest([tmp_path]).articles}
    assert found["Bridge closes"].text == "The old bridge closed on Wednesday; detours took 40 minutes."
    assert found["Bridge closes"].published == "2025-04-02"
    assert found["Ferry returns"].text == "The ferry returned to service on Friday."


def test_a_feed_item_is_read_from_its_full_story_with_plain_titles_and_absolute_links(tmp_path):
    (tmp_path / "feed.rss").write_text(
        '<rss xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Pier Gazette</title>'
        "<link>https://pier.example/</link><item><title><![CDATA[Lifeboat <em>station</em> gets a boat]]></title>"
        "<link>/news/lifeboat</link><description>A teaser only.</description><content:encoded><![CDATA["
        "<p>The lifeboat station received a new boat on Monday after six years of fundraising.</p>"
        "<p>Volunteers said it is twice as fast.</p>]]></content:encoded></item></channel></rss>"
    )
    (tmp_path / "feed.atom").write_text(
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Rail Desk</title><link href="https://rail.example/"/>'
        '<entry><title type="html">&lt;b&gt;Rail&lt;/b&gt; strike called off</title><link href="rail-strike"/>'
        '<summary>Short.</summary><content type="html">&lt;p&gt;The union called off Friday\'s strike after '
        "a new offer.&lt;/p&gt;</content></entry></feed>"
    )
    found = {a.title: a for a in ingest([tmp_path]).articles}
    boat = found["Lifeboat station gets a boat"]
    assert boat.text.startswith("The lifeboat station received a new boat") and "teaser" not in boat.text
    assert boat.url == "https://pier.example/news/lifeboat"
    rail = found["Rail strike called off"]
    assert rail.text.startswith("The union called off") and rail.url == "https://rail.example/rail-strike"


def test_entity_expansion_and_external_entities_are_still_refused(tmp_path):
    bomb = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10))
    (tmp_path / "bomb.xml").write_text(
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e0 "ha">{bomb}]>'
        "<rss><channel><item><title>Bomb</title><description>&e9;</description></item></channel></rss>"
    )
    (tmp_path / "xxe.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY leak SYSTEM "file:///etc/hostname">]>'
        "<rss><channel><item><title>Leak</title><description>Host: &leak; The council met on Monday.</description>"
        "</item></channel></rss>"
    )
    found = ingest([tmp_path])
    assert found.articles == []
    assert all(
        reason.startswith("XML declares a DTD or entities") for reason in reasons_by_name(found.skipped).values()
    )


def test_a_folder_that_cannot_be_read_is_reported():
    import tempfile

    # Root reads every folder, so as root the listing runs in a child that has given up root for "nobody";
    # under /tmp, as pytest's own folders are root's alone.
    base = Path(tempfile.mkdtemp(prefix="semsearch-perm-", dir="/tmp"))
    reader, writer = os.pipe()
    try:
        (base / "open").mkdir()
        (base / "open" / "story.txt").write_text("Story\n\nThe mayor opened the new bridge on Friday morning.")
        (base / "locked").mkdir()
        (base / "locked" / "hidden.txt").write_text("Hidden\n\nNobody can list this folder at all.")
        base.chmod(0o755)
        (base / "open").chmod(0o755)
        (base / "open" / "story.txt").chmod(0o644)
        (base / "locked").chmod(0o000)
        settings = Settings()  # made here: the child could not read a settings file of root's
        read_raw([base / "open"], settings)  # loads every module a read needs: nobody cannot read root's files
        pid = os.fork() if os.geteuid() == 0 else None
        if pid == 0:  # the child: list as nobody, send what it found (or what went wrong), leave at once
            try:
                os.setgid(65534)
                os.setuid(65534)
                docs, skipped = read_raw([base], settings)
                found = [[d.source for d in docs], [[s.source, s.reason] for s in skipped]]
            except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the test
                found = f"{type(exc).__name__}: {exc}"
            finally:
                os.write(writer, json.dumps(found).encode())
                os._exit(0)
        if pid is None:
            docs, skipped = read_raw([base], settings)
            found = [[d.source for d in docs], [[s.source, s.reason] for s in skipped]]
        else:
            os.close(writer)  # so the read below ends if the child wrote nothing
            writer = None
            os.waitpid(pid, 0)
            found = json.loads(os.read(reader, 1 << 16) or b'"the child sent nothing"')
        assert found == [
            [str(base / "open" / "story.txt")],
            [[str(base / "locked"), "folder cannot be read: Permission denied"]],
        ]
    finally:
        os.close(reader)
        if writer is not None:
            os.close(writer)
        (base / "locked").chmod(0o755)
        shutil.rmtree(base)


def test_links_and_special_files_get_accurate_reasons(tmp_path):
    src = tmp_path / "src"
    (src / "real").mkdir(parents=True)
    (src / "real" / "story.txt").write_text("Story\n\nThe mayor opened the new bridge on Friday morning.")
    (src / "shortcut").symlink_to(src / "real")
    (src / "gone.txt").symlink_to(src / "deleted.txt")
    os.mkfifo(src / "pipe.txt")
    docs, skipped = read_raw([src], Settings())
    assert [d.source for d in docs] == [str(src / "real" / "story.txt")]  # read once, where it really is
    assert reasons_by_name(skipped) == {
        "shortcut": "symlink to a folder (not followed)",
        "gone.txt": "broken symlink: its target does not exist",
        "pipe.txt": "not a regular file",
    }
    _, [named] = read_raw([src / "gone.txt"], Settings())  # a broken link given by name exists as a link
    assert named.reason == "broken symlink: its target does not exist"


def test_an_outlet_spelt_in_several_cases_is_one_outlet(tmp_path):
    import json

    stories = [
        ("VALLEY WIRE", "Ferry fares rise", "Fares on the crossing rose by six percent on Monday."),
        ("Valley Wire", "Pier reopens", "The town pier reopened on Friday after repairs."),
        ("valley wire", "Pier reopens again", "The town pier reopened on Friday after repairs."),  # a copy
        ("Valley Wire", "Storm warning", "Forecasters warned of gales along the coast."),
    ]
    records = [{"outlet": o, "title": t, "text": x} for o, t, x in stories]
    (tmp_path / "wire.json").write_text(json.dumps(records))
    found = ingest([tmp_path])
    assert {a.outlet for a in found.articles} == {"Valley Wire"}
    assert len(found.articles) == 3 and found.duplicates == 1  # the copy is the same outlet's, stored once


def test_a_text_field_holding_html_is_read_as_html(tmp_path):
    import json

    rendered = (
        '<p>Dockworkers walked out on <b>Monday</b> over automation plans, the <a href="https://u.example">union'
        '</a> said.</p><script>var tracker = "x";</script><p>The strike shut three terminals.</p>'
        '<img src="crane.jpg" alt="A crane">'
    )
    records = [
        {"title": {"rendered": "Port strike <em>widens</em> &#8216;again&#8217;"}, "content": {"rendered": rendered}},
        {"title": "Prices", "text": "Prices rose 3% <in> May as a<b ratio fell, the council said on Monday."},
    ]
    (tmp_path / "export.json").write_text(json.dumps(records))
    texts = {a.title: a.text for a in ingest([tmp_path]).articles}
    assert texts["Port strike widens ‘again’"] == (
        "Dockworkers walked out on Monday over automation plans, the union said.\n\nThe strike shut three terminals."
    )
    assert texts["Prices"].startswith("Prices rose 3% <in> May as a<b ratio fell")  # angle brackets in prose stay


def test_a_file_given_alone_and_inside_a_given_folder_is_skipped_once(tmp_path):
    (tmp_path / "broken.json").write_text("{bad")
    (tmp_path / "ok.txt").write_text("Ferry fares rise\n\nFares on the crossing rose by six percent on Monday.\n")
    found = ingest([tmp_path, tmp_path / "broken.json"])
    assert [s.source for s in found.skipped] == [str(tmp_path / "broken.json")]


def test_a_scrape_titled_headline_then_menu_takes_the_headline_line_not_the_last_line_above_its_prose(tmp_path):
    # The page title opens with the headline, then the site's menu; a line of the table above the first prose
    # reads like a headline too, but only the repeated headline is the title, and the table keeps its first row.
    (tmp_path / "fixtures.txt").write_text(
        "Harbour League fixtures 2026 | Bay Sport | Football | Rugby | Sailing\nHome\nFootball\nRugby\n"
        "Harbour League fixtures 2026\nPublished 4 March 2026\n"
        "Round 1: 14 March – Saltmere v Lowgate\nRound 2: 21 March – Port Alder v Greyfell\n"
        "Round 3: 28 March – Northgate v Port Alder\n"
        "The league said every date may still move if the harbour works run late into the spring.\n"
    )
    [article] = ingest([tmp_path]).articles
    assert article.title == "Harbour League fixtures 2026"
    assert article.text.startswith("Round 1: 14 March")


@pytest.mark.parametrize("marker", ["ADVERTISEMENT", "Advertisement", "Story continues below advertisement"])
def test_an_advertisement_marker_inside_an_article_is_dropped_and_the_article_goes_on(tmp_path, marker):
    (tmp_path / "bus.txt").write_text(
        "Bus routes cut\nBy Maria Chen, Lakeside Tribune\n12 March 2025\n"
        "The Lakeside school district will cut 14 bus routes next month because it cannot hire enough drivers, "
        "the superintendent said on Tuesday.\n"
        "About 900 students will be affected and families will be offered a $300 monthly transport stipend.\n"
        "The district has 22 driver vacancies, up from nine a year ago.\n"
        f"{marker}\n"
        "Parents criticised the decision at a board meeting on Monday evening.\n"
        "The board will vote on a new pay scale for drivers in April.\n"
    )
    [article] = ingest([tmp_path]).articles
    assert marker not in article.text
    assert article.text.endswith("The board will vote on a new pay scale for drivers in April.")


def test_atom_xhtml_content_and_titles_are_read_as_markup(tmp_path):
    xhtml = 'xmlns="http://www.w3.org/1999/xhtml"'
    (tmp_path / "observer.atom").write_text(
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Northern Observer</title>"
        '<entry><title type="xhtml"><div ' + xhtml + ">Glacier <b>retreats</b> 40 metres</div></title>"
        "<id>tag:observer.example,2025:glacier</id><updated>2025-03-10T12:00:00Z</updated>"
        f'<content type="xhtml"><div {xhtml}><p>The Sorrel glacier retreated 40 metres last year, researchers said.</p>'
        "<p>It was the largest retreat on record.</p></div></content></entry>"
        f'<entry><title>Glacier summary only</title><id>tag:g2</id><summary type="xhtml"><div {xhtml}><p>The Brenn '
        "glacier lost a tenth of its ice over the past decade.</p></div></summary></entry></feed>"
    )
    result = ingest([tmp_path])
    found = {a.title: a.text for a in result.articles}
    assert result.skipped == []
    assert found == {
        "Glacier retreats 40 metres": "The Sorrel glacier retreated 40 metres last year, researchers said.\n\n"
        "It was the largest retreat on record.",
        "Glacier summary only": "The Brenn glacier lost a tenth of its ice over the past decade.",
    }


def test_a_page_that_leaves_only_a_label_is_skipped_but_a_records_short_text_is_an_article(tmp_path):
    (tmp_path / "nav.html").write_text("<html><head><title>Nothing</title></head><body><nav>Home</nav></body></html>")
    (tmp_path / "home.txt").write_text("Home\n")
    records = [
        {"title": "Closures", "text": "Schools closed."},
        {"title": "Match postponed", "text": "Match postponed"},  # no stop, and the text repeats the title
    ]
    (tmp_path / "brief.json").write_text(json.dumps(records))
    result = ingest([tmp_path])
    assert sorted(a.text for a in result.articles) == ["Match postponed", "Schools closed."]
    assert {Path(s.source).name: s.reason for s in result.skipped} == {
        "nav.html": "no article text left after cleaning",
        "home.txt": "no article text left after cleaning",
    }


def test_a_section_label_above_the_headline_a_byline_with_a_role_and_trailing_appeals_are_read_as_furniture(tmp_path):
    (tmp_path / "quake.txt").write_text(
        "World\nEarthquake of magnitude 6.1 strikes off coast of Java\nReuters\nMar 9, 2025 3:14 AM GMT\n"
        "JAKARTA (Reuters) - An earthquake of magnitude 6.1 struck off the coast of Java on Sunday, the agency said.\n"
        "There were no immediate reports of damage or casualties.\n"
        "Reporting by Ana Pereda; Editing by Tom Hasek\nOur Standards: The Trust Principles.\n"
    )
    (tmp_path / "trees.txt").write_text(
        "Opinion: Why our city needs more trees\nMarch 3rd, 2025\nBy Dr. Sam Okafor, contributor, Greenfield Herald\n"
        "Last summer, the temperature on Main Street reached 41C while the park two blocks away stayed cooler.\n"
        "I urge the council to fund 5,000 new trees by 2030.\n"
        "Tags: trees, heat, council\nRead more: Council delays park budget\n"
        "Did you enjoy this article? Support independent journalism with a donation today.\nComments are closed.\n"
    )
    found = {Path(a.source_path).name: a for a in ingest([tmp_path]).articles}
    quake, trees = found["quake.txt"], found["trees.txt"]
    assert quake.title == "Earthquake of magnitude 6.1 strikes off coast of Java"
    assert quake.text.endswith("There were no immediate reports of damage or casualties.")
    assert (trees.outlet, trees.published) == ("Greenfield Herald", "2025-03-03")
    assert trees.text.startswith("Last summer") and trees.text.endswith("5,000 new trees by 2030.")


@pytest.mark.parametrize(
    ("credit", "outlet"),
    [
        ("By Tom Reed, Special to The Bay News", "The Bay News"),
        ("By Tom Reed\nSpecial to the Bay News", "Bay News"),
    ],
)
def test_a_contributor_s_byline_names_the_outlet_it_was_written_for(tmp_path, credit, outlet):
    (tmp_path / "ferry.txt").write_text(
        f"Ferry company adds evening crossings\n{credit}\n\n"
        "The ferry company will add two evening crossings from April, it said on Monday.\n"
    )
    [article] = ingest([tmp_path]).articles
    assert (article.outlet, article.text) == (
        outlet,
        "The ferry company will add two evening crossings from April, it said on Monday.",
    )


def test_field_names_are_matched_in_any_case_and_spacing(tmp_path):
    (tmp_path / "export.csv").write_text(
        "Headline,Article Body,Publish Date,Publication,Article-URL\n"
        '"Water rates to rise in July","The water board approved a 4 percent rise on Tuesday.\n\n'
        '""We have no choice,"" chair Ines Moll said.",13/06/2025,Valley Wire,https://valleywire.example/water\n'
    )
    [article] = ingest([tmp_path]).articles
    assert (article.title, article.published, article.outlet, article.url) == (
        "Water rates to rise in July",
        "2025-06-13",
        "Valley Wire",
        "https://valleywire.example/water",
    )
    assert (
        article.text
        == 'The water board approved a 4 percent rise on Tuesday.\n\n"We have no choice," chair Ines Moll said.'
    )


def test_an_image_caption_in_an_export_s_rendered_body_is_not_its_text(tmp_path):
    post = {
        "date": "2025-06-11T14:05:00",
        "link": "https://valley.example/2025/06/11/bridge/",
        "title": {"rendered": "Old bridge to close for &#8220;urgent&#8221; repairs"},
        "content": {
            "rendered": "<p>The old river bridge will close from Monday after inspectors found corroded steel.</p>"
            '<figure><img src="b.jpg"><figcaption>The bridge opened in 1931. Photo: County Roads</figcaption>'
            "</figure><p>The repairs are expected to take eight weeks and cost 2.4 million euros.</p>"
        },
    }
    (tmp_path / "posts.json").write_text(json.dumps([post]))
    [article] = ingest([tmp_path]).articles
    assert (article.title, article.published) == ("Old bridge to close for “urgent” repairs", "2025-06-11")
    assert article.text == (
        "The old river bridge will close from Monday after inspectors found corroded steel.\n\n"
        "The repairs are expected to take eight weeks and cost 2.4 million euros."
    )


def test_a_news_api_export_loses_its_outlet_suffix_and_truncation_count(tmp_path):
    export = {
        "status": "ok",
        "articles": [
            {
                "source": {"id": None, "name": "Harbour Gazette"},
                "title": "Ferry strike ends after pay deal - Harbour Gazette",
                "description": "Crews returned to work.",
                "url": "https://gazette.example/ferry-deal",
                "publishedAt": "2025-07-04T16:20:00Z",
                "content": "Ferry crews returned to work on Friday after accepting a 6 percent pay rise, ending a "
                "nine-day strike.\r\nThe union said members voted 412 to 88 in favour… [+1834 chars]",
            },
            {
                "source": {"name": "Coast Radio"},
                "title": "Ferries back after walkout - Island Post",  # another name than the outlet's: it stands
                "publishedAt": "2025-07-04T17:05:00Z",
                "content": "Island ferry services resumed on Friday after crews accepted a pay offer. [+920 chars]",
            },
        ],
    }
    (tmp_path / "top.json").write_text(json.dumps(export))
    gazette, radio = ingest([tmp_path]).articles
    assert (gazette.title, gazette.outlet) == ("Ferry strike ends after pay deal", "Harbour Gazette")
    assert gazette.text.endswith("voted 412 to 88 in favour…")
    assert (radio.title, radio.text) == (
        "Ferries back after walkout - Island Post",
        "Island ferry services resumed on Friday after crews accepted a pay offer.",
    )


AGGREGATOR_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Top stories - Aggregator</title><link>https://agg.example/</link>
<item><title>Tram line reopens after repairs - Coast Courier</title><link>https://agg.example/r/1</link>
<source url="https://coastcourier.example">Coast Courier</source><pubDate>Wed, 02 Apr 2025 08:00:00 GMT</pubDate>
<description><![CDATA[<p>The harbour tram line reopened on Saturday after six weeks of track repairs.</p>
<p>Engineers replaced 1.2 kilometres of rail. Continue reading &rarr;</p>
<p>The post <a href="https://coastcourier.example/tram">Tram line reopens</a> appeared first on
<a href="https://coastcourier.example">Coast Courier</a>.</p>]]></description></item>
<item><title>Council backs cycle lanes - Valley Wire</title><link>https://agg.example/r/2</link>
<pubDate>Thu, 03 Apr 2025 10:30:00 +0200</pubDate>
<description>Councillors voted 31 to 14 to build cycle lanes. Children who cycle read more [&#8230;]
</description></item>
</channel></rss>"""


def test_an_aggregator_s_items_name_their_own_outlet_and_lose_the_links_on(tmp_path):
    (tmp_path / "top.xml").write_text(AGGREGATOR_FEED)
    tram, council = ingest([tmp_path]).articles
    assert (tram.title, tram.outlet) == ("Tram line reopens after repairs", "Coast Courier")
    assert tram.text == (
        "The harbour tram line reopened on Saturday after six weeks of track repairs.\n\n"
        "Engineers replaced 1.2 kilometres of rail."
    )
    # No <source>: the channel is the outlet, and a title's ending is not taken for another's name.
    assert (council.title, council.outlet) == ("Council backs cycle lanes - Valley Wire", "Top stories - Aggregator")
    assert council.text == "Councillors voted 31 to 14 to build cycle lanes. Children who cycle read more"


def test_html_in_a_feed_reads_as_a_browser_shows_it():
    shown = html_fragment_to_text(
        "<p>The ferry company\n   will add two crossings.</p>Late boats run<blockquote>“Finally,” said one "
        "commuter.</blockquote><pre>Dep  18:40\nArr  19:25</pre>First plain paragraph.\n\nSecond &amp; last."
    )
    assert shown == (
        "The ferry company will add two crossings.\n\nLate boats run\n\n“Finally,” said one commuter."
        "\n\n\n\nDep  18:40\nArr  19:25\n\nFirst plain paragraph.\n\nSecond & last."
    )


def test_a_labelled_picture_caption_takes_neither_the_title_nor_the_story(tmp_path):
    (tmp_path / "tram.txt").write_text(
        "Home\nNews\nTram line to reopen after six-week closure\nPublished\n2 April 2025\n"
        "Image source, Coast Council\nImage caption,\nEngineers replaced track near the ferry terminal\n"
        "The harbour tram line will reopen on Saturday after six weeks of track repairs, the office said.\n"
        "Engineers replaced 1.2km of rail where subsidence had cracked the track bed.\n"
        "Image source, Getty Images\nImage caption,\nCafe owners on Quay Street say trade fell by a third\n"
        "Trams will run every eight minutes at first, rising to every six minutes later in the spring.\n"
        '"It has been a hard spring," said cafe owner Tomas Ek.\nRelated topics\nTransport\n'
    )
    [article] = ingest([tmp_path]).articles
    assert (article.title, article.published) == ("Tram line to reopen after six-week closure", "2025-04-02")
    assert article.text.split("\n\n") == [
        "The harbour tram line will reopen on Saturday after six weeks of track repairs, the office said.",
        "Engineers replaced 1.2km of rail where subsidence had cracked the track bed.",
        "Trams will run every eight minutes at first, rising to every six minutes later in the spring.",
        '"It has been a hard spring," said cafe owner Tomas Ek.',
    ]


def test_a_byline_and_date_under_the_standfirst_are_the_page_s_own(tmp_path):
    (tmp_path / "quotas.txt").write_text(
        "Coast Courier\nMenu\nFishing quotas cut by a fifth for next season\n"
        "Fishing fleets in the northern zone will be allowed to land 20 percent less cod next season.\n"
        "Mira Lund\nLast updated: 14:05 BST, 2 April 2025\n"
        "The agency said stocks had fallen for a third year running and the cut would let them recover.\n"
        "Updated 3 hours ago\n"
        'Skippers called the decision "a blow to every harbour on the coast" and said they would appeal.\n'
    )
    [article] = ingest([tmp_path]).articles
    assert (article.title, article.published, article.outlet) == (
        "Fishing quotas cut by a fifth for next season",
        "2025-04-02",
        "Coast Courier",
    )
    assert article.text.split("\n\n") == [
        "Fishing fleets in the northern zone will be allowed to land 20 percent less cod next season.",
        "The agency said stocks had fallen for a third year running and the cut would let them recover.",
        'Skippers called the decision "a blow to every harbour on the coast" and said they would appeal.',
    ]


def test_a_cms_story_of_content_blocks_is_one_article(tmp_path):
    def story(headline: str, day: str, *blocks: dict) -> dict:
        return {"type": "story", "headlines": {"basic": headline}, "display_date": day, "content_elements": blocks}

    lighthouse = story(
        "Lighthouse keeper retires after 41 years",
        "2025-08-19T06:00:00Z",
        {"type": "text", "content": "The last keeper of the Skarv Point lighthouse retired on Monday after 41 years."},
        {"type": "image", "caption": "The lighthouse in 1962. Photo: Coast Archive", "url": "x.jpg"},
        {"type": "raw_html", "content": '<div class="ad">Advertisement</div>'},
        {"type": "text", "content": "The light has been automatic since 2003, but she stayed on to keep the station."},
    )
    ferry = story("Ferry timetable changes", "2025-08-20", {"type": "text", "content": "Evening boats leave later."})
    (tmp_path / "story.json").write_text(json.dumps(lighthouse))
    (tmp_path / "results.json").write_text(json.dumps({"type": "results", "content_elements": [lighthouse, ferry]}))
    found = ingest([tmp_path / "story.json"]).articles + ingest([tmp_path / "results.json"]).articles
    assert [(a.title, a.published) for a in found] == [
        ("Lighthouse keeper retires after 41 years", "2025-08-19"),
        ("Lighthouse keeper retires after 41 years", "2025-08-19"),
        ("Ferry timetable changes", "2025-08-20"),
    ]
    assert found[0].text == (
        "The last keeper of the Skarv Point lighthouse retired on Monday after 41 years.\n\n"
        "The light has been automatic since 2003, but she stayed on to keep the station."
    )


def test_a_link_to_another_story_inside_the_text_leaves_it_and_the_story_goes_on(tmp_path):
    (tmp_path / "library.txt").write_text(
        "Library reopens after two-year refit\n\n"
        "The central library reopened on Saturday after a two-year refit that added a children's floor.\n\n"
        "Related: Council approves library budget\n\n"
        "The refit cost 14 million crowns, two million more than planned, after asbestos was found.\n\n"
        "See also: Five things to see in the new library\n\n"
        '"It was worth every crown," head librarian Petra Holm said on the first day.\n'
    )
    [article] = ingest([tmp_path]).articles
    assert article.text.split("\n\n") == [
        "The central library reopened on Saturday after a two-year refit that added a children's floor.",
        "The refit cost 14 million crowns, two million more than planned, after asbestos was found.",
        '"It was worth every crown," head librarian Petra Holm said on the first day.',
    ]


def test_a_paywall_s_notices_are_not_the_story(tmp_path):
    (tmp_path / "rail.txt").write_text(
        "Rail operator fined over late trains\nMarch 12, 2025\nYou have 2 free articles left this month.\n"
        "The regulator fined the rail operator 3.5 million crowns on Tuesday after one in five trains ran late.\n"
        "The operator said it would not appeal and blamed ageing signals on the coastal line.\n"
        "This article is for subscribers only. Subscribe now to continue reading.\n"
        "Already a subscriber? Log in\n"
    )
    [article] = ingest([tmp_path]).articles
    assert article.text.split("\n\n") == [
        "The regulator fined the rail operator 3.5 million crowns on Tuesday after one in five trains ran late.",
        "The operator said it would not appeal and blamed ageing signals on the coastal line.",
    ]


WATER_STORY = (
    "Water board approves 4% rate rise\nBy Jonas Prell\nJune 11, 2025\n"
    "The regional water board approved a 4 percent rise in household rates on Tuesday.\n"
    "The board said the money would pay for replacing lead pipes in the oldest districts.\n"
    "{end}\n"
)


@pytest.mark.parametrize(
    ("end", "kept"),
    [
        ("Jonas Prell covers local government for the Valley Wire. Reach him at jp@wire.example or on X @jprell.", 2),
        ("Follow her on X @mlund for updates from the council chamber.", 2),
        ("Residents can comment on the plan until June 30. Contact the board at water@board.example.", 3),
        ("Anyone affected can email them at help@board.example, the board said.", 3),
    ],
)
def test_a_note_on_the_writer_at_the_end_is_not_the_story(tmp_path, end, kept):
    (tmp_path / "water.txt").write_text(WATER_STORY.format(end=end))
    [article] = ingest([tmp_path]).articles
    assert len(article.text.split("\n\n")) == kept and article.text.startswith("The regional water board")


def test_an_atom_entry_copied_from_another_feed_names_that_feed_s_outlet(tmp_path):
    (tmp_path / "planet.atom").write_text(
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Planet Coast</title>'
        "<entry><title>Tram line reopens - Coast Courier</title><updated>2025-04-02T08:00:00Z</updated>"
        "<source><title>Coast Courier</title></source><content>The tram line reopened on Saturday.</content></entry>"
        "<entry><title>Council backs lanes</title><updated>2025-04-03T08:00:00Z</updated>"
        "<content>Councillors voted 31 to 14 to build cycle lanes.</content></entry></feed>"
    )
    tram, lanes = ingest([tmp_path]).articles
    assert (tram.title, tram.outlet, lanes.outlet) == ("Tram line reopens", "Coast Courier", "Planet Coast")


def test_wire_copy_that_five_outlets_carry_is_their_story_not_furniture(tmp_path):
    shared = (
        "A wildfire that began on Sunday has burned more than 3,000 hectares of heath, firefighters said.\n"
        "About 150 firefighters and four helicopters were tackling the blaze on Monday.\n"
        "The park authority closed all car parks and asked visitors to stay away.\n"
    )
    for outlet in ("Bay Courier", "Coastal Times", "Harbour Gazette", "Metro Daily", "Valley Wire"):
        (tmp_path / f"{outlet}.txt").write_text(
            f"{outlet}\nWildfire closes national park\nBy {outlet} staff\nAugust 12, 2025\n{shared}"
            f"{outlet} understands that farms on the park's edge were evacuated overnight.\n"
        )
    articles = ingest([tmp_path]).articles
    assert len(articles) == 5 and all(len(a.text.split("\n\n")) == 4 for a in articles)


@pytest.mark.parametrize(
    "interruption",
    [
        "Share this article:\nFacebook\nTwitter\nWhatsApp\nEmail",
        "You have 2 free articles left this month.",
        "Related: Harbour plan draws record objections",
        "Read more: Council delays marina decision",
    ],
)
def test_an_interruption_inside_the_text_loses_no_paragraph_on_either_side(tmp_path, interruption):
    (tmp_path / "harbour.txt").write_text(
        "Council delays vote on harbour plan\nBy Ann Lee, Harbour Gazette\nMarch 4, 2025\n"
        "The district council has postponed a vote on the harbour redevelopment plan until April.\n"
        "Councillors said they needed more time to study the costs.\n"
        f"{interruption}\n"
        "The plan includes 300 new homes and a marina.\n"
        "Residents have submitted more than 900 objections to the harbour plan.\n"
        "A public meeting will be held at the town hall on March 20.\n"
    )
    [article] = ingest([tmp_path]).articles
    assert article.text.split("\n\n") == [
        "The district council has postponed a vote on the harbour redevelopment plan until April.",
        "Councillors said they needed more time to study the costs.",
        "The plan includes 300 new homes and a marina.",
        "Residents have submitted more than 900 objections to the harbour plan.",
        "A public meeting will be held at the town hall on March 20.",
    ]


def test_a_caption_credited_after_its_sentence_and_a_commented_post_line_take_no_title(tmp_path):
    (tmp_path / "frost.txt").write_text(
        "Valley Wire\nMenu\nSearch\nOrchard growers warn of late frost damage\n"
        "Posted by Jane Holloway on 14 April 2025 | 12 comments\n"
        "Apple growers in the upper valley say a late frost on Saturday night destroyed early blossom.\n"
        "The growers' co-operative estimates losses of at least £2m if temperatures stay low this week.\n"
    )
    (tmp_path / "volcano.txt").write_text(
        "Skip to main content\nWorld\nVolcano eruption forces evacuation of three villages\n"
        "Lava flows down the slopes of Mount Tereo on Sunday. Photo: Ana Ruiz/Reuters\n"
        "Authorities evacuated three villages on the slopes of Mount Tereo on Sunday after the volcano began erupting "
        "for the first time in 40 years.\n"
        "About 2,300 people were moved to shelters in the nearby town, the civil protection agency said.\n"
    )
    frost, volcano = ingest([tmp_path]).articles
    assert (frost.title, frost.published) == ("Orchard growers warn of late frost damage", "2025-04-14")
    assert volcano.title == "Volcano eruption forces evacuation of three villages"
    assert volcano.text.startswith("Authorities evacuated") and "Photo:" not in volcano.text


def test_an_empty_export_and_a_row_shifted_by_an_open_quote_are_skipped_with_reasons(tmp_path):
    (tmp_path / "none.json").write_text("[]")
    (tmp_path / "shifted.csv").write_text('title,body,date\n"Unclosed quote,"Body text that never closes.,2025-03-01\n')
    result = ingest([tmp_path])
    assert result.articles == []
    assert sorted((Path(s.source).name, s.reason) for s in result.skipped) == [
        ("none.json", "no records: the JSON holds an empty list"),
        ("shifted.csv:2", "row 2: its text field holds no words: '2025-03-01'"),
    ]


def test_review_cases_a_records_page_long_blanks_and_look_alikes_of_furniture(tmp_path):
    import time

    page = {
        "content": [
            {"title": "Council approves budget", "content": "The city council approved the budget on Monday."},
            {"title": "Harbour reopens", "content": "The harbour reopened to shipping on Tuesday."},
        ],
        "totalPages": 1,
    }
    (tmp_path / "page.json").write_text(json.dumps(page))  # records under "content" are records, not blocks
    assert [a.title for a in ingest([tmp_path / "page.json"]).articles] == [
        "Council approves budget",
        "Harbour reopens",
    ]
    started = time.perf_counter()
    html_fragment_to_text("<p>a. " + " " * 60_000 + "b</p>")
    from semsearch.ingest.readers import without_cut_marks

    without_cut_marks("The council met. " + " \t" * 80_000 + "It agreed.")
    assert time.perf_counter() - started < 1.0  # linear in a run of blanks (it took seconds)
    (tmp_path / "post.txt").write_text(
        "Post office sale\n\nThe post office appeared first on the council's list of buildings to be sold, "
        "the leader said on Tuesday evening.\n\nThe sale would raise about 2 million crowns for the town.\n\n"
        "2 comments\n\nPosted by Harbour Fan on 2 June 2026\n"
    )
    [post] = ingest([tmp_path / "post.txt"]).articles
    assert post.text.startswith("The post office appeared first") and post.published is None  # a comment's date


FERRY_POST = (
    "Home | News | Local | Sport | Weather\n"
    "Ferry fares to rise by 9 percent from May\n"
    "By Anna Holm\n"
    "The island ferry company will raise fares by 9 percent from 1 May, blaming higher fuel and insurance costs.\n"
    "The islands' council said it would ask the transport ministry to review the increase.\n"
    "A return ticket for a car and two adults will cost 84 crowns, up from 77.\n"
    "{sign_off}\n"
    "Share this: Facebook Twitter Email\n"
)


@pytest.mark.parametrize(
    ("sign_off", "published"),
    [
        ("Posted by Anna Holm on 14 March 2025 at 09:12 | 23 comments", "2025-03-14"),
        ("Published 2025-03-14 · 1,204 comments", "2025-03-14"),
        ("Related: Ferry timetable changes, 2 March 2025", None),  # a bare date below the text is not the post's
        ("2 March 2025", None),
    ],
)
def test_a_post_signed_below_its_text_is_dated_by_its_signature(tmp_path, sign_off, published):
    (tmp_path / "ferry.txt").write_text(FERRY_POST.format(sign_off=sign_off))
    [article] = ingest([tmp_path]).articles
    assert article.published == published
    assert article.text.endswith("up from 77.")


def test_a_markdown_file_is_read_as_the_text_it_shows(tmp_path):
    (tmp_path / "layoffs.md").write_text(
        "# Tech firm lays off 1,500 workers\n\n*Posted by Newsroom Staff on 2025-02-27 in [Business](/business)*\n\n"
        "**SAN JOSE, Calif.** — Chipmaker Nexon said on Thursday it would cut 1,500 jobs, about 8% of its "
        "workforce.\n\nThe company said the cuts would save $400 million a year, a `saving` of _note_.\n\n"
        '> "This was a difficult decision," chief executive Rita Vance said in a memo to staff.\n\n'
        "![chart](chart.png)\n\nShares rose 3% in [after-hours trading](https://example.test/shares).\n"
    )
    [article] = ingest([tmp_path]).articles
    assert (article.title, article.published, article.place) == (
        "Tech firm lays off 1,500 workers",
        "2025-02-27",
        "San Jose",
    )
    assert article.text == (
        "Chipmaker Nexon said on Thursday it would cut 1,500 jobs, about 8% of its workforce.\n\n"
        "The company said the cuts would save $400 million a year, a saving of note.\n\n"
        '"This was a difficult decision," chief executive Rita Vance said in a memo to staff.\n\n'
        "Shares rose 3% in after-hours trading."
    )


def test_a_one_sentence_item_under_a_date_line_keeps_its_sentence(tmp_path):
    (tmp_path / "tram.txt").write_text("Tram line approved\nPublished: 2025-08-19\nThe assembly approved the line.\n")
    [article] = ingest([tmp_path]).articles
    assert (article.text, article.published) == ("The assembly approved the line.", "2025-08-19")


def test_a_json_export_finds_its_records_inside_wrappers_of_any_name(tmp_path):
    record = {"Headline": "Dam approved", "Body": "Plans for a hydro dam on the Kell River were approved on Monday."}
    (tmp_path / "payload.json").write_text(json.dumps({"payload": {"items": [record]}}))
    (tmp_path / "deep.json").write_text(
        json.dumps({"meta": {"count": 1, "tags": ["dams"]}, "payload": {"data": {"items": [record]}}})
    )
    result = ingest([tmp_path])
    assert result.skipped == []
    places = {Path(p).name for a in result.articles for p in [a.source_path, *a.duplicate_paths]}
    assert places == {"payload.json", "deep.json"}
    assert all(a.title == "Dam approved" for a in result.articles)
    # beside lists of tags and authors (objects too, one with a text field), the stories are the list read
    tags = [{"name": "dams", "text": "Dams"}, {"name": "rivers", "text": "Rivers"}]
    authors = [{"name": "Jane Doe", "bio": "Jane Doe covers energy."}]
    story = {"title": "Weir closed", "text": "The old weir closed on Friday for repairs that will take a month."}
    (tmp_path / "beside.json").write_text(json.dumps({"tags": tags, "authors": authors, "stories": [record, story]}))
    beside = ingest([tmp_path / "beside.json"])
    assert beside.skipped == [] and [a.title for a in beside.articles] == ["Dam approved", "Weir closed"]
    # a JSON Feed's own title and description, or a wrapper's metadata, are no story beside its items
    feed = {"title": "Harbor News", "description": "Latest stories", "items": [record, story]}
    cms = {"meta": {"title": "CMS", "summary": "2 items"}, "payload": {"items": [record, story]}}
    for name, data in (("feed.json", feed), ("cms.json", cms)):
        (tmp_path / name).write_text(json.dumps(data))
        assert [a.title for a in ingest([tmp_path / name]).articles] == ["Dam approved", "Weir closed"], name


def test_an_html_page_names_its_outlet_by_json_ld_in_a_list_or_by_its_title_suffix(tmp_path):
    body = "<p>The Corran ferry sank in calm water on Tuesday night and all 40 passengers were rescued.</p>" * 2
    article = {"@type": "NewsArticle", "headline": "Ferry sinks", "publisher": {"name": "Coast News"}}
    ld = json.dumps([{"@type": "BreadcrumbList"}, article])
    (tmp_path / "amp.html").write_text(
        f'<html><head><title>Ferry sinks</title><script type="application/ld+json">{ld}</script></head>'
        f"<body><article><h1>Ferry sinks near Corran</h1>{body}</article></body></html>"
    )
    (tmp_path / "gazette.html").write_text(
        "<html><head><title>Hospital strike averted - Northfield Gazette</title></head><body><article>"
        "<h1>Hospital strike averted after last-minute pay offer</h1><p>Nurses at Northfield General called off "
        "their strike on Monday after the health board raised its pay offer to five percent.</p>"
        "</article></body></html>"
    )
    found = {Path(a.source_path).name: a.outlet for a in ingest([tmp_path]).articles}
    assert found == {"amp.html": "Coast News", "gazette.html": "Northfield Gazette"}


def test_articles_in_other_languages_keep_their_byline_outlet_date_and_text(tmp_path):
    (tmp_path / "de.txt").write_text(
        "Streik im Hafen von Hamburg legt Containerverkehr lahm\nVon Klara Becker, Nordkurier\n5. März 2025\n"
        "Rund 2.000 Hafenarbeiter in Hamburg haben am Mittwoch die Arbeit niedergelegt.\n"
    )
    (tmp_path / "fr.txt").write_text(
        "Grève des dockers au port de Marseille\nPar Luc Martin, Le Midi\n1er mars 2025\n"
        "Les dockers du port de Marseille ont cessé le travail mardi pour protester contre les grues.\n"
    )
    (tmp_path / "ja.txt").write_text(
        "東京で大雪、交通機関に乱れ\n2025年2月8日\n東京都心で8日、大雪が降り、鉄道や航空便に大きな乱れが出た。\n"
    )
    found = {Path(a.source_path).stem: (a.outlet, a.published, a.text[:12]) for a in ingest([tmp_path]).articles}
    assert found == {
        "de": ("Nordkurier", "2025-03-05", "Rund 2.000 H"),
        "fr": ("Le Midi", "2025-03-01", "Les dockers "),
        "ja": (None, "2025-02-08", "東京都心で8日、大雪が降"),
    }


@pytest.mark.parametrize(
    "line",
    [
        'Tags: the word appeared in a quote from the mayor, who said "Tags: those are what I remember."',
        "Read more: the council published a 40-page report on Monday, which the mayor disputed.",
        "Topics: housing, transport and schools dominated the debate on Tuesday evening.",
        "Support independent journalism is what the mayor claimed the grant was for.",
    ],
)
def test_prose_that_opens_like_closing_furniture_is_kept_with_its_neighbours(tmp_path, line):
    (tmp_path / "mayor.txt").write_text(
        f"Mayor resigns\nBy Jane Doe\nThe mayor will leave office on Friday, officials said.\n{line}\n"
        "The council meets again next week to choose a successor.\n"
    )
    [article] = ingest([tmp_path]).articles
    assert article.text.split("\n\n") == [
        "The mayor will leave office on Friday, officials said.",
        line,
        "The council meets again next week to choose a successor.",
    ]


@pytest.mark.parametrize(
    ("opening", "title"),
    [
        ("World\nFloods kill four\nBy Jane Doe\n", "Floods kill four"),
        (
            "World\nFloods kill dozens across Valencia region as rivers burst\n",
            "Floods kill dozens across Valencia region as rivers burst",
        ),
        (
            "News\nJohn Smith, founder of the town library, dies at 94\nBy Jane Doe\n",
            "John Smith, founder of the town library, dies at 94",
        ),
        (
            "Council approves budget | Greenfield Herald | Menu | Sections\nCouncil approves budget\n",
            "Council approves budget",
        ),
    ],
)
def test_the_headline_under_a_section_label_or_menu_is_the_title_and_the_body_stays(tmp_path, opening, title):
    (tmp_path / "floods.txt").write_text(f"{opening}Flash floods swept through the region on Tuesday night.\n")
    [article] = ingest([tmp_path]).articles
    assert (article.title, article.text) == (title, "Flash floods swept through the region on Tuesday night.")


@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_a_pipe_table_is_rows_of_cells_not_a_menu(tmp_path, suffix):
    (tmp_path / f"award{suffix}").write_text(
        "Maths teacher wins national award\nThe teacher was honoured at a ceremony in London on Tuesday evening.\n"
        "| Year | Pupils |\n|------|--------|\n| 2023 | 120 |\n| 2024 | 135 |\n"
        "She will retire next year after thirty years in the classroom.\n"
    )
    [article] = ingest([tmp_path]).articles
    assert article.text.split("\n\n") == [
        "The teacher was honoured at a ceremony in London on Tuesday evening.",
        "Year, Pupils",
        "2023, 120",
        "2024, 135",
        "She will retire next year after thirty years in the classroom.",
    ]


def test_markdown_code_escapes_and_linked_images_read_as_shown(tmp_path):
    (tmp_path / "award.md").write_text(
        "# Maths teacher wins national award\n\n"
        "The teacher was honoured at a ceremony in London on Tuesday evening.\n\n"
        "Her club writes `__init__` methods and \\_private\\_ names; see [the report](https://x.test/a_(b)).\n\n"
        "[![badge](b.png)](https://x.test)\n\n```\nprint(2 * 3)\n```\n\n"
        "She will retire next year after thirty years in the classroom.\n"
    )
    [article] = ingest([tmp_path]).articles
    assert article.text.split("\n\n") == [
        "The teacher was honoured at a ceremony in London on Tuesday evening.",
        "Her club writes __init__ methods and _private_ names; see the report.",
        "print(2 * 3)",
        "She will retire next year after thirty years in the classroom.",
    ]


def test_a_dateline_with_a_state_and_a_date_and_a_foreign_byline_or_headline(tmp_path):
    (tmp_path / "portland.txt").write_text(
        "Bridge reopens after repairs\nPORTLAND, Ore., Jan. 5 — The Hawthorne Bridge reopened on Monday.\n"
    )
    (tmp_path / "leyen.txt").write_text(
        "Home | World | Politics\nVon Der Leyen Wins Second Term\n"
        "Ursula von der Leyen won a second term as Commission president on Thursday.\n"
    )
    found = {Path(a.source_path).stem: a for a in ingest([tmp_path]).articles}
    assert found["portland"].place == "Portland"
    assert found["portland"].text == "The Hawthorne Bridge reopened on Monday."
    assert found["leyen"].title == "Von Der Leyen Wins Second Term"


def test_an_interview_speaker_is_no_dateline_place(tmp_path):
    (tmp_path / "interview.txt").write_text(
        "Five questions for the harbour master\nQ: How long will the backlog take to clear?\n"
        "A: About three weeks, if the weather holds and every crane stays in service.\n"
    )
    (article,) = ingest([tmp_path]).articles
    assert article.place is None
    assert article.text.startswith("Q: How long will the backlog take to clear?")


def test_a_section_suffix_is_no_outlet_and_a_publisher_list_or_a_titled_role_names_one(tmp_path):
    body = "<p>The council voted on Tuesday to approve the budget after a long debate over bus fares.</p>"
    page = "<html><head>{}</head><body><article><h1>{}</h1>" + body + "</article></body></html>"
    (tmp_path / "opinion.html").write_text(page.format("<title>Why fares must fall - Opinion</title>", "Why fares"))
    ld = json.dumps({"@type": "NewsArticle", "publisher": [{"@type": "Organization", "name": "Northfield Gazette"}]})
    (tmp_path / "list.html").write_text(page.format(f'<script type="application/ld+json">{ld}</script>', "Budget"))
    (tmp_path / "role.txt").write_text(
        "Budget passes\nBy Sam Okafor, Senior Political Correspondent, The Northfield Gazette\n"
        "The council voted on Tuesday to approve the budget after a long debate over bus fares.\n"
    )
    found = {Path(a.source_path).name: a.outlet for a in ingest([tmp_path]).articles}
    assert found == {"opinion.html": None, "list.html": "Northfield Gazette", "role.txt": "The Northfield Gazette"}


def test_a_byline_that_ends_with_its_date_gives_outlet_and_date_and_a_sentence_like_it_stays(tmp_path):
    body = "The council voted on Tuesday to approve the budget after a long debate.\n"
    (tmp_path / "dated.txt").write_text(
        f"Council approves budget\nBy Jane Doe, Greenfield Herald — March 3, 2024\n{body}"
    )
    (tmp_path / "friday.txt").write_text(f"Talks collapse\n{body}By Friday — the talks had collapsed.\n")
    found = {Path(a.source_path).stem: a for a in ingest([tmp_path]).articles}
    assert (found["dated"].outlet, found["dated"].published, found["dated"].text) == (
        "Greenfield Herald",
        "2024-03-03",
        body.strip(),
    )
    assert found["friday"].text.endswith("By Friday — the talks had collapsed.")


def _teaser(n: int, headline: str, text: str, day: str) -> str:
    return (
        f'<article><h2><a href="/news/{n}">{headline}</a></h2><time datetime="{day}">{day}</time>'
        f"<p>{text}</p></article>"
    )


_TEASERS = [
    (
        1,
        "Council adds evening ferries",
        "The council voted on Tuesday to add two evening crossings from March.",
        "2026-03-02",
    ),
    (
        2,
        "Dock strike enters second week",
        "Talks between the union and the port operators broke down on Monday.",
        "2026-03-01",
    ),
    (
        3,
        "Library reopens after flood",
        "The central library reopened on Saturday, eight months after a flood.",
        "2026-02-28",
    ),
]
_STORY = "<p>The harbour board met on Thursday and agreed to dredge the outer channel before the summer season.</p>" * 6


def test_a_listing_page_gives_one_article_per_teaser_with_its_own_headline_date_and_link(tmp_path):
    (tmp_path / "front.html").write_text(
        '<html><head><link rel="canonical" href="https://courier.example/latest">'
        '<meta property="og:site_name" content="Harbour Courier"><title>Latest</title></head><body>'
        "<nav><a href='/'>Home</a></nav><main><h1>Latest news</h1>"
        + "".join(_teaser(*t) for t in _TEASERS)
        + '<article><h2><a href="/news/4">Headline only</a></h2></article>'
        # markup never shown is no teaser, and text after a teaser is not its text
        + "<template><article><h2>{{title}}</h2><p>{{summary}}</p></article></template>Page 1 of 9"
        + "</main></body></html>"
    )
    result = ingest([tmp_path])
    found = sorted((a.title, a.published, a.url, a.outlet, a.text) for a in result.articles)
    assert found == sorted(
        (headline, day, f"https://courier.example/news/{n}", "Harbour Courier", text)
        for n, headline, text, day in _TEASERS
    )
    assert [(Path(s.source).name, s.reason) for s in result.skipped] == [
        ("front.html#4", "a listing's teaser with a headline only")
    ]


@pytest.mark.parametrize(
    "page",
    [
        # the story in an <article> of its own, teasers of other stories beneath it
        f"<article><h1>Channel to be dredged</h1>{_STORY}</article>" + "".join(_teaser(*t) for t in _TEASERS[:2]),
        # the story outside any <article>, the teasers in a section beside it
        f"<div><h1>Channel to be dredged</h1>{_STORY}</div><section>"
        + "".join(_teaser(*t) for t in _TEASERS)
        + "</section>",
        # the teasers in a rail
        f"<article><h1>Channel to be dredged</h1>{_STORY}</article><aside>"
        + "".join(_teaser(*t) for t in _TEASERS)
        + "</aside>",
        # the headline above the story's <article>, a kicker heading inside it, related teasers after it
        f"<h1>Channel to be dredged</h1><article><h4>Politics</h4>{_STORY}</article>"
        + "".join(_teaser(*t) for t in _TEASERS * 2),
        # readers' comments as <article>s of their own, each under its author's name
        f"<article><h1>Channel to be dredged</h1>{_STORY}</article>"
        + "".join(f"<article><h4>Reader {n}</h4><p>I walk by the channel every day.</p></article>" for n in range(6)),
    ],
)
def test_a_story_page_with_teasers_beside_it_is_one_article(tmp_path, page):
    (tmp_path / "story.html").write_text(
        f"<html><head><title>Channel to be dredged</title></head><body>{page}</body></html>"
    )
    articles = ingest([tmp_path]).articles
    assert [a.title for a in articles] == ["Channel to be dredged"]
    assert "The harbour board met on Thursday" in articles[0].text
    assert not any(text in articles[0].text for _, _, text, _ in _TEASERS)  # nor other stories' text


def test_an_outlet_or_link_keeps_no_control_characters(tmp_path):
    record = {
        "title": "Ferry company adds evening crossings",
        "outlet": "Esc\u001b[31mRED\u001b[0m  Wire\u0007",
        "url": "https://wire.example/ferry?a=1&b=2\u001b[0m",
        "text": "The ferry company will add two evening crossings from April, it said on Monday.",
    }
    (tmp_path / "wire.json").write_text(json.dumps(record), "utf-8")
    [article] = ingest([tmp_path]).articles
    assert (article.outlet, article.url) == ("Esc[31mRED[0m Wire", "https://wire.example/ferry?a=1&b=2[0m")
