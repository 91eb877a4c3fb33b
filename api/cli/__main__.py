"""``python -m api.cli`` is ``kam``."""

from api.cli import app

app()
