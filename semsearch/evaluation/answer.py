"""`semsearch eval answer`: how well a writer model's sentences are supported by the evidence they cite,
and how well the writer's check tells supported sentences from unsupported ones.

With --labelled FILE the check is scored against hand-labelled answer sentences (one JSON object a
line: id, kind, supported, sentence, evidence, optional context = other sentences of the cited
article, optional round = which batch of writing it came from): for each kind, the share kept when
supported and dropped when not, on the tune half and the held-out half (split by a hash of the id, so
a sentence never changes half), and on each round's held-out sentences when there are several rounds
(a round written after the check was last changed is a fresh test of it). No model server is needed.

Otherwise for every question the brief is built as usual and the model at --llm-url answers from it. Each answer
sentence (before any is dropped) is judged with the writer's own check, in the ALCE sense:

- citation recall: the share of answer sentences that their citations, taken together, support;
- citation precision: the share of citations that are needed, i.e. the sentence is supported and the
  citation either supports it alone or the others no longer do without it;
- dropped: the share of sentences the writer left out.

The judge is the checker itself (no entailment model can be had offline), so the numbers measure a
model's citing against that check; run against the scripted test double they measure the checker.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click

from ..config import PACKAGE_DIR

DEFAULT_QUESTIONS = PACKAGE_DIR.parent / "benchmarks" / "sample_questions.json"  # in a source checkout


@dataclass(slots=True)
class Row:
    """One model's totals over the question set."""

    model: str
    questions: int = 0
    answered: int = 0
    failed: int = 0
    sentences: int = 0
    supported: int = 0
    citations: int = 0
    precise: int = 0
    dropped: int = 0
    seconds: float = 0.0

    @property
    def recall(self) -> float | None:
        """Citation recall: supported sentences over all sentences."""
        return self.supported / self.sentences if self.sentences else None

    @property
    def precision(self) -> float | None:
        """Citation precision: needed citations over all citations."""
        return self.precise / self.citations if self.citations else None

    @property
    def dropped_share(self) -> float | None:
        """Share of sentences the writer left out."""
        return self.dropped / self.sentences if self.sentences else None

    def to_dict(self) -> dict:
        """JSON-ready form with the derived rates."""
        return asdict(self) | {
            "citation_recall": self.recall,
            "citation_precision": self.precision,
            "dropped_share": self.dropped_share,
        }


def judge(checker, sentences) -> tuple[int, int, int]:
    """Supported sentences, citations and needed citations among checked answer sentences (ALCE rules)."""

    def supports(sentence, numbers) -> bool:
        return bool(numbers) and checker.problem(sentence.text, numbers)[0] is None

    supported = citations = precise = 0
    for sentence in sentences:
        whole = supports(sentence, sentence.evidence)
        supported += whole
        citations += len(sentence.evidence)
        if not whole:
            continue
        for n in sentence.evidence:
            others = [m for m in sentence.evidence if m != n]
            precise += supports(sentence, [n]) or not supports(sentence, others)
    return supported, citations, precise


def run(settings, models: list[str], url: str, timeout: float, questions: list[str]) -> list[Row]:
    """Every model over every question; the retrieval and brief are computed once per question."""
    from ..answer import AnswerWriter, Checker, LLMConfig, SupportCheck
    from ..answer.related import synonyms
    from ..contract import SearchRequest
    from ..service import SearchService

    service = SearchService(settings)
    if not service.ready:
        raise click.ClickException(service.last_error or "no index: run `semsearch build` first")
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    responses = [service.search(SearchRequest(q=q, k=10, summary=True)) for q in questions]
    rows = []
    for model in models:
        writer = AnswerWriter(
            LLMConfig(url, model, key, timeout, settings.llm_max_tokens),
            settings.llm_min_support,
            settings.llm_min_kept,
            synonyms=synonyms(settings.llm_synonym_similarity),
        )
        row = Row(model=model)
        started = time.perf_counter()
        for response in responses:
            brief = response.summary
            assert brief is not None  # the requests above ask for the brief
            if not brief.sentences:
                continue  # the brief abstained, so the model is never asked
            row.questions += 1
            answer = writer.answer(response.query, brief, service.index)
            row.failed += not answer.sentences
            row.answered += answer.fallback is None
            row.sentences += len(answer.sentences)
            row.dropped += answer.dropped
            checker = Checker(brief, service.index, SupportCheck(settings.llm_min_support, writer.synonyms))
            supported, citations, precise = judge(checker, answer.sentences)
            row.supported += supported
            row.citations += citations
            row.precise += precise
        row.seconds = time.perf_counter() - started
        rows.append(row)
    return rows


