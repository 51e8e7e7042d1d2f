"""The optional LLM writer: real HTTP client, streaming, checking and fallbacks against ScriptedLLM.

ScriptedLLM (tests/scripted_llm.py) is a test double of an OpenAI-compatible server: it replies with
scripted answers built from the evidence in the prompt. What is tested is the checking, not prose.
"""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
from click.testing import CliRunner

from semsearch.answer import NOT_CONFIGURED, Answer, AnswerSentence, AnswerWriter, LLMConfig, WriterError
from semsearch.answer.check import unsupported_details
from semsearch.answer.llm import SentenceStream, _sse_deltas, answer_sentences, parse_citations
from semsearch.config import Settings
from semsearch.contract import SearchRequest
from semsearch.service import SearchService
from tests.conftest import LiveServer
from tests.scripted_llm import INVENTED_CLAIM, ScriptedLLM

QUESTION = "How many dockworkers stopped work at Port Calder over the automation plan?"
SUPPORT = Settings.model_fields["llm_min_support"].default
TIMEOUT = 1.5  # seconds the slow script is given before the writer must give up


@pytest.fixture(scope="module")
def llm():
    """The scripted OpenAI-compatible test double on loopback."""
    with ScriptedLLM() as double:
        yield double


@pytest.fixture(scope="module")
def brief(service: SearchService):
    """The extractive brief the writer answers from."""
    brief = service.search(SearchRequest(q=QUESTION)).summary
    assert len(brief.sentences) >= 2
    return brief


def ask(llm: ScriptedLLM, service: SearchService, brief, script: str, timeout: float = 10.0) -> Answer:
    """The checked answer of one scripted behaviour."""
    writer = AnswerWriter(LLMConfig(llm.url, f"scripted-{script}", timeout=timeout), SUPPORT, 0.5)
    return writer.answer(QUESTION, brief, service.index)


# --- parsing, without a server -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text", "numbers"),
    [
        ("Ships waited [2].", "Ships waited.", [2]),
        ("Ships waited [1][3].", "Ships waited.", [1, 3]),
        ("Ships waited [1, 3] .", "Ships waited.", [1, 3]),
        ("- Ships waited [2-4].", "Ships waited.", [2, 3, 4]),
        ("Ships waited.", "Ships waited.", []),
    ],
)
def test_citation_markers_are_parsed(raw: str, text: str, numbers: list[int]):
    assert parse_citations(raw) == (text, numbers)


def test_streamed_sentences_match_the_whole_answer_whatever_the_chunking():
    answer = "About 2,400 staff walked out. [1] Ships waited [2]. Rates fell to 4% on Thursday [3][4]"
    for size in (1, 3, 7, 50):
        stream = SentenceStream()
        got = [s for i in range(0, len(answer), size) for s in stream.feed(answer[i : i + size])] + stream.close()
        assert (
            got
            == answer_sentences(answer)
            == ["About 2,400 staff walked out. [1]", "Ships waited [2].", "Rates fell to 4% on Thursday [3][4]"]
        )


def test_a_sentence_is_released_as_soon_as_the_next_one_begins():
    stream = SentenceStream()
    assert stream.feed("About 2,400 staff walked out.") == []
    assert stream.feed(" [1]") == []  # the marker may still belong to it
    assert stream.feed(" Sh") == ["About 2,400 staff walked out. [1]"]
    assert stream.feed("ips waited [2].") == [] and stream.close() == ["Ships waited [2]."]


def test_details_missing_from_the_evidence_are_named():
    evidence = "About 2,400 dockworkers at Port Calder stopped work on Monday. Thirty-eight ships waited."
    assert unsupported_details("About 2,400 staff at Port Calder stopped work on Monday.", evidence) == []
    assert unsupported_details("Thirty-eight ships waited, 38 in all.", evidence) == []
    assert unsupported_details("About 2,407 staff stopped work on Tuesday.", evidence) == ["2,407", "tuesday"]
    assert unsupported_details("Forty ships waited, a million tonnes.", evidence) == ["forty", "million"]


def test_a_stream_without_an_end_or_with_broken_json_is_an_error():
    ok = 'data: {"choices": [{"delta": {"content": "Hi"}, "finish_reason": null}]}'
    assert list(_sse_deltas(iter([ok, "", "data: [DONE]"]))) == ["Hi"]
    with pytest.raises(WriterError, match="before the answer was complete"):
        list(_sse_deltas(iter([ok])))
    with pytest.raises(WriterError, match="malformed"):
        list(_sse_deltas(iter(['data: {"choices": ['])))


