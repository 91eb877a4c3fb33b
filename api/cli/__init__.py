"""The ``kam`` command line: one module per command group, sharing ``api.cli.common``."""

from api.cli import briefs, data, escalations, evals, jobs, knowledge, llm, nda, rules, serve  # noqa: F401  (they register commands)
from api.cli.common import app

__all__ = ["app"]
