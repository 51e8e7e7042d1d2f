"""`serve`: the web UI and JSON API, optionally updating the index every so often beside it."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from ..config import Settings, get_settings
from .building import Duration, run_build
from .common import _settings, _setup_logging, index_option, log, main


@main.command()
@click.option("--host", default=None, help="Address to bind (default SEMSEARCH_HOST, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default SEMSEARCH_PORT, 8000).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Server processes (default SEMSEARCH_WORKERS, 1); more answer more concurrent questions.",
)
@click.option(
    "--update-every",
    "period",
    type=Duration(),
    default=None,
    help="Also run `semsearch update` every DURATION (90s, 15m, 1h) while serving, one build at a time.",
)
@index_option
def serve(host: str | None, port: int | None, workers: int | None, period: float | None, index: Path | None) -> None:
    """Serve the web UI and JSON API; builds the sample index first if there is none."""
    import uvicorn

    from ..index import pointer_problem, version_names
    from ..server.app import create_app

    settings = _settings(index)
    workers = workers or settings.workers
    if workers > 1 and settings.admin_token is not None:
        raise click.UsageError(
            "the admin API keeps its rebuild jobs in one process: serve it with one worker "
            "(or unset SEMSEARCH_ADMIN_TOKEN and rebuild with `semsearch build`)"
        )
    # Only a home without any version gets the sample: one whose CURRENT is lost still holds real versions,
    # which a sample build would replace (and garbage-collect).
    if not version_names(Path(settings.index_dir)):
        click.echo(f"No index at {settings.index_dir} yet: building one from the sample corpus first.")
        run_build(settings, ())
    elif (problem := pointer_problem(Path(settings.index_dir))) is not None:
        click.secho(
            f"warning: {problem}; serving the newest intact version (see `semsearch verify`)", fg="yellow", err=True
        )
    host, port = host or settings.host, port or settings.port
    click.echo(
        f"Serving on http://{host}:{port}/ with {workers} process{'es' if workers > 1 else ''} "
        "(API docs at /docs, Ctrl+C to stop)"
    )
    options = _server_options(settings, host, port)
    with _updating(settings, period):
        if workers == 1:
            uvicorn.run(create_app(settings), **options)
            return
        # A query holds the GIL for most of its time, so one process answers about one question at a time
        # whatever the cores; each worker process builds its own app from the environment's settings.
        os.environ["SEMSEARCH_INDEX_DIR"] = str(Path(settings.index_dir).resolve())
        uvicorn.run("semsearch.cli.serving:worker_app", factory=True, workers=workers, **options)


@contextlib.contextmanager
def _updating(settings: Settings, period: float | None) -> Iterator[None]:
    """With a period: `semsearch update` in a child process every period, beside the server, until it stops."""
    if period is None:
        yield
        return
    from ..schedule import every

    stop = threading.Event()
    # A child process per run, as the admin API does: a build's memory and any crash stay out of the server.
    command = [sys.executable, "-m", "semsearch", "update", "--index", str(Path(settings.index_dir).resolve())]
    thread = threading.Thread(
        target=every, args=(period, functools.partial(_run_child, command), stop), daemon=True, name="scheduled-update"
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()


def _run_child(command: list[str]) -> None:
    """Run one scheduled update; a failure is logged (with the child's last words) and the server goes on."""
    import subprocess

    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        log.error("scheduled update failed (exit %d): %s", done.returncode, done.stderr.strip()[-2000:])
    else:
        log.info("scheduled update: %s", done.stdout.strip().splitlines()[0] if done.stdout.strip() else "done")


def _server_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
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
    from ..server.app import create_app

    settings = get_settings()
    _setup_logging(settings.log_level)
    return create_app(settings)
