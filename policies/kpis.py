"""Account KPIs, aggregated in the database for one account or for all of them in one pass.

Each KPI is one SQL aggregation grouped by account (so 10,000 accounts cost the same number of queries
as one) followed by a tiny pure function that turns the aggregate into a :class:`RuleResult`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Float, and_, case, cast, distinct, func, select
from sqlalchemy.orm import Session

from core.db import models as m
from policies.config import KpiPolicy, Target, get_policies
from policies.periods import Period, add_months, month_key, parse_period
from policies.results import RuleResult, judge, pct, ratio, role_label
from policies.sql import days_between, for_accounts, month_of, rows_by_account

MAX_LISTED_IDS = 20


@dataclass(frozen=True)
class KpiContext:  # not slotted: cached_property needs a __dict__
    session: Session
    period: Period
    policy: KpiPolicy
    account_ids: Sequence[str] | None
    list_ids: bool  # include the ids behind exceptions (single-account views)

    @cached_property
    def period_inputs(self) -> dict[str, str]:
        return {"period": self.period.label, "from": self.period.start.isoformat(), "to": self.period.end.isoformat()}


def _complete_range(period: Period) -> tuple[date, date] | None:
    months = period.complete_months
    if not months:
        return None
    first = date.fromisoformat(months[0] + "-01")
    last = add_months(date.fromisoformat(months[-1] + "-01"), 1) - timedelta(days=1)
    return max(first, period.start), min(last, period.end)


def _result(ctx: KpiContext, rule: str, account_id: str, value: float | None, target: Target, unit: str,
            explanation: str, inputs: dict[str, Any], *, threshold: float | None = None,
            actions_on_breach: tuple[str, ...] = ()) -> RuleResult:
    limit = target.target if threshold is None else threshold
    status = judge(value, limit, target.direction, target.warn_margin)
    return RuleResult(
        rule=rule, subject=account_id, value=None if value is None else round(value, 6), threshold=limit,
        status=status, policy_version=ctx.policy.version, unit=unit,  # type: ignore[arg-type]
        explanation=explanation,
        inputs={"account_id": account_id, **ctx.period_inputs, **inputs},
        actions=actions_on_breach if status == "breach" else (), direction=target.direction,
    )


# --- the KPIs -----------------------------------------------------------------------------------
def otif(ctx: KpiContext, accounts: list[str]) -> list[RuleResult]:
    policy, s = ctx.policy.otif, ctx.session
    on_time = m.Delivery.actual_date.is_not(None) & (
        days_between(s, m.Delivery.actual_date, m.Delivery.promised_date) <= policy.on_time_tolerance_days)
    in_full = m.Delivery.actual_qty >= m.Delivery.promised_qty * (1 - policy.in_full_tolerance)
    good = and_(on_time, in_full)
    query = for_accounts(
        select(m.Delivery.account_id, func.count(), func.sum(case((good, 1), else_=0)))
        .where(m.Delivery.promised_date.between(ctx.period.start, ctx.period.end))
        .group_by(m.Delivery.account_id), m.Delivery.account_id, ctx.account_ids)
    facts = rows_by_account(s, query)
    failed: dict[str, list[str]] = {}
    if ctx.list_ids:
        ids_query = for_accounts(
            select(m.Delivery.account_id, m.Delivery.id)
            .where(m.Delivery.promised_date.between(ctx.period.start, ctx.period.end), ~good)
            .order_by(m.Delivery.promised_date), m.Delivery.account_id, ctx.account_ids)
        for account_id, delivery_id in s.execute(ids_query):
            failed.setdefault(account_id, []).append(delivery_id)
    results = []
    for account_id in accounts:
        total, good_count = facts.get(account_id, (0, 0))
        value = ratio(good_count or 0, total)
        inputs = {"deliveries_due": total, "on_time_in_full": good_count or 0,
                  "on_time_tolerance_days": policy.on_time_tolerance_days,
                  "in_full_tolerance": policy.in_full_tolerance}
        if ctx.list_ids:
            inputs["not_otif_delivery_ids"] = failed.get(account_id, [])[:MAX_LISTED_IDS]
        results.append(_result(ctx, "otif", account_id, value, policy, "ratio",
                               f"{good_count or 0} of {total} deliveries due on time and in full = {pct(value)}",
                               inputs, actions_on_breach=("root-cause analysis with logistics",)))
    return results


def call_off_rate(ctx: KpiContext, accounts: list[str]) -> list[RuleResult]:
    s, months = ctx.session, ctx.period.complete_months
    planned: dict[str, tuple[Any, ...]] = {}
    called: dict[str, tuple[Any, ...]] = {}
    if months:
        active = for_accounts(select(m.Contract.id).where(m.Contract.status == "active"),
                              m.Contract.account_id, ctx.account_ids)
        planned = rows_by_account(s, for_accounts(
            select(m.CallOffPlan.account_id, func.sum(m.CallOffPlan.planned_qty))
            .where(m.CallOffPlan.contract_id.in_(active), m.CallOffPlan.period.in_(months))
            .group_by(m.CallOffPlan.account_id), m.CallOffPlan.account_id, ctx.account_ids))
        called = rows_by_account(s, for_accounts(
            select(m.CallOff.account_id, func.sum(m.CallOff.qty))
            .where(m.CallOff.period.in_(months))
            .group_by(m.CallOff.account_id), m.CallOff.account_id, ctx.account_ids))
    results = []
    for account_id in accounts:
        plan_qty = (planned.get(account_id) or (0,))[0] or 0
        called_qty = (called.get(account_id) or (0,))[0] or 0
        value = ratio(called_qty, plan_qty)
        results.append(_result(
            ctx, "call_off_rate", account_id, value, ctx.policy.call_off_rate, "ratio",
            f"{called_qty} called off of {plan_qty} planned in complete months = {pct(value)}",
            {"called_off_qty": called_qty, "planned_qty": plan_qty, "months": months},
            actions_on_breach=(f"escalation meeting with the customer (call-off rate below "
                               f"{pct(ctx.policy.call_off_rate.target)})",)))
    return results


def forecast_deviation(ctx: KpiContext, accounts: list[str]) -> list[RuleResult]:
    s, months = ctx.session, ctx.period.complete_months
    facts: dict[str, tuple[Any, ...]] = {}
    if months:
        actual = for_accounts(
            select(m.CallOff.account_id, m.CallOff.article_id, m.CallOff.period, func.sum(m.CallOff.qty).label("qty"))
            .where(m.CallOff.period.in_(months))
            .group_by(m.CallOff.account_id, m.CallOff.article_id, m.CallOff.period),
            m.CallOff.account_id, ctx.account_ids).subquery()
        actual_qty = func.coalesce(actual.c.qty, 0)
        facts = rows_by_account(s, for_accounts(
            select(m.Forecast.account_id, func.sum(func.abs(m.Forecast.qty - actual_qty)), func.sum(actual_qty))
            .outerjoin(actual, and_(actual.c.account_id == m.Forecast.account_id,
                                    actual.c.article_id == m.Forecast.article_id,
                                    actual.c.period == m.Forecast.period))
            .where(m.Forecast.period.in_(months))
            .group_by(m.Forecast.account_id), m.Forecast.account_id, ctx.account_ids))
    results = []
    for account_id in accounts:
        abs_dev, actual_sum = facts.get(account_id, (0, 0))
        value = ratio(abs_dev or 0, actual_sum or 0)
        results.append(_result(
            ctx, "forecast_deviation", account_id, value, ctx.policy.forecast_deviation, "ratio",
            f"Σ|forecast − actual| {abs_dev or 0} ÷ Σ actual {actual_sum or 0} = {pct(value)}",
            {"abs_deviation_qty": abs_dev or 0, "actual_qty": actual_sum or 0, "months": months}))
    return results


def _count_and_flagged(ctx: KpiContext, model: Any, day: Any, flag: Any) -> dict[str, tuple[Any, ...]]:
    """account_id -> (rows dated in the period, of which flagged)."""
    return rows_by_account(ctx.session, for_accounts(
        select(model.account_id, func.count(), func.sum(case((flag, 1), else_=0)))
        .where(day.between(ctx.period.start, ctx.period.end))
        .group_by(model.account_id), model.account_id, ctx.account_ids))


def emergency_air_share(ctx: KpiContext, accounts: list[str]) -> list[RuleResult]:
    facts = _count_and_flagged(ctx, m.Delivery, m.Delivery.actual_date, m.Delivery.mode == "emergency_air")
    results = []
    for account_id in accounts:
        shipments, air = facts.get(account_id, (0, 0))
        value = ratio(air or 0, shipments)
        results.append(_result(ctx, "emergency_air_share", account_id, value, ctx.policy.emergency_air_share,
                               "ratio", f"{air or 0} emergency air of {shipments} shipments = {pct(value)}",
                               {"shipments": shipments, "emergency_air": air or 0}))
    return results


def contact_cadence(ctx: KpiContext, accounts: list[str]) -> list[RuleResult]:
    s, months, window = ctx.session, ctx.period.complete_months, _complete_range(ctx.period)
    facts: dict[str, tuple[Any, ...]] = {}
    if window:
        facts = rows_by_account(s, for_accounts(
            select(m.Interaction.account_id, func.count(distinct(month_of(s, m.Interaction.interaction_date))))
            .join(m.Contact, m.Contact.id == m.Interaction.contact_id)
            .where(m.Interaction.interaction_date.between(*window), m.Contact.is_relevant.is_(True))
            .group_by(m.Interaction.account_id), m.Interaction.account_id, ctx.account_ids))
    results = []
    for account_id in accounts:
        covered = (facts.get(account_id) or (0,))[0] or 0
        value = ratio(covered, len(months))
        results.append(_result(ctx, "contact_cadence", account_id, value, ctx.policy.contact_cadence, "ratio",
                               f"{covered} of {len(months)} complete months with ≥ 1 interaction with a relevant "
                               f"contact = {pct(value)}", {"months_with_contact": covered, "months": months}))
    return results


def _yearly_count(ctx: KpiContext, accounts: list[str], rule: str, target: Target, model: Any, day: Any,
                  what: str, *conditions: Any) -> list[RuleResult]:
    """A count in the period against a yearly target prorated to the period's length."""
    facts = rows_by_account(ctx.session, for_accounts(
        select(model.account_id, func.count()).where(day.between(ctx.period.start, ctx.period.end), *conditions)
        .group_by(model.account_id), model.account_id, ctx.account_ids))
    prorated = round(target.target * ctx.period.year_fraction, 2)
    results = []
    for account_id in accounts:
        count = (facts.get(account_id) or (0,))[0]
        results.append(_result(ctx, rule, account_id, float(count), target, "count",
                                f"{count} {what}; target {target.target:g} a year × {ctx.period.days} days ÷ 365 "
                                f"= {prorated:g}", {"count": count, "days": ctx.period.days}, threshold=prorated))
    return results


