"""The `semsearch` command: build, search, ask, serve, stats."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from datetime import date
from pathlib import Path
from types import UnionType
from typing import Literal, NoReturn, get_args, get_origin

import click
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from . import __version__
from .config import Settings, get_settings, sample_corpus_dir
from .contract import AnswerRequest, SearchRequest, bounds, problems

log = logging.getLogger("semsearch")


def _settings(index: Path | None) -> Settings:
    """Settings from the environment, with --index taking precedence."""
    settings = get_settings()
    return settings.model_copy(update={"index_dir": index}) if index else settings


def _setup_logging(level: str) -> None:
    """Human-readable logs on stderr; chatty third-party loggers kept quiet."""
    logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("faiss", "faiss.loader", "sentence_transformers", "transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _fail(message: str, status: int = 1) -> NoReturn:
    """Stop with a clear message and exit code 1 (2 for bad input), never a traceback."""
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(status)


index_option = click.option(
    "--index", "index", type=click.Path(path_type=Path, file_okay=False),
    help="Index home (default: SEMSEARCH_INDEX_DIR, else the project's index/).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.group()
@click.version_option(__version__, prog_name="semsearch")
def main() -> None:
    """Semantic search with cited, quoted briefs over a news archive."""
    try:
        settings = get_settings()
    except ValidationError as exc:  # one line per bad setting; never the value, which may be a secret
        _fail("; ".join(f"SEMSEARCH_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()))
    _setup_logging(settings.log_level)


def run_build(settings: Settings, sources: tuple[str, ...], as_json: bool = False, incremental: bool = False,
              embed_on: str = "local", ray_address: str | None = None) -> None:
    """Build (or update) an index and print its report; shared by `build`, `update` and `serve`."""
    from .build import NothingToBuild, build, update
    from .distributed import RayBuildError
    from .index import BuildLocked

    if not sources and not incremental:
        sample = sample_corpus_dir()
        if sample is None:
            _fail("no SOURCE given and this install carries no sample corpus")
        sources = (str(sample),)
    try:
        report = (update if incremental else build)(list(sources), settings, progress=not as_json, embed_on=embed_on,
                                                    ray_address=ray_address)
    except (NothingToBuild, BuildLocked, RayBuildError) as exc:
        _build_failed(f"{exc}; the served index is unchanged", getattr(exc, "skipped", []), as_json)
    except OSError as exc:
        _build_failed(f"could not write the index at {settings.index_dir}: {exc}; the served index is unchanged",
                      [], as_json)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    click.echo(
        f"Built index version {report.version} in {report.seconds:.1f}s: {report.articles} articles, "
        f"{report.chunks} chunks, {report.sentences} sentences ({report.embedded_texts} texts embedded, "
        f"{report.duplicates} exact duplicates merged, {report.stories} stories)."
    )
    click.echo(
        f"Against the previous version: {report.added} added, {report.changed} changed, "
        f"{report.removed} removed, {report.unchanged} unchanged."
    )
    if report.skipped:
        click.echo(f"Skipped {len(report.skipped)} source(s):")
        for skip in report.skipped:
            click.echo(f"  {skip.source}: {skip.reason}")
    click.echo(f"Index home: {report.index_dir}")


def _build_failed(message: str, skipped: list, as_json: bool) -> None:
    """Stop a failed build, saying why each source was skipped; with --json, as JSON on stdout too."""
    if as_json:  # a script reading stdout learns of the failure there, not only from the exit code
        click.echo(json.dumps({"error": message, "skipped": [{"source": s.source, "reason": s.reason}
                                                               for s in skipped]}, indent=2))
    else:
        for skip in skipped:
            click.echo(f"  skipped {skip.source}: {skip.reason}")
    _fail(message)


def embed_options(command):
    """The --embed-on and --ray-address options shared by `build` and `update`."""
    command = click.option(
        "--ray-address", default=None, metavar="HOST:PORT",
        help="With --embed-on ray: the Ray cluster to join (default: RAY_ADDRESS, else a local Ray on this machine).",
    )(command)
    return click.option(
        "--embed-on", type=click.Choice(["local", "ray"]), default="local", show_default=True,
        help="Where new texts are embedded: this process, or Ray Data workers on a Ray cluster (the [scale] extra).",
    )(command)


def _check_embed_on(embed_on: str, ray_address: str | None) -> None:
    """Refuse --ray-address on a local build rather than silently ignore it."""
    if ray_address and embed_on != "ray":
        raise click.UsageError("--ray-address needs --embed-on ray")


@main.command("build")
@click.argument("sources", nargs=-1)
@embed_options
@index_option
@json_option
def build_cmd(sources: tuple[str, ...], embed_on: str, ray_address: str | None, index: Path | None,
              as_json: bool) -> None:
    """Rebuild the index from SOURCES (files, folders, feed URLs; default: the bundled sample corpus)."""
    _check_embed_on(embed_on, ray_address)
    run_build(_settings(index), sources, as_json, embed_on=embed_on, ray_address=ray_address)


@main.command("update")
@click.argument("sources", nargs=-1)
@embed_options
@index_option
@json_option
def update_cmd(sources: tuple[str, ...], embed_on: str, ray_address: str | None, index: Path | None,
               as_json: bool) -> None:
    """Re-read the index's recorded sources plus any new SOURCES; only new or changed text is embedded."""
    _check_embed_on(embed_on, ray_address)
    run_build(_settings(index), sources, as_json, incremental=True, embed_on=embed_on, ray_address=ray_address)


