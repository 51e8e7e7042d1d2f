"""Retrieval: fusion, filters, quoted phrases, recency and highlight spans, over the fixture index."""

from __future__ import annotations

import html
import re
import time
from datetime import date

import numpy as np
import pytest
from pydantic import ValidationError

from semsearch.contract import SearchRequest
from semsearch.retrieval import (
    Filters,
    contains_phrase,
    lexical_query,
    minmax,
    query_phrases,
    recency_scores,
    rrf,
    weighted,
)


def test_minmax_and_weighted_sum():
    assert minmax(np.array([2.0, 4.0, 3.0])).tolist() == [0.0, 1.0, 0.5]
    assert minmax(np.array([5.0, 5.0])).tolist() == [0.0, 0.0]
    fused = weighted([np.array([1.0, 0.0, 0.5]), np.array([0.0, 10.0, 5.0])], [0.75, 0.25])
    assert fused.tolist() == pytest.approx([0.75, 0.25, 0.5])


def test_rrf_rewards_agreement():
    lexical = np.array([3.0, 2.0, 1.0])  # ranks 0, 1, 2
    dense = np.array([0.1, 0.9, 0.5])  # ranks 2, 0, 1
    fused = rrf([lexical, dense], k=60)
    assert fused[1] == pytest.approx(1 / 62 + 1 / 61)
    assert int(np.argmax(fused)) == 1


def test_recency_halves_every_half_life():
    scores = recency_scores(["2025-05-31", "2025-05-01", "--05-01", None], "2025-05-31", 30.0)
    assert scores.tolist() == pytest.approx([1.0, 0.5, 0.0, 0.0])


def test_phrase_words_are_required_terms():
    assert query_phrases('talks on "Strategic  mutual-trust" now') == ["strategic mutual trust"]
    bm25 = lexical_query('"strategic mutual trust" china talks about it')
    assert bm25.required == ["strateg", "mutual", "trust"] and bm25.terms == ["china", "talk"]
    assert contains_phrase("Both spoke of STRATEGIC mutual\ntrust.", "strategic mutual trust")
    assert not contains_phrase("strategic and mutual trust", "strategic mutual trust")


def test_bad_filter_dates_are_rejected():
    with pytest.raises(ValueError, match="since must be a date"):
        Filters(since="May 2025")


def _outlet_counts(service) -> list[tuple[str, int]]:
    return service.index.outlets()


def test_outlet_counts_under_a_place_are_numbers_where_an_outlet_names_no_place(service):
    counts = dict(service.outlets(SearchRequest(q="x", place=["Port Alder"]).filters()))
    assert counts and all(isinstance(n, int) for n in counts.values()) and 0 in counts.values()


def test_outlet_counts_are_what_ticking_the_outlet_finds_within_the_dates(service):
    window = {"since": date(2025, 3, 1), "until": date(2025, 3, 31)}
    counts = service.outlets(SearchRequest(q="x", outlet=["Valley Wire"], **window).filters())
    assert [name for name, _ in counts] == sorted((name for name, _ in counts), key=dict(counts).get, reverse=True)
    assert {name for name, _ in counts} == {name for name, _ in service.outlets()}  # none left out, even at 0
    kept = sum(dict(counts).values())
    assert 0 in dict(counts).values() and 0 < kept < sum(dict(service.outlets()).values())
    for outlet, count in counts:  # the ticked outlet is counted too: a facet does not filter by itself
        asked = SearchRequest(q="news port strike rates", k=100, mode="dense", summary=False, outlet=[outlet], **window)
        assert len(service.search(asked).results) == count


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_outlet_filter_returns_k_when_k_exist(service, mode):
    outlet, count = _outlet_counts(service)[0]
    response = service.search(
        SearchRequest(q="harbour strike port workers news", k=count, mode=mode, summary=False, outlet=[outlet])
    )
    if mode == "lexical":  # the lexical leg only returns articles sharing a word with the query
        assert 1 <= len(response.results) <= count
    else:
        assert len(response.results) == count
    assert {hit.outlet for hit in response.results} == {outlet}
    assert len({hit.article_id for hit in response.results}) == len(response.results)


def test_several_outlets_and_date_range(service):
    (first, n1), (second, n2) = _outlet_counts(service)[:2]
    response = service.search(SearchRequest(q="news", k=100, mode="dense", summary=False, outlet=[first, second]))
    assert len(response.results) == n1 + n2
    dated = service.search(
        SearchRequest(q="news", k=100, mode="dense", summary=False, since="2025-04-01", until="2025-05-31")
    )
    assert dated.results
    assert all("2025-04-01" <= hit.published[:10] <= "2025-05-31" for hit in dated.results)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_impossible_filter_returns_nothing_without_error(service, mode):
    for filters in ({"outlet": ["No Such Outlet"]}, {"since": "2999-01-01"}):
        response = service.search(SearchRequest(q="port strike", k=5, mode=mode, summary=False, **filters))
        assert response.results == []
    # A range that ends before it starts is the asker's mistake, named before any search.
    with pytest.raises(ValidationError, match="until"):
        SearchRequest(q="port strike", mode=mode, since="2025-06-01", until="2025-01-01")


