"""Read helpers over the CRM tables shared by the API, rules and agents."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import models
from core.errors import NotFound


def get_account(session: Session, account_id: str) -> models.Account:
    account = session.get(models.Account, account_id)
    if account is None:
        raise NotFound(f"account {account_id!r} not found")
    return account


def get_article(session: Session, article_id: str) -> models.Article:
    article = session.get(models.Article, article_id)
    if article is None:
        raise NotFound(f"article {article_id!r} not found")
    return article


def get_user(session: Session, user_id: str) -> models.User:
    user = session.get(models.User, user_id)
    if user is None:
        raise NotFound(f"user {user_id!r} not found")
    return user


def list_accounts(
    session: Session, *, account_ids: Collection[str] | None = None, segment: str | None = None, limit: int = 100,
    offset: int = 0,
) -> tuple[list[models.Account], int]:
    """A page of accounts, restricted to ``account_ids`` unless it is None (all)."""
    query = select(models.Account)
    if account_ids is not None:
        query = query.where(models.Account.id.in_(sorted(account_ids)))
    if segment:
        query = query.where(models.Account.segment == segment)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(models.Account.id).limit(limit).offset(offset)).scalars().all()
    return list(rows), total
