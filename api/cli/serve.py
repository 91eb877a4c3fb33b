"""Run the API."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import app
from core.settings import get_settings


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default KAM_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default KAM_API_PORT).")] = None,
) -> None:
    """Run the API with its job worker (and the embedded LLM server unless KAM_LLM_BASE_URL is set)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run("api.main:app", host=host or settings.api_host, port=port or settings.api_port,
                log_level=settings.log_level.lower())