def _pct(value: float | None) -> str:
    """A rate as a percentage, or a dash when there was nothing to count."""
    return "–" if value is None else f"{100 * value:.1f}%"


def table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| model | questions | answered | failed | sentences | citation recall | citation precision | dropped |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.model} | {r.questions} | {r.answered} | {r.failed} | {r.sentences} | {_pct(r.recall)} "
            f"| {_pct(r.precision)} | {_pct(r.dropped_share)} |"
        )
    return "\n".join(lines)


# Kinds whose sentences a cited sentence fully supports; every other kind is labelled unsupported.
DETAIL_KINDS = ("number", "name", "date")  # never to be kept, whatever the coverage


@dataclass(frozen=True, slots=True)
class Labelled:
    """One hand-labelled answer sentence, the evidence it cites and whether that evidence supports it."""

    id: str
    kind: str
    supported: bool
    sentence: str
    evidence: list[str]
    context: list[str] = field(default_factory=list)
    round: int = 1

    @property
    def half(self) -> str:
        """ "tune" or "held-out", fixed by a hash of the id so that adding sentences moves none."""
        return "tune" if hashlib.sha256(self.id.encode()).digest()[0] % 2 == 0 else "held-out"


@dataclass(frozen=True, slots=True)
class Judged:
    """The check's verdict on one labelled sentence, and the article sentence it points to if dropped."""

    item: Labelled
    kept: bool
    reason: str | None
    elsewhere: int | None

    @property
    def right(self) -> bool:
        """Kept when supported, dropped when not."""
        return self.kept == self.item.supported


def load_labelled(path: Path) -> list[Labelled]:
    """The labelled sentences of a JSON-lines file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        Labelled(
            d["id"],
            d["kind"],
            bool(d["supported"]),
            d["sentence"],
            list(d["evidence"]),
            list(d.get("context", [])),
            int(d.get("round", 1)),
        )
        for d in map(json.loads, filter(str.strip, lines))
    ]


def judge_labelled(check, items: Sequence[Labelled]) -> list[Judged]:
    """The verdict of a SupportCheck on every labelled sentence."""
    out = []
    for item in items:
        evidence = "\n".join(item.evidence)
        verdict = check.judge(item.sentence, evidence)
        found = check.elsewhere(item.sentence, evidence, item.context) if verdict.problem and item.context else None
        out.append(Judged(item, verdict.problem is None, verdict.problem, found))
    return out


def kind_table(judged: Sequence[Judged]) -> str:
    """Per kind: how many sentences, and the share the check got right (kept if supported, else dropped)."""
    lines = [
        "| kind | label | sentences | check right | pointed to the article's sentence |",
        "|---|---|---:|---:|---:|",
    ]
    kinds = sorted({(not j.item.supported, j.item.kind) for j in judged})
    for unsupported, kind in kinds:
        rows = [j for j in judged if j.item.kind == kind and j.item.supported != unsupported]
        label = "unsupported: dropped" if unsupported else "supported: kept"
        context = [j for j in rows if j.item.context]
        pointed = f"{sum(j.elsewhere is not None for j in context)} of {len(context)}" if context else "–"
        lines.append(f"| {kind} | {label} | {len(rows)} | {_share(rows)} | {pointed} |")
    for supported, label in ((True, "**all supported: kept**"), (False, "**all unsupported: dropped**")):
        rows = [j for j in judged if j.item.supported == supported]
        lines.append(f"| {label} | | {len(rows)} | {_share(rows)} | |")
    return "\n".join(lines)


def _share(rows: Sequence[Judged]) -> str:
    """The share of verdicts that are right, as a percentage."""
    return _pct(sum(j.right for j in rows) / len(rows) if rows else None)


def details_kept(judged: Sequence[Judged]) -> list[Judged]:
    """Unsupported sentences with a changed number, name or date that the check kept (there should be none)."""
    return [j for j in judged if j.kept and not j.item.supported and j.item.kind in DETAIL_KINDS]


def labelled_report(settings, path: Path) -> dict[str, list[Judged]]:
    """The check's verdicts on a labelled file, by half."""
    from ..answer import SupportCheck
    from ..answer.related import synonyms

    check = SupportCheck(settings.llm_min_support, synonyms(settings.llm_synonym_similarity))
    judged = judge_labelled(check, load_labelled(path))
    return {half: [j for j in judged if j.item.half == half] for half in ("held-out", "tune")}


