"""The audit log: who did what, when, with which model and prompt, on which input. Append-only."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import models


def input_hash(*parts: str | bytes) -> str:
    """SHA-256 over the inputs, so an entry names what was judged without storing it again."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()


def record(session: Session, *, actor: str, action: str, subject: str, account_id: str | None = None,
           model: str | None = None, prompt_version: str | None = None, input_sha256: str | None = None,
           detail: dict[str, Any] | None = None) -> None:
    """Add one entry to the caller's transaction: it is written together with what it describes, or not at all."""
    session.add(models.AuditEntry(
        at=datetime.now(UTC).replace(tzinfo=None), actor=actor, action=action, subject=subject,
        account_id=account_id, model=model, prompt_version=prompt_version, input_hash=input_sha256,
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)))


def entries(session: Session, *, limit: int, offset: int = 0, actor: str | None = None,
            subject: str | None = None) -> list[models.AuditEntry]:
    """Newest first."""
    query = select(models.AuditEntry).order_by(models.AuditEntry.id.desc())
    if actor:
        query = query.where(models.AuditEntry.actor == actor)
    if subject:
        query = query.where(models.AuditEntry.subject.startswith(subject, autoescape=True))
    return list(session.execute(query.offset(offset).limit(limit)).scalars())
