"""The replenish dashboard: articles to re-order now, across the accounts the principal may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AccountFilterDep, AsOfDep, RulesPrincipalDep, SessionDep
from core import access
from policies import replenishment
from policies.replenishment import ReplenishmentLine

router = APIRouter(tags=["replenishment"])


@router.get("/replenishment", response_model=list[ReplenishmentLine])
def replenishment_dashboard(session: SessionDep, principal: RulesPrincipalDep, as_of: AsOfDep,
                            account_id: AccountFilterDep = None, only_reorder: bool = True,
                            limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> list[ReplenishmentLine]:
    """Empty articles first, then the shortest coverage vs lead time."""
    ids = access.narrow_accounts(principal, account_id)
    return replenishment.replenishment(session, as_of=as_of, account_ids=ids, only_reorder=only_reorder)[:limit]
