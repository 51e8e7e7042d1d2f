"""`semsearch eval answer`: how well a writer model's sentences are supported by the evidence they cite.

For every question the brief is built as usual and the model at --llm-url answers from it. Each answer
sentence (before any is dropped) is judged with the writer's own check, in the ALCE sense:

- citation recall: the share of answer sentences that their citations, taken together, support;
- citation precision: the share of citations that are needed, i.e. the sentence is supported and the
  citation either supports it alone or the others no longer do without it;
- dropped: the share of sentences the writer left out.

The judge is the checker itself (no entailment model can be had offline), so the numbers measure a
model's citing against that check; run against the scripted test double they measure the checker.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click

DEFAULT_QUESTIONS = Path(__file__).resolve().parent.parent / "benchmarks" / "sample_questions.json"


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
        return asdict(self) | {"citation_recall": self.recall, "citation_precision": self.precision,
                               "dropped_share": self.dropped_share}


def judge(checker, sentences) -> tuple[int, int, int]:
    """Supported sentences, citations and needed citations among checked answer sentences (ALCE rules)."""
    if not sentences:
        return 0, 0, 0
    vectors = checker.embedder.encode([s.text for s in sentences])

    def supports(sentence, vector, numbers) -> bool:
        return bool(numbers) and checker.problem(sentence.text, numbers, vector)[0] is None

    supported = citations = precise = 0
    for sentence, vector in zip(sentences, vectors):
        whole = supports(sentence, vector, sentence.evidence)
        supported += whole
        citations += len(sentence.evidence)
        if not whole:
            continue
        for n in sentence.evidence:
            others = [m for m in sentence.evidence if m != n]
            precise += supports(sentence, vector, [n]) or not supports(sentence, vector, others)
    return supported, citations, precise


def run(settings, models: list[str], url: str, timeout: float, questions: list[str]) -> list[Row]:
    """Every model over every question; the retrieval and brief are computed once per question."""
    from ..service import SearchService
    from ..answer import Checker, LLMConfig, Writer

    service = SearchService(settings)
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    responses = [service.search(q, k=10, summary=True) for q in questions]
    rows = []
    for model in models:
        writer = Writer(LLMConfig(url, model, key, timeout, settings.llm_max_tokens),
                        settings.llm_min_similarity, settings.llm_min_kept)
        row = Row(model=model)
        started = time.perf_counter()
        for response in responses:
            brief = response.summary
            if not brief.sentences:
                continue  # the brief abstained, so the model is never asked
            row.questions += 1
            answer = writer.answer(response.query, brief, service.index, service.embedder)
            row.failed += not answer.sentences
            row.answered += answer.fallback is None
            row.sentences += len(answer.sentences)
            row.dropped += answer.dropped
            checker = Checker(brief, service.index, service.embedder, settings.llm_min_similarity)
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
    lines = ["| model | questions | answered | failed | sentences | citation recall | citation precision "
             "| dropped |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r.model} | {r.questions} | {r.answered} | {r.failed} | {r.sentences} | {_pct(r.recall)} "
                     f"| {_pct(r.precision)} | {_pct(r.dropped_share)} |")
    return "\n".join(lines)


@click.command("answer")
@click.option("--llm-url", default=None, help="OpenAI-compatible base URL (default: SEMSEARCH_LLM_URL).")
@click.option("--llm-model", "models", multiple=True,
              help="Model to evaluate; repeat to compare several (default: SEMSEARCH_LLM_MODEL).")
@click.option("--llm-timeout", type=click.FloatRange(0.1, 600), default=None,
              help="Seconds per answer (default: SEMSEARCH_LLM_TIMEOUT).")
@click.option("--questions", "questions_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              default=DEFAULT_QUESTIONS, show_default=True,
              help='JSON list of questions: strings or objects with a "question" field.')
@click.option("--index", "index", type=click.Path(path_type=Path, file_okay=False),
              help="Index home (default: SEMSEARCH_INDEX_DIR, else the project's index/).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def answer_cmd(llm_url: str | None, models: tuple[str, ...], llm_timeout: float | None, questions_file: Path,
               index: Path | None, as_json: bool) -> None:
    """Citation recall and precision (ALCE) of a writer model's answers, and the share of sentences dropped."""
    from ..config import get_settings

    settings = get_settings()
    if index:
        settings = settings.model_copy(update={"index_dir": index})
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
