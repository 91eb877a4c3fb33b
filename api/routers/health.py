"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import SettingsDep
from api.readiness import run_readiness_checks

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up (no dependencies checked)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, settings: SettingsDep) -> JSONResponse:
    """Database, vector store and LLM endpoint each answer; 503 if any does not."""
    checks = run_readiness_checks(settings, llm_base_url=getattr(request.app.state, "llm_base_url", None))
    ready = all(c["ok"] for c in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503)