def qualified_interactions(ctx: KpiContext, accounts: list[str]) -> list[RuleResult]:
    return _yearly_count(ctx, accounts, "qualified_interactions", ctx.policy.qualified_interactions,
                         m.Interaction, m.Interaction.interaction_date, "qualified interactions",
                         m.Interaction.qualified.is_(True))


def nps(ctx: KpiContext, accounts: list[str]) -> list[RuleResult]:
    facts = rows_by_account(ctx.session, for_accounts(
        select(m.NpsResponse.account_id, func.count(), func.count(m.NpsResponse.score),
               func.sum(cast(m.NpsResponse.score, Float)))
        .where(m.NpsResponse.survey_date.between(ctx.period.start, ctx.period.end))
        .group_by(m.NpsResponse.account_id), m.NpsResponse.account_id, ctx.account_ids))
    results = []
    for account_id in accounts:
        surveyed, answered, score_sum = facts.get(account_id, (0, 0, 0.0))
        average = ratio(score_sum or 0.0, answered)
        rate = ratio(answered, surveyed)
        inputs = {"surveyed": surveyed, "answered": answered, "score_sum": score_sum or 0}
        results.append(_result(ctx, "nps_score", account_id, average, ctx.policy.nps_score, "score",
                               f"score sum {score_sum or 0:g} ÷ {answered} answers = "
                               f"{'n/a' if average is None else f'{average:.2f}'}", inputs))
        results.append(_result(ctx, "nps_response_rate", account_id, rate, ctx.policy.nps_response_rate, "ratio",
                               f"{answered} answers of {surveyed} surveyed = {pct(rate)}", inputs))
    return results


