"""KPIs of one account, each with value, threshold, status, policy version and the inputs to recompute it."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AsOfDep, RulesPrincipalDep, SessionDep, VisibleAccountDep
from api.routers.accounts import PeriodQuery
from policies import kpis
from policies.results import RuleResult

router = APIRouter(tags=["kpis"])


@router.get("/accounts/{account_id}/kpis", response_model=list[RuleResult])
def account_kpis(account: VisibleAccountDep, session: SessionDep, _principal: RulesPrincipalDep, as_of: AsOfDep,
                 period: PeriodQuery = None) -> list[RuleResult]:
    return kpis.compute_account(session, account.id, period=period, as_of=as_of)
