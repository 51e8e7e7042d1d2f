"""The `semsearch` command: one module per group of commands, all joined to the one click group."""

from __future__ import annotations

from . import asking, building, evaluating, serving, versions, watching
from .common import main, request_options
from .serving import worker_app

__all__ = [
    "asking",
    "building",
    "evaluating",
    "main",
    "request_options",
    "serving",
    "versions",
    "watching",
    "worker_app",
]
