"""Read API for accounts: list and detail with contacts, articles, contracts and open items."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from api.deps import CurrentUserDep, SessionDep, VisibleAccountDep
from api.schemas import (
    AccountDetail,
    AccountSummary,
    ArticleOut,
    ContactOut,
    ContractOut,
    OpenInvoice,
    OpenItems,
    Page,
)
from core.db import models
from core.db.repository import list_accounts

router = APIRouter(prefix="/accounts", tags=["accounts"])


@router.get("", response_model=Page[AccountSummary])
def accounts_list(
    session: SessionDep,
    user: CurrentUserDep,
    segment: Literal["A", "B", "C"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[AccountSummary]:
    owner = user.id if user is not None and user.role in ("kam", "inside_sales") else None
    rows, total = list_accounts(session, owner=owner, segment=segment, limit=limit, offset=offset)
    return Page[AccountSummary](items=[AccountSummary.model_validate(r) for r in rows], total=total,
                                limit=limit, offset=offset)


@router.get("/{account_id}", response_model=AccountDetail)
def account_detail(account: VisibleAccountDep, session: SessionDep) -> AccountDetail:
    account_id = account.id

    def of_account(model: Any) -> list[Any]:
        return list(session.execute(select(model).where(model.account_id == account_id)).scalars())

    contacts, articles, contracts = of_account(models.Contact), of_account(models.Article), of_account(models.Contract)
    return AccountDetail.model_validate(
        {
            **AccountSummary.model_validate(account).model_dump(),
            "industry": account.industry,
            "payment_terms_days": account.payment_terms_days,
            "insured_limit": account.insured_limit,
            "insurer_decision": account.insurer_decision,
            "kam_credit_limit": account.kam_credit_limit,
            "contacts": [ContactOut.model_validate(c) for c in contacts],
            "articles": [ArticleOut.model_validate(a) for a in articles],
            "contracts": [ContractOut.model_validate(c) for c in contracts],
            "open_items": _open_items(session, account_id),
            "next_meeting": session.execute(
                select(func.min(models.Meeting.planned_date)).where(
                    models.Meeting.account_id == account_id, models.Meeting.planned_date >= date.today()
                )
            ).scalar_one_or_none(),
        }
    )


def _open_items(session: SessionDep, account_id: str) -> OpenItems:
    paid = (
        select(models.Payment.invoice_id, func.sum(models.Payment.amount).label("paid"))
        .where(models.Payment.account_id == account_id)
        .group_by(models.Payment.invoice_id)
        .subquery()
    )
    invoices = session.execute(
        select(models.Invoice, func.coalesce(paid.c.paid, 0.0))
        .outerjoin(paid, paid.c.invoice_id == models.Invoice.id)
        .where(models.Invoice.account_id == account_id)
        .order_by(models.Invoice.due_date)
    ).all()
    open_invoices = [
        OpenInvoice(id=inv.id, issue_date=inv.issue_date, due_date=inv.due_date, amount=inv.amount,
                    open_amount=round(inv.amount - paid_amount, 2), dunning_level=inv.dunning_level)
        for inv, paid_amount in invoices
        if inv.amount - paid_amount > 0.005
    ]
    open_orders, open_value = session.execute(
        select(func.count(func.distinct(models.OrderLine.order_id)),
               func.coalesce(func.sum(models.OrderLine.qty * models.OrderLine.unit_price), 0.0))
        .where(models.OrderLine.account_id == account_id, models.OrderLine.status == "open")
    ).one()
    open_escalations = session.execute(
        select(func.count()).where(models.Escalation.account_id == account_id,
                                   models.Escalation.closed_on.is_(None))
    ).scalar_one()
    return OpenItems(invoices=open_invoices, open_orders=open_orders, open_order_value=round(open_value, 2),
                     open_escalations=open_escalations)

