"""Optional LLM writer: the extractive brief rewritten by an OpenAI-compatible model, every sentence checked.

The model sees the question and the brief's sentences numbered 1..n (never whole articles) and must end
each sentence with the numbers it rests on. Its answer is split into sentences as it streams in; a
sentence is kept only when it cites evidence that was given, states no number, share, date or name the
cited evidence lacks, gives no named person another role, neither reverses it (a negation or an antonym)
nor states its hedges as fact, and the cited evidence states enough of its claim words (by stem or
compound). A dropped sentence that a cited
article supports elsewhere points at that article's sentence. When too little survives, or the model
fails, times out or is not configured, the extractive brief stands and the answer says why.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from ..config import Settings
from ..index import Index
from ..records import Brief
from .check import Checker, SupportCheck
from .llm import (
    NOT_CONFIGURED,
    LLMConfig,
    SentenceStream,
    WriterError,
    answer_sentences,
    build_messages,
    stream_completion,
)
from .related import Synonyms, synonyms
from .result import Answer, AnswerResponse, AnswerSentence

__all__ = [
    "NOT_CONFIGURED",
    "Answer",
    "AnswerResponse",
    "AnswerSentence",
    "AnswerWriter",
    "Checker",
    "LLMConfig",
    "SupportCheck",
    "WriterError",
]


@dataclass(slots=True)
class AnswerWriter:
    """Asks the configured model for an answer over a brief and checks it sentence by sentence."""

    config: LLMConfig | None
    min_support: float
    min_kept: float
    most_sentences: int = 5
    synonyms: Synonyms | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AnswerWriter:
        """The writer the settings describe (unconfigured when SEMSEARCH_LLM_URL is unset)."""
        return cls(
            LLMConfig.from_settings(settings),
            settings.llm_min_support,
            settings.llm_min_kept,
            synonyms=synonyms(settings.llm_synonym_similarity),
        )

    def stream(self, question: str, brief: Brief, index: Index) -> Iterator[AnswerSentence | Answer]:
        """Each answer sentence, checked, as soon as it is complete; then the final Answer."""
        started = time.perf_counter()
        answer = Answer(model=self.config.model if self.config else None, fallback=self._unavailable(brief))
        # No config already gave a fallback; mypy needs to see the config checked to use it.
        if answer.fallback is None and self.config is not None:
            try:
                checker = Checker(brief, index, SupportCheck(self.min_support, self.synonyms))
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

    def answer(self, question: str, brief: Brief, index: Index) -> Answer:
        """The whole checked answer at once (all sentences checked in one batch)."""
        started = time.perf_counter()
        answer = Answer(model=self.config.model if self.config else None, fallback=self._unavailable(brief))
        # No config already gave a fallback; mypy needs to see the config checked to use it.
        if answer.fallback is None and self.config is not None:
            try:
                text = "".join(stream_completion(self.config, build_messages(question, brief, self.most_sentences)))
            except WriterError as exc:
                answer.fallback = f"{exc}; showing the extractive brief"
            else:
                checker = Checker(brief, index, SupportCheck(self.min_support, self.synonyms))
                answer.sentences = checker.check(answer_sentences(text))
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
            return (
                f"only {kept} of {total} answer sentences were supported by the evidence they cite; "
                "showing the extractive brief"
            )
        return None
