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


LEGAL_FORM = (" GmbH & Co. KG", " GmbH", " AG", " SE", " KG", " plc", " Inc.", " Ltd.", " Ltd", " LLC", " S.p.A.",
              " S.r.l.", " s.r.o.", " a.s.", " Sp. z o.o.", " SA", " S.A.", " B.V.", " N.V.")


def short_names(name: str) -> tuple[str, ...]:
    """How a text names a company: in full, and without its legal form ("Mercer Antriebstechnik")."""
    trimmed = next((name[: -len(form)] for form in LEGAL_FORM if name.endswith(form)), name)
    return tuple(dict.fromkeys((name, trimmed)))


def account_names(session: Session, account_ids: Collection[str]) -> dict[str, tuple[str, ...]]:
    rows = session.execute(select(models.Account.id, models.Account.name)
                           .where(models.Account.id.in_(sorted(account_ids)))).all()
    return {account_id: short_names(name) for account_id, name in rows}


def known_names(session: Session) -> list[tuple[str, str | None]]:
    """Every account, contact and user name the CRM holds, with the account it belongs to (None for users):
    a text naming one outside its sources names someone it has no source for."""
    names: list[tuple[str, str | None]] = []
    for account_id, name in session.execute(select(models.Account.id, models.Account.name)).all():
        names += [(n, account_id) for n in short_names(name)]
    names += [(n, a) for n, a in session.execute(select(models.Contact.name, models.Contact.account_id)).all()]
    names += [(n, None) for (n,) in session.execute(select(models.User.name)).all()]
    return names
