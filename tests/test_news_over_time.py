"""News over time (issue #24): what is new since a day, story timelines, where outlets disagree, copies."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import httpx
import pytest

from semsearch.brief import citation_problems
from semsearch.build import build
from semsearch.config import Settings
from semsearch.contract import SearchRequest
from semsearch.discrepancies import Sentences, _confirmations, difference, is_copy
from semsearch.index.rows import ArticleMeta
from semsearch.novelty import is_earlier
from semsearch.records import BriefSentence, Citation
from semsearch.service import SearchService

from .overtime_fixtures import overtime_server, overtime_service, overtime_settings  # noqa: F401 - fixtures

QUESTION = "Port Alder dock strike over automated cranes"


@pytest.fixture
def api(overtime_server):  # noqa: F811 - the imported fixture
    with httpx.Client(base_url=overtime_server.url, timeout=60) as c:
        yield c


def spans_hold(service, quotes) -> None:
    """Every quote is exactly its article's text[start:end]."""
    for q in quotes:
        assert service.index.article_text(q["article_id"])[q["start"] : q["end"]] == q["text"]


def test_figures_dates_and_names_that_differ() -> None:
    assert difference("About 2,300 dockworkers walked off.", "About 2,000 dockworkers walked off.") == (
        "figure",
        ("2,300", "2,000"),
    )
    assert difference("About 2,300 dockworkers walked off.", "About 2300 dockworkers walked off on Monday.") is None
    # a figure written out is a figure, and "twelve" is 12
    assert difference("Twelve people were hurt on the span.", "Fifteen people were hurt on the span.") == (
        "figure",
        ("Twelve", "Fifteen"),
    )
    assert difference("Twelve people were hurt on the span.", "12 people were hurt on the span on Monday.") is None
    # A time of day is no figure: only the head counts differ.
    assert difference(
        "About 2,300 dockworkers walked off the job at 6 a.m. on Monday.",
        "About 2,000 dockworkers walked off the job on Monday morning at 7:30.",
    ) == ("figure", ("2,300", "2,000"))
    # A detail one outlet adds is no disagreement.
    assert difference("14 cranes would cost 400 jobs.", "The 14 cranes would cost jobs.") is None
    assert difference("The strike began on Monday.", "The strike began on Tuesday.") == ("date", ("Monday", "Tuesday"))
    assert difference(
        "Mediator Helena Brask led the talks for nine days.", "Mediator Helena Lund led the talks for nine days."
    ) == ("name", ("brask", "lund"))
    assert difference("Rosa Kettering spoke to strikers.", "Cranes stood idle at Terminal 4 all week.") is None


def test_copies_and_undated_count_as_earlier() -> None:
    assert is_copy("The walkout started at 6 a.m.", "The walkout started at 6 a.m.")
    # the same words with another figure or month report something else
    strike = "About 4,000 workers from the three container terminals joined the strike at the port on Monday."
    mill = "The old mill on the river bank closed in March 1998 after a century of weaving cloth for the town."
    assert not is_copy(strike, strike.replace("4,000", "3,500"))
    assert not is_copy(mill, mill.replace("March", "May"))
    from datetime import date

    assert is_earlier(None, date(2025, 3, 4)) and is_earlier("--03-05", date(2025, 3, 4))
    assert is_earlier("2025-03-03", date(2025, 3, 4)) and not is_earlier("2025-03-04", date(2025, 3, 4))


def test_articles_of_unknown_outlet_are_not_counted_as_outlets() -> None:
    """Two articles whose outlet is unknown may come from one outlet: they never make "2 outlets"."""
    import numpy as np

    texts = {"a": "Dockworkers walked out on Monday.", "b": "The strike began on Monday at dawn.", "c": "x" * 40}
    metas = {
        i: ArticleMeta(i, i, outlet, None, None, None, f"{i}.txt", None, [], "s")
        for i, outlet in [("a", None), ("b", None), ("c", "Valley Wire")]
    }
    pool = Sentences([], np.zeros((0, 0), np.float32), metas, texts)
    unnamed = BriefSentence(texts["a"], [Citation(1, "a", 0, 33)], [Citation(2, "b", 0, 34)])
    _confirmations(unnamed, pool)
    assert (unnamed.outlets, unnamed.independent) == (1, 1)
    named = BriefSentence(texts["a"], [Citation(1, "a", 0, 33)], [Citation(2, "b", 0, 34), Citation(3, "c", 0, 40)])
    _confirmations(named, pool)
    assert (named.outlets, named.independent) == (1, 1)


