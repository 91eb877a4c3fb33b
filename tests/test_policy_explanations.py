"""Every figure and role in a rule's explanation and actions comes from the policy file, not from the code:
change a threshold and the text follows (these failed while the texts said "70 %", "14 days", "Head of
Sales" and the health view hard-coded the dunning levels)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from core.db.models import Base
from policies import credit, health, kpis, margins
from policies.config import get_policies
from policies.results import pct, role_label
from tests.factories import Crm

AS_OF = date(2026, 11, 26)
roles = st.sampled_from(["head_of_sales", "sales_director", "cfo", "regional_manager"])


@contextmanager
def _crm() -> Iterator[tuple[Session, Crm]]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session, Crm(session)


@settings(max_examples=15, deadline=None)
@given(target=st.integers(50, 95).map(lambda n: n / 100))
def test_call_off_action_names_the_policy_target(target: float) -> None:
    policy = get_policies().kpis
    policy = policy.model_copy(update={"call_off_rate": policy.call_off_rate.model_copy(update={"target": target})})
    with _crm() as (session, crm):
        account = crm.account()
        part = crm.article(account)
        contract = crm.contract(account)
        crm.plan(part, contract, "2026-08", 1000)
        crm.call_off(part, date(2026, 8, 10), int(target * 1000) - 100)
        result = next(r for r in kpis.compute_account(session, account.id, period="2026-Q3", as_of=AS_OF, policy=policy)
                      if r.rule == "call_off_rate")
    assert result.status == "breach" and result.threshold == target
    assert f"below {pct(target)}" in result.actions[0]


@settings(max_examples=15, deadline=None)
@given(days=st.integers(3, 40), role=roles)
def test_escalation_action_names_the_policy_days_and_role(days: int, role: str) -> None:
    policy = get_policies().kpis
    policy = policy.model_copy(update={
        "escalate_to": role,
        "escalations_open_days": policy.escalations_open_days.model_copy(update={"target": days, "warn_margin": 0})})
    with _crm() as (session, crm):
        account = crm.account()
        crm.escalation(account, AS_OF - timedelta(days=days + 1))
        result = next(r for r in kpis.compute_account(session, account.id, as_of=AS_OF, policy=policy)
                      if r.rule == "escalations_open_days")
    assert result.status == "breach"
    assert result.actions == (f"escalate to {role_label(role)}: open longer than {days} days",)


@settings(max_examples=15, deadline=None)
@given(breach=st.integers(80, 130).map(lambda n: n / 100), role=roles)
def test_credit_threshold_and_approver_come_from_the_policy(breach: float, role: str) -> None:
    policy = get_policies().credit.model_copy(update={"breach_utilisation": breach, "warn_utilisation": breach - 0.1,
                                                      "approval_role": role})
    with _crm() as (session, crm):
        account = crm.account(insured_limit=1000.0, kam_credit_limit=1000.0)
        crm.invoice(account, date(2026, 11, 1), date(2026, 12, 1), round(breach * 1000 + 50, 2))
        position = credit.credit_position(session, account.id, as_of=AS_OF, policy=policy)
    result = position.as_rule_result()
    assert result.threshold == breach and position.status == "breach" and position.needs_approval == role


@settings(max_examples=15, deadline=None)
@given(role=roles)
def test_margin_action_names_the_policy_approval_role(role: str) -> None:
    policy = get_policies().margins.model_copy(update={"approval_role": role})
    with _crm() as (session, crm):
        account = crm.account(segment="B")
        part = crm.article(account, unit_cost=10.0, product_group="seals")
        crm.order(account, date(2026, 10, 1), [(part, 10, 10.5, 10.0)], status="delivered")
        result = margins.account_margins(session, account.id, as_of=AS_OF, policy=policy)[0]
    assert result.status == "breach" and result.actions == (
        f"price review; any new price below the floor needs {role_label(role)} approval",)
    check = margins.check_price(10.0, 10.5, 1, policy.default, policy)
    assert check.needs_approval == role


@settings(max_examples=12, deadline=None)
@given(warn=st.integers(1, 3), extra=st.integers(0, 2))
def test_health_dunning_status_follows_the_policy_levels(warn: int, extra: int) -> None:
    breach = min(3, warn + extra)
    policies = get_policies()
    dunning = policies.receivables.dunning.model_copy(update={"health_warn_from_level": warn,
                                                              "health_breach_from_level": breach})
    policies = policies.model_copy(update={"receivables": policies.receivables.model_copy(update={"dunning": dunning})})
    with _crm() as (session, crm):
        account = crm.account()
        # 35 days overdue: dunning level 2 under the receivables policy (level 2 from 30 days)
        crm.invoice(account, AS_OF - timedelta(days=65), AS_OF - timedelta(days=35), 100.0)
        result = next(r for r in health.account_health(session, account.id, as_of=AS_OF, policies=policies).results
                      if r.rule == "receivables")
    expected = "breach" if breach <= 2 else "warn" if warn <= 2 else "ok"
    assert result.status == expected
    assert f"level {warn} or higher is a warning, {breach} or higher a breach" in result.explanation
