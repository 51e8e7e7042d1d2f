"""Talking to the writer model: its settings, the prompt, the streamed completion, and its sentences and
citation markers as they arrive."""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from ..config import Settings
from ..records import Brief
from ..sentences import split_sentences

NOT_CONFIGURED = "no answer writer is configured (set SEMSEARCH_LLM_URL and SEMSEARCH_LLM_MODEL)"

SYSTEM_PROMPT = (
    "You answer questions about news using only the numbered evidence sentences you are given. "
    "Write a short, fluent answer of at most {most} sentences. End every sentence with the numbers of the "
    "evidence sentences that support it, in square brackets, like [1] or [2][3]. State nothing that the cited "
    "evidence does not say: no outside knowledge, and no number, date or name that is not in the cited "
    "sentences. If the evidence does not answer the question, say so in one sentence without brackets."
)

# "[1]", "[1][3]", "[1, 3]", "[2-4]": one marker, possibly a list or a range.
_MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\s*\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\s*\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*\s*\])+\s*[.!?]?")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_BOUNDARY = re.compile(r"[.!?\]\n]")


class WriterError(RuntimeError):
    """The model could not be asked or did not answer properly; the message says how."""


@dataclass(frozen=True, slots=True)
class LLMConfig:
    """Where the writer model is and how long it may take."""

    url: str
    model: str
    api_key: str | None = None
    timeout: float = 30.0
    max_tokens: int = 400

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMConfig | None:
        """The configured writer, or None when SEMSEARCH_LLM_URL or SEMSEARCH_LLM_MODEL is unset."""
        if not settings.llm_url or not settings.llm_model:
            return None
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return cls(settings.llm_url, settings.llm_model, key, settings.llm_timeout, settings.llm_max_tokens)


def build_messages(question: str, brief: Brief, most_sentences: int = 5) -> list[dict]:
    """The chat messages: instructions, then the question and the brief's sentences numbered 1..n."""
    evidence = "\n".join(f"[{n}] {s.text}" for n, s in enumerate(brief.sentences, start=1))
    return [
        {"role": "system", "content": SYSTEM_PROMPT.format(most=most_sentences)},
        {"role": "user", "content": f"Question: {question}\n\nEvidence:\n{evidence}\n\nAnswer:"},
    ]


def _sse_deltas(lines: Iterator[str]) -> Iterator[str]:
    """Content deltas of an OpenAI-style server-sent event stream; a stream cut short is an error."""
    finished = False
    for line in lines:
        if not line.startswith("data:"):
            continue  # blank separators, comments and `event:` lines carry no content
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            choice = json.loads(data)["choices"][0]
            content = (choice.get("delta") or {}).get("content")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise WriterError(f"the model server sent a malformed event: {data[:80]!r}") from exc
        if content:
            yield content
        finished = finished or bool(choice.get("finish_reason"))
    if not finished:
        raise WriterError("the model server closed the stream before the answer was complete")


def _completion_content(body: bytes) -> str:
    """The text of a non-streamed chat completion (for servers that ignore `stream`)."""
    try:
        return json.loads(body)["choices"][0]["message"]["content"] or ""
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise WriterError(f"the model server sent a malformed reply: {body[:80]!r}") from exc


_END = object()


def stream_completion(config: LLMConfig, messages: list[dict]) -> Iterator[str]:
    """Text deltas of a streamed chat completion; raises WriterError on any failure or past the timeout.

    The request runs in a worker thread so the caller's deadline is hard: a server that stalls
    mid-read cannot hold the caller past config.timeout.
    """
    deadline = time.monotonic() + config.timeout
    url = config.url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    payload = {
        "model": config.model,
        "messages": messages,
        "stream": True,
        "temperature": 0,
        "max_tokens": config.max_tokens,
    }
    items: queue.Queue = queue.Queue()
    stop = threading.Event()

    def pump() -> None:
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(config.timeout)) as client,
                client.stream("POST", url, json=payload, headers=headers) as response,
            ):
                if response.status_code != 200:
                    response.read()
                    raise WriterError(f"the model server answered HTTP {response.status_code}: {response.text[:120]!r}")
                if response.headers.get("content-type", "").startswith("application/json"):
                    items.put(_completion_content(response.read()))
                else:
                    for delta in _sse_deltas(response.iter_lines()):
                        if stop.is_set():
                            return
                        items.put(delta)
            items.put(_END)
        except WriterError as exc:
            items.put(exc)
        except httpx.TimeoutException:
            items.put(WriterError(f"the model did not answer within {config.timeout:g} s"))
        except httpx.ConnectError as exc:
            items.put(WriterError(f"could not reach the model at {config.url}: {exc or type(exc).__name__}"))
        except httpx.HTTPError as exc:
            items.put(WriterError(f"the connection to the model broke: {exc or type(exc).__name__}"))

    threading.Thread(target=pump, name="llm-writer", daemon=True).start()
    try:
        while True:
            try:
                item = items.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise WriterError(f"the model did not finish its answer within {config.timeout:g} s") from None
            if item is _END:
                return
            if isinstance(item, WriterError):
                raise item
            yield item
    finally:
        stop.set()


def _fold(pieces: list[str]) -> list[str]:
    """Sentences with citation markers that the splitter put at the start of the next piece moved back."""
    out: list[str] = []
    for piece in pieces:
        lead = _LEADING_MARKERS.match(piece)
        if lead and out:
            out[-1] = f"{out[-1]} {lead.group().strip()}"
            piece = piece[lead.end() :].strip()
        if piece:
            out.append(piece)
    return out


def answer_sentences(text: str) -> list[str]:
    """A model's answer as sentences, each still carrying its citation markers."""
    return _fold([text[s.start : s.end] for s in split_sentences(text)])


class SentenceStream:
    """Turns text deltas into whole sentences as soon as the next sentence has begun."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, delta: str) -> list[str]:
        """The sentences completed by this delta."""
        self._buffer += delta
        # The buffer holds only the unfinished tail, so re-splitting it is cheap; it is worth doing once a
        # sentence could have ended and a word of the next one has come in.
        if not (_BOUNDARY.search(self._buffer) and re.search(r"[A-Za-z]", delta)):
            return []
        pieces = answer_sentences(self._buffer)
        # The last piece may still grow, and until it holds a word its leading "[1" may belong to the one before.
        if len(pieces) < 2 or not re.search(r"[A-Za-z]", _LEADING_MARKERS.sub("", pieces[-1])):
            return []
        self._buffer = self._buffer[self._buffer.rfind(pieces[-1]) :]
        return pieces[:-1]

    def close(self) -> list[str]:
        """The sentences left when the answer ends."""
        pieces, self._buffer = answer_sentences(self._buffer), ""
        return pieces


def parse_citations(sentence: str) -> tuple[str, list[int]]:
    """The sentence without its markers, and the evidence numbers it cites in order of first mention."""
    numbers: list[int] = []
    for match in _MARKER.finditer(sentence):
        for part in re.split(r"[,;]", match.group(1)):
            bounds = [int(x) for x in re.split(r"[–-]", part)]
            # A range stands for every number in it; an absurd one ("[1-900]") only for its ends.
            span = range(bounds[0], bounds[-1] + 1) if 0 <= bounds[-1] - bounds[0] < 20 else bounds
            numbers.extend(n for n in span if n not in numbers)
    text = _MARKER.sub("", sentence)
    text = re.sub(r"\s+([.,;:!?])", r"\1", _BULLET.sub("", text)).strip()
    return " ".join(text.split()), numbers
