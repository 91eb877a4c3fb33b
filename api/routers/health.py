"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import OptionalPrincipalDep, SettingsDep
from api.readiness import run_readiness_checks
from api.schemas import Liveness, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Liveness)
async def healthz() -> Liveness:
    """The process is up (no dependencies checked; answered on the event loop, never queued behind work)."""
    return Liveness(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(request: Request, settings: SettingsDep, principal: OptionalPrincipalDep) -> JSONResponse:
    """Database, vector store and LLM endpoint each answer; 503 if any does not. An anonymous caller (a load
    balancer) learns only ready or not; which dependency failed, and why, needs a token."""
    checks = run_readiness_checks(settings, llm_base_url=getattr(request.app.state, "llm_base_url", None))
    ready = all(c["ok"] for c in checks.values())
    body = Readiness(status="ready" if ready else "not ready", checks=checks if principal is not None else None)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
