"""The audit log, for admins: every AI output and every human decision, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import SessionDep, requires
from api.schemas import AuditEntryOut
from core import audit
from core.access import Principal

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=list[AuditEntryOut])
def audit_log(session: SessionDep, _admin: Annotated[Principal, Depends(requires("audit"))],
              actor: Annotated[str | None, Query(max_length=120)] = None,
              subject: Annotated[str | None, Query(max_length=200, description="e.g. draft: or draft:<id>")] = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> list[AuditEntryOut]:
    return [AuditEntryOut.model_validate(e)
            for e in audit.entries(session, limit=limit, offset=offset, actor=actor, subject=subject)]
