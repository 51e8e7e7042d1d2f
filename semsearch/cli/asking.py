"""`search` and `ask`: questions answered from the served index."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..contract import AnswerRequest, SearchRequest
from ..export import sentence_marks
from .common import _service, index_option, json_option, main, request_options


@main.command()
@request_options(SearchRequest)
@index_option
@json_option
def search(request: SearchRequest, index: Path | None, as_json: bool) -> None:
    """Find the articles that best answer QUERY (the brief is computed only for --json)."""
    response = _service(index).search(request.model_copy(update={"summary": as_json}))
    if as_json:
        click.echo(json.dumps(response.to_dict(), indent=2, ensure_ascii=False))
        return
    for rank, hit in enumerate(response.results, start=request.offset + 1):
        meta = " · ".join(x for x in (hit.outlet, hit.published) if x)
        click.secho(f"{rank}. {hit.title}", bold=True)
        click.echo(f"   {meta}  [{hit.article_id}]  score {hit.score:.3f}")
        click.echo(f"   {hit.snippet}\n")
    click.echo(f"{len(response.results)} results in {response.took_ms:.0f} ms")
    if response.timings:
        click.echo("  " + ", ".join(f"{stage} {ms:.1f} ms" for stage, ms in response.timings.items()))


@main.command()
@request_options(AnswerRequest)
@click.option(
    "--answer",
    "write",
    is_flag=True,
    help="Also have the model at SEMSEARCH_LLM_URL answer in prose, each sentence checked against its citations.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
    help="markdown: the brief with numbered citations, its sources and the results, as GET /search.md.",
)
@index_option
@json_option
def ask(request: AnswerRequest, write: bool, output: str, index: Path | None, as_json: bool) -> None:
    """Answer QUERY with a brief of quoted, cited sentences (and, with --answer, a checked prose answer)."""
    if output == "markdown" and (as_json or write):
        raise click.UsageError("--format markdown prints the brief alone: leave out --json and --answer")
    service = _service(index)
    if not write:
        response = service.search(request)
        if output == "markdown":
            from ..export import markdown

            click.echo(markdown(response, places=service.places(response.summary)), nl=False)
            return
        if as_json:
            click.echo(json.dumps(response.to_dict(), indent=2, ensure_ascii=False))
            return
        _print_brief(response.summary)
        return
    if as_json:
        click.echo(json.dumps(service.answer(request).to_dict(request.debug), indent=2, ensure_ascii=False))
        return
    response, stream = service.stream_answer(request)
    _print_answer(stream, request.debug)
    click.echo()
    _print_brief(response.summary)


def _print_answer(stream, debug: bool) -> None:
    """Print the checked answer sentence by sentence as the model writes it, then its verdict."""
    from ..answer import Answer

    for item in stream:
        if isinstance(item, Answer):
            if item.fallback:
                click.secho(f"No answer: {item.fallback}.", fg="yellow")
            elif item.dropped:
                click.echo(
                    f"({item.dropped} of {len(item.sentences)} sentences left out: "
                    "the evidence they cite does not support them)"
                )
        elif item.checked:
            click.echo(f"{item.text} {''.join(f'[{c.n}]' for c in item.citations)}")
        elif debug:
            click.secho(f"  dropped: {item.text} {item.evidence} ({item.reason})", fg="red", err=True)


def _print_brief(brief) -> None:
    """Print the extractive brief (its sentences are the answer's evidence, numbered in order) and sources."""
    if brief is None or not brief.sentences:
        click.echo(brief.abstained if brief else "No brief.")
        return
    for sentence in brief.sentences:
        click.echo(f"{sentence.text} {sentence_marks(sentence, lambda n: f'[{n}]')}")
    click.echo("\nSources:")
    for src in brief.sources:
        meta = ", ".join(x for x in (src.outlet, src.published) if x)
        click.echo(f"  [{src.n}] {src.title} ({meta or 'unknown outlet'}) {src.article_id}")