# --- the writer against the scripted server -------------------------------------------------------


def test_prompt_carries_the_question_and_only_the_numbered_brief_sentences(llm, service, brief):
    writer = AnswerWriter(LLMConfig(llm.url, "scripted-faithful", api_key="sekrit", timeout=10), SUPPORT, 0.5)
    writer.answer(QUESTION, brief, service.index)
    request = llm.requests[-1]
    body, user = request["body"], request["body"]["messages"][-1]["content"]
    assert body["stream"] is True and body["model"] == "scripted-faithful" and body["max_tokens"] == 400
    assert request["headers"]["Authorization"] == "Bearer sekrit"
    assert QUESTION in user
    evidence = [line for line in user.splitlines() if line.startswith("[")]
    assert evidence == [f"[{n}] {s.text}" for n, s in enumerate(brief.sentences, start=1)]
    assert "end every sentence with the numbers" in body["messages"][0]["content"].lower()


def test_a_faithful_answer_is_kept_and_points_at_exact_source_spans(llm, service, brief):
    answer = ask(llm, service, brief, "faithful")
    assert answer.fallback is None and answer.dropped == 0 and len(answer.kept) == min(3, len(brief.sentences))
    for n, sentence in enumerate(answer.kept, start=1):
        assert sentence.checked and sentence.evidence == [n] and sentence.support >= SUPPORT
        for c in sentence.citations:
            assert service.article(c.article_id).text[c.start : c.end] == brief.sentences[n - 1].text


def test_a_sentence_combining_two_pieces_of_evidence_is_kept(llm, service, brief):
    answer = ask(llm, service, brief, "combined")
    assert answer.fallback is None and answer.kept[0].evidence == [1, 2]


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("ungiven", "that was not given"),
        ("invented-number", "not in the cited evidence"),
        ("uncited", "cites no evidence"),
        ("misattributed", "not in the cited evidence"),
    ],
)
def test_unsupported_answers_are_dropped_and_the_brief_stands(llm, service, brief, script, reason):
    answer = ask(llm, service, brief, script)
    assert answer.sentences and all(not s.checked for s in answer.sentences)
    assert all(reason in s.reason for s in answer.sentences)
    assert answer.kept == [] and "showing the extractive brief" in answer.fallback
    assert answer.dropped == len(answer.sentences)


def test_a_misattributed_sentence_points_at_the_article_sentence_that_says_it(llm, service, brief):
    answer = ask(llm, service, brief, "misattributed")
    n = len(brief.sentences)
    pointed = 0
    for i, sentence in enumerate(answer.sentences):
        source = brief.sentences[i].citations[0]
        cited = brief.sentences[(i + 1) % n].citations[0]
        if source.article_id != cited.article_id:
            continue  # its own words are in another article, which the check does not read
        found = sentence.elsewhere
        assert not sentence.checked and (found.article_id, found.start, found.end) == (
            source.article_id,
            source.start,
            source.end,
        )
        pointed += 1
    assert pointed
    assert ask(llm, service, brief, "faithful").sentences[0].elsewhere is None


def test_an_invented_number_is_caught_even_though_the_wording_is_close(llm, service, brief):
    answer = ask(llm, service, brief, "invented-number")
    assert answer.sentences[0].support >= SUPPORT  # its words alone would have let it through


def test_a_mostly_supported_answer_is_kept_without_its_invented_sentence(llm, service, brief):
    answer = ask(llm, service, brief, "mixed")
    assert answer.fallback is None and answer.dropped == 1
    assert [s.text for s in answer.sentences if not s.checked] == [INVENTED_CLAIM + "."]
    assert INVENTED_CLAIM not in answer.to_dict()["text"]
    assert len(answer.to_dict(debug=True)["sentences"]) == 3 and len(answer.to_dict()["sentences"]) == 2


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("slow", "did not finish its answer within"),
        ("drop", "connection to the model broke"),
        ("malformed", "malformed"),
        ("error", "HTTP 500"),
    ],
)
def test_server_failures_fall_back_within_the_timeout(llm, service, brief, script, reason):
    started = time.monotonic()
    answer = ask(llm, service, brief, script, timeout=TIMEOUT)
    assert time.monotonic() - started < TIMEOUT + 1.0
    assert answer.sentences == [] and reason in answer.fallback


