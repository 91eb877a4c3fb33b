"""Who is signed in, and their accounts sorted by health (what the web page opens with)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import AsOfDep, PrincipalDep, RulesPrincipalDep, SessionDep
from core import access
from core.db import models
from policies.health import health
from policies.results import STATUS_RANK

router = APIRouter(prefix="/me", tags=["me"])


class Me(BaseModel):
    user_id: str
    name: str
    role: str
    language: Literal["de", "en"]
    capabilities: list[str]  # what the role may see: crm_details, finance, rules, nda_review, audit


class Reason(BaseModel):
    rule: str
    status: str
    value: float | None
    threshold: float | None
    unit: str
    explanation: str


class AccountLight(BaseModel):
    account_id: str
    name: str
    segment: str
    status: str  # breach | warn | ok: the traffic light
    reasons: list[Reason]


@router.get("", response_model=Me)
def me(principal: PrincipalDep, session: SessionDep) -> Me:
    user = session.get(models.User, principal.user_id)
    caps = [c for c in ("crm_details", "finance", "rules", "nda_review", "audit") if access.has(principal, c)]
    return Me(user_id=principal.user_id, name=user.name if user else principal.user_id, role=principal.role,
              language="de" if user is not None and user.language == "de" else "en", capabilities=caps)


@router.get("/accounts", response_model=list[AccountLight])
def my_accounts(principal: RulesPrincipalDep, session: SessionDep, as_of: AsOfDep,
                limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[AccountLight]:
    """The caller's accounts, worst health first, each with the rules that are not ok."""
    scope = None if principal.account_ids is None else sorted(principal.account_ids)
    rolled = health(session, as_of=as_of, account_ids=scope)
    names = {a.id: a for a in session.execute(select(models.Account).where(
        models.Account.id.in_(list(rolled)))).scalars()}
    ordered = sorted(rolled.values(), key=lambda h: (STATUS_RANK[h.status], -len(h.reasons), h.account_id))
    return [AccountLight(account_id=h.account_id, name=names[h.account_id].name, segment=names[h.account_id].segment,
                         status=h.status, reasons=[Reason(rule=r.rule, status=r.status, value=r.value,
                                                          threshold=r.threshold, unit=r.unit, explanation=r.explanation)
                                                   for r in h.reasons])
            for h in ordered[:limit]]