def test_quoted_phrase_matches_literally(service):
    response = service.search(SearchRequest(q='"crane operators"', k=10, mode="lexical", summary=False))
    assert response.results
    for hit in response.results:
        assert contains_phrase(service.article(hit.article_id).text, "crane operators")
    assert service.search(SearchRequest(q='"operators crane"', k=10, mode="lexical", summary=False)).results == []


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_highlight_spans_are_valid_offsets(service, mode):
    response = service.search(SearchRequest(q="dockworkers automation cranes", k=5, mode=mode, summary=False))
    assert response.results
    marked_any = False
    for hit in response.results:
        text = service.article(hit.article_id).text
        for start, end in hit.highlights:
            assert 0 <= start < end <= len(text)
            assert text[start:end] in hit.snippet
        for start, end in hit.term_highlights:
            assert any(s <= start < end <= e for s, e in hit.highlights)
            assert text[start:end].lower().startswith(("dockworker", "automat", "crane"))
            marked_any = True
    assert marked_any


def test_recency_prefers_newer_articles(service):
    plain = service.search(SearchRequest(q="news report", k=5, mode="dense", summary=False))
    recent = service.search(SearchRequest(q="news report", k=5, mode="dense", summary=False, recency=1.0))
    newest = max(h.published for h in recent.results if h.published and h.published[0].isdigit())
    assert recent.results[0].published == newest
    assert [h.article_id for h in plain.results] != [h.article_id for h in recent.results] or plain.results[
        0
    ].published == newest
    with pytest.raises(ValidationError):
        SearchRequest(q="news", recency=2.0)


