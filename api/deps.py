"""FastAPI dependencies, declared once as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from core.db import models
from core.db.repository import get_account, get_user, visible_account_ids
from core.errors import LlmUnavailable, NotFound
from core.llm import LlmGateway
from core.db.session import session_scope
from core.settings import Settings, get_settings
from knowledge import service as knowledge_service
from knowledge.retriever import AccessScope, Retriever

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


def require_visible_account(account_id: str, session: SessionDep, user: CurrentUserDep) -> models.Account:
    """The account, or 404 if it does not exist or the user may not see it (no existence leak)."""
    account = get_account(session, account_id)
    if user is not None:
        visible = visible_account_ids(session, user)
        if visible is not None and account_id not in visible:
            raise NotFound(f"account {account_id!r} not found")
    return account


VisibleAccountDep = Annotated[models.Account, Depends(require_visible_account)]


def visible_scope(session: SessionDep, user: CurrentUserDep) -> list[str] | None:
    """Account ids the user may see, or None for all."""
    if user is None:
        return None
    visible = visible_account_ids(session, user)
    return None if visible is None else sorted(visible)


VisibleScopeDep = Annotated[list[str] | None, Depends(visible_scope)]


def get_retriever(settings: SettingsDep) -> Retriever:
    return knowledge_service.get_retriever(settings)


RetrieverDep = Annotated[Retriever, Depends(get_retriever)]


def get_access_scope(session: SessionDep, user: CurrentUserDep) -> AccessScope:
    return AccessScope.for_user(session, user)


AccessScopeDep = Annotated[AccessScope, Depends(get_access_scope)]


def get_llm_gateway(request: Request) -> LlmGateway:
    """The gateway on the app's LLM runtime (configured endpoint or embedded server); 503 when there is none.

    Agents receive it by injection; tests override this dependency with a gateway over fake models."""
    runtime = getattr(request.app.state, "llm_runtime", None)
    if runtime is None:
        raise LlmUnavailable("the LLM runtime is not started")
    return runtime.gateway()


LlmGatewayDep = Annotated[LlmGateway, Depends(get_llm_gateway)]
