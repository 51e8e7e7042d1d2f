"""The search page as a reader uses it (issue #23): the Refine panel, the brief's layout, the example headlines,
and, in a real Chromium against a live server, clicking and typing through the controls, their sizes at three
widths, axe-core on every page and screenshots of each (into test-artifacts/, for a person to look at)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from semsearch.contract import SearchRequest
from semsearch.records import AlsoReported, Brief, BriefSentence, Citation, Hit, SearchResponse, Source
from semsearch.server import pages
from semsearch.service import SearchService

from .chromium import ARGS, CHROMIUM, NOT_INSTALLED

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
APP_JS = Path(__file__).parent.parent / "web" / "static" / "app.js"
WIDTHS = (1280, 768, 375)


# ---- the page's own logic, no browser -------------------------------------------------------------------


def test_a_month_bar_names_its_month_and_year() -> None:
    assert pages.month_label("2026-11") == "Nov ’26" and pages.month_label("1987-02") == "Feb ’87"
    assert pages.month_label("no month") == "no month"


def test_a_preset_sets_since_from_today_and_a_typed_date_means_custom() -> None:
    sent: dict = {"since": "2020-01-01", "until": "2020-02-01"}
    assert pages.apply_preset(sent, "week", date(2025, 3, 10)) == "week"
    assert sent == {"since": "2025-03-03"}  # the typed range gives way to the preset
    typed: dict = {"until": "2025-01-31"}
    assert pages.apply_preset(typed, None, date(2025, 3, 10)) == "custom" and typed == {"until": "2025-01-31"}
    assert pages.apply_preset({}, "", date(2025, 3, 10)) == "any"
    assert pages.apply_preset({}, "fortnight", date(2025, 3, 10)) == "any"  # an unknown preset changes nothing


def test_brief_lengths_are_words_values_and_an_odd_value_keeps_its_own_choice() -> None:
    choices = pages.lengths(None, 120)
    assert [(c.name, c.words, c.checked) for c in choices] == [
        ("short", 40, False),
        ("medium", 120, True),
        ("long", 250, False),
    ]
    bounds = SearchRequest.limits()["words"]
    assert all(bounds["min"] <= n <= bounds["max"] for n in pages.LENGTHS.values())
    odd = pages.lengths("30", 120)
    assert [c.name for c in odd if c.checked] == ["30 words"] and len(odd) == 4


def _sentence(text: str, n: int, article: str, corroborated_by: str | None = None) -> BriefSentence:
    corro = [Citation(n + 1, corroborated_by, 0, 5)] if corroborated_by else []
    return BriefSentence(text, [Citation(n, article, 0, len(text))], corro)


def test_brief_blocks_group_by_story_and_mute_only_a_real_dateline() -> None:
    brief = Brief(
        sentences=[
            _sentence("WASHINGTON _ President Ford signed the bill.", 1, "a", corroborated_by="c"),
            _sentence("NEW YORK, March 3 (AP) -- Stocks rose.", 1, "a"),
            _sentence("Officials said: the dam held.", 2, "b"),
            _sentence("US inflation eased in May.", 2, "b"),
        ],
        sources=[
            Source(1, "a", "A", "Wire", "1975-03-03", None),
            Source(2, "b", "B", "Daily", None, None),
            Source(3, "c", "C", "Post", None, None),
        ],
    )
    blocks = pages.brief_blocks(brief)
    assert [b.source.article_id for b in blocks] == ["a", "b"]
    lines = [line for b in blocks for line in b.lines]
    assert [line.dateline for line in lines] == ["WASHINGTON _ ", "NEW YORK, March 3 (AP) -- ", "", ""]
    assert all(line.dateline + line.rest == line.sentence.text for line in lines)  # the quote stays whole
    assert lines[0].outlets == 2


def test_refine_summary_says_what_is_set() -> None:
    context = {
        "outlet": ["Valley Wire", "Harbor Ledger", "The Lantern"],
        "place": [],
        "when": "custom",
        "since": "2025-03-01",
        "words": "40",
        "lengths": pages.lengths("40", 120),
        "mode": "lexical",
    }
    assert pages.refine_summary(context) == [
        "Valley Wire, Harbor Ledger and 1 more",
        "1 Mar 2025 – now",
        "short brief",
        "lexical mode",
    ]
    assert pages.refine_summary({"outlet": [], "place": [], "when": "any", "lengths": pages.lengths(None, 120)}) == []


def test_examples_skip_markup_leftovers_and_shouting_and_prefer_a_question() -> None:
    stories = [
        ["&HT;", "&HT; &HT;"],
        ["CABINET QUITS IN BUDGET ROW"],
        ["**** 12-34 ****"],
        ["Flood waters recede in Marrowfield", "Will the flood waters recede?"],
        ["Ships pile up off Port Alder"],
        ["Ships  pile up off Port Alder"],
        ["Rates"],
        ["Rail link <b>approved</b>"],
        ["Budget passes after all-night sitting"],
    ]
    fake = SimpleNamespace(index=SimpleNamespace(covered_story_titles=lambda n: stories))
    assert SearchService.examples(fake, 3) == [  # type: ignore[arg-type]
        "Will the flood waters recede?",
        "Ships pile up off Port Alder",
        "Budget passes after all-night sitting",
    ]


def _render(**context: object) -> str:
    base = {
        "q": "strike",
        "outlet": [],
        "place": [],
        "modes": ("hybrid", "dense", "lexical"),
        "limits": {"q": {"maxlength": 1000}, "words": {"min": 20, "max": 400}, "sources": {"min": 1, "max": 50}},
        "outlets": [],
        "places": [],
        "response": None,
        "error": None,
        "ready": True,
        "writer": None,
        "answer": False,
        "checked": None,
        "answer_stream": None,
        "offset": 0,
        "examples": [],
        "coverage": None,
        "more": None,
        "back": None,
        "when": "any",
        "lengths": pages.lengths(None, 120),
        "refined": [],
        "form_defaults": {"mode": "hybrid", "words": "120"},
    }
    return pages.templates.get_template("search.html").render({**base, **context})


def test_also_reported_by_shows_three_outlets_and_and_n_more() -> None:
    others = [AlsoReported(f"id{i}", f"Outlet {i}", f"T{i}", f"2025-03-0{1 + i % 9}") for i in range(14)]
    hit = Hit("x", "<b>Strike</b>", "Wire", "2025-03-01", None, 1.0, "snippet", [], [], "s", others)
    html = _render(response=SearchResponse("strike", 5.0, [hit], None))
    also = html[html.index('class="also"') :]
    shown = also[: also.index("<details")]
    assert shown.count("<a ") == 3 and "and 11 more</summary>" in also
    assert "&lt;b&gt;Strike&lt;/b&gt;" in html and "<b>Strike</b>" not in html  # a source's markup stays text


def test_many_outlets_get_a_filter_box_and_every_checkbox_without_script() -> None:
    outlets = [(f"Outlet {i}", 20 - i) for i in range(12)]
    html = _render(outlets=outlets, outlet=["Outlet 3"])
    assert 'class="facet-filter"' in html and html.count('type="checkbox" name="outlet"') == 12
    assert re.search(r'value="Outlet 3" checked', html)
    assert 'class="facet-filter"' not in _render(outlets=outlets[:5])


def test_places_are_a_facet_like_outlets_and_a_ticked_place_stays_ticked() -> None:
    html = _render(places=[("Port Alder", 6), ("Northgate", 5)], place=["Port Alder", "Atlantis"])
    places = html[html.index('class="facet places"') :]
    assert re.search(r'name="place" value="Port Alder" checked', places)
    assert re.search(r'name="place" value="Northgate">', places)
    assert re.search(r'name="place" value="Atlantis" checked', places)  # not in the archive: kept, at 0
    assert 'type="hidden" name="place"' not in html  # the checkboxes carry the places now
    bare = _render(place=["Port Alder"])  # an archive without places still keeps one asked for
    assert 'type="hidden" name="place" value="Port Alder"' in bare


def test_a_name_ticked_in_another_case_is_the_listed_one_once() -> None:
    listed = [("Port Alder", 6), ("Northgate", 5)]
    assert pages.as_listed(["port alder", "PORT ALDER", "Port Alder", "Atlantis"], listed) == ["Port Alder", "Atlantis"]
    html = _render(places=listed, place=pages.as_listed(["port alder"], listed))
    assert html.count('name="place" value="Port Alder" checked') == 1 and "port alder" not in html
    assert (
        '5<span class="vh"> articles</span>' in html and _render(places=[("Sunmere", 1)]).count("> article</span>") == 1
    )


def test_place_counts_come_within_the_other_filters(service: SearchService) -> None:
    everything = dict(service.dateline_places())
    assert everything and all(n > 0 for n in everything.values())
    within = dict(service.dateline_places(SearchRequest(q="x", since="2099-01-01").filters()))
    assert within.keys() == everything.keys() and set(within.values()) == {0}
    new = dict(service.dateline_places(service.search_filters(SearchRequest(q="x", new_since="2099-01-01"))))
    assert set(new.values()) == {0}  # "new since" narrows the counts as the search's articles


# ---- in a real browser ------------------------------------------------------------------------------------


def in_browser(test):
    """Marks of a test run in Chromium (skipped, with the reason, where it is not installed)."""
    for mark in (
        pytest.mark.browser,
        pytest.mark.model,
        pytest.mark.skipif(CHROMIUM is None, reason=NOT_INSTALLED),
    ):
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()


def _page(browser, server, width: int = 1280, **options):
    context = browser.new_context(base_url=server.url, viewport={"width": width, "height": 900}, **options)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return context, page


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@in_browser
def test_a_reader_refines_by_clicking_and_typing(browser, server) -> None:
    context, page = _page(browser, server)
    page.goto("/")
    page.keyboard.type("What happened at the Port Alder docks?")
    page.get_by_text("Refine", exact=True).click()
    page.get_by_role("radio", name="Custom dates").click()
    page.locator("#since").click(position={"x": 12, "y": 12})  # the month part of the date box
    page.keyboard.type("03012025")
    page.get_by_role("checkbox", name=re.compile(r"^Valley Wire")).click()
    page.get_by_role("radio", name=re.compile(r"^Short")).click()
    _shot(page, "page-refine-filled-1280")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_selector("section.results")
    for part in ("since=2025-03-01", "outlet=Valley+Wire", "words=40", "when=custom"):
        assert part in page.url
    summary = page.locator("details.refine > summary").inner_text()
    assert "Valley Wire" in summary and "1 Mar 2025" in summary and "short brief" in summary
    metas = page.locator("ol.hits li.hit > p.meta").all_inner_texts()
    assert metas and all(m.startswith("Valley Wire") for m in metas)
    dates = [m.split(" · ")[1] for m in metas]  # outlet · date · story timeline
    assert all(d.endswith("2025") and "Jan" not in d and "Feb" not in d for d in dates)
    context.close()


@in_browser
def test_choosing_a_preset_empties_the_typed_dates(browser, server) -> None:
    context, page = _page(browser, server)
    page.goto("/?q=flood&when=custom&since=2025-01-01")
    page.get_by_text("Refine", exact=True).click()
    assert page.locator("#since").input_value() == "2025-01-01"
    page.get_by_role("radio", name="Past year").click()
    assert page.locator("#since").input_value() == ""
    page.locator("#until").click(position={"x": 12, "y": 12})
    page.keyboard.type("06302025")
    assert page.get_by_role("radio", name="Custom dates").is_checked()  # a typed date means custom
    context.close()


@in_browser
def test_controls_are_wide_enough_at_every_width(browser, server) -> None:
    """Every control of the open Refine panel at least 80 px wide at 1280 (a radio or checkbox by its label,
    which is what is clicked) and inside the screen with no sideways scroll at 768 and 375."""
    for width in WIDTHS:
        context, page = _page(browser, server, width)
        page.goto("/?q=Port+Alder+strike")
        page.locator("details.refine > summary").click()
        page.locator("details.expert > summary").click()
        boxes = page.evaluate("""[...document.querySelectorAll(
              'form.ask input:not([type=hidden]):not([hidden]), form.ask select, form.ask button')].map(e => {
            const box = (e.type === 'radio' || e.type === 'checkbox') ? e.closest('label') : e;
            const r = box.getBoundingClientRect();
            return {name: e.id || e.name + '=' + e.value, width: r.width, right: r.right};
        })""")
        assert len(boxes) >= 14, boxes
        narrow = [b for b in boxes if b["width"] < 80 or b["right"] > width]
        assert not narrow, (width, narrow)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        _shot(page, f"page-refine-open-{width}")
        context.close()


PAGES = {
    "search-empty": "/",
    "search-results": "/?q=Port+Calder+dock+strike",
    "docs": "/docs",
    "error": "/articles/no-such-article",
    "search-error": "/?q=strike&since=not-a-date",
}


@in_browser
def test_axe_finds_nothing_serious_and_no_request_fails(browser, server) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context, page = _page(browser, server)
    failed: list[str] = []
    page.on("console", lambda m: m.type == "error" and failed.append(m.text))
    page.goto(PAGES["search-results"])
    article = page.locator("section.brief a.cite").first.get_attribute("href")
    found = {}
    for name, url in {**PAGES, "article": article}.items():
        page.goto(url)
        if name.startswith("search"):
            page.locator("details.refine > summary").click()  # the panel's controls are checked too
        violations = axe.run(page).response["violations"]
        found[name] = [(v["id"], v["impact"]) for v in violations if v["impact"] in ("serious", "critical")]
        assert page.locator("h1").count() == 1, name
    assert found == {name: [] for name in found}
    # The error pages answer 404 and 422 on purpose; nothing else may fail (a missing favicon did, on every page).
    assert [f for f in failed if "404" not in f and "422" not in f] == []
    assert len(failed) == 2, failed
    context.close()


@in_browser
def test_screenshots_at_three_widths_light_and_dark(browser, server) -> None:
    for width in WIDTHS:
        for scheme in ("light", "dark"):
            context, page = _page(browser, server, width, color_scheme=scheme)
            page.goto(PAGES["search-results"])
            assert page.locator(".brief-text .line").count() >= 2
            _shot(page, f"page-results-{width}-{scheme}")
            page.locator("section.brief a.cite").first.click()
            page.wait_for_selector("span.s.marked")
            _shot(page, f"page-article-{width}-{scheme}")
            page.goto("/")
            _shot(page, f"page-empty-{width}-{scheme}")
            assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
            page.goto("/docs")  # its wide tables scroll inside their own boxes, not the page
            assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
            context.close()


@in_browser
def test_refine_works_without_javascript(browser, server) -> None:
    context, page = _page(browser, server, java_script_enabled=False)
    page.goto("/")
    page.locator("#q").fill("Why did dockworkers strike?")
    page.get_by_text("Refine", exact=True).click()
    page.get_by_role("checkbox", name=re.compile(r"^Harbor Ledger")).click()
    page.get_by_role("radio", name=re.compile(r"^Long")).click()
    page.locator("#q").press("Enter")
    page.wait_for_selector("section.results")
    assert "outlet=Harbor+Ledger" in page.url and "words=250" in page.url
    metas = page.locator("ol.hits li.hit > p.meta").all_inner_texts()
    assert metas and all(m.startswith("Harbor Ledger") for m in metas)
    context.close()


@in_browser
def test_the_outlet_filter_box_narrows_a_long_list(browser) -> None:
    """app.js on a rendered page with many outlets: typing hides the others, a ticked one stays."""
    page = browser.new_page()
    outlets = [
        (name, 3)
        for name in (
            "Valley Wire",
            "Harbor Ledger",
            "Meridian Post",
            "Coastline Daily",
            "Northgate Tribune",
            "The Lantern",
            "Riverside Herald",
            "Saltmere Echo",
            "Fenmark Gazette",
            "Kessling Courier",
        )
    ]
    page.set_content(_render(outlets=outlets, outlet=["Saltmere Echo"]))
    page.add_script_tag(path=str(APP_JS))
    page.locator("details.refine > summary").click()
    page.locator("input.facet-filter").click()
    page.keyboard.type("ledg")
    visible = [n.strip() for n in page.locator(".outlets .facet-list li:visible .name").all_inner_texts()]
    assert visible == ["Harbor Ledger", "Saltmere Echo"]
    page.keyboard.press("Enter")  # filters only: the search is not sent
    assert page.url == "about:blank"
    page.close()


def test_an_abstention_keeps_the_names_as_spelt(app) -> None:
    """The page lowers the message's first letter to fit its sentence, never the name it gives."""
    page = app.get("/", params={"q": "Why did dockworkers strike at Port Calder in NORWAY?"}).text
    assert "No brief this time: nothing in the archive mentions “NORWAY”." in page
