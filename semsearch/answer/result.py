"""What the writer returns: each checked sentence, the answer, and the answer beside the search it rests on."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..records import Citation, SearchResponse, about


@dataclass(slots=True)
class AnswerSentence:
    """One sentence of the model's answer, the evidence it cites and the check's verdict.

    `support` is the share of its claim words the cited evidence states; `elsewhere`, for a dropped
    sentence, is a sentence of a cited article that does support it (the reader can be shown that one).
    """

    text: str = field(metadata=about("The model's sentence without its [n] markers"))
    evidence: list[int] = field(
        metadata=about("The brief sentences it cites, numbered 1..n in `summary.sentences` order")
    )
    citations: list[Citation] = field(metadata=about("The exact source spans of that evidence"))
    checked: bool = field(
        metadata=about("Whether it passed the check (only checked sentences are listed unless debug)")
    )
    support: float = field(metadata=about("Share of its claim words that its cited evidence states"))
    reason: str | None = field(default=None, metadata=about("Why it failed the check"))
    elsewhere: Citation | None = field(
        default=None, metadata=about("For a dropped sentence: a sentence of a cited article that does support it")
    )

    def to_dict(self) -> dict:
        """JSON-ready form."""
        out = asdict(self)
        out["support"] = round(self.support, 4)
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
        return {
            "model": self.model,
            "text": " ".join(s.text for s in self.kept),
            "sentences": [s.to_dict() for s in shown],
            "total": len(self.sentences),
            "dropped": self.dropped,
            "fallback": self.fallback,
            "took_ms": round(self.took_ms, 2),
        }


@dataclass(slots=True)
class AnswerResponse:
    """The search results, the extractive brief (the numbered evidence) and the checked answer."""

    search: SearchResponse
    answer: Answer

    def to_dict(self, debug: bool = False) -> dict:
        """The /api/search JSON plus an `answer` object."""
        return self.search.to_dict() | {"answer": self.answer.to_dict(debug)}
