"""`build` and `update`: sources to a published version, once or every so often."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import click

from ..config import Settings, sample_corpus_dir
from ..records import BuildReport
from .common import _fail, _settings, index_option, json_option, log, main


def run_build(
    settings: Settings,
    sources: tuple[str, ...],
    as_json: bool = False,
    incremental: bool = False,
    embed_on: str = "local",
    ray_address: str | None = None,
) -> None:
    """Build (or update) an index and print its report; shared by `build`, `update` and `serve`."""
    from ..build import NothingToBuild, build, update
    from ..distributed import RayBuildError
    from ..index import BuildLocked

    if not sources and not incremental:
        sample = sample_corpus_dir()
        if sample is None:
            _fail("no SOURCE given and this install carries no sample corpus")
        sources = (str(sample),)
    try:
        report = (update if incremental else build)(
            list(sources), settings, progress=not as_json, embed_on=embed_on, ray_address=ray_address
        )
    except (NothingToBuild, BuildLocked, RayBuildError) as exc:
        _build_failed(f"{exc}; the served index is unchanged", getattr(exc, "skipped", []), as_json)
    except OSError as exc:
        _build_failed(f"could not write {_written(settings, exc)}: {exc}; the served index is unchanged", [], as_json)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    if not report.published:
        click.echo(_unchanged(report))
    else:
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


def _written(settings: Settings, exc: OSError) -> str:
    """What a build failed to write: the embedding cache when the error names a path in its folder, or a
    missing or unwritable folder above it that is not also above the index home."""
    home, cache = Path(settings.index_dir), settings.cache_dir
    if cache is None or not exc.filename:
        return f"the index at {home}"
    failed = Path(str(exc.filename))
    if failed.is_relative_to(cache) or (cache.is_relative_to(failed) and not home.is_relative_to(failed)):
        return f"the embedding cache at {cache} (SEMSEARCH_CACHE_DIR)"
    return f"the index at {home}"


def _build_failed(message: str, skipped: list, as_json: bool) -> None:
    """Stop a failed build, saying why each source was skipped; with --json, as JSON on stdout too."""
    if as_json:  # a script reading stdout learns of the failure there, not only from the exit code
        click.echo(
            json.dumps(
                {"error": message, "skipped": [{"source": s.source, "reason": s.reason} for s in skipped]}, indent=2
            )
        )
    else:
        for skip in skipped:
            click.echo(f"  skipped {skip.source}: {skip.reason}")
    _fail(message)


def embed_options(command):
    """The --embed-on and --ray-address options shared by `build` and `update`."""
    command = click.option(
        "--ray-address",
        default=None,
        metavar="HOST:PORT",
        help="With --embed-on ray: the Ray cluster to join (default: RAY_ADDRESS, else a local Ray on this machine).",
    )(command)
    return click.option(
        "--embed-on",
        type=click.Choice(["local", "ray"]),
        default="local",
        show_default=True,
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
def build_cmd(
    sources: tuple[str, ...], embed_on: str, ray_address: str | None, index: Path | None, as_json: bool
) -> None:
    """Rebuild the index from SOURCES (files, folders, feed URLs; default: the bundled sample corpus)."""
    _check_embed_on(embed_on, ray_address)
    run_build(_settings(index), sources, as_json, embed_on=embed_on, ray_address=ray_address)


class Duration(click.ParamType):
    """A period such as 90s, 15m, 1h or 1h30m, as seconds."""

    name = "DURATION"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        from ..schedule import parse_duration

        try:
            return value if isinstance(value, float) else parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@main.command("update")
@click.argument("sources", nargs=-1)
@embed_options
@click.option(
    "--every",
    "period",
    type=Duration(),
    default=None,
    help="Keep updating every DURATION (90s, 15m, 1h) until SIGTERM or Ctrl+C, which stop between runs.",
)
@index_option
@json_option
def update_cmd(
    sources: tuple[str, ...],
    embed_on: str,
    ray_address: str | None,
    period: float | None,
    index: Path | None,
    as_json: bool,
) -> None:
    """Re-read the index's recorded sources plus any new SOURCES; only new or changed text is embedded."""
    _check_embed_on(embed_on, ray_address)
    if period is None:
        run_build(_settings(index), sources, as_json, incremental=True, embed_on=embed_on, ray_address=ray_address)
        return
    from ..schedule import every, stop_on_signals

    settings = _settings(index)
    with stop_on_signals() as stop:
        runs = every(period, functools.partial(_update_once, settings, sources, embed_on, ray_address), stop)
    click.echo(f"Stopped after {runs} update run{'s' if runs != 1 else ''}.")


def _update_once(settings: Settings, sources: tuple[str, ...], embed_on: str, ray_address: str | None) -> None:
    """One scheduled update: its summary, or why it failed (logged; the served index is unchanged)."""
    from ..build import NothingToBuild, update
    from ..distributed import RayBuildError
    from ..index import BuildLocked

    try:
        report = update(list(sources), settings, embed_on=embed_on, ray_address=ray_address)
    except (NothingToBuild, BuildLocked, RayBuildError, OSError) as exc:
        log.error("update failed: %s; the served index is unchanged", exc)
        return
    click.echo(
        _unchanged(report)
        if not report.published
        else f"Built index version {report.version} in {report.seconds:.1f}s: {report.added} added, "
        f"{report.changed} changed, {report.removed} removed, {report.unchanged} unchanged."
    )


def _unchanged(report: BuildReport) -> str:
    """The summary of a build that found the served version made from the same articles and settings."""
    return (
        f"Unchanged: index version {report.version} already holds these {report.articles} articles, made the "
        f"same way; nothing published ({report.seconds:.1f}s)."
    )
