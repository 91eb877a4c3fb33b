"""FastAPI dependencies, declared once as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header
from sqlalchemy.orm import Session

from core.db import models
from core.db.repository import get_user
from core.db.session import session_scope
from core.settings import Settings, get_settings

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    with session_scope(settings.resolved_database_url) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_current_user(
    session: SessionDep,
    x_user_id: Annotated[str | None, Header(description="Acting user; set by the SSO proxy in production.")] = None,
) -> models.User | None:
    """The acting user, or ``None`` for a local operator without identity (sees everything)."""
    return get_user(session, x_user_id) if x_user_id else None


CurrentUserDep = Annotated[models.User | None, Depends(get_current_user)]
