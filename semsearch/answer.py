"""Optional LLM writer: the extractive brief rewritten by an OpenAI-compatible model, every sentence checked.

The model sees the question and the brief's sentences numbered 1..n (never whole articles) and must end
each sentence with the numbers it rests on. Its answer is split into sentences as it streams in; a
sentence is kept only when it cites evidence that was given, states no number, date or name the cited
evidence lacks, neither reverses it (a negation or an antonym) nor states its hedges as fact, and the
cited evidence states enough of its claim words (by stem or compound). A dropped sentence that a cited
article supports elsewhere points at that article's sentence. When too little survives, or the model
fails, times out or is not configured, the extractive brief stands and the answer says why.
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

from .sentences import split_sentences
from .config import Settings
from .index import Index
from .records import Brief, Citation, SearchResponse, about
from .text import FUNCTION_WORDS, WORD, Stems, words

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
# Words that date or rank a claim without a digit or a capital. "First" and "second" are left out: they
# are rarely a position ("for the first time", "a second yellow card" paraphrased).
_DATED = frozenset("yesterday today tonight tomorrow third fourth fifth sixth seventh eighth ninth tenth eleventh "
                   "twelfth".split())
# Attribution carries no claim of its own: who said it is checked by the names rule.
_REPORTING = frozenset("said says say told added stated states according".split())

_STEMS = Stems()


def _stem_set(text: str) -> frozenset[str]:
    """The stems of the words of a list written out as text."""
    return frozenset(_STEMS.terms(text))


# Pairs of opposite meanings. A sentence that uses one side where its evidence uses only the other
# reverses it ("rejected" for "accepted", "rose" for "slowed").
_OPPOSITES = [
    (_stem_set("rise rose risen increase climb jump grew grow higher gain boost soar up"),
     _stem_set("fall fell fallen drop decline decrease slow ease cut lower slump reduce shrank down")),
    (_stem_set("accept approve approval back welcome support agree pass favour"),
     _stem_set("reject oppose criticise block refuse against")),
    (_stem_set("help benefit"), _stem_set("hurt harm damage")),
    (_stem_set("open"), _stem_set("close shut")),
]
# Words of winning over someone: the winner is named before them, the loser after.
_DIRECTED = _stem_set("beat defeat defeating victory overtook")
# Negation, including words that negate by meaning ("exempt" from paying, paintings "missing").
_NEGATIONS = _stem_set("not no never none nobody nothing neither nor without cannot t exempt missing refuse reject "
                       "deny denied fail unable lack absent")
# What makes a claim uncertain, planned or attributed as an estimate; a sentence that restates words one
# of these governs must keep a hedge of its own.
_HEDGES = _stem_set("could may might likely unlikely possibly expected estimate warn plan pledge promise forecast "
                    "if unless risk threaten propose fear predict hope")
# Hedges an answer may use that do not mark uncertainty in the evidence ("would" is also reported speech).
_SOFTENERS = _stem_set("would should due")
_REACH = 3  # content words after a negation or hedge that it governs
# A sentence restates what a hedge governs when it shares this many of those words: one alone is often a
# topic word ("cranes") the sentence takes from another clause.
_RESTATED = 2


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
    """One sentence of the model's answer, the evidence it cites and the check's verdict.

    `support` is the share of its claim words the cited evidence states; `elsewhere`, for a dropped
    sentence, is a sentence of a cited article that does support it (the reader can be shown that one).
    """

    text: str = field(metadata=about("The model's sentence without its [n] markers"))
    evidence: list[int] = field(
        metadata=about("The brief sentences it cites, numbered 1..n in `summary.sentences` order"))
    citations: list[Citation] = field(metadata=about("The exact source spans of that evidence"))
    checked: bool = field(
        metadata=about("Whether it passed the check (only checked sentences are listed unless debug)"))
    support: float = field(metadata=about("Share of its claim words that its cited evidence states"))
    reason: str | None = field(default=None, metadata=about("Why it failed the check"))
    elsewhere: Citation | None = field(
        default=None, metadata=about("For a dropped sentence: a sentence of a cited article that does support it"))

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


def _initials(text: str) -> set[str]:
    """Acronyms a text spells out: initials of runs of capitalised words ("Scottish National Party" → "snp")."""
    runs = re.findall(r"(?:[A-Z][\w'’-]*(?:\s+(?:and|of|the|for)\s+|\s+|$))+", text)
    letters = ["".join(w[0] for w in run.split() if w[0].isupper()).lower() for run in runs]
    return {run[i:j] for run in letters for i in range(len(run)) for j in range(i + 2, len(run) + 1)}


def _names(text: str) -> list[str]:
    """Capitalised words after the first, lower-cased, without 's; the first too when it is no common word."""
    found = _WORD.findall(text)
    names = [re.sub(r"['’]s$", "", w).lower() for w in found[1:] if w[0].isupper() and w != "I"]
    first = re.sub(r"['’]s$", "", found[0]).lower() if found else ""
    # A sentence's first word is capitalised whatever it is, so it counts as a name only when its stem is
    # not a word the evidence uses (checked by the caller); function and number words are never names.
    return names if not first or first in FUNCTION_WORDS or first in _NUMBER_WORDS else [first, *names]