def test_new_since_keeps_a_revised_figure_as_news() -> None:
    """A later sentence as close as a restatement but giving the fact another figure or day is news, not repeat."""
    import numpy as np

    from semsearch.index.rows import SentenceTraits, StoredSentence
    from semsearch.novelty import EarlierReports

    first_report = "About 2,300 dockworkers walked off the job on Monday."

    later = (
        "About 2,000 dockworkers walked off the job on Monday. About 2,300 dockworkers walked off the job on Monday."
    )
    earlier = EarlierReports(
        day=date(2025, 3, 4),
        vectors=np.asarray([[1.0, 0.0]], np.float32),
        stories=np.asarray([0]),
        figures=[frozenset()],
        sentences=[StoredSentence(9, "earlier", 0, 0, len(first_report))],
        read_texts=lambda ids: {"later": later, "earlier": first_report},
        articles=1,
        story_of=np.asarray([0]),
        sentence_article=lambda ids: np.zeros(len(ids), dtype=np.int64),
        redundancy=0.9,
    )
    spans = [(0, 53), (54, len(later))]
    traits = [
        SentenceTraits(StoredSentence(n, "later", n, a, b), 9, True, False, "", np.zeros(0, np.uint32), ())
        for n, (a, b) in enumerate(spans)
    ]
    reported, _ = earlier.judge(traits, np.asarray([[1.0, 0.0], [1.0, 0.0]], np.float32))
    assert reported.tolist() == [False, True]


@pytest.mark.model
def test_new_since_leaves_out_what_was_reported_before(api, overtime_service) -> None:  # noqa: F811
    plain = api.get("/api/search", params={"q": QUESTION}).json()
    body = api.get("/api/search", params={"q": QUESTION, "new_since": "2025-03-04"}).json()
    assert body["new_since"]["day"] == "2025-03-04"
    assert body["new_since"]["earlier_articles"] >= 2  # the two March 3 reports and the undated one
    assert body["new_since"]["left_out"] >= 1
    assert all(h["published"] >= "2025-03-04" for h in body["results"])
    brief = body["summary"]
    assert brief["sentences"]
    days = {s["article_id"]: s["published"] for s in brief["sources"]}
    assert all(days[c["article_id"]] >= "2025-03-04" for s in brief["sentences"] for c in s["citations"])
    texts = {s["text"] for s in brief["sentences"]}
    # Reported on March 3 by two outlets; the March 4 wire copy repeating it is not news.
    assert not any("came to a standstill on Monday" in t for t in texts)
    assert any("came to a standstill on Monday" in s["text"] for s in plain["summary"]["sentences"])
    for s in brief["sentences"]:
        for c in s["citations"]:
            assert overtime_service.index.article_text(c["article_id"])[c["start"] : c["end"]] == s["text"]
    post = api.post("/api/search", json={"q": QUESTION, "new_since": "2025-03-04"}).json()
    assert post["summary"]["sentences"] == brief["sentences"]


@pytest.mark.model
def test_new_since_with_nothing_new_says_so(api) -> None:
    body = api.get("/api/search", params={"q": QUESTION, "new_since": "2025-12-01"}).json()
    assert body["results"] == []
    assert body["summary"]["sentences"] == []
    # Nothing of the period matches: the reader is not told that earlier reports answered it.
    assert body["summary"]["abstained"] == (
        "Nothing new since 2025-12-01: no article dated on or after that day answers this question closely "
        "enough to quote."
    )
    # Before every dated article: everything is new except the undated report, which counts as earlier.
    early = api.get("/api/search", params={"q": QUESTION, "new_since": "2020-01-01"}).json()
    assert early["new_since"]["earlier_articles"] == 1
    assert early["summary"]["sentences"]


@pytest.mark.model
def test_new_since_bad_dates_are_clear_errors(api) -> None:
    for bad in ("2025-13-01", "yesterday", "2025-02-30"):
        response = api.get("/api/search", params={"q": QUESTION, "new_since": bad})
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "new_since"
    answer = api.get("/api/answer", params={"q": QUESTION, "new_since": "2025-03-04"})
    assert answer.status_code == 200 and answer.json()["new_since"]["day"] == "2025-03-04"


