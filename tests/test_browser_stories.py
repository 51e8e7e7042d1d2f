"""News over time in a real browser (Chromium via Playwright): the new-since control, the story page, a
discrepancy shown with both spans, and axe-core on the new pages. Skipped, with the reason, where Chromium or
Playwright is not installed."""

from __future__ import annotations

import pytest

from .chromium import ARGS, CHROMIUM, NOT_INSTALLED
from .overtime_fixtures import overtime_server, overtime_service, overtime_settings  # noqa: F401 - fixtures

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.model,
    pytest.mark.skipif(CHROMIUM is None, reason=NOT_INSTALLED),
]
QUESTION = "Port Alder dock strike over automated cranes"


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, overtime_server):  # noqa: F811 - the imported fixture
    context = browser.new_context(base_url=overtime_server.url, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def serious(page, context: dict | None = None) -> list[str]:
    """axe-core's serious and critical violations on the page (or the parts `context` names)."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page, context=context).response["violations"]
    return [f"{v['id']}: {v['help']}" for v in violations if v["impact"] in ("serious", "critical")]


def test_new_since_control_is_in_the_url(page) -> None:
    page.goto("/")
    page.fill("#q", QUESTION)
    page.click("summary:has-text('Refine')")
    page.click("#new_since")
    page.keyboard.type("03042025")  # the date field as a person types it (month, day, year in this locale)
    page.press("#q", "Enter")
    page.wait_for_selector("section.brief .quote")
    assert "new_since=2025-03-04" in page.url  # a bookmark for "since my last visit"
    assert "first published on or after" in page.locator("p.new-since").inner_text()
    quotes = page.locator("section.brief .quote").all_inner_texts()
    assert not any("came to a standstill on Monday" in q for q in quotes)
    assert page.input_value("#new_since") == "2025-03-04"
    # The search page's own parts (its month chart) belong to its redesign: checked here are the form and brief.
    assert serious(page, {"include": [["form.ask"], ["section.brief"]]}) == []
    page.goto("/?q=" + QUESTION.replace(" ", "+") + "&new_since=2025-12-01")
    assert "nothing new since 2025-12-01" in page.locator("section.brief").inner_text().lower()


def test_story_page_and_a_discrepancy_with_both_spans(page) -> None:
    page.goto("/?q=" + QUESTION.replace(" ", "+"))
    page.locator("ol.hits a", has_text="story timeline").first.click()
    page.wait_for_selector("ol.developments")
    assert "/stories/" in page.url
    assert page.locator("ol.story-articles li").count() >= 4
    assert "copy of" in page.locator("ol.story-articles").inner_text()
    disagreement = page.locator(".discrepancy", has_text="2,000").first
    sides = disagreement.locator(".side")
    assert sides.count() == 2
    assert "2,300" in sides.nth(0).inner_text() and "Harbor Ledger" in sides.nth(0).inner_text()
    assert "2,000" in sides.nth(1).inner_text() and "Meridian Post" in sides.nth(1).inner_text()
    assert "strike ends" in page.locator("aside", has_text="Related developments").inner_text()
    assert serious(page) == []
    sides.nth(1).locator("a").click()  # the span opens highlighted in its article
    page.wait_for_selector("span.s.marked")
    assert "2,000" in page.locator("span.s.marked").first.inner_text()
    page.locator("a", has_text="This story over time").click()
    page.wait_for_selector("ol.developments")
    assert serious(page) == []


def test_brief_shows_independent_outlets_and_disagreement(page) -> None:
    page.goto("/?q=" + QUESTION.replace(" ", "+") + "&words=200")
    page.wait_for_selector("section.brief .quote")
    brief = page.locator("section.brief").inner_text()
    assert "independently" in brief
    assert page.locator("section.brief .discrepancy .side").count() >= 2
    assert serious(page, {"include": [["section.brief"]]}) == []
