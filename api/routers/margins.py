"""Margins against the corridor, per account and article, and the price check for a proposal."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AsOfDep, FinancePrincipalDep, SessionDep, VisibleAccountDep
from api.routers.accounts import PeriodQuery
from api.schemas import PriceCheckRequest
from core import access
from core.db.repository import get_article
from policies import margins
from policies.margins import PriceCheck
from policies.results import RuleResult

router = APIRouter(tags=["margins"])


@router.get("/accounts/{account_id}/margins", response_model=list[RuleResult])
def account_margins(account: VisibleAccountDep, session: SessionDep, _principal: FinancePrincipalDep,
                    as_of: AsOfDep, period: PeriodQuery = None) -> list[RuleResult]:
    """Account and article margins against the corridor."""
    return margins.account_margins(session, account.id, period=period, as_of=as_of)


@router.post("/price-check", response_model=PriceCheck)
def price_check(body: PriceCheckRequest, session: SessionDep, principal: FinancePrincipalDep) -> PriceCheck:
    """Margin of a proposed price vs the corridor: floor, target, headroom, approval needed."""
    article = get_article(session, body.article_id)
    access.require_account(principal, article.account_id)
    return margins.check_article_price(session, body.article_id, body.proposed_price, body.qty)