def _service(index: Path | None):
    """A service over the index, or a clear error when there is none."""
    from .service import SearchService

    service = SearchService(_settings(index))
    if not service.ready:
        _fail(service.last_error or "no index: run `semsearch build` first")
    return service


def _flag(name: str) -> str:
    """How the command line spells a request field: QUERY for the question, -k, --outlet, --new-since..."""
    if name == "q":
        return "QUERY"
    return f"-{name}" if len(name) == 1 else f"--{name.replace('_', '-')}"


_METAVARS: dict[object, str] = {int: "N", float: "X", date: "YYYY-MM-DD"}


def _metavar(info: FieldInfo) -> str:
    """What an option's value looks like in --help: N, X, YYYY-MM-DD, hybrid|dense|lexical, TEXT."""
    kind = info.annotation
    if get_origin(kind) is UnionType:  # X | None: the value looks like an X
        kind = next(arg for arg in get_args(kind) if arg is not type(None))
    if get_origin(kind) is Literal:
        return "|".join(get_args(kind))
    return _METAVARS.get(kind, "TEXT")


def _request_option(name: str, info: FieldInfo):
    """A click option for one request field, its help from the contract (description, default, bounds).

    Every value reaches the command as given and the contract validates it, so the CLI states no bound
    or default of its own: an option left out stays None and the model's default stands.
    """
    notes = []
    default = info.get_default(call_default_factory=True)
    if default not in (None, [], False):
        notes.append(f"default: {default}")
    limits = bounds(info)
    if "min" in limits:
        notes.append(f"{limits['min']:g}–{limits['max']:g}")
    help_text = f"{info.description}." + (f"  [{'; '.join(notes)}]" if notes else "")
    if info.annotation is bool:
        return click.option(_flag(name), name, is_flag=True, default=None, help=help_text)
    return click.option(_flag(name), name, multiple=get_origin(info.annotation) is list, default=None,
                        metavar=_metavar(info), help=help_text)


# The question is the QUERY argument; whether a brief is made is the command's to decide (search: --json).
_NOT_OPTIONS = ("q", "summary")


def request_options(model: type[SearchRequest]):
    """The QUERY argument and an option per field of the request model; the command gets the validated
    request as `request` (a bad value: one line naming the option, exit 2)."""
    fields = {name: info for name, info in model.model_fields.items() if name not in _NOT_OPTIONS}

    def decorate(command):
        @functools.wraps(command)
        def run(**kwargs):
            values = {"q": kwargs.pop("query")}
            for name in fields:
                value = kwargs.pop(name)
                if value not in (None, ()):
                    values[name] = value
            kwargs["request"] = _validated(model, values)
            return command(**kwargs)

        for name, info in reversed(fields.items()):  # click lists options in the reverse order they are added
            run = _request_option(name, info)(run)
        return click.argument("query")(run)

    return decorate


