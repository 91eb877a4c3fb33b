"""The rule breaches that call for a mail, found by the rule modules (never by the LLM).

call-off rate and OTIF below target, an escalation open past its limit, an invoice whose due dunning level
asks for the KAM before the notice goes out, credit utilisation past the limit (open orders included), and
articles that ran empty or need a re-order the customer must confirm. Each trigger carries the figures the
rule computed; those a customer must not see (limits, insurer decisions) are marked internal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.escalation_drafter.schemas import Trigger, TriggerFact
from core.calendar import add_months, month_key, month_start
from core.db import models as m
from policies import credit, kpis, receivables, replenishment
from policies.config import get_policies
from policies.health import health
from policies.periods import parse_period
from policies.results import RuleResult


def _rule_facts(r: RuleResult) -> list[TriggerFact]:
    facts = [TriggerFact(id=f"{r.rule}.value", value=r.value or 0.0, unit=r.unit, metric=r.rule)]
    if r.threshold is not None:
        facts.append(TriggerFact(id=f"{r.rule}.threshold", value=r.threshold, unit=r.unit, metric=r.rule,
                                 figure="threshold"))
    return facts


CONTRACT_KINDS = ("call_off_rate", "otif")  # breaches of what the framework contract governs


def _framework_contracts(session: Session, account_ids: Sequence[str] | None, as_of: date) -> dict[str, m.Contract]:
    """Each account's active framework contract in force on ``as_of`` (the newest, if several)."""
    query = select(m.Contract).where(m.Contract.contract_type == "framework", m.Contract.status == "active",
                                     (m.Contract.valid_from.is_(None)) | (m.Contract.valid_from <= as_of))
    if account_ids is not None:
        query = query.where(m.Contract.account_id.in_(account_ids))
    out: dict[str, m.Contract] = {}
    for c in session.execute(query.order_by(m.Contract.valid_from)).scalars():
        out[c.account_id] = c
    return out


def _with_contract(t: Trigger, contract: m.Contract | None) -> Trigger:
    """The framework contract the mail refers to: its id for the reviewer, its date for the text."""
    if contract is None or t.kind not in CONTRACT_KINDS:
        return t
    facts = [TriggerFact(id="contract.id", value=contract.id, unit="text")]
    if contract.valid_from is not None:
        facts.append(TriggerFact(id="contract.valid_from", value=contract.valid_from, unit="date", metric="document"))
    return t.model_copy(update={"facts": [*t.facts, *facts]})


