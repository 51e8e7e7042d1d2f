"""The Python client against a live server: typed results, paging, filters, errors."""

from __future__ import annotations

from datetime import date

import pytest

from semsearch.client import ApiError, Client
from semsearch.records import Brief, Citation, Hit


@pytest.fixture
def api(server):
    with Client(server.url) as c:
        yield c


def test_search_returns_typed_results_with_verbatim_citations(api):
    response = api.search("How many residents left their homes in the flood?", k=5)
    assert response.results and "River Mell" in response.results[0].title
    # The JSON is loaded into the service's own records, tuples and all.
    hit = response.results[0]
    assert isinstance(hit, Hit) and isinstance(response.summary, Brief) and type(hit.highlights[0]) is tuple
    assert isinstance(response.summary.sentences[0].citations[0], Citation)
    assert response.summary.sentences
    for sentence in response.summary.sentences:
        for c in sentence.citations:
            assert api.article(c.article_id).text[c.start : c.end] == sentence.text


def test_paging_continues_where_the_first_page_ended(api):
    everything = [h.article_id for h in api.search("news", k=8, summary=False).results]
    first = [h.article_id for h in api.search("news", k=4, summary=False).results]
    second = [h.article_id for h in api.search("news", k=4, offset=4, summary=False).results]
    assert first + second == everything


def test_outlet_filter_and_outlets_and_stats(api):
    outlets = api.outlets()
    assert outlets["Valley Wire"] >= 1
    only = api.search("news", k=10, outlet=["Valley Wire"], since=date(2000, 1, 1), summary=False).results
    assert only and all(h.outlet == "Valley Wire" for h in only)
    stats = api.stats()
    assert stats["counts"]["articles"] == 12 and stats["published_from"] <= stats["published_until"]


def test_errors_raise_api_error_with_the_field(api):
    with pytest.raises(ApiError) as caught:
        api.search("   ")
    assert caught.value.status == 422 and caught.value.field == "q"
    with pytest.raises(ApiError) as bad_day:
        api.search("news", until="31/12/2025")
    assert bad_day.value.status == 422 and bad_day.value.field == "until"
    with pytest.raises(ApiError) as missing:
        api.article("0123456789abcdef")
    assert missing.value.status == 404
