"""FastAPI dependencies, declared once as ``Annotated`` aliases.

Every route gets its principal from :func:`get_principal`; what the principal may see is decided by
``core.access``, never here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core import access, auth
from core.access import Capability, Principal
from core.db import models
from core.db.repository import get_account
from core.db.session import session_scope
from core.errors import KamError, LlmUnavailable, Unauthenticated
from core.jobs import JobQueue
from core.llm import LlmGateway
from core.settings import Settings, get_settings
from knowledge import service as knowledge_service
from knowledge.retriever import AccessScope, Retriever

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    with session_scope(settings.resolved_database_url) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


_bearer = HTTPBearer(auto_error=False, description="A token from `kam token issue`.")


def get_principal(
    request: Request, session: SessionDep, settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
    x_user_id: Annotated[str | None, Header(description="Acting user; believed only in trusted_proxy mode, "
                                                        "from a trusted proxy.")] = None,
) -> Principal:
    """The acting principal, built once per request from a bearer token, or in trusted-proxy mode from the
    header a trusted proxy sets. Anything else is 401, with one reason whatever was wrong (no probing)."""
    if settings.auth_mode == "trusted_proxy":
        client = request.client.host if request.client else ""
        if not x_user_id or client not in settings.trusted_proxy_ips:
            raise Unauthenticated("sign in through the single sign-on proxy")
        return auth.authenticate_user(session, x_user_id)
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("sign in: send 'Authorization: Bearer <token>' (a token comes from `kam token issue`)")
    return auth.authenticate_token(session, credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_optional_principal(
    request: Request, settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
    x_user_id: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal | None:
    """The principal when the request signs in, None when it does not try (a wrong token is still 401) or when
    the database that would check the token is down (readiness must still answer then)."""
    if credentials is None and x_user_id is None:
        return None
    try:
        with session_scope(settings.resolved_database_url) as session:
            return get_principal(request, session, settings, credentials, x_user_id)
    except OperationalError:
        return None


OptionalPrincipalDep = Annotated[Principal | None, Depends(get_optional_principal)]


EARLIEST_AS_OF, LATEST_AS_OF = date(2000, 1, 1), date(2100, 12, 31)


def get_as_of(as_of: Annotated[date | None, Query(description="Reference date (default: today)",
                                                  ge=EARLIEST_AS_OF, le=LATEST_AS_OF)] = None) -> date:
    """One reference date per request; every rule of the request computes as of it."""
    return as_of or date.today()


AsOfDep = Annotated[date, Depends(get_as_of)]


def require_visible_account(account_id: str, session: SessionDep, principal: PrincipalDep) -> models.Account:
    """The account, or 404 if it does not exist or the principal may not see it (no existence leak)."""
    access.require_account(principal, account_id)
    return get_account(session, account_id)


VisibleAccountDep = Annotated[models.Account, Depends(require_visible_account)]


def account_filter(session: SessionDep, principal: PrincipalDep,
                   account_id: Annotated[str | None, Query(max_length=64, description="Only this account")] = None,
                   ) -> str | None:
    """An optional account filter of a list: 404 when the account does not exist or is not visible."""
    if account_id is not None:
        require_visible_account(account_id, session, principal)
    return account_id


AccountFilterDep = Annotated[str | None, Depends(account_filter)]


def requires(capability: Capability) -> Callable[[Principal], Principal]:
    """A dependency that answers 403 with the reason when the role may not see this kind of data."""

    def check(principal: PrincipalDep) -> Principal:
        access.require(principal, capability)
        return principal

    return check


FinancePrincipalDep = Annotated[Principal, Depends(requires("finance"))]
RulesPrincipalDep = Annotated[Principal, Depends(requires("rules"))]


def get_retriever(settings: SettingsDep) -> Retriever:
    return knowledge_service.get_retriever(settings)


RetrieverDep = Annotated[Retriever, Depends(get_retriever)]


def get_access_scope(principal: PrincipalDep) -> AccessScope:
    return AccessScope.for_principal(principal)


AccessScopeDep = Annotated[AccessScope, Depends(get_access_scope)]


def get_job_queue(settings: SettingsDep) -> JobQueue:
    return JobQueue(settings.resolved_database_url)


JobQueueDep = Annotated[JobQueue, Depends(get_job_queue)]


def get_llm_gateway(request: Request) -> LlmGateway:
    """The gateway on the app's LLM runtime (configured endpoint or embedded server); 503 when there is none.

    Agents receive it by injection; tests override this dependency with a gateway over fake models."""
    runtime = getattr(request.app.state, "llm_runtime", None)
    if runtime is None:
        raise LlmUnavailable("the LLM runtime is not started")
    gateway: LlmGateway = runtime.gateway()
    return gateway


LlmGatewayDep = Annotated[LlmGateway, Depends(get_llm_gateway)]


def get_checkpointer(request: Request) -> BaseCheckpointSaver[Any]:
    """The service's durable checkpointer: a graph waiting for a person's decision resumes on it."""
    services = getattr(request.app.state, "services", None)
    if services is None:
        raise KamError("the service is not started")
    saver: BaseCheckpointSaver[Any] = services.checkpointer
    return saver


CheckpointerDep = Annotated[BaseCheckpointSaver[Any], Depends(get_checkpointer)]


def get_optional_llm_gateway(request: Request) -> LlmGateway | None:
    """The gateway when the app has an LLM runtime; None: agents take their deterministic path."""
    runtime = getattr(request.app.state, "llm_runtime", None)
    return None if runtime is None else runtime.lazy_gateway()


OptionalLlmGatewayDep = Annotated[LlmGateway | None, Depends(get_optional_llm_gateway)]


def upload_quota(request: Request, principal: PrincipalDep) -> Principal:
    """429 with Retry-After when the caller has uploaded too much in the last minute."""
    request.app.state.upload_limiter.hit(principal.user_id, "uploads")
    return principal


UploaderDep = Annotated[Principal, Depends(upload_quota)]


def get_chat_gateway(request: Request, settings: SettingsDep) -> LlmGateway | None:
    """The gateway the chat phrases with; None (the template answers) when the chat's model is switched off or
    the embedded server may not be started."""
    runtime = getattr(request.app.state, "llm_runtime", None)
    if not settings.chat_llm or runtime is None:
        return None
    if runtime.base_url is None and runtime.embedded and not settings.llm_autostart:
        return None
    gateway: LlmGateway = runtime.lazy_gateway()
    return gateway


ChatGatewayDep = Annotated[LlmGateway | None, Depends(get_chat_gateway)]