def test_an_unreachable_server_falls_back(service, brief):
    from tests.conftest import free_port

    writer = AnswerWriter(LLMConfig(f"http://127.0.0.1:{free_port()}/v1", "any", timeout=TIMEOUT), SUPPORT, 0.5)
    answer = writer.answer(QUESTION, brief, service.index)
    assert "could not reach the model" in answer.fallback


def test_a_server_that_ignores_stream_is_understood(llm, service, brief):
    assert ask(llm, service, brief, "faithful-plain").fallback is None


def test_streaming_yields_each_checked_sentence_before_the_verdict(llm, service, brief):
    writer = AnswerWriter(LLMConfig(llm.url, "scripted-mixed", timeout=10), SUPPORT, 0.5)
    items = list(writer.stream(QUESTION, brief, service.index))
    assert [type(i) for i in items] == [AnswerSentence] * 3 + [Answer]
    assert [i.checked for i in items[:3]] == [True, True, False] and items[-1].fallback is None


def test_without_settings_the_writer_is_off(settings, service, brief):
    assert Settings(index_dir=settings.index_dir).llm_url is None
    answer = AnswerWriter.from_settings(settings).answer(QUESTION, brief, service.index)
    assert answer.fallback == NOT_CONFIGURED and answer.sentences == []


def test_without_settings_the_page_and_search_api_are_unchanged(client):
    assert 'name="answer"' not in client.get("/", params={"q": QUESTION}).text
    body = client.get("/api/search", params={"q": QUESTION}).json()
    assert set(body) == {"query", "took_ms", "results", "summary"}
    assert client.get("/api/answer", params={"q": QUESTION}).json()["answer"]["fallback"] == NOT_CONFIGURED


# --- API, UI and CLI with the writer configured ---------------------------------------------------


def _writer_settings(settings: Settings, llm: ScriptedLLM, model: str, timeout: float = 10.0) -> Settings:
    return settings.model_copy(update={"llm_url": llm.url, "llm_model": model, "llm_timeout": timeout})


@pytest.fixture(scope="module")
def answering(settings, service, llm):
    """A live server whose writer is the scripted double's 'mixed' script (two kept, one dropped)."""
    from semsearch.server.app import create_app

    configured = _writer_settings(settings, llm, "scripted-mixed")
    with LiveServer(create_app(configured, SearchService(configured, embedder=service.embedder))) as live:
        yield live


@pytest.fixture(scope="module")
def stalling(settings, service, llm):
    """A live server whose writer never finishes in time."""
    from semsearch.server.app import create_app

    configured = _writer_settings(settings, llm, "scripted-slow", timeout=TIMEOUT)
    with LiveServer(create_app(configured, SearchService(configured, embedder=service.embedder))) as live:
        yield live


def _events(response: httpx.Response) -> list[tuple[str, dict]]:
    """(event, data) pairs of a server-sent event stream."""
    events = []
    for block in response.text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_api_answer_carries_the_answer_and_the_extractive_evidence(answering):
    body = httpx.get(f"{answering.url}/api/answer", params={"q": QUESTION}, timeout=30).json()
    assert body["summary"]["sentences"] and body["results"]
    answer = body["answer"]
    assert answer["model"] == "scripted-mixed" and answer["fallback"] is None
    assert answer["total"] == 3 and answer["dropped"] == 1 and len(answer["sentences"]) == 2
    assert all(s["checked"] and s["citations"] for s in answer["sentences"])
    debug = httpx.post(f"{answering.url}/api/answer", json={"q": QUESTION, "debug": True}, timeout=30).json()
    assert [s["checked"] for s in debug["answer"]["sentences"]] == [True, True, False]
    assert debug["answer"]["sentences"][2]["reason"]