def escalations(ctx: KpiContext, accounts: list[str]) -> list[RuleResult]:
    s, as_of = ctx.session, ctx.period.as_of
    documented = _count_and_flagged(ctx, m.Escalation, m.Escalation.opened_on, m.Escalation.documented.is_(True))
    open_ = rows_by_account(s, for_accounts(
        select(m.Escalation.account_id, func.count(), func.min(m.Escalation.opened_on))
        .where(m.Escalation.closed_on.is_(None), m.Escalation.opened_on <= as_of)
        .group_by(m.Escalation.account_id), m.Escalation.account_id, ctx.account_ids))
    results = []
    for account_id in accounts:
        opened, doc = documented.get(account_id, (0, 0))
        share = ratio(doc or 0, opened)
        results.append(_result(ctx, "escalations_documented", account_id, share, ctx.policy.escalations_documented,
                               "ratio", f"{doc or 0} of {opened} escalations opened in the period documented = "
                               f"{pct(share)}", {"opened": opened, "documented": doc or 0}))
        count, oldest = open_.get(account_id, (0, None))
        if isinstance(oldest, str):
            oldest = date.fromisoformat(oldest)
        age = (as_of - oldest).days if oldest else 0
        results.append(_result(
            ctx, "escalations_open_days", account_id, float(age), ctx.policy.escalations_open_days, "days",
            f"{count} open escalation(s); oldest opened {oldest or '-'} = {age} days before {as_of}",
            {"open_escalations": count, "oldest_opened_on": oldest.isoformat() if oldest else None,
             "as_of": as_of.isoformat()},
            actions_on_breach=(f"escalate to {role_label(ctx.policy.escalate_to)}: open longer than "
                               f"{ctx.policy.escalations_open_days.target:g} days",)))
    return results