def unsupported_details(sentence: str, evidence: str) -> list[str]:
    """Numbers, scale, date and ordinal words and names in the sentence that the evidence text does not contain."""
    known = _numbers(evidence)
    missing = [m for m, v in _values(sentence) if v not in known]
    lowered, evidence_words = sentence.lower(), set(words(evidence))
    missing += [w for w, v in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", lowered) and v not in known]
    missing += [w for w in _SCALES if re.search(rf"\b{w}\b", lowered) and not re.search(rf"\b{w}\b", evidence.lower())]
    missing += [w for w in _DATED if w in words(sentence) and w not in evidence_words]
    vocabulary = {re.sub(r"['’]s$", "", w).lower() for w in _WORD.findall(evidence)}
    stems, acronyms = {_STEMS.stem(w) for w in evidence_words}, _initials(evidence)
    missing += [w for w in dict.fromkeys(_names(sentence)) if w not in vocabulary and _STEMS.stem(w) not in stems
                and w not in acronyms and not _compound(w, evidence_words)]
    return missing


def _stems(text: str) -> set[str]:
    """The stems of a text's words."""
    return set(_STEMS.terms(text))


def _claim_words(text: str) -> list[str]:
    """The words a sentence's support is measured on: content words that are not figures or attribution."""
    unique = dict.fromkeys(words(text))
    return [w for w in unique if w not in FUNCTION_WORDS and w not in _REPORTING and not w.isdigit()]


def _reversal(sentence: str, evidence: str) -> str | None:
    """How the sentence turns the evidence's meaning round (a negation added or lost, an antonym), if it does."""
    said, source = _stems(sentence), _stems(evidence)
    for one, other in _OPPOSITES:
        for a, b in ((one, other), (other, one)):
            if said & a and not source & a and source & b:
                return f"says {sorted(said & a)[0]!r} where the evidence says {sorted(source & b)[0]!r}"
    if said & _NEGATIONS and not source & _NEGATIONS:
        return "negates what the evidence states"
    lost = [cue for cue, scope in _governed(evidence, _NEGATIONS) if scope & said]
    if lost and not said & _NEGATIONS:
        return f"drops the evidence's negation ({lost[0]})"
    return _swapped(sentence, evidence)


def _swapped(sentence: str, evidence: str) -> str | None:
    """Whether the sentence swaps who beat whom: names on the other side of "beat", "defeated", "victory over"."""
    said, source = _sides(sentence), _sides(evidence)
    if said is None or source is None:
        return None
    before, after = source
    if said[0] & (after - before) and said[1] & (before - after):
        return "swaps who beat whom"
    return None


def _sides(text: str) -> tuple[set[str], set[str]] | None:
    """The capitalised words before and after a text's first word of winning, or None without one."""
    tokens = WORD.findall(text)
    at = next((i for i, t in enumerate(tokens) if _STEMS.stem(t.lower()) in _DIRECTED), None)
    if at is None:
        return None
    names = [t.lower() if t[0].isupper() and t.lower() not in FUNCTION_WORDS else "" for t in tokens]
    return set(names[:at]) - {""}, set(names[at + 1 :]) - {""}


def _hedge(sentence: str, evidence: str) -> str | None:
    """A hedge of the evidence ("could", "expected", "estimates") the sentence states as fact, if any."""
    said = _stems(sentence)
    hedged = [cue for cue, scope in _governed(evidence, _HEDGES) if len(scope & said) >= _RESTATED]
    if len(hedged) > len(said & (_HEDGES | _SOFTENERS)):
        return f"states as fact what the evidence hedges ({', '.join(hedged)})"
    return None


def _governed(text: str, cues: frozenset[str]) -> list[tuple[str, set[str]]]:
    """Each cue word of a text with the stems of the content words it governs (the next few in its sentence)."""
    return [found for part in re.split(r"[.;!?](?:\s|$)", text) for found in _governed_in(part, cues)]


def _governed_in(text: str, cues: frozenset[str]) -> list[tuple[str, set[str]]]:
    """_governed within one sentence."""
    tokens = WORD.findall(text)
    terms = [_STEMS.stem(t.lower()) for t in tokens]
    content = [term if t.lower() not in FUNCTION_WORDS and term not in cues else "" for t, term in zip(tokens, terms)]
    # A capitalised cue is a name or a date ("May 24"), not a modal: only lower-case ones count.
    return [(token, _next_content(content, i))
            for i, (token, term) in enumerate(zip(tokens, terms)) if term in cues and token[0].islower()]


def _next_content(content: list[str], i: int) -> set[str]:
    """The first few content stems after position i."""
    return set([c for c in content[i + 1 :] if c][:_REACH])


@dataclass(frozen=True, slots=True)
class Support:
    """How far evidence supports one answer sentence: the share of its claim words it states, and why not."""

    coverage: float
    problem: str | None


@dataclass(frozen=True, slots=True)
class SupportCheck:
    """Judges whether evidence text supports an answer sentence, by rules and claim-word coverage.

    The rules come first and coverage never outweighs them: a number, name or date the evidence lacks, a
    reversed meaning (negation added or lost, an antonym, winner and loser swapped) and a hedge stated
    as fact. Then the sentence's claim words must be in the evidence, by stem or as a compound of two
    evidence words ("dockworkers" from "dock workers"), in at least the share min_support.
    """

    min_support: float

    def judge(self, sentence: str, evidence: str) -> Support:
        """Whether the evidence supports the sentence, with the share of its claim words it covers."""
        claims = _claim_words(sentence)
        missing = _uncovered(claims, evidence)
        coverage = 1.0 - len(missing) / len(claims) if claims else 1.0
        details = unsupported_details(sentence, evidence)
        if details:
            return Support(coverage, f"not in the cited evidence: {', '.join(details)}")
        problem = _reversal(sentence, evidence) or _hedge(sentence, evidence)
        if problem:
            return Support(coverage, problem)
        if coverage < self.min_support:
            return Support(coverage, f"the cited evidence does not say {', '.join(missing)} "
                                     f"(support {coverage:.2f} < {self.min_support:.2f})")
        return Support(coverage, None)

    def elsewhere(self, sentence: str, evidence: str, candidates: Sequence[str]) -> int | None:
        """Which candidate sentence (of the cited article), added to the evidence, would support the sentence."""
        verdicts = [self.judge(sentence, f"{evidence} {c}") for c in candidates]
        passing = [(v.coverage, i) for i, v in enumerate(verdicts) if v.problem is None]
        return max(passing)[1] if passing else None


def _uncovered(claims: Sequence[str], evidence: str) -> list[str]:
    """The claim words the evidence does not state, by stem or as a compound of two of its words."""
    source = set(words(evidence))
    stems = {_STEMS.stem(w) for w in source}
    return [w for w in claims if _STEMS.stem(w) not in stems and not _compound(w, source)]


def _compound(word: str, vocabulary: set[str]) -> bool:
    """Whether two words of the vocabulary make the word ("dockworkers" from "dock" and "workers")."""
    return any(word[:i] in vocabulary and word[i:] in vocabulary for i in range(3, len(word) - 2))


class Checker:
    """Checks answer sentences against the numbered evidence sentences of one brief."""

    def __init__(self, brief: Brief, index: Index, support: SupportCheck) -> None:
        self.brief = brief
        self.index = index
        self.support = support

    def check(self, sentences: Sequence[str]) -> list[AnswerSentence]:
        """Verdicts for raw answer sentences (markers included)."""
        return [self._verdict(*parse_citations(s)) for s in sentences]

    def problem(self, text: str, numbers: Sequence[int]) -> tuple[str | None, float]:
        """Why the cited evidence does not support the sentence (None when it does), and its support."""
        if not numbers:
            return "cites no evidence", 0.0
        given = len(self.brief.sentences)
        stray = [n for n in numbers if not 1 <= n <= given]
        if stray:
            return f"cites evidence {stray} that was not given (1-{given})", 0.0
        verdict = self.support.judge(text, self._evidence(numbers))
        return verdict.problem, verdict.coverage

    def elsewhere(self, text: str, numbers: Sequence[int]) -> Citation | None:
        """A sentence of a cited article that, with the cited evidence, supports the sentence, if one does."""
        cited = [c for n in numbers for c in self.brief.sentences[n - 1].citations]
        spans = {(c.article_id, c.start, c.end) for c in cited}
        articles = {c.article_id: c.n for c in cited}
        candidates = [Citation(n, a, s.start, s.end) for a, n in articles.items()
                      for s in self.index.article_sentences(a) if (a, s.start, s.end) not in spans]
        texts = self.index.texts(list(articles))
        found = self.support.elsewhere(text, self._evidence(numbers),
                                       [texts[c.article_id][c.start : c.end] for c in candidates])
        return None if found is None else candidates[found]

    def _evidence(self, numbers: Sequence[int]) -> str:
        """The cited evidence sentences as one text."""
        return " ".join(self.brief.sentences[n - 1].text for n in numbers)

    def _verdict(self, text: str, numbers: list[int]) -> AnswerSentence:
        """One checked sentence with the source spans of the evidence it cites."""
        reason, support = self.problem(text, numbers)
        given = self.brief.sentences
        valid = bool(numbers) and all(1 <= n <= len(given) for n in numbers)
        citations = list(dict.fromkeys(c for n in numbers if 1 <= n <= len(given) for c in given[n - 1].citations))
        elsewhere = self.elsewhere(text, numbers) if reason and valid else None
        return AnswerSentence(text=text, evidence=numbers, citations=citations, checked=reason is None,
                              support=support, reason=reason, elsewhere=elsewhere)


@dataclass(slots=True)
class Writer:
    """Asks the configured model for an answer over a brief and checks it sentence by sentence."""

    config: LLMConfig | None
    min_support: float
    min_kept: float
    most_sentences: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> Writer:
        """The writer the settings describe (unconfigured when SEMSEARCH_LLM_URL is unset)."""
        return cls(LLMConfig.from_settings(settings), settings.llm_min_support, settings.llm_min_kept)

    def stream(self, question: str, brief: Brief, index: Index) -> Iterator[AnswerSentence | Answer]:
        """Each answer sentence, checked, as soon as it is complete; then the final Answer."""
        started = time.perf_counter()
        answer = Answer(model=self.config.model if self.config else None, fallback=self._unavailable(brief))
        if answer.fallback is None:
            try:
                checker = Checker(brief, index, SupportCheck(self.min_support))
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
        if answer.fallback is None:
            try:
                text = "".join(stream_completion(self.config, build_messages(question, brief, self.most_sentences)))
            except WriterError as exc:
                answer.fallback = f"{exc}; showing the extractive brief"
            else:
                checker = Checker(brief, index, SupportCheck(self.min_support))
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
            return (f"only {kept} of {total} answer sentences were supported by the evidence they cite; "
                    "showing the extractive brief")
        return None
