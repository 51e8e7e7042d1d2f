"""Markdown, CSV and Atom exports: parsed back with real parsers and checked against /api/search; nothing a source
wrote becomes live markup, a formula or broken XML."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import UTC, datetime

import feedparser
import pytest
from markdown_it import MarkdownIt

from semsearch.export import csv_text, entry_id, markdown, md_text, search_atom
from semsearch.records import Brief, BriefSentence, Citation, Hit, SearchResponse, Source

QUESTION = {"q": "dockworkers strike automation", "k": 5}
HOSTILE = '=HYPERLINK("http://evil.example") [click](javascript:alert(1)) <img src=x onerror=alert(1)> *big* # \x01'


def rendered(text: str) -> str:
    """Markdown as a CommonMark renderer (with tables and strikethrough on) turns it into HTML."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)


def visible(html_text: str) -> str:
    """The text a reader sees in rendered HTML."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def test_markdown_brief_matches_the_api(client):
    api = client.get("/api/search", params=QUESTION).json()
    md = client.get("/search.md", params=QUESTION)
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    html_text = rendered(md.text)
    shown = visible(html_text)
    sources = api["summary"]["sources"]
    assert api["summary"]["sentences"]
    assert any(s["corroborations"] for s in api["summary"]["sentences"])  # so the checks below have one to check
    listed = visible(html_text.split("<h2>Sources</h2>")[1].split("<h2>Results</h2>")[0])
    for sentence in api["summary"]["sentences"]:
        quoted = dict.fromkeys(c["n"] for c in sentence["citations"])
        others = [n for n in dict.fromkeys(c["n"] for c in sentence["corroborations"]) if n not in quoted]
        numbers = "".join(f"[{n}]" for n in quoted)
        also = f" (same fact in other words: {''.join(f'[{n}]' for n in others)})" if others else ""
        assert f"{sentence['text']} {numbers}{also}" in shown
        for c in sentence["citations"]:
            assert f"/articles/{c['article_id']}?hl={c['start']}-{c['end']}#s{c['start']}" in html_text
        # another outlet's own sentence is listed as such, never as where this sentence is quoted from
        for c in sentence["corroborations"]:
            where = f"characters {c['start']}–{c['end']} of article {c['article_id']}"
            assert any(
                line.startswith("   - same fact in its own words:") for line in md.text.splitlines() if where in line
            )
            assert not any(line.startswith("   - quoted:") for line in md.text.splitlines() if where in line)
    assert all(src["title"] in listed and (src["outlet"] or "") in listed for src in sources)
    titles = [hit["title"] for hit in api["results"]]
    assert all(title in shown for title in titles)
    assert shown.index(titles[0]) < shown.index(titles[-1])


def test_csv_rows_match_the_api(client):
    api = client.get("/api/search", params={**QUESTION, "summary": "false"}).json()
    response = client.get("/search.csv", params=QUESTION)
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["article_id"] for r in rows] == [h["article_id"] for h in api["results"]]
    for rank, (row, hit) in enumerate(zip(rows, api["results"], strict=True), start=1):
        assert int(row["rank"]) == rank and float(row["score"]) == pytest.approx(hit["score"], abs=1e-4)
        assert (row["title"], row["outlet"], row["snippet"]) == (hit["title"], hit["outlet"] or "", hit["snippet"])


def test_search_feed_is_valid_atom_of_the_matching_articles_newest_first(client):
    api = client.get("/api/search", params=QUESTION).json()
    response = client.get("/search.atom", params=QUESTION)
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert {e.link.rsplit("/", 1)[1] for e in feed.entries} == {h["article_id"] for h in api["results"]}
    dates = [e.updated for e in feed.entries]
    assert dates == sorted(dates, reverse=True)


def test_bad_input_is_one_json_error(client):
    for path in ("/search.md", "/search.csv", "/search.atom"):
        for params in ({}, {"q": " "}, {"q": "x", "k": "0"}, {"q": "x", "since": "yesterday"}):
            response = client.get(path, params=params)
            assert response.status_code == 422, (path, params)
            assert response.json()["error"]["code"] == "invalid_request"


def hostile_response() -> SearchResponse:
    """A response whose every source string is hostile."""
    hit = Hit(
        article_id="0123456789abcdef",
        title=HOSTILE,
        outlet="+Outlet",
        published="2025-01-02",
        url="javascript:alert(1)",
        score=0.5,
        snippet="-2+3 " + HOSTILE,
        highlights=[],
        story_id="@s",
    )
    brief = Brief(
        sentences=[BriefSentence(HOSTILE, [Citation(1, hit.article_id, 0, len(HOSTILE))])],
        sources=[Source(1, hit.article_id, HOSTILE, "@Outlet", "2025-01-02", "javascript:alert(1)")],
    )
    return SearchResponse(query="1. " + HOSTILE, took_ms=1.0, results=[hit], summary=brief)


def test_markdown_never_injects_links_html_or_emphasis():
    html_text = rendered(markdown(hostile_response(), "http://127.0.0.1:8000"))
    assert "<img" not in html_text and "javascript:" not in re.sub(
        r"&lt;|&gt;", "", "".join(re.findall(r'href="[^"]*"', html_text))
    )
    assert "<em>" not in html_text and "<ol" in html_text  # the only list is our own
    assert all(
        href.startswith('href="http://127.0.0.1:8000/articles/') for href in re.findall(r'href="[^"]*"', html_text)
    )
    assert "[click](javascript:alert(1))" in visible(html_text)  # shown as the text it is
    assert md_text("line one\n# heading") == "line one \\# heading"


def test_csv_defuses_formulas_and_quotes_everything():
    rows = list(csv.reader(io.StringIO(csv_text(hostile_response()))))
    title, outlet, snippet, story = rows[1][3], rows[1][4], rows[1][8], rows[1][7]
    assert title.startswith("'=HYPERLINK") and outlet == "'+Outlet" and snippet.startswith("'-2+3")
    assert story == "'@s"
    assert title[1:] == HOSTILE  # the text itself survives the quoting round trip


def test_atom_escapes_markup_and_drops_what_xml_cannot_carry():
    built = datetime(2025, 6, 1, tzinfo=UTC)
    feed = feedparser.parse(search_atom(hostile_response(), "http://h", "http://h/s.atom", "http://h/", built))
    assert not feed.bozo, feed.bozo_exception
    assert feed.entries[0].title == HOSTILE.replace("\x01", "").strip()  # markup comes back as text
    assert feed.entries[0].link == "http://h/articles/0123456789abcdef"


def test_the_search_page_links_to_every_export_of_its_question(client):
    import html

    page = client.get("/", params=[("q", "dock strike"), ("since", ""), ("outlet", "Harbor Ledger"), ("k", "3")])
    found = re.findall(r'<a href="(/search\.(?:md|csv|atom)\?[^"]*)"[^>]*>([^<]+)', page.text)
    links = {text: html.unescape(href) for href, text in found}
    assert set(links) == {"View as Markdown", "Download CSV", "Atom feed"}
    rows = list(csv.DictReader(io.StringIO(client.get(links["Download CSV"]).text)))
    assert rows and len(rows) <= 3 and {r["outlet"] for r in rows} == {"Harbor Ledger"}
    md = client.get(links["View as Markdown"])
    assert md.status_code == 200 and md.text.startswith("# dock strike")
    feed = feedparser.parse(client.get(links["Atom feed"]).content)
    assert not feed.bozo and {e.link.rsplit("/", 1)[1] for e in feed.entries} == {r["article_id"] for r in rows}
    assert f'<link rel="alternate" type="application/atom+xml" href="{html.escape(links["Atom feed"])}"' in page.text


def test_atom_never_dates_an_undated_article_as_the_newest():
    from dataclasses import replace

    dated = hostile_response().results[0]
    undated = replace(dated, article_id="fedcba9876543210", published=None)
    older = replace(dated, article_id="00000000000000aa", published="2024-11-30")
    response = SearchResponse(query="q", took_ms=1.0, results=[undated, dated, older], summary=None)
    built = datetime(2026, 12, 1, tzinfo=UTC)
    feed = feedparser.parse(search_atom(response, "http://h", "http://h/s.atom", "http://h/", built))
    assert [e.link.rsplit("/", 1)[1] for e in feed.entries] == [dated.article_id, older.article_id, undated.article_id]
    assert [e.updated[:10] for e in feed.entries] == ["2025-01-02", "2024-11-30", "2024-11-30"]


def test_an_atom_entry_keeps_its_id_when_its_article_is_edited():
    """An edit gives the article a new id; its entry keeps the id its source's address gives it."""
    first = Hit("a1", "Strike ends", "Wire", "2025-03-19", "https://example.test/strike", 1.0, "s", [], [], "s1", [])
    edited = dataclasses.replace(first, article_id="b2", title="Strike ends after 16 days")
    unsourced = dataclasses.replace(first, url=None)
    assert entry_id(first, "http://h/") == entry_id(edited, "http://h/")
    assert entry_id(first, "http://h/").startswith("urn:sha256:")
    assert entry_id(unsourced, "http://h/") == "http://h/articles/a1"


def test_two_articles_from_one_address_are_two_entries():
    one = Hit("a1", "Strike ends", "Wire", "2025-03-19", "https://example.test/strike", 1.0, "s", [], [], "s1", [])
    other = dataclasses.replace(one, article_id="b2", outlet="Ledger", story_id="s2")
    response = SearchResponse("strike", 1.0, [one, other], None)
    feed = feedparser.parse(search_atom(response, "http://h/", "u", "p", datetime(2025, 6, 1, tzinfo=UTC)))
    assert len({e.id for e in feed.entries}) == 2