def _validated(model: type[SearchRequest], values: dict) -> SearchRequest:
    """The request, or exit 2 with every problem on one line, named as the command line spells it."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        _fail("; ".join(f"{_flag(name)}: {message}" for name, message in problems(exc)), status=2)


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
@click.option("--answer", "write", is_flag=True, help="Also have the model at SEMSEARCH_LLM_URL answer in prose, "
              "each sentence checked against its citations.")
@index_option
@json_option
def ask(request: AnswerRequest, write: bool, index: Path | None, as_json: bool) -> None:
    """Answer QUERY with a brief of quoted, cited sentences (and, with --answer, a checked prose answer)."""
    service = _service(index)
    if not write:
        response = service.search(request)
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
    from .answer import Answer

    for item in stream:
        if isinstance(item, Answer):
            if item.fallback:
                click.secho(f"No answer: {item.fallback}.", fg="yellow")
            elif item.dropped:
                click.echo(f"({item.dropped} of {len(item.sentences)} sentences left out: "
                           "the evidence they cite does not support them)")
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
        marks = "".join(f"[{c.n}]" for c in sentence.citations + sentence.corroborations)
        click.echo(f"{sentence.text} {marks}")
    click.echo("\nSources:")
    for src in brief.sources:
        meta = ", ".join(x for x in (src.outlet, src.published) if x)
        click.echo(f"  [{src.n}] {src.title} ({meta or 'unknown outlet'}) {src.article_id}")


@main.command()
@click.option("--host", default=None, help="Address to bind (default SEMSEARCH_HOST, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default SEMSEARCH_PORT, 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Server processes (default SEMSEARCH_WORKERS, 1); more answer more concurrent questions.")
@index_option
def serve(host: str | None, port: int | None, workers: int | None, index: Path | None) -> None:
    """Serve the web UI and JSON API; builds the sample index first if there is none."""
    import uvicorn

    from .server.app import create_app
    from .index import pointer_problem, version_names

    settings = _settings(index)
    workers = workers or settings.workers
    if workers > 1 and settings.admin_token is not None:
        raise click.UsageError("the admin API keeps its rebuild jobs in one process: serve it with one worker "
                               "(or unset SEMSEARCH_ADMIN_TOKEN and rebuild with `semsearch build`)")
    # Only a home without any version gets the sample: one whose CURRENT is lost still holds real versions,
    # which a sample build would replace (and garbage-collect).
    if not version_names(Path(settings.index_dir)):
        click.echo(f"No index at {settings.index_dir} yet: building one from the sample corpus first.")
        run_build(settings, ())
    elif (problem := pointer_problem(Path(settings.index_dir))) is not None:
        click.secho(f"warning: {problem}; serving the newest intact version (see `semsearch verify`)",
                    fg="yellow", err=True)
    host, port = host or settings.host, port or settings.port
    click.echo(f"Serving on http://{host}:{port}/ with {workers} process{'es' if workers > 1 else ''} "
               "(API docs at /docs, Ctrl+C to stop)")
    options = _server_options(settings, host, port)
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # A query holds the GIL for most of its time, so one process answers about one question at a time
    # whatever the cores; each worker process builds its own app from the environment's settings.
    os.environ["SEMSEARCH_INDEX_DIR"] = str(Path(settings.index_dir).resolve())
    uvicorn.run("semsearch.cli:worker_app", factory=True, workers=workers, **options)


def _server_options(settings: Settings, host: str, port: int) -> dict[str, str | int]:
    """uvicorn's options for `serve`: bounds on connections and on how long a stop may wait for requests."""
    return {
        "host": host,
        "port": port,
        "log_level": settings.log_level.lower(),
        "limit_concurrency": settings.max_connections,
        # h11, not httptools: httptools buffers a header of any size, so one slow client could fill the memory;
        # h11 refuses a request whose head outgrows this bound.
        "http": "h11",
        "h11_max_incomplete_event_size": 16 * 1024,
        # A request stuck in a slow render or a stalled client must not keep SIGTERM from stopping the server.
        "timeout_graceful_shutdown": settings.shutdown_timeout,
    }


