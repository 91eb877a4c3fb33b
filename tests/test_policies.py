"""Rule modules with hand-computed expectations (numbers in the comments), edge cases and policy files."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from core.errors import InvalidInput, PolicyFileError
from policies import credit, health, kpis, margins, receivables, replenishment
from policies.config import POLICY_DIR, get_policies, load_policies
from policies.periods import parse_period
from tests.factories import Crm

AS_OF = date(2026, 11, 26)
Q3 = "2026-Q3"


def _kpi(session: Session, account_id: str, rule: str, period: str = Q3) -> kpis.RuleResult:
    results = kpis.compute_account(session, account_id, period=period, as_of=AS_OF)
    return next(r for r in results if r.rule == rule)


# --- periods -------------------------------------------------------------------------------------
def test_periods() -> None:
    q3 = parse_period("2026-q3", AS_OF)
    assert (q3.start, q3.end, q3.partial, q3.complete_months) == (
        date(2026, 7, 1), date(2026, 9, 30), False, ["2026-07", "2026-08", "2026-09"])
    november = parse_period("2026-11", AS_OF)
    assert november.partial and november.end == AS_OF and november.complete_months == []
    # R12 is the last 12 complete months (it was 11 and the running one); its previous year the 12 before
    r12 = parse_period(None, AS_OF)
    assert (r12.start, r12.end, r12.partial, len(r12.complete_months)) == (date(2025, 11, 1), date(2026, 10, 31),
                                                                           False, 12)
    before = r12.previous_year()
    assert (before.start, before.end) == (date(2024, 11, 1), date(2025, 10, 31))
    first_day = parse_period("R12", date(2026, 12, 1))
    assert (first_day.start, first_day.end) == (date(2025, 12, 1), date(2026, 11, 30))
    assert parse_period("2026", AS_OF).end == AS_OF
    with pytest.raises(InvalidInput, match="not understood"):
        parse_period("Q3/2026", AS_OF)
    with pytest.raises(InvalidInput, match="starts after"):
        parse_period("2027-01", AS_OF)


# --- KPIs ----------------------------------------------------------------------------------------
def test_otif_counts_late_short_and_missing_deliveries(crm: Crm, session: Session) -> None:
    account = crm.account()
    part = crm.article(account)
    crm.delivery(part, date(2026, 7, 10), 100, date(2026, 7, 10))  # on time, in full
    crm.delivery(part, date(2026, 7, 20), 100, date(2026, 7, 21))  # 1 day late: inside tolerance
    late = crm.delivery(part, date(2026, 8, 10), 100, date(2026, 8, 12))  # 2 days late
    short = crm.delivery(part, date(2026, 8, 20), 100, date(2026, 8, 20), actual_qty=97)  # 97 % < 98 %
    missing = crm.delivery(part, date(2026, 9, 10), 100, None)  # never delivered
    crm.delivery(part, date(2026, 10, 1), 100, None)  # promised after the period: not counted
    result = _kpi(session, account.id, "otif")
    assert result.value == pytest.approx(2 / 5)  # 2 of 5
    assert result.status == "breach" and result.threshold == 0.98
    assert result.inputs["deliveries_due"] == 5 and result.inputs["on_time_in_full"] == 2
    assert set(result.inputs["not_otif_delivery_ids"]) == {late.id, short.id, missing.id}
    assert result.policy_version == get_policies().kpis.version
    assert result.actions


def test_no_deliveries_is_not_enough_data(crm: Crm, session: Session) -> None:
    account = crm.account()
    result = _kpi(session, account.id, "otif")
    assert result.value is None and result.status == "not_enough_data"


def test_call_off_rate_uses_active_plans_and_complete_months(crm: Crm, session: Session) -> None:
    account = crm.account()
    part = crm.article(account)
    active, ended = crm.contract(account), crm.contract(account, status="terminated")
    for month in ("2026-07", "2026-08", "2026-09"):
        crm.plan(part, active, month, 100)
    crm.plan(part, ended, "2026-08", 1000)  # plans of an inactive contract do not count
    for day, qty in ((date(2026, 7, 3), 50), (date(2026, 8, 3), 60), (date(2026, 9, 3), 70)):
        crm.call_off(part, day, qty)
    result = _kpi(session, account.id, "call_off_rate")
    assert result.value == pytest.approx(180 / 300)  # 0.6 < 0.7
    assert result.status == "breach"
    assert "escalation meeting" in result.actions[0]
    partial = _kpi(session, account.id, "call_off_rate", period="2026-11")  # no complete month yet
    assert partial.status == "not_enough_data"


def test_forecast_deviation_weighted_and_zero_actuals(crm: Crm, session: Session) -> None:
    account = crm.account()
    part = crm.article(account)
    crm.forecast(part, "2026-07", 100)
    crm.forecast(part, "2026-08", 100)
    crm.call_off(part, date(2026, 7, 5), 90)
    crm.call_off(part, date(2026, 8, 5), 110)
    result = _kpi(session, account.id, "forecast_deviation")
    assert result.value == pytest.approx(20 / 200)  # (|100-90| + |100-110|) / (90 + 110)
    assert result.status == "breach"
    other = crm.account()
    crm.forecast(crm.article(other), "2026-07", 100)  # forecast but nothing called off
    assert _kpi(session, other.id, "forecast_deviation").status == "not_enough_data"


def test_emergency_air_share(crm: Crm, session: Session) -> None:
    account = crm.account()
    part = crm.article(account)
    for mode in ("road", "sea", "rail", "emergency_air"):
        crm.delivery(part, date(2026, 8, 1), 10, date(2026, 8, 1), mode=mode)
    result = _kpi(session, account.id, "emergency_air_share")
    assert result.value == pytest.approx(0.25) and result.status == "breach"


def test_contact_cadence_and_qualified_interactions(crm: Crm, session: Session) -> None:
    account = crm.account()
    crm.interaction(account, date(2026, 7, 2), qualified=True)
    crm.interaction(account, date(2026, 9, 2), qualified=True)
    crm.interaction(account, date(2026, 8, 2), contact=crm.contact(account, relevant=False))
    cadence = _kpi(session, account.id, "contact_cadence")
    assert cadence.value == pytest.approx(2 / 3) and cadence.status == "breach"  # August had no relevant contact
    qualified = _kpi(session, account.id, "qualified_interactions")
    assert qualified.threshold == pytest.approx(round(6 * 92 / 365, 2))  # 1.51: prorated to 92 days
    assert qualified.value == 2 and qualified.status == "warn"  # met, but within 1 of the target


def test_nps_score_and_response_rate(crm: Crm, session: Session) -> None:
    account = crm.account()
    for score in (9, 7, None):
        crm.nps(account, date(2026, 8, 15), score)
    results = {r.rule: r for r in kpis.compute_account(session, account.id, period=Q3, as_of=AS_OF)}
    assert results["nps_score"].value == pytest.approx(8.0) and results["nps_score"].status == "warn"
    assert results["nps_response_rate"].value == pytest.approx(2 / 3)
    assert results["nps_response_rate"].status == "breach"


def test_escalations_documented_and_open_too_long(crm: Crm, session: Session) -> None:
    account = crm.account()
    crm.escalation(account, date(2026, 8, 1), date(2026, 8, 5), documented=True)
    crm.escalation(account, date(2026, 9, 1), date(2026, 9, 3), documented=False)
    crm.escalation(account, AS_OF - timedelta(days=20))
    results = {r.rule: r for r in kpis.compute_account(session, account.id, period=Q3, as_of=AS_OF)}
    assert results["escalations_documented"].value == pytest.approx(0.5)
    assert results["escalations_open_days"].value == 20
    assert results["escalations_open_days"].status == "breach"


def test_contract_coverage(crm: Crm, session: Session) -> None:
    account = crm.account()
    fw = crm.contract(account)
    covered, uncovered = crm.article(account), crm.article(account)
    crm.plan(covered, fw, "2026-09", 10)
    crm.call_off(covered, date(2026, 8, 1), 5)
    crm.call_off(uncovered, date(2026, 8, 1), 5)
    result = _kpi(session, account.id, "contract_coverage")
    assert result.value == pytest.approx(0.5) and result.status == "breach"


def test_opportunities_and_revenue_growth(crm: Crm, session: Session) -> None:
    account = crm.account()
    part = crm.article(account)
    crm.opportunity(account, date(2026, 8, 1))
    crm.order(account, date(2026, 8, 1), [(part, 10, 110.0, 80.0)], status="delivered")
    crm.order(account, date(2025, 8, 1), [(part, 10, 100.0, 80.0)], status="delivered")
    crm.order(account, date(2026, 8, 2), [(part, 99, 1000.0, 80.0)], status="cancelled")
    results = {r.rule: r for r in kpis.compute_account(session, account.id, period=Q3, as_of=AS_OF)}
    assert results["opportunities_identified"].value == 1
    assert results["opportunities_identified"].threshold == pytest.approx(round(3 * 92 / 365, 2))
    growth = results["revenue_growth"]
    assert growth.value == pytest.approx(0.1) and growth.status == "ok"  # (1100 - 1000) / 1000
    assert growth.inputs["revenue"] == 1100 and growth.inputs["revenue_previous_year"] == 1000


def test_batch_and_single_account_agree(crm: Crm, session: Session) -> None:
    accounts = [crm.account() for _ in range(3)]
    for i, account in enumerate(accounts):
        part = crm.article(account)
        for d in range(i + 1):
            crm.delivery(part, date(2026, 8, 1 + d), 10, date(2026, 8, 3 + d))
    batch = kpis.compute(session, period=Q3, as_of=AS_OF)
    for account in accounts:
        single = kpis.compute_account(session, account.id, period=Q3, as_of=AS_OF)
        assert [(r.rule, r.value, r.status) for r in single] == [(r.rule, r.value, r.status) for r in batch[account.id]]


def test_parallel_batch_equals_serial(crm: Crm, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    account = crm.account()
    crm.delivery(crm.article(account), date(2026, 8, 1), 10, date(2026, 8, 1))
    session.commit()  # other threads use their own connections
    serial = kpis.compute(session, period=Q3, as_of=AS_OF)
    monkeypatch.setattr(kpis, "PARALLEL_FROM_ACCOUNTS", 1)
    assert kpis.compute(session, period=Q3, as_of=AS_OF) == serial


# --- margins -------------------------------------------------------------------------------------
def test_price_check_floor_target_headroom(crm: Crm, session: Session) -> None:
    account = crm.account(segment="B")
    part = crm.article(account, product_group="seals", unit_cost=10.0)  # default corridor 18 % / 25 %
    below = margins.check_article_price(session, part.id, 12.0, 100)
    assert below.floor_price == pytest.approx(10 / 0.82, abs=1e-4)  # 12.1951
    assert below.target_price == pytest.approx(10 / 0.75, abs=1e-4)  # 13.3333
    assert below.margin == pytest.approx(2 / 12, abs=1e-6)
    assert below.status == "breach" and below.needs_approval == "head_of_sales"
    assert below.headroom_per_unit == pytest.approx(12 - 10 / 0.82, abs=1e-4)
    assert below.headroom_total == pytest.approx(100 * (12 - 10 / 0.82), abs=0.01)  # -19.51
    assert below.headroom_points == pytest.approx((2 / 12 - 0.18) * 100, abs=0.01)  # -1.33
    assert margins.check_article_price(session, part.id, 13.0, 1).status == "warn"
    ok = margins.check_article_price(session, part.id, 14.0, 1)
    assert ok.status == "ok" and ok.needs_approval is None
    with pytest.raises(InvalidInput):
        margins.check_article_price(session, part.id, 0.0, 1)


def test_corridor_specificity() -> None:
    policy = get_policies().margins
    assert policy.corridor_for("A", "fasteners").min_margin == 0.12  # segment + group
    assert policy.corridor_for("B", "machined_parts").min_margin == 0.20  # group
    assert policy.corridor_for("C", "seals").min_margin == 0.22  # segment
    assert policy.corridor_for("B", "seals") == policy.default


def test_account_and_article_margins(crm: Crm, session: Session) -> None:
    account = crm.account(segment="B", currency="USD")
    a, b = crm.article(account, product_group="seals"), crm.article(account, product_group="seals")
    crm.order(account, date(2026, 8, 1), [(a, 10, 100.0, 70.0), (b, 10, 100.0, 90.0)], status="delivered")
    results = margins.account_margins(session, account.id, period=Q3, as_of=AS_OF)
    total = results[0]
    assert total.value == pytest.approx((300 + 100) / 2000)  # 0.2: between 18 % and 25 %
    assert total.status == "warn" and total.inputs["currency"] == "USD"
    by_article = {r.inputs["article_id"]: r for r in results[1:]}
    assert by_article[a.id].status == "ok" and by_article[b.id].status == "breach"  # 30 % vs 10 %
    batch = margins.account_level_margins(session, period=Q3, as_of=AS_OF)
    assert batch[account.id].value == total.value


# --- credit --------------------------------------------------------------------------------------
def test_credit_exposure_limit_and_approval(crm: Crm, session: Session) -> None:
    account = crm.account(kam_credit_limit=2000.0, insured_limit=1000.0)
    part = crm.article(account)
    crm.invoice(account, date(2026, 10, 1), date(2026, 10, 31), 1000.0, paid=400.0)  # 600 open
    crm.order(account, date(2026, 11, 20), [(part, 10, 50.0, 30.0)])  # 500 undelivered
    position = credit.credit_position(session, account.id, as_of=AS_OF)
    assert (position.open_receivables, position.open_order_value, position.exposure) == (600.0, 500.0, 1100.0)
    assert position.effective_limit == 1000.0 and position.utilisation == pytest.approx(1.1)
    assert position.status == "breach" and position.needs_approval == "head_of_sales"
    assert "KAM-set limit above the insured limit" in position.reasons
    assert "prepayment" in position.alternatives and "EUR" in position.as_rule_result().explanation


def test_credit_declined_insurer_and_new_order_check(crm: Crm, session: Session) -> None:
    declined = crm.account(insurer_decision="declined", kam_credit_limit=5000.0, insured_limit=5000.0)
    crm.invoice(declined, date(2026, 11, 1), date(2026, 12, 1), 100.0)
    position = credit.credit_position(session, declined.id, as_of=AS_OF)
    assert position.effective_limit == 0 and position.utilisation is None and position.status == "breach"
    healthy = crm.account(kam_credit_limit=1000.0, insured_limit=1000.0)
    assert credit.credit_position(session, healthy.id, as_of=AS_OF).status == "ok"
    assert credit.check_new_order(session, healthy.id, 950.0, as_of=AS_OF).status == "warn"  # 95 %
    pushed = credit.check_new_order(session, healthy.id, 1200.0, as_of=AS_OF)
    assert pushed.status == "breach" and pushed.needs_approval and pushed.alternatives


def test_kam_may_set_limits_up_to_the_insured_limit(crm: Crm, session: Session) -> None:
    account = crm.account(insured_limit=50_000.0)
    assert credit.check_limit(session, account.id, 50_000.0).allowed_without_approval
    above = credit.check_limit(session, account.id, 60_000.0)
    assert not above.allowed_without_approval and above.needs_approval == "head_of_sales" and above.alternatives


# --- replenishment -------------------------------------------------------------------------------
def test_replenishment_reorders_and_sorts_empty_first(crm: Crm, session: Session) -> None:
    account = crm.account()
    low = crm.article(account, stock_on_hand=30, lead_time_weeks=4)
    empty = crm.article(account, stock_on_hand=0, lead_time_weeks=4)
    plenty = crm.article(account, stock_on_hand=10_000, lead_time_weeks=4)
    idle = crm.article(account, stock_on_hand=5)
    for article in (low, empty, plenty):
        crm.call_off(article, AS_OF - timedelta(days=10), 120)  # 120 in 12 weeks = 10 a week
    crm.call_off(idle, AS_OF - timedelta(weeks=20), 500)  # outside the demand window
    lines = {line.article_id: line for line in replenishment.replenishment(session, as_of=AS_OF)}
    assert lines[low.id].weekly_demand == 10 and lines[low.id].coverage_weeks == 3
    assert lines[low.id].reorder and lines[low.id].proposed_qty == 10 * (4 + 8) - 30  # 90
    assert lines[empty.id].empty and lines[empty.id].proposed_qty == 120
    assert not lines[plenty.id].reorder and lines[idle.id].coverage_weeks is None and not lines[idle.id].reorder
    ordered = replenishment.replenishment(session, as_of=AS_OF, only_reorder=True)
    assert [line.article_id for line in ordered] == [empty.id, low.id]


# --- receivables ---------------------------------------------------------------------------------
def test_ageing_and_dunning(crm: Crm, session: Session) -> None:
    account = crm.account()
    level2 = crm.invoice(account, AS_OF - timedelta(days=70), AS_OF - timedelta(days=40), 1000.0)
    level3 = crm.invoice(account, AS_OF - timedelta(days=80), AS_OF - timedelta(days=50), 2000.0, paid=500.0)
    crm.invoice(account, AS_OF - timedelta(days=5), AS_OF + timedelta(days=25), 300.0)
    crm.invoice(account, AS_OF - timedelta(days=90), AS_OF - timedelta(days=60), 400.0, paid=400.0)  # settled
    summary = receivables.receivables_by_account(session, as_of=AS_OF)[account.id]
    assert summary.total_open == 1000 + 1500 + 300 and summary.overdue == 2500
    assert summary.buckets["31-60"] == 2500 and summary.buckets["not_due"] == 300
    by_id = {i.invoice_id: i for i in summary.invoices}
    two = by_id[level2.id]
    assert (two.due_dunning_level, two.fee, two.consult_kam, two.default_interest) == (2, 40.0, True, 0.0)
    three = by_id[level3.id]
    assert three.due_dunning_level == 3
    assert three.default_interest == pytest.approx(round(1500 * (0.0127 + 0.09) * 50 / 365, 2))  # 21.10


def test_bucket_edges() -> None:
    bounds = [0, 30, 60, 90]
    assert [receivables.ageing_bucket(d, bounds) for d in (-3, 0, 1, 30, 31, 60, 61, 90, 91)] == [
        "not_due", "not_due", "1-30", "1-30", "31-60", "31-60", "61-90", "61-90", ">90"]


# --- health --------------------------------------------------------------------------------------
def test_health_is_worst_first_with_reasons(crm: Crm, session: Session) -> None:
    account = crm.account()
    crm.escalation(account, AS_OF - timedelta(days=30))
    crm.contract(account, contract_type="nda", status="pending")
    report = health.account_health(session, account.id, as_of=AS_OF)
    assert report.status == "breach"
    assert report.reasons[0].status == "breach"
    rules = {r.rule for r in report.reasons}
    assert {"escalations_open_days", "nda_status"} <= rules
    ranks = [r.status for r in report.results]
    assert ranks.index("breach") < ranks.index("ok")


# --- planted situations in the demo data ---------------------------------------------------------
def test_planted_situations_are_found(demo_db: str) -> None:
    from core.db.session import get_engine

    with Session(get_engine(demo_db)) as session:
        results = kpis.compute(session, as_of=AS_OF)
        def status(account_id: str, rule: str) -> tuple[float | None, str]:
            r = next(r for r in results[account_id] if r.rule == rule)
            return r.value, r.status

        value, verdict = status("A-00001", "call_off_rate")
        assert verdict == "breach" and round(value, 2) == 0.62
        value, verdict = status("A-00002", "otif")
        assert verdict == "breach" and round(value, 2) == 0.93
        assert credit.credit_position(session, "A-00003", as_of=AS_OF).status == "breach"
        dunned = [i for i in receivables.open_invoices(session, as_of=AS_OF, account_ids=["A-00004"])
                  if i.recorded_dunning_level == 2]
        assert dunned and dunned[0].due_dunning_level == 2 and dunned[0].consult_kam
        value, verdict = status("A-00005", "escalations_open_days")
        assert verdict == "breach" and value == 20
        assert any(r.rule == "nda_status" for r in health.account_health(session, "A-00006", as_of=AS_OF).reasons)
        # the healthy majority is not flagged for the planted rules
        assert status("A-00009", "call_off_rate")[1] != "breach"


# --- policy files --------------------------------------------------------------------------------
def test_policy_files_load() -> None:
    policies = load_policies()
    assert policies.kpis.otif.target == 0.98 and policies.kpis.call_off_rate.target == 0.70


def _policy_copy(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    target.mkdir()
    for path in POLICY_DIR.glob("*.yaml"):
        (target / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return target


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("kpis.yaml", "target: 0.98", "target: high", "kpis.yaml: otif.target: Input should be a valid number"),
    ("margins.yaml", "min_margin: 0.18", "min_margin: 0.30", "default: Value error, target_margin must not be below"),
    ("receivables.yaml", "level_2_after_days: 30", "level_2_after_days: 3", "dunning levels must start after"),
    ("credit.yaml", "approval_role: head_of_sales", "approval_rol: x", "credit.yaml: approval_rol: Extra inputs"),
    ("replenishment.yaml", "demand_weeks: 12", "demand_weeks: [12", "not valid YAML"),
])
def test_policy_file_errors_name_file_key_and_problem(tmp_path: Path, file: str, old: str, new: str,
                                                      message: str) -> None:
    directory = _policy_copy(tmp_path)
    path = directory / file
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PolicyFileError) as info:
        load_policies(directory)
    assert message in info.value.message
    assert file in info.value.message


def test_missing_policy_file(tmp_path: Path) -> None:
    directory = _policy_copy(tmp_path)
    (directory / "credit.yaml").unlink()
    with pytest.raises(PolicyFileError, match=r"credit\.yaml: policy file is missing"):
        load_policies(directory)