def test_post_search_takes_a_json_body(client, service):
    outlet, _ = _outlet_counts(service)[0]
    body = client.post("/api/search", json={"q": "port strike", "k": 3, "outlet": [outlet], "summary": False}).json()
    assert body["results"] and {h["outlet"] for h in body["results"]} == {outlet}
    get = client.get("/api/search", params={"q": "port strike", "k": 3, "outlet": outlet, "summary": "false"}).json()
    assert [h["article_id"] for h in get["results"]] == [h["article_id"] for h in body["results"]]
    bad = client.post("/api/search", json={"q": "port", "since": "yesterday"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "since"
    none = client.get("/api/search", params={"q": "port", "since": "2999-01-01", "summary": "false"}).json()
    assert none["results"] == []


def test_search_page_has_filters_and_marks_terms(client):
    page = client.get("/", params={"q": "dockworkers automation", "mode": "lexical", "since": "", "until": ""})
    assert page.status_code == 200
    html = page.text
    assert 'name="outlet"' in html and 'type="date"' in html and 'name="mode"' in html
    assert "<mark>" in html
    assert client.get("/", params={"q": "port", "since": "nonsense"}).status_code == 422
    assert client.get("/", params={"q": "port", "since": "2025-02-30"}).status_code == 422
    assert client.get("/api/search", params={"q": "port", "until": "2025-02-29"}).status_code == 422


def test_search_page_applies_place_and_recency_as_the_api_does(client):
    def titles(html: str) -> list[str]:
        return re.findall(r'<h3><a href="/articles/[0-9a-f]+[^"]*">([^<]+)</a>', html)

    for params in ({"place": "Port Calder"}, {"recency": "1"}, {"outlet": ""}):
        api = client.get("/api/search", params={"q": "port", "summary": "false", **params}).json()["results"]
        page = client.get("/", params={"q": "port", **params}).text
        assert titles(page) == [html.escape(h["title"], quote=False) for h in api]
    everything = client.get("/api/search", params={"q": "port", "summary": "false"}).json()["results"]
    calder = client.get("/api/search", params={"q": "port", "summary": "false", "place": "Port Calder"}).json()
    assert 0 < len(calder["results"]) < len(everything)


@pytest.mark.parametrize("depth", [1, 3, 50])
def test_article_signals_equal_scoring_every_chunk_and_sentence(service, depth):
    from semsearch.retrieval import Params, Retriever

    retriever = Retriever(service.index, service.embedder, Params(depth=depth))
    for question in ("Why did dockworkers strike?", "flood water homes evacuated", "rail fares rise", "storm"):
        vector = service.embedder.encode_query(question)
        evidence = retriever.evidence(question, vector, "hybrid", Filters(), depth)
        every = service.index.lexicon.scores(lexical_query(question).every, range(service.index.lexicon.chunks))
        # An article's chunks, as SQLite lists them, against those the layout arrays gave the evidence.
        rows = {
            a: [r[0] for r in service.index.db.execute("SELECT id FROM chunks WHERE article_id = ?", (a,))]
            for a in evidence.article_ids
        }
        owners = [evidence.article_ids[i] for i in evidence.chunk_owners]
        assert sorted(zip(owners, evidence.chunk_ids.tolist(), strict=True)) == sorted(
            (a, c) for a, ids in rows.items() for c in ids
        )
        best = {a: max((every[c] for c in ids), default=0.0) for a, ids in rows.items()}
        assert evidence.lexical.tolist() == pytest.approx([best[a] for a in evidence.article_ids])
        # The sentence signal, taken from consecutive id ranges, equals every stored sentence's cosine.
        closest = [
            max(service.index.vectors_of([s.id for s in service.index.article_sentences(a)]) @ vector)
            for a in evidence.article_ids
        ]
        assert evidence.sentence.tolist() == pytest.approx(closest, abs=1e-5)


@pytest.mark.model
def test_a_quoted_phrase_is_found_below_chunks_that_only_hold_its_words(tmp_path):
    """The index has words, not positions: chunks holding 'new' and 'york' apart must not crowd out the phrase."""
    from semsearch.build import build_articles
    from semsearch.config import Settings
    from semsearch.records import Article
    from semsearch.service import SearchService

    apart = [
        Article.create(
            title=f"Council notes {i}",
            source_path=f"apart-{i}",
            text=f"The new budget for York road {i} is new, and York council wants new money for York roads.",
        )
        for i in range(130)
    ]
    phrase = Article.create(
        title="Ferry link",
        source_path="phrase",
        text="A ferry link to New York opens next spring after years of planning.",
    )
    settings = Settings(index_dir=tmp_path)
    build_articles([*apart, phrase], settings)
    response = SearchService(settings).search(SearchRequest(q='"new york"', k=5, mode="lexical", summary=False))
    assert [hit.article_id for hit in response.results] == [phrase.id]


@pytest.mark.model
@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_one_long_article_does_not_crowd_out_the_others(tmp_path, mode):
    from semsearch.build import build_articles
    from semsearch.config import Settings
    from semsearch.records import Article
    from semsearch.retrieval import Params, Retriever
    from semsearch.service import SearchService

    # A scrape that repeats its story: every one of its many chunks is closer to the question than any other article.
    long = Article.create(
        title="Harbour strike live",
        source_path="live",
        text="\n\n".join(
            f"Update {i}: the harbour strike by dockworkers over pay went on, "
            "and the harbour stayed shut by the strike."
            for i in range(120)
        ),
    )
    others = [
        Article.create(title=title, source_path=title, text=text)
        for title, text in [
            ("Ferry fares", "Ferry fares across the harbour will rise in May. Commuters objected at a packed meeting."),
            ("Nurses' pay", "Nurses voted to accept a pay offer on Tuesday. The union had threatened a strike."),
            (
                "Crane upgrade",
                "Two new cranes arrived at the container terminal. Dockworkers trained on them for weeks.",
            ),
            ("Fishing quotas", "Trawler crews in the harbour town fear smaller quotas. Landings fell by a third."),
            ("Rail walkout", "Train drivers walked out over rosters. Services on the coast line were cancelled."),
            ("Tide warning", "A flood warning was issued for the harbour front. Sandbags went out to shops."),
        ]
    ]
    settings = Settings(index_dir=tmp_path)
    build_articles([long, *others], settings)
    service = SearchService(settings)
    retriever = Retriever(service.index, service.embedder, Params(depth=10))
    assert (service.index.layout.chunk_articles == 0).sum() > 10  # the long article alone fills a leg's depth
    hits = retriever.retrieve("harbour strike dockworkers pay", k=5, mode=mode).hits
    assert len(hits) == 5 and long.id in [h.article_id for h in hits]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_model_pass_beside_bm25_ranks_as_one_after_the_other(service, mode):
    from semsearch.retrieval import Retriever

    retriever = Retriever(service.index, service.embedder)
    for question in ("Why did dockworkers strike?", "flood water homes evacuated", '"rail fares"'):
        beside = retriever.retrieve(question, mode=mode)  # embeds in the worker while BM25 runs here
        after = retriever.retrieve(question, mode=mode, vector=service.embedder.encode_query(question))
        assert [(h.article_id, h.score) for h in beside.hits] == [(h.article_id, h.score) for h in after.hits]
        assert beside.chunks.tolist() == after.chunks.tolist()
        assert np.array_equal(beside.query_vector, after.query_vector)
        assert beside.embed_ms > 0 and after.embed_ms == 0


def test_queries_use_one_thread_in_every_thread_that_searches(service):
    import threading

    import faiss
    from threadpoolctl import threadpool_info

    # OpenMP keeps its thread count per thread, so a server's worker threads must each set it.
    vector = service.embedder.encode_query("harbour strike")
    seen = []
    worker = threading.Thread(
        target=lambda: (service.index.search_chunks(vector, 5), seen.append(faiss.omp_get_max_threads()))
    )
    worker.start()
    worker.join()
    assert seen == [1]
    assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")


def test_a_forked_process_still_answers(service):
    import os

    service.search(SearchRequest(q="harbour strike", summary=False))  # the parent's pool has threads now
    pid = os.fork()
    if pid == 0:  # the child: any failure, or a hang (the parent's timeout below), fails the test
        ok = False
        try:
            ok = bool(service.search(SearchRequest(q="flood homes evacuated", summary=False)).results)
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + 30
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            pytest.fail("the forked child hung")
        time.sleep(0.1)
    assert os.waitstatus_to_exitcode(done[1]) == 0


def test_a_question_asked_again_reuses_its_vector(settings, monkeypatch):
    from semsearch.service import SearchService

    service = SearchService(settings)
    asked = []
    embed = service.embedder.encode_query
    monkeypatch.setattr(service.embedder, "encode_query", lambda q: asked.append(q) or embed(q))
    question = "Why did dockworkers strike?"
    first = service.search(SearchRequest(q=question, debug=True))
    service.search(SearchRequest(q=question, offset=1, summary=False))  # the next page of results
    again = service.search(SearchRequest(q=question, debug=True))
    assert asked == [question]
    assert again.to_dict()["results"] == first.to_dict()["results"]
    assert again.to_dict()["summary"] == first.to_dict()["summary"]
    assert first.timings["embed"] > 0 and again.timings["embed"] == 0

    uncached = SearchService(settings.model_copy(update={"query_cache_size": 0}))
    uncached.search(SearchRequest(q=question, summary=False))
    uncached.search(SearchRequest(q=question, summary=False))
    assert asked == [question] * 3


def test_the_query_vector_cache_keeps_the_most_recent():
    from semsearch.service import QueryVectors

    cache = QueryVectors(2)
    for i, question in enumerate("abc"):
        cache.put(question, np.full(3, float(i)))
        cache.get("a")  # asked again each time, so it stays
    assert cache.get("b") is None and cache.get("a")[0] == 0.0 and cache.get("c")[0] == 2.0
    with pytest.raises(ValueError, match="read-only"):
        cache.get("a")[0] = 5.0  # shared by every later search, so read-only


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_pages_are_slices_of_one_ranking(service, mode):
    from semsearch.retrieval import Params, Retriever

    # Shallow legs, so later pages need deeper ones than the first: what a big archive does at depth 100.
    retriever = Retriever(service.index, service.embedder, Params(depth=4))
    for question in ("Why did dockworkers strike?", "port strike flood rail fares council", "cup final goals"):
        deepest = [h.article_id for h in retriever.retrieve(question, k=2, mode=mode, offset=8).hits]
        assert len(deepest) >= (8 if mode != "lexical" else 1)
        for offset in range(0, len(deepest), 2):
            hits = retriever.retrieve(question, k=2, mode=mode, offset=offset).hits
            assert [h.article_id for h in hits[offset:]] == deepest[offset : offset + 2]
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.model
def test_a_date_in_the_future_does_not_make_every_real_article_old(tmp_path):
    from semsearch.build import build_articles
    from semsearch.config import Settings
    from semsearch.embedding import MODEL_NAME
    from semsearch.index import Index
    from semsearch.records import Article
    from semsearch.service import SearchService

    dated = [
        Article.create(
            title=f"Harbour report {day}",
            source_path=f"report-{day}",
            text=f"The harbour board published its weekly traffic report on {day}, with ferry numbers steady.",
            published=day,
        )
        for day in ("2025-03-01", "2025-03-20", "2099-01-01")
    ]
    settings = Settings(index_dir=tmp_path)
    build_articles(dated, settings)
    assert Index(tmp_path, MODEL_NAME).newest_published() == "2025-03-20"
    request = SearchRequest(q="harbour traffic report", k=3, mode="dense", summary=False, recency=1.0)
    ranked = [hit.published for hit in SearchService(settings).search(request).results]
    # the placeholder date counts as new (it is not older than the newest real one), and 20 March beats 1 March
    assert ranked.index("2025-03-20") < ranked.index("2025-03-01")
