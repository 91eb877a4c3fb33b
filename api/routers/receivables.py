"""Receivables: open items per account, most overdue first, with ageing and the dunning step due."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AccountFilterDep, AsOfDep, FinancePrincipalDep, SessionDep
from core import access
from policies import receivables
from policies.receivables import AccountReceivables

router = APIRouter(tags=["receivables"])


@router.get("/receivables", response_model=list[AccountReceivables])
def receivables_list(session: SessionDep, principal: FinancePrincipalDep, as_of: AsOfDep,
                     account_id: AccountFilterDep = None, only_overdue: bool = False,
                     limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> list[AccountReceivables]:
    ids = access.narrow_accounts(principal, account_id)
    accounts = receivables.receivables_by_account(session, as_of=as_of, account_ids=ids).values()
    ranked = sorted((a for a in accounts if a.overdue > 0 or not only_overdue), key=lambda a: -a.overdue)
    return ranked[:limit]
