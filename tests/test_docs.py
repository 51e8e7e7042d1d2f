"""The README documents every command and every setting (a failing test when one is added silently)."""

from __future__ import annotations

from pathlib import Path

import pytest

from semsearch.cli import main
from semsearch.config import Settings

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_documented(command: str):
    assert f"semsearch {command}" in README


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str):
    assert f"`SEMSEARCH_{name.upper()}`" in README
