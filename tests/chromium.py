"""Where Debian's Chromium is and how the browser tests launch it (no browser is ever downloaded)."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NOT_INSTALLED = "Chromium is not installed (apt-get install chromium)"
# Headless on loopback: no sandbox as root, no GPU, nothing that would reach out of the machine.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
