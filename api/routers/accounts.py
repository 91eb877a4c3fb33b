"""Accounts: the list, one account's detail with its open items, and its health roll-up."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import AsOfDep, PrincipalDep, RulesPrincipalDep, SessionDep, VisibleAccountDep
from api.schemas import AccountDetail, AccountSummary, ArticleOut, ContactOut, ContractOut, OpenInvoice, OpenItems, Page
from core import access
from core.db import models
from core.db.repository import list_accounts
from policies import health, receivables
from policies.health import AccountHealth

router = APIRouter(prefix="/accounts", tags=["accounts"])
PeriodQuery = Annotated[str | None, Query(description="YYYY-MM, YYYY-Qn, YYYY or R12 (default: rolling 12 months)",
                                          max_length=10)]


@router.get("", response_model=Page[AccountSummary])
def accounts_list(
    session: SessionDep,
    principal: PrincipalDep,
    segment: Literal["A", "B", "C"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[AccountSummary]:
    rows, total = list_accounts(session, account_ids=principal.account_ids, segment=segment, limit=limit,
                                offset=offset)
    return Page[AccountSummary](items=[AccountSummary.model_validate(r) for r in rows], total=total,
                                limit=limit, offset=offset)


@router.get("/{account_id}", response_model=AccountDetail)
def account_detail(account: VisibleAccountDep, session: SessionDep, principal: PrincipalDep,
                   as_of: AsOfDep) -> AccountDetail:
    """The account with its contracts and next meeting; contacts, articles, credit figures and open items
    only for roles that may see them (``withheld`` lists what was left out)."""
    account_id = account.id

    def of_account(model: Any) -> list[Any]:
        return list(session.execute(select(model).where(model.account_id == account_id)
                                    .order_by(model.id)).scalars())

    details, finance = access.has(principal, "crm_details"), access.has(principal, "finance")
    withheld = ([] if details else ["contacts", "articles"]) + (
        [] if finance else ["insured_limit", "insurer_decision", "kam_credit_limit", "open_items"])
    return AccountDetail(
        **AccountSummary.model_validate(account).model_dump(),
        industry=account.industry, payment_terms_days=account.payment_terms_days,
        contracts=[ContractOut.model_validate(c) for c in of_account(models.Contract)],
        next_meeting=session.execute(select(func.min(models.Meeting.planned_date)).where(
            models.Meeting.account_id == account_id, models.Meeting.planned_date >= as_of)).scalar_one_or_none(),
        insured_limit=account.insured_limit if finance else None,
        insurer_decision=account.insurer_decision if finance else None,
        kam_credit_limit=account.kam_credit_limit if finance else None,
        contacts=[ContactOut.model_validate(c) for c in of_account(models.Contact)] if details else None,
        articles=[ArticleOut.model_validate(a) for a in of_account(models.Article)] if details else None,
        open_items=_open_items(session, account_id, as_of) if finance else None,
        withheld=withheld,
    )


def _open_items(session: Session, account_id: str, as_of: Any) -> OpenItems:
    invoices = [OpenInvoice(id=i.invoice_id, issue_date=i.issue_date, due_date=i.due_date, amount=i.amount,
                            open_amount=i.open_amount, dunning_level=i.recorded_dunning_level)
                for i in receivables.open_invoices(session, as_of=as_of, account_ids=[account_id])]
    open_orders, open_value = session.execute(
        select(func.count(func.distinct(models.OrderLine.order_id)),
               func.coalesce(func.sum(models.OrderLine.qty * models.OrderLine.unit_price), 0.0))
        .join(models.Order, models.Order.id == models.OrderLine.order_id)
        .where(models.OrderLine.account_id == account_id, models.OrderLine.status == "open",
               models.Order.order_date <= as_of)).one()
    open_escalations = session.execute(
        select(func.count()).where(models.Escalation.account_id == account_id, models.Escalation.opened_on <= as_of,
                                   (models.Escalation.closed_on.is_(None)) | (models.Escalation.closed_on > as_of))
    ).scalar_one()
    return OpenItems(invoices=invoices, open_orders=open_orders, open_order_value=round(open_value, 2),
                     open_escalations=open_escalations)


@router.get("/{account_id}/health", response_model=AccountHealth)
def account_health(account: VisibleAccountDep, session: SessionDep, _principal: RulesPrincipalDep,
                   as_of: AsOfDep, period: PeriodQuery = None) -> AccountHealth:
    """One roll-up of every rule, worst first, with the reasons."""
    return health.account_health(session, account.id, period=period, as_of=as_of)
