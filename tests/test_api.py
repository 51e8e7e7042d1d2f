"""The JSON API and HTML pages, called in-process through the app (the live server's own tests are test_guard,
test_reliability and the browser tests)."""

from __future__ import annotations

import re

import pytest
from pydantic import TypeAdapter

from semsearch.contract import MAX_QUERY_CHARS, SearchRequest
from semsearch.records import SearchResponse

RESPONSE = TypeAdapter(SearchResponse)

SEARCH_KEYS = {"query", "took_ms", "results", "summary"}
HIT_KEYS = {
    "article_id",
    "title",
    "outlet",
    "published",
    "url",
    "score",
    "snippet",
    "highlights",
    "term_highlights",
    "story_id",
    "also_reported_by",
}


def test_search_returns_the_documented_json(app):
    body = app.get("/api/search", params={"q": "Why did dockworkers strike?", "k": 3}).json()
    assert set(body) == SEARCH_KEYS
    # The route sends the body without re-validating it, so hold it to the documented schema here.
    assert RESPONSE.dump_python(RESPONSE.validate_python(body), mode="json") == body | {
        "timings": None,
        "new_since": None,
    }
    assert body["query"] == "Why did dockworkers strike?"
    assert 1 <= len(body["results"]) <= 3
    assert set(body["results"][0]) == HIT_KEYS
    assert "Port Calder" in body["results"][0]["title"]
    summary = body["summary"]
    assert set(summary) >= {"sentences", "sources"}
    assert summary["sentences"], summary
    for sentence in summary["sentences"]:
        for c in sentence["citations"]:
            assert set(c) == {"n", "article_id", "start", "end"}
            text = app.get(f"/api/articles/{c['article_id']}").json()["text"]
            assert text[c["start"] : c["end"]] == sentence["text"]
    assert {"n", "article_id", "title", "outlet", "published", "url"} <= set(summary["sources"][0])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "port", "k": 0}, "k"),
        ({"q": "port", "k": 101}, "k"),
        ({}, "q"),
        ({"q": "port", "k": "ten"}, "k"),
        ({"q": "x" * 1001}, "q"),
        ({"q": "port", "since": "2025-03-10", "until": "2025-03-01"}, "until"),
    ],
)
def test_bad_input_is_a_readable_422(app, params, field):
    response = app.get("/api/search", params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == field and error["message"] and error["code"]


def test_article_endpoint_and_404(app):
    hit = app.get("/api/search", params={"q": "cup final goals", "summary": "false"}).json()["results"][0]
    article = app.get(f"/api/articles/{hit['article_id']}").json()
    assert article["title"] == hit["title"] and article["text"]
    assert app.get("/api/articles/0000000000000000").status_code == 404
    missing = app.get("/api/articles/../../etc/passwd")
    assert missing.status_code == 404


def test_a_page_that_does_not_exist_says_so_once(app):
    page = app.get("/no-such-page")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "There is no page at this address." in page.text and "Not Found" not in page.text


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "field"),
    [
        ("GET", "/api/nothing-here", None, 404, "not_found", None),
        ("GET", "/api/articles/..%2F..", None, 404, "not_found", None),
        ("DELETE", "/api/search", None, 405, "method_not_allowed", None),
        ("POST", "/api/search", b'{"q": "strike", ', 400, "bad_request", None),
        ("POST", "/api/search", b'{"q": "strike", "outlet": [null]}', 422, "invalid_request", "outlet"),
        ("POST", "/api/search", b'{"q": "\xff"}', 400, "bad_request", None),
        ("POST", "/api/search", b"", 400, "bad_request", None),
        ("POST", "/api/search", b'["strike"]', 400, "bad_request", None),
        ("POST", "/api/search", b'{"k": 3}', 422, "invalid_request", "q"),
    ],
)
def test_every_api_error_has_the_one_error_shape(app, method, path, body, status, code, field):
    response = app.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    error = response.json()["error"]
    assert (
        (error["code"], error["field"]) == (code, field)
        and error["message"]
        and set(error) == {"code", "message", "field"}
    )


def test_health_reports_status_version_and_counts(app):
    body = app.get("/api/health").json()
    assert body["status"] == "ok" and body["version"]
    assert body["counts"]["articles"] == 12


def test_openapi_is_served(app):
    spec = app.get("/openapi.json").json()
    assert "/api/search" in spec["paths"] and spec["info"]["version"]
    docs = app.get("/docs")
    # A reference page of our own: Swagger UI's CDN scripts are refused by the policy and unreachable offline.
    assert docs.status_code == 200 and "<code>GET /api/search</code>" in docs.text
    assert "<code>POST /api/search</code>" in docs.text and "<code>recency</code>" in docs.text
    scripts = re.findall(r'<script src="([^"]+)"', docs.text)
    assert all(src.startswith("/static/") for src in scripts) and "<script>" not in docs.text
    assert app.get("/redoc").status_code == 404


