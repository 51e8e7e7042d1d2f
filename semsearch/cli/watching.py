"""`watch`: saved questions, and `mcp`: the tools for agents."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from ..contract import SearchRequest
from .common import _fail, _settings, index_option, json_option, main, request_options


@main.group("watch")
def watch_group() -> None:
    """Saved questions: asked again after every build or update, their new findings recorded and served as feeds."""


@watch_group.command("add")
@request_options(SearchRequest)
@click.option("--name", required=True, help="The saved question's name: lower-case letters, digits, - and _.")
@index_option
def watch_add(request: SearchRequest, name: str, index: Path | None) -> None:
    """Save QUERY with its search options under NAME; every build or update then asks it again."""
    from .. import watches

    settings = _settings(index)
    try:
        watches.add(Path(settings.index_dir), name, request, settings.max_watches)
    except watches.WatchError as exc:
        _fail(exc.message, status=2 if exc.status == 422 else 1)
    click.echo(f"Saved {name!r}; it runs after the next build or update (feed: /watches/{name}.atom).")
    if request.until is not None and request.until < date.today():
        click.echo(f"Note: it asks for articles until {request.until}, so after its first run it finds nothing new.")


@watch_group.command("list")
@index_option
@json_option
def watch_list(index: Path | None, as_json: bool) -> None:
    """List the saved questions (with --json, each with the entries its runs recorded)."""
    from .. import watches

    try:
        found = watches.load(Path(_settings(index).index_dir))
    except watches.WatchError as exc:
        _fail(exc.message)
    if as_json:
        click.echo(json.dumps([w.public() for w in found.values()], indent=2, ensure_ascii=False))
        return
    for watch in found.values():
        click.echo(
            f"{watch.name}: {watch.request['q']!r}  last run {watch.last_run or 'never'}, "
            f"{len(watch.entries)} recorded entries"
        )
    if not found:
        click.echo("No saved questions.")


@watch_group.command("remove")
@click.argument("name")
@index_option
def watch_remove(name: str, index: Path | None) -> None:
    """Forget the saved question NAME and what it recorded."""
    from .. import watches

    try:
        watches.remove(Path(_settings(index).index_dir), name)
    except watches.WatchError as exc:
        _fail(exc.message, status=2 if exc.status == 422 else 1)
    click.echo(f"Removed {name!r}.")


@main.command("mcp")
@index_option
def mcp_cmd(index: Path | None) -> None:
    """Serve the tools search, ask and article to an agent over the Model Context Protocol on stdin/stdout."""
    from ..mcp_server import serve_stdio

    serve_stdio(_settings(index))
