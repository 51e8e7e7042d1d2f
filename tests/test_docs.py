"""The reference pages keep up with the code, and no tracked doc or benchmark names a path of one machine.

- docs/cli.md has a section per `semsearch` command (sub-groups such as `eval` included), and each
  section names every long option of its command.
- docs/settings.md lists every setting as `SEMSEARCH_<NAME>`.
- No tracked text file under docs/ or benchmarks/, nor README.md, holds an absolute path of a machine.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import click
import pytest

from semsearch.cli import main
from semsearch.config import Settings

ROOT = Path(__file__).parent.parent
CLI_DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
SETTINGS_DOC = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
README = ROOT / "README.md"


def commands(group: click.Group = main, path: str = "semsearch") -> list[tuple[str, click.Command]]:
    """Every command under the `semsearch` group, depth first, with its full command line name."""
    found = [(path, group)]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += commands(command, f"{path} {name}")
        else:
            found.append((f"{path} {name}", command))
    return found


COMMANDS = dict(commands())


def section(path: str) -> str | None:
    """The text under the heading that names exactly `path` (in backticks), up to the next command heading."""
    lines = CLI_DOC.splitlines()
    heading = re.compile(r"^#+ .*`" + re.escape(path) + r"`")
    for start, line in enumerate(lines):
        if heading.match(line):
            end = next(
                (i for i in range(start + 1, len(lines)) if lines[i].startswith("#") and "`semsearch" in lines[i]),
                len(lines),
            )
            return "\n".join(lines[start:end])
    return None


def long_options(command: click.Command) -> list[str]:
    """The long flags of a command's options (--help aside)."""
    return sorted(
        {
            opt
            for param in command.params
            if isinstance(param, click.Option)
            for opt in param.opts + param.secondary_opts
            if opt.startswith("--")
        }
        - {"--help"}
    )


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_has_a_section(path: str):
    assert section(path) is not None, f"docs/cli.md has no heading naming `{path}`"


@pytest.mark.parametrize(
    ("path", "option"),
    [(path, option) for path, command in sorted(COMMANDS.items()) for option in long_options(command)],
)
def test_every_option_is_documented(path: str, option: str):
    text = section(path) or ""
    assert re.search(re.escape(option) + r"(?![\w-])", text), f"`{path}` section of docs/cli.md lacks {option}"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str):
    assert f"`SEMSEARCH_{name.upper()}`" in SETTINGS_DOC


# An absolute path into a machine's own folders (work, root, home, tmp, Users, mnt, private at the root), not a
# URL's path (preceded by its host) nor an API route.
MACHINE_PATH = re.compile(r"(?<![\w.~:/-])/(?:work|root|home|tmp|Users|mnt|private)/[\w.-]")


def tracked_text_files() -> list[Path]:
    """README.md and every tracked text file under docs/ and benchmarks/."""
    listed = subprocess.run(["git", "ls-files", "docs", "benchmarks"], cwd=ROOT, capture_output=True, text=True)
    names = (
        listed.stdout.split()
        if listed.returncode == 0 and listed.stdout.strip()
        else [
            str(p.relative_to(ROOT))
            for folder in ("docs", "benchmarks")
            for p in (ROOT / folder).rglob("*")
            if p.is_file()
        ]
    )
    files = [ROOT / name for name in names if (ROOT / name).is_file()] + [README]
    return [f for f in files if f.suffix in {".md", ".py", ".json", ".txt", ".toml", ".sh", ".cfg", ".yaml", ".yml"}]


def test_machine_path_pattern():
    # Written from parts, so this file holds no machine path itself.
    bad_paths = [
        f"{before}/{top}/{rest}"
        for before, top, rest in (
            ("see ", "work", "cache/x"),
            ("`", "root", "data`"),
            ("(", "tmp", "bw)"),
            ('"', "home", 'me/news"'),
            ("", "Users", "a/b"),
        )
    ]
    for bad in bad_paths:
        assert MACHINE_PATH.search(bad), bad
    inner = (("http:", "", "example.org", "home", "x"), ("docs", "tmp", "x"), ("a", "tmp", "b"))
    relative = ("/".join(parts) for parts in inner)
    for fine in ("/api/search", "~/news", "/srv/news", *relative):
        assert not MACHINE_PATH.search(fine), fine


@pytest.mark.parametrize("path", tracked_text_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_machine_paths(path: Path):
    text = path.read_text(encoding="utf-8", errors="replace")
    hits = [f"line {text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}" for m in MACHINE_PATH.finditer(text)]
    assert not hits, f"{path.relative_to(ROOT)} names absolute machine paths: {hits[:5]}"


def test_readme_is_short():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200