def contract_coverage(ctx: KpiContext, accounts: list[str]) -> list[RuleResult]:
    s, end = ctx.session, ctx.period.end
    demand = for_accounts(
        select(m.CallOff.account_id.label("account_id"), m.CallOff.article_id.label("article_id"))
        .where(m.CallOff.call_off_date.between(ctx.period.start, end)).distinct(),
        m.CallOff.account_id, ctx.account_ids).subquery()
    active = for_accounts(select(m.Contract.id).where(
        m.Contract.status == "active", m.Contract.contract_type == "framework",
        (m.Contract.valid_from.is_(None)) | (m.Contract.valid_from <= end),
        (m.Contract.valid_to.is_(None)) | (m.Contract.valid_to >= end)), m.Contract.account_id, ctx.account_ids)
    covered = for_accounts(select(m.CallOffPlan.article_id)
                           .where(m.CallOffPlan.period == month_key(end), m.CallOffPlan.contract_id.in_(active)),
                           m.CallOffPlan.account_id, ctx.account_ids)
    facts = rows_by_account(s, select(demand.c.account_id, func.count(),
                                      func.sum(case((demand.c.article_id.in_(covered), 1), else_=0)))
                            .group_by(demand.c.account_id))
    results = []
    for account_id in accounts:
        articles, with_plan = facts.get(account_id, (0, 0))
        value = ratio(with_plan or 0, articles)
        results.append(_result(ctx, "contract_coverage", account_id, value, ctx.policy.contract_coverage, "ratio",
                               f"{with_plan or 0} of {articles} articles with demand have a call-off plan for "
                               f"{month_key(end)} under an active framework contract = {pct(value)}",
                               {"articles_with_demand": articles, "articles_with_active_plan": with_plan or 0}))
    return results


def opportunities(ctx: KpiContext, accounts: list[str]) -> list[RuleResult]:
    return _yearly_count(ctx, accounts, "opportunities_identified", ctx.policy.opportunities_identified,
                         m.Opportunity, m.Opportunity.identified_on, "cross-/up-sell opportunities identified")


