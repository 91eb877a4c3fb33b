"""Credit insurance: an account's exposure against its effective limit; checks for a new order or a limit."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AsOfDep, FinancePrincipalDep, SessionDep, VisibleAccountDep
from api.schemas import CreditCheckOut, CreditCheckRequest
from core import access
from core.db.repository import get_account
from policies import credit
from policies.credit import CreditPosition

router = APIRouter(tags=["credit"])


@router.get("/accounts/{account_id}/credit", response_model=CreditPosition)
def account_credit(account: VisibleAccountDep, session: SessionDep, _principal: FinancePrincipalDep,
                   as_of: AsOfDep) -> CreditPosition:
    """Exposure, effective limit, utilisation and what needs approval."""
    return credit.credit_position(session, account.id, as_of=as_of)


@router.post("/credit-check", response_model=CreditCheckOut)
def credit_check(body: CreditCheckRequest, session: SessionDep, principal: FinancePrincipalDep,
                 as_of: AsOfDep) -> CreditCheckOut:
    """Would a new order push utilisation over the limit? May the KAM set this limit?"""
    access.require_account(principal, body.account_id)
    get_account(session, body.account_id)
    result = CreditCheckOut()
    if body.order_value is not None:
        result.order = credit.check_new_order(session, body.account_id, body.order_value, as_of=as_of)
    if body.proposed_limit is not None:
        result.limit = credit.check_limit(session, body.account_id, body.proposed_limit)
    if body.order_value is None and body.proposed_limit is None:
        result.position = credit.credit_position(session, body.account_id, as_of=as_of)
    return result
