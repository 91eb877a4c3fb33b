"""The ``kam`` command line: one module per command group, sharing ``api.cli.common``."""

from api.cli import (  # noqa: F401  (they register commands)
    briefs,
    chat,
    data,
    escalations,
    evals,
    jobs,
    knowledge,
    llm,
    nda,
    rules,
    serve,
    users,
    verify,
)
from api.cli.common import app

__all__ = ["app"]
