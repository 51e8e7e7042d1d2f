"""Optional LLM writer: the extractive brief rewritten by an OpenAI-compatible model, every sentence checked.

The model sees the question and the brief's sentences numbered 1..n (never whole articles) and must end
each sentence with the numbers it rests on. Its answer is split into sentences as it streams in; a
sentence is kept only when it cites evidence that was given, is close to that evidence (cosine of the
sentence vector to the cited sentences' stored vectors) and states no number, scale word or capitalised
name the cited evidence lacks. When too little survives, or the model fails, times out or is not
configured, the extractive brief stands and the answer says why.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field

import httpx
import numpy as np

from .sentences import split_sentences
from .config import Settings
from .embedding import Embedder
from .index import Index
from .records import Brief, Citation, SearchResponse

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
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[A-Za-z][\w'’-]*")
_UNITS = "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
         "seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_ONES = ["one", *_UNITS[:8]]
# Spelled-out numbers from two up ("one" is too often not a quantity), as their values.
_NUMBER_WORDS = {w: float(i + 2) for i, w in enumerate(_UNITS)} | {
    f"{t}-{o}" if o else t: float(10 * (i + 2) + j) for i, t in enumerate(_TENS) for j, o in enumerate(["", *_ONES])
}
_SCALES = {"hundred", "thousand", "million", "billion", "trillion", "percent", "per cent", "dozen"}


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


@dataclass(slots=True)
class AnswerSentence:
    """One sentence of the model's answer, the evidence it cites and the check's verdict."""

    text: str
    evidence: list[int]
    citations: list[Citation]
    checked: bool
    similarity: float
    reason: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        out = asdict(self)
        out["similarity"] = round(self.similarity, 4)
        return out


@dataclass(slots=True)
class Answer:
    """The checked answer: every sentence with its verdict, and why the brief stands instead, if it does."""

    model: str | None
    sentences: list[AnswerSentence] = field(default_factory=list)
    fallback: str | None = None
    took_ms: float = 0.0

    @property
    def kept(self) -> list[AnswerSentence]:
        """The sentences to show: none when the answer fell back to the brief."""
        return [] if self.fallback else [s for s in self.sentences if s.checked]

    @property
    def dropped(self) -> int:
        """How many sentences failed the check."""
        return sum(not s.checked for s in self.sentences)

    def to_dict(self, debug: bool = False) -> dict:
        """JSON-ready form; with debug every sentence is listed with its verdict, else only the kept ones."""
        shown = self.sentences if debug else self.kept
        return {"model": self.model, "text": " ".join(s.text for s in self.kept),
                "sentences": [s.to_dict() for s in shown], "total": len(self.sentences), "dropped": self.dropped,
                "fallback": self.fallback, "took_ms": round(self.took_ms, 2)}


@dataclass(slots=True)
class AnswerResponse:
    """The search results, the extractive brief (the numbered evidence) and the checked answer."""

    search: SearchResponse
    answer: Answer

    def to_dict(self, debug: bool = False) -> dict:
        """The /api/search JSON plus an `answer` object."""
        return self.search.to_dict() | {"answer": self.answer.to_dict(debug)}


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
    payload = {"model": config.model, "messages": messages, "stream": True, "temperature": 0,
               "max_tokens": config.max_tokens}
    items: queue.Queue = queue.Queue()
    stop = threading.Event()

    def pump() -> None:
        try:
            with httpx.Client(timeout=httpx.Timeout(config.timeout)) as client, \
                    client.stream("POST", url, json=payload, headers=headers) as response:
                if response.status_code != 200:
                    response.read()
                    raise WriterError(f"the model server answered HTTP {response.status_code}: "
                                      f"{response.text[:120]!r}")
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
            piece = piece[lead.end():].strip()
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


def _values(text: str) -> list[tuple[str, float]]:
    """Numbers a text states in digits, with their values ("2,300" is 2300)."""
    found = [(m, m.replace(",", "")) for m in _NUMBER.findall(text)]
    return [(m, float(v)) for m, v in found if v.count(".") <= 1]


def _numbers(text: str) -> set[float]:
    """Numeric values a text states, in digits or (from two up) in words."""
    lowered = text.lower()
    return {v for _, v in _values(text)} | {v for w, v in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", lowered)}


def _names(text: str) -> list[str]:
    """Capitalised words after the first (the first is capitalised anyway), lower-cased, without 's."""
    words = _WORD.findall(text)
    return [re.sub(r"['’]s$", "", w).lower() for w in words[1:] if w[0].isupper() and w != "I"]


