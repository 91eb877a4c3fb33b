"""FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.routers import (
    accounts,
    briefs,
    credit,
    documents,
    escalations,
    health,
    jobs,
    kpis,
    margins,
    nda_reviews,
    receivables,
    replenishment,
    search,
)
from api.services import open_services
from core.errors import KamError
from core.logging import configure_logging
from core.settings import get_settings

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    configure_logging(settings.log_level)
    with open_services(settings, start_llm=True, run_worker=settings.job_worker) as services:
        app.state.services = services
        app.state.llm_runtime = services.llm
        app.state.llm_base_url = services.llm.base_url
        yield


def create_app() -> FastAPI:
    app = FastAPI(title="kam", summary="Account intelligence for key account managers", version="0.1.0",
                  lifespan=lifespan)

    @app.exception_handler(KamError)
    async def _kam_error(_request: Request, exc: KamError) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "errors": exc.details}, status_code=exc.status_code)

    for module in (health, accounts, kpis, credit, margins, replenishment, receivables, documents, search, jobs,
                   nda_reviews, briefs, escalations):
        app.include_router(module.router)
    return app


app = create_app()