def worker_app():
    """The app of one `serve --workers` process, from the environment's settings, logging as `serve` does."""
    from .server.app import create_app

    settings = get_settings()
    _setup_logging(settings.log_level)
    return create_app(settings)


@main.command()
@index_option
@json_option
def stats(index: Path | None, as_json: bool) -> None:
    """Show what the served index holds."""
    service = _service(index)
    manifest = service.index.manifest
    outlets = service.index.outlets()
    if as_json:
        click.echo(json.dumps({"manifest": manifest.to_dict(), "outlets": dict(outlets)}, indent=2))
        return
    counts = manifest.counts
    click.echo(f"Index {manifest.version} at {service.home}, built {manifest.built_at}")
    click.echo(f"  {counts.articles} articles, {counts.chunks} chunks, {counts.sentences} sentences")
    click.echo(f"  model {manifest.model} ({manifest.dimension} dims), vectors: {manifest.backend} {manifest.ann}")
    for outlet, count in outlets:
        click.echo(f"  {count:5d}  {outlet}")


@main.command()
@click.option("--all", "all_versions", is_flag=True, help="Check every version on disk, not only the current one.")
@index_option
def verify(all_versions: bool, index: Path | None) -> None:
    """Check index files against the checksums in their manifest and say which version a server would serve;
    exit 1 if any checked version or CURRENT is damaged."""
    from .index import VectorConfig, bad_versions, current_version, pointer_problem, version_dir, version_names
    from .index import verify as verify_version

    settings = _settings(index)
    home = Path(settings.index_dir)
    names, current, problem = version_names(home), current_version(home), pointer_problem(home)
    if not names:
        _fail(f"no index at {home}")
    if problem:
        click.secho(f"{problem}; a server serves the newest intact version instead", fg="yellow")
    bad = bad_versions(home)
    found: dict[str, list[str]] = {}

    def problems_of(name: str) -> list[str]:
        if name not in found:
            marked = [f"marked bad while serving: {bad[name]}"] if name in bad else []
            found[name] = marked + verify_version(version_dir(home, name), VectorConfig.from_settings(settings))
        return found[name]

    for name in names if all_versions or current is None else [current]:
        mark = " (current)" if name == current else ""
        if problems_of(name):
            click.secho(f"{name}{mark}: DAMAGED", fg="red")
            for line in problems_of(name):
                click.echo(f"  {line}")
        else:
            click.echo(f"{name}{mark}: ok")
    serving = next((name for name in ([current] if current else []) + names if not problems_of(name)), None)
    click.echo(f"A server would serve {serving}." if serving else "No intact version to serve.")
    if problem or any(found.values()):
        sys.exit(1)


@main.command()
@click.option("--to", "target", default=None, help="Version to serve (default: the one before the current).")
@index_option
def rollback(target: str | None, index: Path | None) -> None:
    """Serve an earlier index version again; a running server switches on its next request."""
    from .index import (
        VectorConfig,
        VersionError,
        current_version,
        rollback_target,
        set_current,
    )

    settings = _settings(index)
    home = Path(settings.index_dir)
    current = current_version(home)
    try:
        target = rollback_target(home, target, VectorConfig.from_settings(settings))
    except VersionError as exc:
        _fail(str(exc))
    set_current(home, target)
    click.echo(f"Now serving {target} (was {current}).")


@main.group("eval")
def eval_group() -> None:
    """Measure retrieval and brief quality on public data sets (paths to the data are arguments)."""



from .evaluation.retrieval import retrieval_cmd  # noqa: E402 - registered after the group it joins

eval_group.add_command(retrieval_cmd)

from .evaluation.summary import summary_cmd  # noqa: E402 - registered after the group it joins

eval_group.add_command(summary_cmd)

from .evaluation.answer import answer_cmd  # noqa: E402 - registered after the group it joins

eval_group.add_command(answer_cmd)

from .evaluation.cleaning import cleaning_cmd  # noqa: E402 - registered after the group it joins

eval_group.add_command(cleaning_cmd)

from .evaluation.nuggets import nuggets_cmd  # noqa: E402 - registered after the group it joins

eval_group.add_command(nuggets_cmd)
