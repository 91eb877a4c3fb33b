"""Credit insurance ("Hermes"): exposure against the effective limit, new-order and limit checks.

exposure = open receivables + undelivered open order value
effective limit = min(KAM-set limit, insured limit); 0 when the insurer declined or has not decided
utilisation = exposure ÷ effective limit
A KAM may set any limit up to the insured limit; above it (or without cover) the Head of Sales approves,
and the policy's alternatives are offered (prepayment, letter of credit, …).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import models as m
from core.db.repository import get_account
from core.errors import InvalidInput
from core.facts import Fact, facts_of_dataclass
from policies.config import CreditPolicy, get_policies
from policies.ledger import open_amounts
from policies.results import RuleResult, Status, pct
from policies.sql import for_accounts, rows_by_account

UNINSURED_DECISIONS = ("declined", "pending")


def effective_limit(kam_limit: float, insured_limit: float, insurer_decision: str) -> float:
    insured = 0.0 if insurer_decision in UNINSURED_DECISIONS else insured_limit
    return max(0.0, min(kam_limit, insured))


def utilisation(exposure: float, limit: float) -> float | None:
    """exposure ÷ limit; None when there is no limit to divide by."""
    return None if limit <= 0 else exposure / limit


def utilisation_status(exposure: float, limit: float, policy: CreditPolicy) -> Status:
    value = utilisation(exposure, limit)
    if value is None:
        return "breach" if exposure > 0 else "ok"  # exposure without any limit is uncovered
    if value > policy.breach_utilisation:
        return "breach"
    return "warn" if value >= policy.warn_utilisation else "ok"


def exposures(session: Session, account_ids: Sequence[str] | None, *, as_of: date) -> dict[str, tuple[float, float]]:
    """account_id -> (open receivables, undelivered open order value) as of a date, aggregated in SQL.

    Orders count when placed up to ``as_of`` and still open (the CRM keeps only an order's current status)."""
    ledger = open_amounts(as_of)
    receivables = rows_by_account(session, for_accounts(
        select(ledger.c.account_id, func.sum(ledger.c.open_amount)).group_by(ledger.c.account_id),
        ledger.c.account_id, account_ids))
    orders = rows_by_account(session, for_accounts(
        select(m.OrderLine.account_id, func.sum(m.OrderLine.qty * m.OrderLine.unit_price))
        .join(m.Order, m.Order.id == m.OrderLine.order_id)
        .where(m.OrderLine.status == "open", m.Order.order_date <= as_of)
        .group_by(m.OrderLine.account_id), m.OrderLine.account_id, account_ids))
    keys = set(receivables) | set(orders)
    return {k: (round((receivables.get(k) or (0.0,))[0] or 0.0, 2), round((orders.get(k) or (0.0,))[0] or 0.0, 2))
            for k in keys}


@dataclass(frozen=True)
class CreditPosition:
    account_id: str
    currency: str
    open_receivables: float
    open_order_value: float
    exposure: float
    kam_limit: float
    insured_limit: float
    insurer_decision: str
    effective_limit: float
    utilisation: float | None
    status: Status
    needs_approval: str | None
    reasons: tuple[str, ...]
    alternatives: tuple[str, ...]
    breach_utilisation: float
    as_of: date
    policy_version: str

    def as_rule_result(self) -> RuleResult:
        return RuleResult(
            rule="credit_utilisation", subject=self.account_id,
            value=None if self.utilisation is None else round(self.utilisation, 6),
            threshold=self.breach_utilisation, status=self.status, policy_version=self.policy_version, unit="ratio",
            explanation=_explain(self), inputs=_inputs(self),
            actions=tuple(self.reasons) + ((f"offer: {', '.join(self.alternatives)}",) if self.alternatives else ()),
            direction="lower",
        )


    def facts(self) -> list[Fact]:
        return facts_of_dataclass(f"credit.{self.account_id}", self, source=f"policies.credit {self.policy_version}",
                                  metrics={"utilisation": "credit_utilisation",
                                           "breach_utilisation": "credit_utilisation.threshold",
                                           **{key: key for key in ("open_receivables", "open_order_value", "exposure",
                                                                   "kam_limit", "insured_limit", "effective_limit")}},
                                  units={"utilisation": "ratio", "breach_utilisation": "ratio",
                                         **dict.fromkeys(("open_receivables", "open_order_value", "exposure",
                                                          "kam_limit", "insured_limit", "effective_limit"),
                                                         "currency")})


def _explain(p: CreditPosition) -> str:
    util = "no limit to cover it" if p.utilisation is None else pct(p.utilisation)
    return (f"exposure = receivables {p.open_receivables:,.2f} + open orders {p.open_order_value:,.2f} = "
            f"{p.exposure:,.2f} {p.currency}; effective limit = min(KAM {p.kam_limit:,.2f}, insured "
            f"{p.insured_limit:,.2f} [{p.insurer_decision}]) = {p.effective_limit:,.2f}; utilisation {util}")


def _inputs(p: CreditPosition) -> dict[str, Any]:
    return {"account_id": p.account_id, "currency": p.currency, "open_receivables": p.open_receivables,
            "open_order_value": p.open_order_value, "kam_limit": p.kam_limit, "insured_limit": p.insured_limit,
            "insurer_decision": p.insurer_decision}


def _position(account: m.Account, receivables: float, orders: float, policy: CreditPolicy, as_of: date,
              extra_exposure: float = 0.0) -> CreditPosition:
    exposure = round(receivables + orders + extra_exposure, 2)
    limit = effective_limit(account.kam_credit_limit, account.insured_limit, account.insurer_decision)
    util = utilisation(exposure, limit)
    status = utilisation_status(exposure, limit, policy)
    reasons: list[str] = []
    if account.insurer_decision in UNINSURED_DECISIONS:
        reasons.append(f"insurer decision is {account.insurer_decision}: no insured cover")
    if account.kam_credit_limit > account.insured_limit and account.insurer_decision not in UNINSURED_DECISIONS:
        reasons.append("KAM-set limit above the insured limit")
    if status == "breach":
        reasons.append("exposure above the effective limit")
    needs = policy.approval_role if reasons else None
    return CreditPosition(
        account_id=account.id, currency=account.currency, open_receivables=receivables, open_order_value=orders,
        exposure=exposure, kam_limit=account.kam_credit_limit, insured_limit=account.insured_limit,
        insurer_decision=account.insurer_decision, effective_limit=round(limit, 2), utilisation=util,
        status=status,
        needs_approval=needs, reasons=tuple(reasons),
        alternatives=tuple(policy.alternatives) if needs else (), breach_utilisation=policy.breach_utilisation,
        as_of=as_of, policy_version=policy.version,
    )


def credit_position(session: Session, account_id: str, *, as_of: date,
                    policy: CreditPolicy | None = None) -> CreditPosition:
    policy = policy or get_policies().credit
    account = get_account(session, account_id)
    receivables, orders = exposures(session, [account_id], as_of=as_of).get(account_id, (0.0, 0.0))
    return _position(account, receivables, orders, policy, as_of)


def credit_positions(session: Session, *, as_of: date, account_ids: Sequence[str] | None = None,
                     policy: CreditPolicy | None = None) -> dict[str, CreditPosition]:
    policy = policy or get_policies().credit
    figures = exposures(session, account_ids, as_of=as_of)
    accounts = session.execute(for_accounts(select(m.Account), m.Account.id, account_ids)).scalars()
    return {a.id: _position(a, *figures.get(a.id, (0.0, 0.0)), policy, as_of) for a in accounts}


def check_new_order(session: Session, account_id: str, order_value: float,
                    *, as_of: date, policy: CreditPolicy | None = None) -> CreditPosition:
    """The position as it would be with the new order: would it push utilisation over 100 %?"""
    if order_value <= 0:
        raise InvalidInput("order value must be positive")
    policy = policy or get_policies().credit
    account = get_account(session, account_id)
    receivables, orders = exposures(session, [account_id], as_of=as_of).get(account_id, (0.0, 0.0))
    return _position(account, receivables, orders, policy, as_of, extra_exposure=order_value)


@dataclass(frozen=True)
class LimitCheck:
    account_id: str
    proposed_limit: float
    insured_limit: float
    insurer_decision: str
    allowed_without_approval: bool
    needs_approval: str | None
    alternatives: tuple[str, ...]
    explanation: str
    policy_version: str


def check_limit(session: Session, account_id: str, proposed_limit: float,
                *, policy: CreditPolicy | None = None) -> LimitCheck:
    """A KAM may set any limit up to the insured limit (with cover); above it the approver decides."""
    if proposed_limit < 0:
        raise InvalidInput("limit must not be negative")
    policy = policy or get_policies().credit
    account = get_account(session, account_id)
    covered = account.insurer_decision not in UNINSURED_DECISIONS
    allowed = covered and proposed_limit <= account.insured_limit
    reason = ("within the insured limit" if allowed else
              f"insurer decision {account.insurer_decision}: no cover" if not covered else
              f"above the insured limit {account.insured_limit:,.2f}")
    return LimitCheck(account_id=account_id, proposed_limit=proposed_limit, insured_limit=account.insured_limit,
                      insurer_decision=account.insurer_decision, allowed_without_approval=allowed,
                      needs_approval=None if allowed else policy.approval_role,
                      alternatives=() if allowed else tuple(policy.alternatives),
                      explanation=f"proposed {proposed_limit:,.2f} {account.currency}: {reason}",
                      policy_version=policy.version)
