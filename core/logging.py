"""One logging setup for CLI and API."""

from __future__ import annotations

import logging


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request at INFO; that drowns the service's own messages.
    logging.getLogger("httpx").setLevel(logging.WARNING)