def unsupported_details(sentence: str, evidence: str) -> list[str]:
    """Numbers, scale words and names in the sentence that the evidence text does not contain."""
    known = _numbers(evidence)
    missing = [m for m, v in _values(sentence) if v not in known]
    lowered, evidence_lower = sentence.lower(), evidence.lower()
    missing += [w for w, v in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", lowered) and v not in known]
    missing += [w for w in _SCALES if re.search(rf"\b{w}\b", lowered) and not re.search(rf"\b{w}\b", evidence_lower)]
    vocabulary = {re.sub(r"['’]s$", "", w).lower() for w in _WORD.findall(evidence)}
    missing += [w for w in dict.fromkeys(_names(sentence)) if w not in vocabulary]
    return missing


class Checker:
    """Checks answer sentences against the numbered evidence sentences of one brief."""

    def __init__(self, brief: Brief, index: Index, embedder: Embedder, min_similarity: float) -> None:
        self.brief = brief
        self.embedder = embedder
        self.min_similarity = min_similarity
        self.vectors = _evidence_vectors(brief, index, embedder)

    def check(self, sentences: Sequence[str]) -> list[AnswerSentence]:
        """Verdicts for raw answer sentences (markers included), with one batched encode call."""
        parsed = [parse_citations(s) for s in sentences]
        vectors = self.embedder.encode([text for text, _ in parsed])
        return [self._verdict(text, numbers, vector) for (text, numbers), vector in zip(parsed, vectors)]

    def similarity(self, vector: np.ndarray, numbers: Sequence[int]) -> float:
        """Cosine of a sentence vector to the cited evidence: its closest sentence, or all of them together."""
        cited = self.vectors[[n - 1 for n in numbers]]
        centroid = cited.sum(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
        return float(max((cited @ vector).max(), centroid @ vector))

    def problem(self, text: str, numbers: Sequence[int], vector: np.ndarray) -> tuple[str | None, float]:
        """Why the cited evidence does not support the sentence (None when it does), and the cosine."""
        if not numbers:
            return "cites no evidence", 0.0
        given = len(self.brief.sentences)
        stray = [n for n in numbers if not 1 <= n <= given]
        if stray:
            return f"cites evidence {stray} that was not given (1-{given})", 0.0
        similarity = self.similarity(vector, numbers)
        if similarity < self.min_similarity:
            return f"too far from its evidence (cosine {similarity:.2f} < {self.min_similarity:.2f})", similarity
        missing = unsupported_details(text, " ".join(self.brief.sentences[n - 1].text for n in numbers))
        if missing:
            return f"not in the cited evidence: {', '.join(missing)}", similarity
        return None, similarity

    def _verdict(self, text: str, numbers: list[int], vector: np.ndarray) -> AnswerSentence:
        """One checked sentence with the source spans of the evidence it cites."""
        reason, similarity = self.problem(text, numbers, vector)
        given = self.brief.sentences
        citations = list(dict.fromkeys(c for n in numbers if 1 <= n <= len(given) for c in given[n - 1].citations))
        return AnswerSentence(text=text, evidence=numbers, citations=citations, checked=reason is None,
                              similarity=similarity, reason=reason)


def _evidence_vectors(brief: Brief, index: Index, embedder: Embedder) -> np.ndarray:
    """The stored vectors of the brief's sentences (encoded afresh only if a span is not a stored sentence)."""
    ids: list[int | None] = []
    by_article: dict[str, dict[tuple[int, int], int]] = {}
    for sentence in brief.sentences:
        c = sentence.citations[0]
        if c.article_id not in by_article:
            by_article[c.article_id] = {(s.start, s.end): s.id for s in index.article_sentences(c.article_id)}
        ids.append(by_article[c.article_id].get((c.start, c.end)))
    if all(i is not None for i in ids):
        return index.vectors_of(ids) if ids else np.zeros((0, 0), np.float32)
    return embedder.encode([s.text for s in brief.sentences])


@dataclass(slots=True)
class Writer:
    """Asks the configured model for an answer over a brief and checks it sentence by sentence."""

    config: LLMConfig | None
    min_similarity: float
    min_kept: float
    most_sentences: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> Writer:
        """The writer the settings describe (unconfigured when SEMSEARCH_LLM_URL is unset)."""
        return cls(LLMConfig.from_settings(settings), settings.llm_min_similarity, settings.llm_min_kept)

    def stream(self, question: str, brief: Brief, index: Index, embedder: Embedder
               ) -> Iterator[AnswerSentence | Answer]:
        """Each answer sentence, checked, as soon as it is complete; then the final Answer."""
        started = time.perf_counter()
        answer = Answer(model=self.config.model if self.config else None, fallback=self._unavailable(brief))
        if answer.fallback is None:
            try:
                checker = Checker(brief, index, embedder, self.min_similarity)
                splitter = SentenceStream()
                for delta in stream_completion(self.config, build_messages(question, brief, self.most_sentences)):
                    for sentence in checker.check(splitter.feed(delta)):
                        answer.sentences.append(sentence)
                        yield sentence
                for sentence in checker.check(splitter.close()):
                    answer.sentences.append(sentence)
                    yield sentence
                answer.fallback = self._verdict(answer)
            except WriterError as exc:
                answer.fallback = f"{exc}; showing the extractive brief"
        answer.took_ms = (time.perf_counter() - started) * 1000
        yield answer

    def answer(self, question: str, brief: Brief, index: Index, embedder: Embedder) -> Answer:
        """The whole checked answer at once (all sentences checked in one batch)."""
        started = time.perf_counter()
        answer = Answer(model=self.config.model if self.config else None, fallback=self._unavailable(brief))
        if answer.fallback is None:
            try:
                text = "".join(stream_completion(self.config, build_messages(question, brief, self.most_sentences)))
            except WriterError as exc:
                answer.fallback = f"{exc}; showing the extractive brief"
            else:
                answer.sentences = Checker(brief, index, embedder, self.min_similarity).check(answer_sentences(text))
                answer.fallback = self._verdict(answer)
        answer.took_ms = (time.perf_counter() - started) * 1000
        return answer

    def _unavailable(self, brief: Brief) -> str | None:
        """Why the model is not asked at all: no writer configured, or no evidence to give it."""
        if self.config is None:
            return NOT_CONFIGURED
        if not brief.sentences:
            return brief.abstained or "there is no evidence to answer from"
        return None

    def _verdict(self, answer: Answer) -> str | None:
        """Why the brief should stand instead of this answer, or None when enough of it passed the check."""
        total, kept = len(answer.sentences), len(answer.sentences) - answer.dropped
        if not total:
            return "the model returned an empty answer; showing the extractive brief"
        if not kept or kept < self.min_kept * total:
            return (f"only {kept} of {total} answer sentences were supported by the evidence they cite; "
                    "showing the extractive brief")
        return None