def test_api_answer_stream_sends_evidence_then_checked_sentences_then_done(answering):
    response = httpx.get(f"{answering.url}/api/answer/stream", params={"q": QUESTION}, timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = _events(response)
    assert [name for name, _ in events] == ["evidence", "sentence", "sentence", "done"]
    assert events[0][1]["summary"]["sentences"] and all(data["checked"] for _, data in events[1:3])
    assert events[-1][1]["dropped"] == 1 and events[-1][1]["fallback"] is None


def test_api_answer_stream_falls_back_within_the_timeout(stalling):
    started = time.monotonic()
    response = httpx.get(f"{stalling.url}/api/answer/stream", params={"q": QUESTION}, timeout=30)
    assert time.monotonic() - started < TIMEOUT + 3.0
    events = _events(response)
    assert response.status_code == 200 and [name for name, _ in events] == ["evidence", "done"]
    assert "did not finish" in events[-1][1]["fallback"]
    assert httpx.get(f"{stalling.url}/api/answer", params={"q": QUESTION}, timeout=30).status_code == 200


def test_api_answer_rejects_bad_input_with_the_error_shape(answering):
    for path in ("/api/answer", "/api/answer/stream"):
        response = httpx.get(f"{answering.url}{path}", params={"q": "  "}, timeout=30)
        assert response.status_code == 422 and response.json()["error"]["field"] == "q"


def test_page_renders_the_checked_answer_without_javascript(answering):
    page = httpx.get(f"{answering.url}/", params={"q": QUESTION, "answer": "true"}, timeout=30).text
    assert 'name="answer" value="true" checked' in page and 'class="answer"' in page
    assert "1 of 3 sentences were left out" in page and INVENTED_CLAIM not in page
    assert "data-stream" not in page


def test_page_hands_the_answer_to_the_script_when_it_streams(answering):
    page = httpx.get(f"{answering.url}/", params={"q": QUESTION, "answer": "true", "stream": "true"}, timeout=30).text
    assert 'data-stream="/api/answer/stream?q=' in page and "Waiting for the model" in page
    # The streamed answer draws on the brief the page shows, so it carries the page's brief settings.
    narrowed = httpx.get(
        f"{answering.url}/",
        params={"q": QUESTION, "answer": "true", "stream": "true", "words": "40", "sources": "1"},
        timeout=30,
    ).text
    stream = re.search(r'data-stream="([^"]+)"', narrowed).group(1).replace("&amp;", "&")
    assert "words=40" in stream and "sources=1" in stream
    script = httpx.get(f"{answering.url}/static/answer.js", timeout=30)
    assert script.status_code == 200 and "EventSource" in script.text
    assert "<script>" not in page  # the Content-Security-Policy forbids inline script


def _cli(settings: Settings, llm: ScriptedLLM, model: str, *args: str, monkeypatch) -> str:
    from semsearch.cli import main
    from semsearch.config import get_settings

    monkeypatch.setenv("SEMSEARCH_LLM_URL", llm.url)
    monkeypatch.setenv("SEMSEARCH_LLM_MODEL", model)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, [*args, "--index", str(settings.index_dir)], catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_ask_answer_prints_checked_sentences_then_the_brief(settings, llm, monkeypatch):
    out = _cli(settings, llm, "scripted-mixed", "ask", QUESTION, "--answer", monkeypatch=monkeypatch)
    assert "1 of 3 sentences left out" in out and INVENTED_CLAIM not in out and "Sources:" in out
    body = json.loads(
        _cli(settings, llm, "scripted-mixed", "ask", QUESTION, "--answer", "--json", "--debug", monkeypatch=monkeypatch)
    )
    assert [s["checked"] for s in body["answer"]["sentences"]] == [True, True, False]


def test_cli_ask_answer_falls_back_on_a_broken_server(settings, llm, monkeypatch):
    out = _cli(settings, llm, "scripted-drop", "ask", QUESTION, "--answer", monkeypatch=monkeypatch)
    assert "No answer:" in out and "Sources:" in out


def test_eval_answer_reports_citation_recall_and_precision(settings, llm, tmp_path, monkeypatch):
    questions = tmp_path / "q.json"
    questions.write_text(json.dumps([{"question": QUESTION}, "Why did Port Calder dockworkers strike?"]))
    out = _cli(
        settings,
        llm,
        "unused",
        "eval",
        "answer",
        "--llm-url",
        llm.url,
        "--llm-model",
        "scripted-faithful",
        "--llm-model",
        "scripted-ungiven",
        "--llm-model",
        "scripted-mixed",
        "--questions",
        str(questions),
        "--json",
        monkeypatch=monkeypatch,
    )
    rows = {r["model"]: r for r in json.loads(out)}
    assert rows["scripted-faithful"]["citation_recall"] == 1.0 and rows["scripted-faithful"]["dropped_share"] == 0
    assert rows["scripted-faithful"]["citation_precision"] == 1.0
    assert rows["scripted-ungiven"]["citation_recall"] == 0.0 and rows["scripted-ungiven"]["citation_precision"] == 0
    assert rows["scripted-mixed"]["citation_recall"] == pytest.approx(2 / 3)
