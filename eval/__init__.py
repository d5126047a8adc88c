"""Evaluation measures for f2f outputs (sync, and more added by other modules)."""

from f2f.commands import SubCommand

COMMAND = SubCommand("eval", "evaluation: sync, metrics, conditions, rate, summarize, ablate",
                     "eval.cli:main")