@pytest.mark.model
def test_brief_counts_independent_outlets_and_shows_discrepancies(overtime_service) -> None:  # noqa: F811
    response = overtime_service.search(SearchRequest(q=QUESTION, words=200))
    brief = response.summary
    assert not citation_problems(brief, overtime_service.index.article_text)
    copied = [s for s in brief.sentences if s.copies]
    assert copied and all(s.independent < s.outlets for s in copied)
    published = {source.n: source.published or "9999" for source in brief.sources}
    for sentence in copied:  # a copied sentence is cited from its original first, then its copies by date
        assert [published[c.n] for c in sentence.citations] == sorted(published[c.n] for c in sentence.citations)
        assert sentence.citations[0].n not in {note.n for note in sentence.copies}
    found = [d for s in brief.sentences for d in s.discrepancies]
    assert found and all(d.first.outlet != d.second.outlet for d in found)
    assert {d.differs for d in found} & {("14", "12"), ("2,300", "2,000")}
    spans_hold(overtime_service, [vars_of(q) for d in found for q in (d.first, d.second)])
    # A sentence giving the fact another figure, date or name disputes the quote: it never corroborates it.
    text = overtime_service.index.article_text
    for sentence in brief.sentences:
        for c in sentence.corroborations:
            assert difference(sentence.text, text(c.article_id)[c.start : c.end]) is None


def vars_of(quote) -> dict:
    return {"article_id": quote.article_id, "start": quote.start, "end": quote.end, "text": quote.text}


@pytest.mark.model
def test_story_timeline(api, overtime_service) -> None:  # noqa: F811
    hit = api.get("/api/search", params={"q": QUESTION}).json()["results"][0]
    story = api.get(f"/api/stories/{hit['story_id']}").json()
    days = [a["published"] for a in story["articles"]]
    assert days == sorted(days) and len(days) >= 4
    copies = [a for a in story["articles"] if a["copy_of"]]
    assert [a["outlet"] for a in copies] == ["Northgate Tribune"]
    firsts = [d["first"] for d in story["developments"]]
    assert [q["published"] for q in firsts] == sorted(q["published"] for q in firsts)
    spans_hold(overtime_service, firsts + [q for d in story["developments"] for q in d["later"]])
    spans_hold(overtime_service, [q for d in story["discrepancies"] for q in (d["first"], d["second"])])
    lead = firsts[0]
    assert lead["published"] == "2025-03-03" and story["developments"][0]["later"]
    kinds = {(d["kind"], d["first"]["outlet"], d["second"]["outlet"]) for d in story["discrepancies"]}
    assert ("figure", "Harbor Ledger", "Meridian Post") in kinds
    assert len(story["discrepancies"]) <= 3  # no false alarm beyond the two planted ones and their restatement
    # A later sentence that gives the fact another figure, date or name disputes it: never a later report of it.
    for development in story["developments"]:
        assert all(difference(development["first"]["text"], q["text"]) is None for q in development["later"])
    related = [r["title"] for r in story["related"]]
    assert any("strike ends" in t for t in related)  # the end, sixteen days later, is reachable


@pytest.mark.model
def test_unknown_story_is_a_404_in_the_one_error_shape(api) -> None:
    for story_id in ("0123456789abcdef", "not-a-story", "0123456789ABCDEF"):
        response = api.get(f"/api/stories/{story_id}")
        assert response.status_code == 404
        assert set(response.json()["error"]) == {"code", "message", "field"}
    assert api.get("/stories/0123456789abcdef").status_code == 404


@pytest.mark.model
def test_other_outlets_wordings_are_cited_oldest_first(tmp_path) -> None:
    """Three outlets' reports of one flood, each stating its facts in its own words."""
    sample = Path(__file__).parent.parent / "index" / "sample"
    for name in (
        "riverside-herald/2025-02-15-lisk-river-breaks-record.txt",
        "northgate-tribune/2025-02-16-emergency-funds-marrowfield-flood.html",
        "meridian-post/2025-02-17-marrowfield-counts-the-cost-scraped.txt",
    ):
        (tmp_path / "news" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample / name, tmp_path / "news" / name)
    settings = Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")
    build([tmp_path / "news"], settings)
    brief = SearchService(settings).search(SearchRequest(q="How many residents left their homes in the flood?")).summary
    published = {source.n: source.published for source in brief.sources}
    corroborated = [[published[c.n] for c in s.corroborations] for s in brief.sentences if len(s.corroborations) > 1]
    assert corroborated and all(days == sorted(days) for days in corroborated)
