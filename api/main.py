"""FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.routers import accounts, health, knowledge, rules
from core.db.migrate import upgrade
from core.errors import KamError
from core.llm.runtime import LlmRuntime
from core.logging import configure_logging
from core.settings import get_settings

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    configure_logging(settings.log_level)
    upgrade(settings.resolved_database_url)
    runtime = LlmRuntime(settings)
    app.state.llm_runtime = runtime
    if runtime.embedded and settings.llm_autostart:
        runtime.start()
    app.state.llm_base_url = runtime.base_url
    try:
        yield
    finally:
        runtime.stop()


def create_app() -> FastAPI:
    app = FastAPI(title="kam", summary="Account intelligence for key account managers", version="0.1.0",
                  lifespan=lifespan)

    @app.exception_handler(KamError)
    async def _kam_error(_request: Request, exc: KamError) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "errors": exc.details}, status_code=exc.status_code)

    app.include_router(health.router)
    app.include_router(accounts.router)
    app.include_router(rules.router)
    app.include_router(knowledge.router)
    return app


app = create_app()
