"""`stats`, `verify` and `rollback`: what the served index holds and which version serves."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import _fail, _service, _settings, index_option, json_option, main

if TYPE_CHECKING:
    from ..source_health import SourceStatus


@main.command()
@index_option
@json_option
def stats(index: Path | None, as_json: bool) -> None:
    """Show what the served index holds."""
    from ..source_health import summary

    service = _service(index)
    manifest = service.index.manifest
    outlets = service.index.outlets()
    sources = service.source_statuses()
    if as_json:
        health = {**asdict(summary(sources)), "sources": [s.local() for s in sources]}
        click.echo(
            json.dumps({"manifest": manifest.to_dict(), "outlets": dict(outlets), "source_health": health}, indent=2)
        )
        return
    counts = manifest.counts
    click.echo(f"Index {manifest.version} at {service.home}, built {manifest.built_at}")
    click.echo(f"  {counts.articles} articles, {counts.chunks} chunks, {counts.sentences} sentences")
    click.echo(f"  model {manifest.model} ({manifest.dimension} dims), vectors: {manifest.backend} {manifest.ann}")
    for outlet, count in outlets:
        click.echo(f"  {count:5d}  {outlet}")
    _echo_sources(sources)


def _echo_sources(sources: list[SourceStatus]) -> None:
    """One line per source: its state, when it was last read and last gave something new, its articles, and why
    it fails or how long its usual gap is."""
    if not sources:
        click.echo("No source health recorded yet (it is kept from the next build or update on).")
        return
    from ..source_health import summary

    found = summary(sources)
    flagged = f"{found.silent} silent, {found.failing} failing"
    click.echo(f"Sources: {found.total}, last read {_when(found.updated)}, {flagged}")
    for status in sources:
        h = status.health
        line = f"  {status.state.upper():7s}  {h.source}: read {_when(h.last_read)}, new {_when(h.last_new)}"
        line += f", {h.articles} article{'' if h.articles == 1 else 's'}"
        if status.usual_gap_hours is not None:
            line += f", usual gap {status.usual_gap_hours:g} h"
        if status.state == "failing":
            line += f"; failed: {h.last_error} (last worked {_when(h.last_ok)})"
        click.secho(line, fg={"failing": "red", "silent": "yellow"}.get(status.state))


def _when(iso: str | None) -> str:
    """An ISO time to the minute, in UTC as recorded; "never" when there is none."""
    if iso is None:
        return "never"
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")


@main.command()
@click.option("--all", "all_versions", is_flag=True, help="Check every version on disk, not only the current one.")
@index_option
def verify(all_versions: bool, index: Path | None) -> None:
    """Check index files against the checksums in their manifest and say which version a server would serve;
    exit 1 if any checked version or CURRENT is damaged."""
    from ..index import VectorConfig, bad_versions, current_version, pointer_problem, version_dir, version_names
    from ..index import verify as verify_version

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
    from ..index import (
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