def by_round(halves: dict[str, list[Judged]]) -> dict[str, list[Judged]]:
    """The held-out half of each round (when there are several), then both halves whole."""
    held = halves["held-out"]
    rounds = sorted({j.item.round for half in halves.values() for j in half})
    split = {f"held-out half, round {r}": [j for j in held if j.item.round == r] for r in rounds}
    return (split if len(rounds) > 1 else {}) | {f"{half} half": judged for half, judged in halves.items()}


def _print_labelled(settings, path: Path, as_json: bool) -> None:
    """Print the per-kind tables of a labelled file (or every verdict as JSON)."""
    halves = labelled_report(settings, path)
    if as_json:
        click.echo(
            json.dumps(
                {
                    half: [
                        {
                            "id": j.item.id,
                            "kind": j.item.kind,
                            "round": j.item.round,
                            "supported": j.item.supported,
                            "kept": j.kept,
                            "reason": j.reason,
                            "elsewhere": j.elsewhere,
                        }
                        for j in judged
                    ]
                    for half, judged in halves.items()
                },
                indent=2,
            )
        )
        return
    for group, judged in by_round(halves).items():
        click.echo(
            f"{group} ({len(judged)} sentences, SEMSEARCH_LLM_MIN_SUPPORT {settings.llm_min_support:g}, "
            f"SEMSEARCH_LLM_SYNONYM_SIMILARITY {settings.llm_synonym_similarity:g}):"
        )
        click.echo(kind_table(judged))
        click.echo(f"unsupported numbers, names or dates kept: {len(details_kept(judged))}\n")


@click.command("answer")
@click.option("--llm-url", default=None, help="OpenAI-compatible base URL (default: SEMSEARCH_LLM_URL).")
@click.option(
    "--llm-model",
    "models",
    multiple=True,
    help="Model to evaluate; repeat to compare several (default: SEMSEARCH_LLM_MODEL).",
)
@click.option(
    "--llm-timeout",
    type=click.FloatRange(0.1, 600),
    default=None,
    help="Seconds per answer (default: SEMSEARCH_LLM_TIMEOUT).",
)
@click.option(
    "--questions",
    "questions_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=DEFAULT_QUESTIONS,
    show_default=True,
    help='JSON list of questions: strings or objects with a "question" field.',
)
@click.option(
    "--index",
    "index",
    type=click.Path(path_type=Path, file_okay=False),
    help="Index home (default: SEMSEARCH_INDEX_DIR, else the project's index/).",
)
@click.option(
    "--labelled",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Score the check itself on a labelled JSON-lines file (no model server needed).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def answer_cmd(
    llm_url: str | None,
    models: tuple[str, ...],
    llm_timeout: float | None,
    questions_file: Path,
    index: Path | None,
    labelled: Path | None,
    as_json: bool,
) -> None:
    """Citation recall and precision (ALCE) of a writer model's answers, and the share of sentences dropped;
    with --labelled, the check's verdicts per kind of labelled sentence."""
    from ..config import get_settings

    settings = get_settings()
    if index:
        settings = settings.model_copy(update={"index_dir": index})
    if labelled:
        _print_labelled(settings, labelled, as_json)
        return
    url = llm_url or settings.llm_url
    models = models or ((settings.llm_model,) if settings.llm_model else ())
    if not url or not models:
        raise click.UsageError("give --llm-url and --llm-model (or set SEMSEARCH_LLM_URL and SEMSEARCH_LLM_MODEL)")
    items = json.loads(questions_file.read_text(encoding="utf-8"))
    questions = [q["question"] if isinstance(q, dict) else str(q) for q in items]
    rows = run(settings, list(models), url, llm_timeout or settings.llm_timeout, questions)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    click.echo(table(rows))
