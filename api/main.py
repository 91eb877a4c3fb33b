"""FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from api.limits import BodyLimitMiddleware, RateLimiter, TooManyRequests
from api.routers import (
    accounts,
    audit,
    briefs,
    chat,
    credit,
    documents,
    escalations,
    health,
    jobs,
    kpis,
    margins,
    me,
    nda_reviews,
    receivables,
    replenishment,
    search,
    verify,
    web,
)
from api.schemas import ErrorOut
from api.security import SecurityHeadersMiddleware
from api.services import open_services
from core.errors import KamError, Unauthenticated
from core.logging import configure_logging
from core.settings import get_settings

log = logging.getLogger(__name__)

# What every authenticated route may answer besides its own result (documented so the spec says what the
# app really does; schemathesis checks it).
_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the request body could not be parsed (broken JSON or multipart)"},
    401: {"model": ErrorOut, "description": "no valid bearer token (or no trusted proxy identity)"},
    403: {"model": ErrorOut, "description": "the caller's role may not see this kind of data"},
    404: {"model": ErrorOut, "description": "not found, or not visible to the caller (the same answer)"},
    413: {"model": ErrorOut, "description": "request body over the limit"},
    422: {"description": "invalid input; detail says which field and why"},
    503: {"model": ErrorOut, "description": "a dependency (database, vector store, LLM) is unavailable"},
}
_ROUTERS = (accounts, kpis, credit, margins, replenishment, receivables, documents, search, jobs, nda_reviews,
            briefs, escalations, audit, chat, me, verify)


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
    settings = get_settings()
    app = FastAPI(title="kam", summary="Account intelligence for key account managers", version="0.1.0",
                  lifespan=lifespan)
    app.state.upload_limiter = RateLimiter(settings.uploads_per_minute)
    app.state.chat_limiter = RateLimiter(settings.chat_messages_per_minute)

    @app.exception_handler(KamError)
    async def _kam_error(_request: Request, exc: KamError) -> JSONResponse:
        headers = {}
        if isinstance(exc, Unauthenticated):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, TooManyRequests):
            headers["Retry-After"] = str(exc.retry_after_s)
        return JSONResponse({"detail": exc.message, "errors": exc.details}, status_code=exc.status_code,
                            headers=headers)

    @app.exception_handler(OperationalError)
    async def _database_unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.orig)
        return JSONResponse({"detail": f"the database is unavailable: {str(exc.orig)[:200]}", "errors": []},
                            status_code=503, headers={"Retry-After": "5"})

    app.include_router(health.router)
    app.include_router(web.router)
    for module in _ROUTERS:
        app.include_router(module.router, responses=_ANSWERS)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_mb * 1024 * 1024)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: a 413 or 500 carries the headers too
    return app


app = create_app()
