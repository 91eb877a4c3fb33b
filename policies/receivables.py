"""Receivables ageing and dunning.

Buckets by days overdue: not due, 1–30, 31–60, 61–90, > 90 (policy). The dunning level follows from days
overdue: level 1 reminder, level 2 with the flat fee, level 3 final notice with default interest at
base rate + 9 points (§ 288 (2) BGB, B2B). Before a level-2+ notice the account's KAM must be consulted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import models as m
from policies.config import ReceivablesPolicy, get_policies
from policies.ledger import open_amounts
from policies.sql import for_accounts


def bucket_labels(bounds: Sequence[int]) -> list[str]:
    labels = ["not_due"]
    for low, high in pairwise(bounds):
        labels.append(f"{low + 1}-{high}")
    labels.append(f">{bounds[-1]}")
    return labels


def ageing_bucket(days_overdue: int, bounds: Sequence[int]) -> str:
    labels = bucket_labels(bounds)
    if days_overdue <= 0:
        return labels[0]
    for label, high in zip(labels[1:], bounds[1:], strict=False):
        if days_overdue <= high:
            return label
    return labels[-1]


def dunning_level(days_overdue: int, policy: ReceivablesPolicy) -> int:
    d = policy.dunning
    if days_overdue >= d.level_3_after_days:
        return 3
    if days_overdue >= d.level_2_after_days:
        return 2
    if days_overdue >= d.level_1_after_days:
        return 1
    return 0


def default_interest(amount: float, days_overdue: int, policy: ReceivablesPolicy) -> float:
    rate = policy.default_interest.base_rate + policy.default_interest.b2b_points
    return round(max(amount, 0.0) * rate * max(days_overdue, 0) / 365, 2)


@dataclass(frozen=True)
class OpenInvoice:
    invoice_id: str
    account_id: str
    owner_kam_id: str
    currency: str
    issue_date: date
    due_date: date
    amount: float
    open_amount: float
    days_overdue: int
    bucket: str
    recorded_dunning_level: int
    due_dunning_level: int
    next_step: str
    fee: float
    default_interest: float
    consult_kam: bool
    explanation: str


@dataclass
class AccountReceivables:
    account_id: str
    currency: str
    total_open: float
    overdue: float
    buckets: dict[str, float]
    invoices: list[OpenInvoice] = field(default_factory=list)


NEXT_STEP = {0: "none", 1: "reminder", 2: "reminder with fee", 3: "final notice with default interest"}


def open_invoices(session: Session, *, as_of: date, account_ids: Sequence[str] | None = None,
                  policy: ReceivablesPolicy | None = None) -> list[OpenInvoice]:
    policy = policy or get_policies().receivables
    ledger = open_amounts(as_of)
    rows = session.execute(for_accounts(
        select(m.Invoice, ledger.c.open_amount, m.Account.owner_kam_id)
        .join(ledger, ledger.c.invoice_id == m.Invoice.id)
        .join(m.Account, m.Account.id == m.Invoice.account_id)
        .order_by(m.Invoice.due_date, m.Invoice.id), m.Invoice.account_id, account_ids)).all()
    result = []
    for invoice, open_amt, owner in rows:
        days = (as_of - invoice.due_date).days
        level = dunning_level(days, policy)
        fee = policy.dunning.level_2_fee if level >= 2 else 0.0
        interest = default_interest(open_amt, days, policy) if level >= 3 else 0.0
        consult = level >= policy.dunning.consult_kam_from_level
        result.append(OpenInvoice(
            invoice_id=invoice.id, account_id=invoice.account_id, owner_kam_id=owner, currency=invoice.currency,
            issue_date=invoice.issue_date, due_date=invoice.due_date, amount=invoice.amount,
            open_amount=round(open_amt, 2), days_overdue=max(days, 0), bucket=ageing_bucket(days, policy.buckets),
            recorded_dunning_level=invoice.dunning_level, due_dunning_level=level, next_step=NEXT_STEP[level],
            fee=fee, default_interest=interest, consult_kam=consult,
            explanation=f"due {invoice.due_date}, {max(days, 0)} days overdue on {as_of} → level {level} "
                        f"({NEXT_STEP[level]})"
                        + (f"; default interest {open_amt:,.2f} × ({policy.default_interest.base_rate:g} + "
                           f"{policy.default_interest.b2b_points:g}) × {days}/365 = {interest:,.2f}"
                           if interest else "")
                        + (f"; consult KAM {owner} before sending" if consult else ""),
        ))
    return result


def receivables_by_account(session: Session, *, as_of: date,
                           account_ids: Sequence[str] | None = None,
                           policy: ReceivablesPolicy | None = None) -> dict[str, AccountReceivables]:
    policy = policy or get_policies().receivables
    summary: dict[str, AccountReceivables] = {}
    for inv in open_invoices(session, as_of=as_of, account_ids=account_ids, policy=policy):
        entry = summary.setdefault(inv.account_id, AccountReceivables(
            inv.account_id, inv.currency, 0.0, 0.0, dict.fromkeys(bucket_labels(policy.buckets), 0.0)))
        entry.total_open = round(entry.total_open + inv.open_amount, 2)
        if inv.days_overdue > 0:
            entry.overdue = round(entry.overdue + inv.open_amount, 2)
        entry.buckets[inv.bucket] = round(entry.buckets[inv.bucket] + inv.open_amount, 2)
        entry.invoices.append(inv)
    return summary
