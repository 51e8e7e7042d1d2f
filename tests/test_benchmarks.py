"""Every benchmark script still starts: its imports resolve and it prints its usage (a renamed function or module
would otherwise break a script nobody runs until a release)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).parent.parent / "benchmarks").glob("*.py"))
# Scripts that compare with a peer system need that system installed; they say so in their docstring.
PEERS = {"txtai_peer.py": "txtai"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_the_script_prints_its_usage(script: Path):
    peer = PEERS.get(script.name)
    if peer and importlib.util.find_spec(peer) is None:
        pytest.skip(f"{script.name} compares with {peer}, which is not installed")
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower()
