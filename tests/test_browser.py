"""The web UI in a real browser (Debian's Chromium driven by Playwright) against a live server.

Skipped, with the reason, where Chromium or Playwright is not installed; .ci/run installs both.
Screenshots of the main states go to test-artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .chromium import ARGS, CHROMIUM, NOT_INSTALLED

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason=NOT_INSTALLED),
]


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server.url, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_ask_read_the_brief_and_open_a_citation(page):
    page.goto("/")
    shot(page, "01-home")
    assert page.evaluate("document.activeElement.id") == "q"  # the question box has focus
    page.fill("#q", "How many residents left their homes in the flood?")
    page.press("#q", "Enter")
    page.wait_for_selector("section.brief .quote")
    assert "q=How+many" in page.url
    assert page.locator("ol.hits li.hit").count() >= 3
    assert "River Mell" in page.locator("ol.hits li.hit h3").first.inner_text()
    shot(page, "02-results")
    first_quote = page.locator("section.brief .quote").first.inner_text()
    page.locator("section.brief a.cite").first.hover()
    assert page.locator("section.brief .tip").first.is_visible()  # source shown on hover
    page.locator("section.brief a.cite").first.click()
    page.wait_for_selector("span.s.marked")
    marked = page.locator("span.s.marked").first
    assert marked.inner_text() == first_quote
    assert marked.is_visible() and marked.bounding_box()["y"] < 900  # scrolled into view
    shot(page, "03-article-cited-sentence")


def test_filters_change_results_and_url(page):
    page.goto("/?q=strike")
    before = page.locator("ol.hits li.hit").count()
    page.get_by_text("Refine", exact=True).click()
    page.get_by_role("checkbox", name=re.compile(r"^Valley Wire")).click()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert "outlet=Valley+Wire" in page.url
    outlets = page.locator("ol.hits li.hit p.meta").all_inner_texts()
    assert outlets and all(o.startswith("Valley Wire") for o in outlets) and len(outlets) <= before
    shot(page, "04-filtered")


def test_a_search_address_holds_only_what_the_reader_chose(page):
    from urllib.parse import parse_qsl, urlsplit

    def sent() -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(page.url).query, keep_blank_values=True)

    page.goto("/")
    page.fill("#q", "strike")
    page.press("#q", "Enter")
    page.wait_for_selector("ol.hits")
    assert sent() == [("q", "strike")]  # no blank boxes, no length or matching left at its default
    page.get_by_text("Refine", exact=True).click()
    page.get_by_role("checkbox", name=re.compile(r"^Valley Wire")).click()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert sorted(sent()) == [("outlet", "Valley Wire"), ("q", "strike")]
    # the default typed as the exact length still overrides a chosen preset, so both are sent
    page.get_by_text("Refine", exact=True).click()
    page.get_by_role("radio", name=re.compile(r"^Short")).click()
    page.get_by_text("For experts").click()
    page.fill("#words", "120")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert [v for k, v in sent() if k == "words"] == ["40", "120"]
    assert page.locator("input[name=words]:checked").get_attribute("value") == "120"


def test_keyboard_only(page):
    page.goto("/")
    page.keyboard.type("Who scored in the cup final?")
    page.keyboard.press("Enter")
    page.wait_for_selector("section.brief")
    page.keyboard.press("/")  # the shortcut returns to the box
    assert page.evaluate("document.activeElement.id") == "q"
    for _ in range(60):  # Tab until the first citation has focus, then follow it
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('cite')"):
            break
    else:
        pytest.fail("no citation reachable by Tab")
    assert page.locator(".cite-wrap:focus-within .tip").first.is_visible()
    page.keyboard.press("Enter")
    page.wait_for_selector("span.s.marked")


def test_works_with_javascript_off(browser, server):
    context = browser.new_context(base_url=server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    # The sources' status line is the server's own text: there without script.
    assert re.match(
        r"\d+ sources? · updated (just now|\d+ (min|h|days?) ago)", page.locator(".sources-status").inner_text()
    )
    page.fill("#q", "Why did dockworkers strike?")
    page.press("#q", "Enter")
    page.wait_for_selector("section.brief .quote")
    assert "Calder" in page.locator("ol.hits").inner_text()
    page.locator("section.brief a.cite").first.click()
    page.wait_for_selector("span.s.marked")
    context.close()


def test_narrow_screen_has_no_horizontal_scroll(browser, server):
    context = browser.new_context(base_url=server.url, viewport={"width": 375, "height": 800})
    page = context.new_page()
    # The defaced-website article quotes a URL of 280 characters without a break: it wraps, on each page.
    for url in ("/", "/?q=Port+Calder+strike", "/?q=flood&outlet=Valley+Wire", "/?q=council+website+defaced+script"):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), url
    page.locator("ol.hits li.hit h3 a").first.click()
    page.wait_for_load_state()
    assert "security-notes.example" in page.locator("article").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shot(page, "05-narrow")
    context.close()


def test_markup_in_an_article_is_shown_as_text_and_never_runs(page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto("/?q=council+website+defaced+script")
    assert "<script>alert(1)</script>" in page.locator("body").inner_text()
    page.locator("ol.hits li.hit h3 a").first.click()
    page.wait_for_load_state()
    assert "<script>alert(1)</script>" in page.locator("article").inner_text()
    assert dialogs == []
    shot(page, "06-escaped-markup")


def test_abstain_and_dark_mode(browser, server):
    context = browser.new_context(base_url=server.url, color_scheme="dark")
    page = context.new_page()
    page.goto("/?q=best+sourdough+starter+recipe")
    assert "No brief this time" in page.locator("section.brief").inner_text()
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 255, 255)"
    shot(page, "07-abstain-dark")
    context.close()


def test_brief_length_control_changes_the_brief(page):
    page.goto("/?q=Port+Calder+dock+strike")
    long = len(page.locator("section.brief .brief-text").inner_text().split())
    page.get_by_text("Refine", exact=True).click()
    page.get_by_role("radio", name=re.compile(r"^Short")).click()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert "words=40" in page.url
    short = len(page.locator("section.brief .brief-text").inner_text().split())
    assert short < long


def test_back_shows_the_choices_of_the_page_it_returns_to(page):
    page.goto("/?q=Port+Calder+dock+strike")
    page.get_by_text("Refine", exact=True).click()
    page.get_by_role("radio", name=re.compile(r"^Short")).click()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert "words=40" in page.url
    page.go_back()
    page.wait_for_load_state()
    # The page answers with the default length, so its form must say so, or the next search uses Short.
    assert "words=" not in page.url
    assert page.locator("input[name=words]:checked").get_attribute("value") != "40"
