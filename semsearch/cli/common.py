"""What every command shares: the group, settings and logging, failing with a message, and the options
generated from the request contract."""

from __future__ import annotations

import functools
import logging
import re
import sys
from datetime import date
from pathlib import Path
from types import UnionType
from typing import Literal, NoReturn, get_args, get_origin

import click
from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import SettingsError

from .. import __version__
from ..config import Settings, get_settings
from ..contract import SearchRequest, bounds, problems

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
    "--index",
    "index",
    type=click.Path(path_type=Path, file_okay=False),
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
    except SettingsError as exc:  # a list or mapping setting whose value is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        _fail(f"SEMSEARCH_{field[1].upper() if field else 'setting'}: not valid JSON (see docs/settings.md)")
    _setup_logging(settings.log_level)


def _service(index: Path | None):
    """A service over the index, or a clear error when there is none."""
    from ..service import SearchService

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
    return click.option(
        _flag(name),
        name,
        multiple=get_origin(info.annotation) is list,
        default=None,
        metavar=_metavar(info),
        help=help_text,
    )


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
