"""Read helpers over the CRM tables shared by the API, rules and agents."""

from __future__ import annotations

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


def visible_account_ids(session: Session, user: models.User) -> set[str] | None:
    """Accounts a user may see: ``None`` means all (head of sales, admin, legal for contracts)."""
    if user.role in ("head_of_sales", "admin", "legal"):
        return None
    rows = session.execute(
        select(models.Account.id).where(
            (models.Account.owner_kam_id == user.id) | (models.Account.inside_sales_id == user.id)
        )
    ).scalars()
    return set(rows)


def list_accounts(
    session: Session, *, owner: str | None = None, segment: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[models.Account], int]:
    query = select(models.Account)
    if owner:
        query = query.where((models.Account.owner_kam_id == owner) | (models.Account.inside_sales_id == owner))
    if segment:
        query = query.where(models.Account.segment == segment)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(models.Account.id).limit(limit).offset(offset)).scalars().all()
    return list(rows), total
