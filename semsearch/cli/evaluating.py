"""`eval`: quality measurements on data a user points them at."""

from __future__ import annotations

from ..evaluation.answer import answer_cmd
from ..evaluation.cleaning import cleaning_cmd
from ..evaluation.nuggets import nuggets_cmd
from ..evaluation.retrieval import retrieval_cmd
from ..evaluation.summary import summary_cmd
from .common import main


@main.group("eval")
def eval_group() -> None:
    """Measure retrieval and brief quality on public data sets (paths to the data are arguments)."""


for command in (retrieval_cmd, summary_cmd, answer_cmd, cleaning_cmd, nuggets_cmd):
    eval_group.add_command(command)