def test_search_page_shows_brief_sources_and_results(app):
    page = app.get("/", params={"q": "How many residents left their homes in the flood?"})
    assert page.status_code == 200
    html = page.text
    assert 'class="brief"' in html and 'class="cite"' in html
    assert "River Mell" in html
    link = re.search(r'href="(/articles/[0-9a-f]{16}\?hl=\d+-\d+#s\d+)"', html).group(1)
    article = app.get(link.replace("&amp;", "&"))
    assert article.status_code == 200
    start = link.split("#s")[1]
    assert re.search(rf'<span id="s{start}" class="s marked">', article.text)


def test_empty_search_page_and_bad_query_page(app):
    assert 'name="q"' in app.get("/").text
    bad = app.get("/", params={"q": "   "})
    assert bad.status_code == 422 and "empty" in bad.text


def test_a_search_with_no_results_promises_no_articles(app):
    html = app.get("/", params={"q": "harbour pilots", "since": "2090-01-01"}).text
    assert 'class="abstain"' in html and "listed below" not in html


def test_markup_in_articles_is_escaped(app):
    html = app.get("/", params={"q": "council website defaced with a script"}).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    hit = app.get("/api/search", params={"q": "council website defaced", "k": 1}).json()["results"][0]
    page = app.get(f"/articles/{hit['article_id']}").text
    assert "<script>" not in page and "&lt;script&gt;" in page
    # Its source gave a javascript: url, which stays data in the API and is never made a link.
    assert hit["url"].startswith("javascript:") and "javascript:" not in page and ">original</a>" not in page


def test_security_headers(app):
    headers = app.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


def test_unknown_article_page_is_friendly(app):
    page = app.get("/articles/not-an-id")
    assert page.status_code == 404 and "Not found" in page.text


def test_a_story_from_three_outlets_is_one_result_listing_the_others(app):
    results = app.get("/api/search", params={"q": "Port Calder dock strike cranes", "k": 10}).json()["results"]
    strike = [r for r in results if "Calder" in r["title"]]
    assert len(strike) == 1
    others = strike[0]["also_reported_by"]
    assert len(others) == 2 and {o["article_id"] for o in others}.isdisjoint({strike[0]["article_id"]})
    assert {o["outlet"] for o in others} | {strike[0]["outlet"]} == {
        "Harbor Ledger",
        "Northgate Tribune",
        "Coastline Daily",
    }
    assert all(r["story_id"] for r in results)
    assert len({r["story_id"] for r in results}) == len(results)


def test_debug_adds_a_per_stage_timing_breakdown(app):
    plain = app.get("/api/search", params={"q": "cup final"}).json()
    assert "timings" not in plain
    body = app.get("/api/search", params={"q": "cup final", "debug": "true"}).json()
    timings = body["timings"]
    assert set(timings) == {"embed", "retrieve", "brief", "serialize"}
    assert all(v >= 0 for v in timings.values())
    assert timings["embed"] + timings["retrieve"] + timings["brief"] <= body["took_ms"] + 0.1


def test_an_outlet_filter_matches_whatever_case_the_reader_typed(app):
    asked = {"q": "port strike", "summary": False}
    stored = app.get("/api/search", params={**asked, "outlet": "Harbor Ledger"}).json()["results"]
    typed = app.get("/api/search", params={**asked, "outlet": "harbor LEDGER"}).json()["results"]
    assert stored and [h["article_id"] for h in typed] == [h["article_id"] for h in stored]
    assert not app.get("/api/search", params={**asked, "outlet": "Harbour Ledger"}).json()["results"]


def test_get_and_post_read_the_one_request_contract(app):
    params = {
        "q": "port strike",
        "k": 2,
        "mode": "lexical",
        "outlet": ["Harbor Ledger", "Coastline Daily"],
        "since": "2020-01-01",
        "summary": False,
    }
    by_get = app.get("/api/search", params=params).json()
    by_post = app.post("/api/search", json=params).json()
    assert [h["article_id"] for h in by_get["results"]] == [h["article_id"] for h in by_post["results"]]
    assert by_get["results"] and {h["outlet"] for h in by_get["results"]} <= {"Harbor Ledger", "Coastline Daily"}
    assert by_get["summary"] is None and len(by_get["results"]) <= 2
    for bad, field in (
        ({"q": "port", "offset": 501}, "offset"),
        ({"q": "port", "since": "May"}, "since"),
        ({"q": "port", "mode": "fuzzy"}, "mode"),
        ({"q": "\x00 \x07"}, "q"),
    ):
        for response in (app.get("/api/search", params=bad), app.post("/api/search", json=bad)):
            assert response.status_code == 422 and response.json()["error"]["field"] == field, (bad, response.text)


