"""Readers and cleaning on fixture files written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from semsearch.config import Settings
from semsearch.ingest import ingest, read_raw
from semsearch.ingest.cleaning import Cleaner, dateline_date, parse_date
from semsearch.ingest.readers import SkipSource, decode_bytes

from .conftest import CORPUS


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
    for junk in ("Share", "Follow us", "Listen to this article", "min read", "Advertisement", "Comments",
                 "newsletter", "Related Articles", "Photo pic", "Ferry", "Museum"):
        assert junk not in flood.text
    for sentence in ("forcing about 900 residents of Lowbridge to leave their homes.",
                     "the town's sports hall was opened as a shelter.",
                     "the fastest rise recorded in the town since 1968.",
                     "to peak on Thursday afternoon."):
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
    assert cleaner.is_junk("Share on Facebook")
    assert cleaner.is_junk("Try Our AI Features")
    assert cleaner.is_junk("Top stories")
    assert not cleaner.is_junk("Prices rose.")
    assert not cleaner.is_junk("The mayor said the bridge would reopen on Friday, weeks ahead of schedule.")


def test_dates():
    assert dateline_date("May 15") == "--05-15"
    assert dateline_date("Sept. 3, 2024") == "2024-09-03"
    assert parse_date("Thu, 12 Jun 2025 09:15:00 GMT") == "2025-06-12"
    assert parse_date("2025-03-04T07:30:00Z") == "2025-03-04"
    assert parse_date("not a date") is None