def scan(session: Session, *, as_of: date, account_ids: Sequence[str] | None = None) -> list[Trigger]:
    """Every current trigger of the accounts (default all), most severe first."""
    policy = get_policies()
    names = {a.id: a.name for a in session.execute(select(m.Account)).scalars()}
    scope = None if account_ids is None else list(account_ids)
    found: list[Trigger] = []
    for account_id, rolled in health(session, as_of=as_of, account_ids=scope).items():
        name = names.get(account_id, account_id)
        for r in rolled.results:
            period = str(r.inputs.get("period") or rolled.period)
            if r.rule == "call_off_rate" and r.status == "breach":
                found.append(Trigger(
                    key=f"{r.rule}:{account_id}:{period}", kind=r.rule, account_id=account_id,
                    account_name=name, subject=account_id, period=period, severity="high",
                    audiences=["customer", "internal"], facts=_rule_facts(r), explanation=r.explanation,
                    actions=list(r.actions), direction=r.direction))
            elif r.rule == "escalations_open_days" and r.status == "breach":
                oldest = r.inputs.get("oldest_opened_on")
                found.append(Trigger(
                    key=f"escalation_overdue:{account_id}:{oldest}", kind="escalation_overdue", account_id=account_id,
                    account_name=name, subject=account_id, severity="high", audiences=["internal"],
                    facts=[*_rule_facts(r), TriggerFact(id="escalations.open", value=float(
                        r.inputs.get("open_escalations", 0)), unit="count", metric="escalations"),
                        *([TriggerFact(id="escalations.oldest_opened_on", value=date.fromisoformat(oldest),
                                       unit="date", metric="escalation")] if oldest else [])],
                    explanation=r.explanation, actions=list(r.actions), direction=r.direction))
    month = month_key(add_months(month_start(as_of), -1))  # OTIF is judged per closed month
    ctx = kpis.KpiContext(session, parse_period(month, as_of), policy.kpis, scope, list_ids=False)
    for r in kpis.otif(ctx, scope if scope is not None else list(names)):
        if r.status == "breach":
            found.append(Trigger(
                key=f"otif:{r.subject}:{month}", kind="otif", account_id=r.subject,
                account_name=names.get(r.subject, r.subject), subject=r.subject, period=month, severity="high",
                audiences=["customer", "internal"], facts=_rule_facts(r), explanation=r.explanation,
                actions=list(r.actions), direction=r.direction))
    for position in credit.credit_positions(session, as_of=as_of, account_ids=scope, policy=policy.credit).values():
        if position.status != "breach":
            continue
        figures = {"exposure": position.exposure, "effective_limit": position.effective_limit,
                   "open_receivables": position.open_receivables, "open_order_value": position.open_order_value}
        found.append(Trigger(
            key=f"credit_limit:{position.account_id}:{as_of.isoformat()}", kind="credit_limit",
            account_id=position.account_id, account_name=names.get(position.account_id, position.account_id),
            subject=position.account_id, severity="high", audiences=["internal"],
            facts=[TriggerFact(id=f"credit.{key}", value=value, unit="currency", internal=True, metric=key)
                   for key, value in figures.items()]
                  + [TriggerFact(id="credit_utilisation.value", value=position.utilisation or 0.0, unit="ratio",
                                 internal=True, metric="credit_utilisation"),
                     TriggerFact(id="credit.insurer_decision", value=position.insurer_decision, unit="text",
                                 internal=True)],
            explanation=position.as_rule_result().explanation, actions=list(position.reasons), direction="lower"))
    for invoice in receivables.open_invoices(session, as_of=as_of, account_ids=scope, policy=policy.receivables):
        if not invoice.consult_kam:
            continue
        found.append(Trigger(
            key=f"dunning:{invoice.account_id}:{invoice.invoice_id}:{invoice.due_dunning_level}", kind="dunning",
            account_id=invoice.account_id, account_name=names.get(invoice.account_id, invoice.account_id),
            subject=invoice.invoice_id, severity="high" if invoice.due_dunning_level >= 3 else "medium",
            audiences=["customer", "internal"],
            facts=[TriggerFact(id="invoice.open_amount", value=invoice.open_amount, unit="currency",
                               metric="open_amount"),
                   TriggerFact(id="invoice.due_date", value=invoice.due_date, unit="date", metric="due"),
                   TriggerFact(id="invoice.days_overdue", value=float(invoice.days_overdue), unit="days",
                               metric="days_overdue"),
                   TriggerFact(id="invoice.dunning_level", value=float(invoice.due_dunning_level), unit="count",
                               internal=True, metric="dunning_level"),
                   TriggerFact(id="invoice.id", value=invoice.invoice_id, unit="text"),
                   TriggerFact(id="invoice.currency", value=invoice.currency, unit="text")],
            explanation=invoice.explanation, actions=[invoice.next_step]))
    for line in replenishment.replenishment(session, as_of=as_of, account_ids=scope, only_reorder=True):
        found.append(Trigger(
            key=f"reorder:{line.account_id}:{line.article_id}:{as_of.isoformat()}", kind="reorder",
            account_id=line.account_id, account_name=names.get(line.account_id, line.account_id),
            subject=line.article_id, severity="high" if line.empty else "medium", audiences=["customer", "internal"],
            facts=[TriggerFact(id="article.part_number", value=line.part_number, unit="text"),
                   TriggerFact(id="article.description", value=line.description, unit="text"),
                   TriggerFact(id="article.proposed_qty", value=float(line.proposed_qty), unit="qty",
                               metric="proposed_qty"),
                   TriggerFact(id="article.stock_on_hand", value=float(line.stock_on_hand), unit="qty",
                               metric="stock_on_hand"),
                   *([TriggerFact(id="article.coverage_weeks", value=round(line.coverage_weeks, 1), unit="weeks",
                                  metric="coverage_weeks")] if line.coverage_weeks is not None else []),
                   TriggerFact(id="article.lead_time_weeks", value=float(line.lead_time_weeks), unit="weeks",
                               metric="lead_time_weeks")],
            explanation=line.explanation, actions=["confirm the re-order with the customer"]))
    contracts = _framework_contracts(session, scope, as_of)
    found = [_with_contract(t, contracts.get(t.account_id)) for t in found]
    return sorted(found, key=lambda t: (t.severity != "high", t.account_id, t.key))