def revenue_growth(ctx: KpiContext, accounts: list[str]) -> list[RuleResult]:
    current, previous = ctx.period, ctx.period.previous_year()
    revenue = m.OrderLine.qty * m.OrderLine.unit_price
    in_current = m.Order.order_date.between(current.start, current.end)
    in_previous = m.Order.order_date.between(previous.start, previous.end)
    facts = rows_by_account(ctx.session, for_accounts(
        select(m.OrderLine.account_id, func.sum(case((in_current, revenue), else_=0.0)),
               func.sum(case((in_previous, revenue), else_=0.0)))
        .join(m.Order, m.Order.id == m.OrderLine.order_id)
        .where(m.OrderLine.status != "cancelled", in_current | in_previous)
        .group_by(m.OrderLine.account_id), m.OrderLine.account_id, ctx.account_ids))
    results = []
    for account_id in accounts:
        now, before = facts.get(account_id, (0.0, 0.0))
        now, before = round(now or 0.0, 2), round(before or 0.0, 2)
        value = ratio(now - before, before)
        results.append(_result(ctx, "revenue_growth", account_id, value, ctx.policy.revenue_growth, "ratio",
                               f"({now:,.2f} − {before:,.2f}) ÷ {before:,.2f} = {pct(value)} "
                               f"({previous.start} – {previous.end} vs {current.start} – {current.end})",
                               {"revenue": now, "revenue_previous_year": before}))
    return results


KPI_FUNCTIONS = (otif, call_off_rate, forecast_deviation, emergency_air_share, contact_cadence,
                 qualified_interactions, nps, escalations, contract_coverage, opportunities, revenue_growth)


def compute(session: Session, *, as_of: date, period: str | None = None,
            account_ids: Sequence[str] | None = None, policy: KpiPolicy | None = None) -> dict[str, list[RuleResult]]:
    """All KPIs for the given accounts (default: every account), keyed by account id."""
    parsed = parse_period(period, as_of)
    if account_ids is None:
        accounts = list(session.execute(select(m.Account.id).order_by(m.Account.id)).scalars())
    else:
        accounts = list(account_ids)
    ctx = KpiContext(session, parsed, policy or get_policies().kpis, account_ids,
                     list_ids=account_ids is not None and len(account_ids) <= 5)
    if len(accounts) >= PARALLEL_FROM_ACCOUNTS:
        outputs = _run_in_parallel(ctx, accounts)
    else:
        outputs = [kpi(ctx, accounts) for kpi in KPI_FUNCTIONS]
    by_account: dict[str, list[RuleResult]] = {a: [] for a in accounts}
    for results in outputs:  # KPI order is kept, whatever order the threads finished in
        for result in results:
            by_account[result.subject].append(result)
    return by_account


# the function computing each rule (one function may compute several: NPS score and response rate)
FUNCTION_OF: dict[str, Any] = {**{fn.__name__: fn for fn in KPI_FUNCTIONS}, "nps_score": nps,
                               "nps_response_rate": nps, "escalations_open_days": escalations,
                               "escalations_documented": escalations, "opportunities_identified": opportunities}


def compute_rule(session: Session, rule: str, *, as_of: date, period: str | None = None,
                 account_ids: Sequence[str], policy: KpiPolicy | None = None) -> dict[str, RuleResult]:
    """One KPI of the accounts over the period (a month of a course costs one query, not eleven)."""
    ctx = KpiContext(session, parse_period(period, as_of), policy or get_policies().kpis, account_ids, list_ids=False)
    return {r.subject: r for r in FUNCTION_OF[rule](ctx, list(account_ids)) if r.rule == rule}


PARALLEL_FROM_ACCOUNTS = 200
SLOW_KPIS = (forecast_deviation, revenue_growth, call_off_rate, contract_coverage, otif)


def _run_in_parallel(ctx: KpiContext, accounts: list[str]) -> list[list[RuleResult]]:
    """Each KPI query on its own connection; SQLite and psycopg release the GIL while a query runs."""
    bind = ctx.session.get_bind()

    def run(kpi: Any) -> list[RuleResult]:
        with Session(bind) as own_session:
            return kpi(replace(ctx, session=own_session), accounts)

    # longest queries first, so both cores stay busy to the end (measured on 10k accounts)
    by_cost = sorted(range(len(KPI_FUNCTIONS)), key=lambda i: KPI_FUNCTIONS[i] not in SLOW_KPIS)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {i: pool.submit(run, KPI_FUNCTIONS[i]) for i in by_cost}
        return [futures[i].result() for i in range(len(KPI_FUNCTIONS))]


def compute_account(session: Session, account_id: str, *, as_of: date, period: str | None = None,
                    policy: KpiPolicy | None = None) -> list[RuleResult]:
    return compute(session, period=period, as_of=as_of, account_ids=[account_id], policy=policy)[account_id]
