"""End to end on the fixture corpus: build, search, brief, failure safety."""

from __future__ import annotations

import json
import shutil

import pytest
from pydantic import ValidationError

from semsearch.build import NothingToBuild, build
from semsearch.config import Settings
from semsearch.contract import SearchRequest
from semsearch.embedding import MODEL_NAME
from semsearch.index import Index, IndexIncompatible, IndexWriter, current_version
from semsearch.service import SearchService

from .conftest import CORPUS

QUESTIONS = [
    ("Why did harbour workers stop work?", "Port Calder"),
    ("How many people had to leave their homes because of the flooding?", "River Mell"),
    ("What did the central bank decide about borrowing costs?", "Central bank holds rate"),
    ("Who scored in the cup final?", "Cup final"),
    ("record electricity use during hot weather", "Heatwave"),
    ("miners trapped underground", "Kestrel"),
]


@pytest.mark.parametrize(("question", "expected"), QUESTIONS)
def test_search_finds_the_right_article_first(service: SearchService, question: str, expected: str):
    top = service.search(SearchRequest(q=question, k=5, summary=False)).results[0]
    assert expected in top.title


def test_snippet_highlights_are_offsets_into_the_article(service: SearchService):
    for question, _ in QUESTIONS:
        for hit in service.search(SearchRequest(q=question, k=5, summary=False)).results:
            text = service.article(hit.article_id).text
            assert hit.snippet == " … ".join(text[s:e] for s, e in hit.highlights)


def test_results_show_each_article_once(service: SearchService):
    ids = [h.article_id for h in service.search(SearchRequest(q="dock strike cranes ships", k=10)).results]
    assert len(ids) == len(set(ids))


def test_every_brief_citation_is_a_verbatim_span(service: SearchService):
    seen = 0
    for question, _ in QUESTIONS:
        brief = service.search(SearchRequest(q=question)).summary
        for sentence in brief.sentences:
            for c in sentence.citations:
                assert service.article(c.article_id).text[c.start : c.end] == sentence.text
                seen += 1
            for c in sentence.corroborations:
                text = service.article(c.article_id).text
                assert (c.start, c.end) in service.article(c.article_id).sentences and text[c.start : c.end]
        numbers = {s.n for s in brief.sources}
        assert {c.n for s in brief.sentences for c in s.citations + s.corroborations} <= numbers
    assert seen >= len(QUESTIONS)


def test_brief_respects_word_budget(service: SearchService):
    brief = service.search(SearchRequest(q="Port Calder strike cranes union", words=40)).summary
    assert brief.sentences
    assert sum(len(s.text.split()) for s in brief.sentences) <= 40


def test_two_outlets_same_quote_yield_one_sentence(service: SearchService):
    brief = service.search(SearchRequest(q="What did the union president say about jobs and software?")).summary
    quotes = [s for s in brief.sentences if "handed to software" in s.text]
    assert len(quotes) == 1
    cited = {c.article_id for c in quotes[0].citations + quotes[0].corroborations}
    assert len(cited) == 2


def test_brief_abstains_on_unrelated_question(service: SearchService):
    response = service.search(SearchRequest(q="best recipe for sourdough bread starter"))
    assert response.summary.sentences == []
    assert response.summary.abstained
    assert response.results  # results are still listed


def test_bad_queries_are_refused_by_the_request_contract():
    for bad in ("", "   \n\t", "x" * 1001):
        with pytest.raises(ValidationError):
            SearchRequest(q=bad)
    with pytest.raises(ValidationError):
        SearchRequest(q="port", k=0)


def test_build_report_counts_and_skips(settings: Settings):
    index = Index(settings.index_dir, MODEL_NAME)
    counts = index.manifest.counts
    assert counts.articles == 12
    assert counts.sentences > counts.articles and counts.chunks >= counts.articles
    assert index.vectors.count() == counts.chunks
    assert index.sentence_vectors.shape == (counts.sentences, 384)


