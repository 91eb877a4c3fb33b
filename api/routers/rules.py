"""Deterministic rule results: KPIs, credit, margins and health per account; price and credit checks;
replenishment and receivables across the accounts the user may see."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import CurrentUserDep, SessionDep, VisibleAccountDep, VisibleScopeDep, require_visible_account
from core.db.repository import get_article
from core.errors import NotFound
from policies import credit, health, kpis, margins, receivables, replenishment

router = APIRouter(tags=["rules"])

PeriodQuery = Annotated[str | None, Query(description="YYYY-MM, YYYY-Qn, YYYY or R12 (default: rolling 12 months)",
                                          max_length=10)]
AsOfQuery = Annotated[date | None, Query(description="Reference date (default: today)")]


@router.get("/accounts/{account_id}/kpis")
def account_kpis(account: VisibleAccountDep, session: SessionDep, period: PeriodQuery = None,
                 as_of: AsOfQuery = None) -> list[dict[str, Any]]:
    """Every KPI with value, threshold, status, policy version and the inputs to recompute it."""
    return [r.as_dict() for r in kpis.compute_account(session, account.id, period=period, as_of=as_of)]


@router.get("/accounts/{account_id}/credit")
def account_credit(account: VisibleAccountDep, session: SessionDep) -> dict[str, Any]:
    """Exposure, effective limit, utilisation and what needs approval."""
    return asdict(credit.credit_position(session, account.id))


@router.get("/accounts/{account_id}/margins")
def account_margins(account: VisibleAccountDep, session: SessionDep, period: PeriodQuery = None,
                    as_of: AsOfQuery = None) -> list[dict[str, Any]]:
    """Account and article margins against the corridor."""
    return [r.as_dict() for r in margins.account_margins(session, account.id, period=period, as_of=as_of)]


@router.get("/accounts/{account_id}/health")
def account_health(account: VisibleAccountDep, session: SessionDep, period: PeriodQuery = None,
                   as_of: AsOfQuery = None) -> dict[str, Any]:
    """One roll-up of every rule, worst first, with the reasons."""
    return health.account_health(session, account.id, period=period, as_of=as_of).as_dict()


class PriceCheckRequest(BaseModel):
    article_id: str = Field(max_length=64)
    proposed_price: float = Field(gt=0, description="Unit price in the account's currency")
    qty: int = Field(gt=0)
    unit_cost: float | None = Field(None, ge=0, description="Override the article's unit cost")


@router.post("/price-check")
def price_check(body: PriceCheckRequest, session: SessionDep, user: CurrentUserDep) -> dict[str, Any]:
    """Margin of a proposed price vs the corridor: floor, target, headroom, approval needed."""
    article = get_article(session, body.article_id)
    require_visible_account(article.account_id, session, user)
    return asdict(margins.check_article_price(session, body.article_id, body.proposed_price, body.qty,
                                              unit_cost=body.unit_cost))


class CreditCheckRequest(BaseModel):
    account_id: str = Field(max_length=64)
    order_value: float | None = Field(None, gt=0, description="Value of a new order to check")
    proposed_limit: float | None = Field(None, ge=0, description="A KAM credit limit to check")


@router.post("/credit-check")
def credit_check(body: CreditCheckRequest, session: SessionDep, user: CurrentUserDep) -> dict[str, Any]:
    """Would a new order push utilisation over 100 %? May the KAM set this limit?"""
    require_visible_account(body.account_id, session, user)
    result: dict[str, Any] = {}
    if body.order_value is not None:
        result["order"] = asdict(credit.check_new_order(session, body.account_id, body.order_value))
    if body.proposed_limit is not None:
        result["limit"] = asdict(credit.check_limit(session, body.account_id, body.proposed_limit))
    if not result:
        result["position"] = asdict(credit.credit_position(session, body.account_id))
    return result


@router.get("/replenishment")
def replenishment_dashboard(session: SessionDep, scope: VisibleScopeDep, account_id: str | None = None,
                            only_reorder: bool = True, as_of: AsOfQuery = None,
                            limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> list[dict[str, Any]]:
    """Articles to re-order now: empty ones first, then the shortest coverage vs lead time."""
    ids = _narrow(scope, account_id)
    lines = replenishment.replenishment(session, as_of=as_of, account_ids=ids, only_reorder=only_reorder)
    return [asdict(line) for line in lines[:limit]]


@router.get("/receivables")
def receivables_list(session: SessionDep, scope: VisibleScopeDep, account_id: str | None = None,
                     as_of: AsOfQuery = None, only_overdue: bool = False,
                     limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> list[dict[str, Any]]:
    """Open items per account, most overdue first: ageing buckets and the dunning step each invoice is due for."""
    ids = _narrow(scope, account_id)
    accounts = receivables.receivables_by_account(session, as_of=as_of, account_ids=ids).values()
    ranked = sorted((a for a in accounts if a.overdue > 0 or not only_overdue), key=lambda a: -a.overdue)
    return [asdict(a) for a in ranked[:limit]]


def _narrow(scope: list[str] | None, account_id: str | None) -> list[str] | None:
    if account_id is None:
        return scope
    if scope is not None and account_id not in scope:
        raise NotFound(f"account {account_id!r} not found")
    return [account_id]
