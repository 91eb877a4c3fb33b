"""Account health: one deterministic roll-up of every rule, worst status first, with the reasons.

Briefs, escalations and chat read this instead of re-deriving verdicts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import models as m
from policies import credit, kpis, margins, receivables
from policies.config import Policies, ReceivablesPolicy, get_policies
from policies.periods import parse_period
from policies.results import STATUS_RANK, RuleResult, Status, worst_first


@dataclass(frozen=True)
class AccountHealth:
    account_id: str
    status: Status
    reasons: list[RuleResult]  # every result that is not ok, worst first
    results: list[RuleResult]  # everything, worst first
    as_of: date
    period: str

    def as_dict(self) -> dict[str, object]:
        return {"account_id": self.account_id, "status": self.status, "as_of": self.as_of.isoformat(),
                "period": self.period, "reasons": [r.as_dict() for r in self.reasons],
                "results": [r.as_dict() for r in self.results]}


def _receivables_result(account_id: str, summary: receivables.AccountReceivables | None,
                        policy: ReceivablesPolicy) -> RuleResult:
    if summary is None or not summary.invoices:
        return RuleResult("receivables", account_id, 0.0, None, "ok", policy.version, "currency",
                          "no open invoices", {"account_id": account_id})
    worst = max(summary.invoices, key=lambda i: i.due_dunning_level)
    level = worst.due_dunning_level
    dunning = policy.dunning
    status: Status = ("breach" if level >= dunning.health_breach_from_level else
                      "warn" if level >= dunning.health_warn_from_level else "ok")
    return RuleResult(
        "receivables", account_id, summary.overdue, None, status, policy.version, "currency",
        f"{summary.overdue:,.2f} {summary.currency} overdue of {summary.total_open:,.2f} open; highest due dunning "
        f"level {level} ({worst.invoice_id}, {worst.days_overdue} days overdue); level "
        f"{dunning.health_warn_from_level} or higher is a warning, {dunning.health_breach_from_level} or higher "
        "a breach",
        {"account_id": account_id, "buckets": summary.buckets, "worst_invoice": worst.invoice_id,
         "due_dunning_level": level, "days_overdue": worst.days_overdue, "total_open": summary.total_open,
         "warn_from_level": dunning.health_warn_from_level, "breach_from_level": dunning.health_breach_from_level},
        actions=(f"{worst.next_step} for {worst.invoice_id}" + ("; consult the KAM first" if worst.consult_kam
                                                                 else ""),) if level else (),
    )


def _nda_results(session: Session, account_ids: list[str] | None) -> dict[str, RuleResult]:
    """An NDA still pending (no review yet) warns; a reviewed NDA whose verdict is not accept warns with the
    review's figures. CRM and review facts, not a policy threshold: the "version" names where they come from."""
    results: dict[str, RuleResult] = {}
    query = select(m.Contract).where(m.Contract.contract_type == "nda", m.Contract.status.in_(("pending", "draft")))
    if account_ids is not None:
        query = query.where(m.Contract.account_id.in_(account_ids))
    for c in session.execute(query).scalars():
        results[c.account_id] = RuleResult("nda_status", c.account_id, None, None, "warn", "crm:contracts", "count",
                                           f"NDA {c.id} is {c.status} and not reviewed",
                                           {"contract_id": c.id, "status": c.status},
                                           actions=("upload the NDA for review (POST /nda-reviews)",))
    reviews = select(m.NdaReview).where(m.NdaReview.status == "done", m.NdaReview.account_id.is_not(None)) \
        .order_by(m.NdaReview.updated_at)
    if account_ids is not None:
        reviews = reviews.where(m.NdaReview.account_id.in_(account_ids))
    for review in session.execute(reviews).scalars():  # oldest first: the newest review of an account wins
        account_id = review.account_id or ""
        report = json.loads(review.report or "{}")
        findings = [f for f in report.get("findings", []) if f.get("status") != "compliant" and f.get("severity")]
        counts = {s: sum(f["severity"] == s for f in findings) for s in ("high", "medium", "low")}
        status: Status = "ok" if review.verdict == "accept" else "warn"
        results[account_id] = RuleResult(
            "nda_status", account_id, float(counts["high"] + counts["medium"]), None, status, "nda-review",
            "count", f"NDA {review.file_name} reviewed: {review.verdict} ({counts['high']} high, {counts['medium']} "
                     f"medium, {counts['low']} low findings)",
            {"review_id": review.id, "verdict": review.verdict, **counts},
            actions=(f"{'escalate to legal' if review.verdict == 'escalate' else 'negotiate'} the NDA "
                     f"(review {review.id})",) if status == "warn" else ())
    return results


def health(session: Session, *, as_of: date, account_ids: list[str] | None = None, period: str | None = None,
           policies: Policies | None = None) -> dict[str, AccountHealth]:
    """Health of the given accounts (default all), each computed from the same SQL aggregations."""
    policies = policies or get_policies()
    kpi_results = kpis.compute(session, period=period, as_of=as_of, account_ids=account_ids, policy=policies.kpis)
    positions = credit.credit_positions(session, as_of=as_of, account_ids=account_ids, policy=policies.credit)
    open_items = receivables.receivables_by_account(session, as_of=as_of, account_ids=account_ids,
                                                    policy=policies.receivables)
    ndas = _nda_results(session, account_ids)
    account_margins = margins.account_level_margins(session, period=period, as_of=as_of, account_ids=account_ids,
                                                    policy=policies.margins)
    label = parse_period(period, as_of).label
    report = {}
    for account_id, results in kpi_results.items():
        if account_id not in positions:  # an id asked for that names no account: nothing to report
            continue
        combined = [*results, positions[account_id].as_rule_result(),
                    _receivables_result(account_id, open_items.get(account_id), policies.receivables)]
        if account_id in ndas:
            combined.append(ndas[account_id])
        if account_id in account_margins:
            combined.append(account_margins[account_id])
        ordered = worst_first(combined)
        status = min((r.status for r in ordered), key=lambda s: STATUS_RANK[s]) if ordered else "ok"
        if status == "not_enough_data":
            status = "ok"
        report[account_id] = AccountHealth(account_id, status, [r for r in ordered if r.status in ("breach", "warn")],
                                           ordered, as_of, label)
    return report


def account_health(session: Session, account_id: str, *, as_of: date, period: str | None = None,
                   policies: Policies | None = None) -> AccountHealth:
    return health(session, account_ids=[account_id], period=period, as_of=as_of, policies=policies)[account_id]