@pytest.mark.model
def test_failed_build_leaves_the_old_index_unchanged(tmp_path, monkeypatch):
    settings = Settings(index_dir=tmp_path / "idx")
    build([CORPUS / "wire.jsonl"], settings)
    before = current_version(settings.index_dir)
    service = SearchService(settings)
    answer = service.search(SearchRequest(q="central bank interest rate")).to_dict()

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(IndexWriter, "finish", explode)  # fails with rows already added
    with pytest.raises(RuntimeError, match="disk on fire"):
        build([CORPUS], settings)
    assert current_version(settings.index_dir) == before
    assert not list((settings.index_dir / "versions").glob(".partial-*"))
    again = SearchService(settings).search(SearchRequest(q="central bank interest rate")).to_dict()
    assert again["results"] == answer["results"] and again["summary"] == answer["summary"]


@pytest.mark.model
def test_build_with_nothing_usable_keeps_old_index(tmp_path):
    settings = Settings(index_dir=tmp_path / "idx")
    build([CORPUS / "rates.csv"], settings)
    before = current_version(settings.index_dir)
    with pytest.raises(NothingToBuild):
        build([CORPUS / "broken.txt", CORPUS / "empty.txt"], settings)
    assert current_version(settings.index_dir) == before


@pytest.mark.model
def test_a_rebuild_of_unchanged_inputs_publishes_nothing_so_rollback_still_reaches_the_last_change(tmp_path):
    settings = Settings(index_dir=tmp_path / "idx")
    source = tmp_path / "news"
    source.mkdir()
    shutil.copy(CORPUS / "rates.csv", source / "rates.csv")
    good = build([source], settings)
    shutil.copy(CORPUS / "wire.jsonl", source / "wire.jsonl")
    changed = build([source], settings)
    again = build([source], settings)
    assert (good.published, changed.published, again.published) == (True, True, False)
    assert again.version == changed.version == current_version(settings.index_dir)
    assert again.embedded_texts == 0 and again.articles == changed.articles
    versions = sorted(p.name for p in (settings.index_dir / "versions").iterdir() if not p.name.startswith("."))
    assert versions == sorted([good.version, changed.version])  # the unchanged run pushed none out
    # a setting that shapes the version is a change
    other = build([source], settings.model_copy(update={"chunk_tokens": 128}))
    assert other.published and other.version != changed.version
    # and a served version whose files no longer check out is replaced by the same inputs
    with open(settings.index_dir / "versions" / other.version / "sentences.f16", "ab") as damaged:
        damaged.write(b"\0")
    repaired = build([source], settings.model_copy(update={"chunk_tokens": 128}))
    assert repaired.published and current_version(settings.index_dir) == repaired.version != other.version


@pytest.mark.model
def test_index_from_another_model_is_refused_clearly(tmp_path):
    settings = Settings(index_dir=tmp_path / "idx")
    build([CORPUS / "rates.csv"], settings)
    version_dir = settings.index_dir / "versions" / current_version(settings.index_dir)
    manifest = json.loads((version_dir / "manifest.json").read_text())
    manifest["model"] = "some/other-model"
    (version_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexIncompatible, match="other-model"):
        Index(settings.index_dir, MODEL_NAME)
    assert not SearchService(settings).ready


@pytest.mark.model
def test_missing_source_folder_is_reported(tmp_path):
    settings = Settings(index_dir=tmp_path / "idx")
    report = build([CORPUS / "rates.csv", tmp_path / "nope"], settings)
    assert report.articles == 1
    assert any("no such file" in s.reason for s in report.skipped)
    shutil.rmtree(settings.index_dir)


def test_read_ahead_reads_the_version_and_stops_when_closed(settings):
    index = Index(settings.index_dir, MODEL_NAME)
    thread = index.read_ahead()
    thread.join(30)
    assert not thread.is_alive()
    index.close()
    again = index.read_ahead()  # a closed index reads nothing more, and the thread ends at once
    again.join(5)
    assert not again.is_alive()


def test_the_engine_reads_ahead_after_its_first_answer_not_before(settings, monkeypatch):
    started: list[str] = []
    real = Index.read_ahead
    monkeypatch.setattr(Index, "read_ahead", lambda self: started.append(self.version) or real(self))  # counts calls
    service = SearchService(settings.model_copy(update={"read_ahead": True}))
    version = service.index.version
    assert started == []  # opening the version reads nothing ahead yet
    service.search(SearchRequest(q="port strike", summary=False))
    service.search(SearchRequest(q="rail fares"))
    assert started == [version]  # once, after the first answer