def test_openapi_documents_every_request_field_and_the_response_records(app):
    spec = app.get("/openapi.json").json()
    for path in ("/api/search", "/api/answer", "/api/answer/stream"):
        listed = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert set(listed) == set(SearchRequest.model_fields), path
        assert all(p.get("description") for p in listed.values()), path
    assert listed["k"]["schema"] == {
        "type": "integer",
        "maximum": 100,
        "minimum": 1,
        "default": 10,
        "description": "How many articles to return",
        "title": "K",
    }
    post = spec["paths"]["/api/search"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/SearchRequest")
    ok = post["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/SearchResponse")
    schemas = spec["components"]["schemas"]
    assert schemas["Hit"]["properties"]["score"]["description"].startswith("Fused rank score")
    assert set(schemas["SearchResponse"]["properties"]) == {
        "query",
        "took_ms",
        "results",
        "summary",
        "timings",
        "new_since",
    }
    answer = spec["paths"]["/api/answer"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(schemas[answer["$ref"].rsplit("/", 1)[-1]]["properties"]) >= {"results", "summary", "answer"}
    docs = app.get("/docs").text
    assert "Word budget of the brief" in docs and "integer 1–100" in docs


def test_search_page_reads_the_contract_and_takes_its_bounds(app):
    empty = app.get("/")
    assert empty.status_code == 200 and f'maxlength="{MAX_QUERY_CHARS}"' in empty.text
    assert 'id="words" name="words" type="number" min="20" max="400"' in empty.text
    blank_boxes = app.get("/", params={"q": "flood", "words": "", "sources": "", "since": "", "outlet": ""})
    assert blank_boxes.status_code == 200 and 'class="hits"' in blank_boxes.text
    for bad, label in (  # named as the form names its box; k, which no box sends, by its parameter
        ({"q": "flood", "k": "0"}, "k"),
        ({"q": "flood", "words": "5"}, "Exact brief length"),
        ({"q": "flood", "since": "May"}, "From"),
        ({"q": "flood", "mode": "fuzzy"}, "Matching"),
    ):
        page = app.get("/", params=bad)
        assert page.status_code == 422 and f"{label}: " in page.text and 'name="q"' in page.text, bad


def test_a_brief_says_when_the_filters_left_nothing_to_search(app):
    from semsearch.brief import NOTHING_WITHIN_FILTERS

    body = app.get("/api/search", params={"q": "dock strike", "since": "2030-01-01"}).json()
    assert body["results"] == [] and body["summary"]["abstained"] == NOTHING_WITHIN_FILTERS
    page = app.get("/", params={"q": "dock strike", "since": "2030-01-01"}).text
    assert "no article within the chosen dates, outlets or places matches this question" in page
    first, last = app.get("/api/stats").json()["published_from"], app.get("/api/stats").json()["published_until"]
    assert first and last and "The archive's articles are dated" in page  # so a reader can pick dates that hold some


def test_a_source_in_other_words_is_marked_apart_from_the_quoted_one(app):
    import re

    page = app.get("/", params={"q": "Why did the dockworkers strike at Port Alder?"}).text
    marks = re.findall(r'<a class="cite( same)?"[^>]*>\[(≈?)\d+\]</a>', page)
    assert ("", "") in marks and (" same", "≈") in marks and all(bool(a) == bool(b) for a, b in marks)
    assert "[≈n]: another source reporting the same fact in its own words" in page


def test_the_page_exports_its_preset_dates_and_shows_a_question_as_read(app):
    from datetime import date, timedelta

    from semsearch.server.pages import PRESETS

    page = app.get("/", params={"q": "strike", "when": "year", "outlet": ""}).text
    since = (date.today() - timedelta(days=PRESETS["year"])).isoformat()
    for route in ("search.md", "search.csv"):
        assert f"/{route}?q=strike&amp;since={since}" in page  # the export lists what the page lists
    empty = app.get("/", params={"q": ""})
    assert empty.status_code == 422 and "The question is empty: type a few words" in empty.text
    symbols = app.get("/", params={"q": "🔥🔥"})
    assert symbols.status_code == 422 and '"alert">The question has no words, only symbols' in symbols.text
    glued = app.get("/", params={"q": "port\x00\nstrike"})
    assert "\x00" not in glued.text and "<title>port strike · semsearch</title>" in glued.text


def test_a_method_not_allowed_names_every_method_the_path_answers(app):
    assert app.put("/api/search").headers["allow"] == "GET, HEAD, POST"
    assert app.delete("/api/stats").headers["allow"] == "GET, HEAD"
    page = app.post("/articles/0000000000000000", headers={"accept": "text/html"})
    assert page.status_code == 405 and page.headers["allow"] == "GET, HEAD"
