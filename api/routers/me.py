"""Who is signed in, and their accounts sorted by health (what the web page opens with)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import AsOfDep, PrincipalDep, RulesPrincipalDep, SessionDep
from core import access
from core.db import models
from core.i18n import Language
from policies.health import health
from policies.labels import period_words, reason, rule_label
from policies.periods import parse_period
from policies.priority import by_priority

router = APIRouter(prefix="/me", tags=["me"])


class Me(BaseModel):
    user_id: str
    name: str
    role: str
    language: Literal["de", "en"]
    capabilities: list[str]  # what the role may see: crm_details, finance, rules, nda_review, audit


class Reason(BaseModel):
    rule: str
    label: str  # the rule's name in the caller's language
    text: str  # value, side of the target and distance, status: in words, in the caller's language
    weight: float  # what the priority policy gives it (a warning a share of a breach)
    status: str
    value: float | None
    threshold: float | None
    unit: str
    explanation: str


class AccountLight(BaseModel):
    account_id: str
    name: str
    segment: str
    status: str  # breach | warn | ok: the worst rule status
    light: Literal["act", "watch", "ok"]  # what needs action this week (policies/files/priority.yaml)
    priority: float  # the weighted reasons summed; the list is ordered by light, then this
    top_reason: str | None  # the heaviest reason in words
    period: str  # the period the rules were computed over, with its dates
    reasons: list[Reason]  # heaviest first


@router.get("", response_model=Me)
def me(principal: PrincipalDep, session: SessionDep) -> Me:
    user = session.get(models.User, principal.user_id)
    caps = [c for c in ("crm_details", "finance", "rules", "nda_review", "audit") if access.has(principal, c)]
    return Me(user_id=principal.user_id, name=user.name if user else principal.user_id, role=principal.role,
              language=_language(session, principal.user_id), capabilities=caps)


def _language(session: SessionDep, user_id: str) -> Language:
    user = session.get(models.User, user_id)
    return "de" if user is not None and user.language == "de" else "en"


@router.get("/accounts", response_model=list[AccountLight])
def my_accounts(principal: RulesPrincipalDep, session: SessionDep, as_of: AsOfDep,
                limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                lang: Annotated[Literal["de", "en"] | None, Query(description="default: the user's")] = None,
                ) -> list[AccountLight]:
    """The caller's accounts, the ones needing action this week first (policy-weighted severity), each with
    the rules that are not ok in words, heaviest first."""
    language: Language = lang or _language(session, principal.user_id)
    scope = None if principal.account_ids is None else sorted(principal.account_ids)
    rolled = health(session, as_of=as_of, account_ids=scope)
    accounts = {a.id: a for a in session.execute(select(models.Account).where(
        models.Account.id.in_(list(rolled)))).scalars()}
    period = period_words(parse_period(None, as_of), language)
    out = []
    for h, rated in by_priority(list(rolled.values()))[:limit]:
        account = accounts[h.account_id]
        reasons = [Reason(rule=r.rule, label=rule_label(r.rule, language),
                          text=reason(r, language, account.currency), weight=w, status=r.status, value=r.value,
                          threshold=r.threshold, unit=r.unit, explanation=r.explanation) for w, r in rated.ranked]
        out.append(AccountLight(account_id=h.account_id, name=account.name, segment=account.segment,
                                status=h.status, light=rated.light, priority=rated.score, period=period,
                                top_reason=reasons[0].text if reasons else None, reasons=reasons))
    return out
