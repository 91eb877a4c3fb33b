"""Who is calling: users and their bearer tokens.

Tokens are opaque random strings (``kam_<id>_<secret>``); only their SHA-256 is stored, which is enough for
a 256-bit random secret (a slow password hash protects guessable secrets, not random ones). Every failure
answers the same ``Unauthenticated`` without saying whether the user or token exists.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import access, audit
from core.access import Principal, Role
from core.db import models
from core.errors import Conflict, InvalidInput, NotFound, Unauthenticated

TOKEN_PREFIX = "kam_"
USER_ROLES: tuple[Role, ...] = ("kam", "inside_sales", "legal", "head_of_sales", "admin")
_REJECTED = "invalid, expired or revoked token, or a disabled user"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_disabled(session: Session, user_id: str) -> bool:
    return session.get(models.DisabledUser, user_id) is not None


def issue_token(session: Session, user_id: str, *, label: str = "", valid_days: int | None = None,
                issued_by: str = "local-operator") -> tuple[models.ApiToken, str]:
    """A new token for an active user; the secret is returned once and never stored."""
    if session.get(models.User, user_id) is None:
        raise NotFound(f"user {user_id!r} not found")
    if is_disabled(session, user_id):
        raise Conflict(f"user {user_id!r} is disabled")
    if valid_days is not None and not 1 <= valid_days <= 3650:
        raise InvalidInput("a token is valid for 1 to 3650 days")
    token_id = secrets.token_hex(8)
    secret = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    now = _now()
    row = models.ApiToken(id=token_id, token_hash=_hash(secret), user_id=user_id, label=label[:100],
                          created_at=now, expires_at=now + timedelta(days=valid_days) if valid_days else None)
    session.add(row)
    audit.record(session, actor=issued_by, action="token_issued", subject=f"token:{token_id}",
                 detail={"user_id": user_id, "label": label[:100], "valid_days": valid_days})
    return row, secret


def revoke_token(session: Session, token_id: str, *, revoked_by: str = "local-operator") -> models.ApiToken:
    row = session.get(models.ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id!r} not found")
    if row.revoked_at is None:
        row.revoked_at = _now()
        audit.record(session, actor=revoked_by, action="token_revoked", subject=f"token:{token_id}",
                     detail={"user_id": row.user_id})
    return row


def tokens(session: Session, user_id: str | None = None) -> list[models.ApiToken]:
    query = select(models.ApiToken).order_by(models.ApiToken.created_at)
    if user_id:
        query = query.where(models.ApiToken.user_id == user_id)
    return list(session.execute(query).scalars())


def authenticate_token(session: Session, token: str) -> Principal:
    """The principal of a valid bearer token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise Unauthenticated(_REJECTED)
    token_id = token[len(TOKEN_PREFIX):].split("_", 1)[0]
    row = session.get(models.ApiToken, token_id)
    # compare_digest: the time to reject does not tell how much of a hash matched
    if row is None or not hmac.compare_digest(row.token_hash, _hash(token)) or row.revoked_at is not None \
            or (row.expires_at is not None and row.expires_at <= _now()):
        raise Unauthenticated(_REJECTED)
    return authenticate_user(session, row.user_id)


def authenticate_user(session: Session, user_id: str) -> Principal:
    """The principal of a known, active user (a token's owner, or the user a trusted proxy names)."""
    if session.get(models.User, user_id) is None or is_disabled(session, user_id):
        raise Unauthenticated(_REJECTED)
    return access.principal_for_user(session, user_id)


# --- users ---------------------------------------------------------------------------------------------
def add_user(session: Session, user_id: str, *, name: str, email: str, role: str, language: str = "de",
             added_by: str = "local-operator") -> models.User:
    if role not in USER_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(USER_ROLES)}")
    if language not in ("de", "en"):
        raise InvalidInput("language must be de or en")
    if not user_id or len(user_id) > 64 or not user_id.isprintable() or "/" in user_id:
        raise InvalidInput("a user id has 1 to 64 printable characters and no '/'")
    if session.get(models.User, user_id) is not None:
        raise Conflict(f"user {user_id!r} exists")
    user = models.User(id=user_id, name=name, email=email, role=role, language=language)
    session.add(user)
    audit.record(session, actor=added_by, action="user_added", subject=f"user:{user_id}", detail={"role": role})
    return user


def disable_user(session: Session, user_id: str, *, disabled_by: str = "local-operator") -> None:
    """The user can no longer sign in; every token of theirs stops working at once."""
    if session.get(models.User, user_id) is None:
        raise NotFound(f"user {user_id!r} not found")
    if not is_disabled(session, user_id):
        session.add(models.DisabledUser(user_id=user_id, disabled_at=_now(), disabled_by=disabled_by))
        audit.record(session, actor=disabled_by, action="user_disabled", subject=f"user:{user_id}")


def users(session: Session) -> list[tuple[models.User, bool]]:
    disabled = set(session.execute(select(models.DisabledUser.user_id)).scalars())
    rows = session.execute(select(models.User).order_by(models.User.id)).scalars()
    return [(user, user.id in disabled) for user in rows]
