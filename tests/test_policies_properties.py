"""Property tests: rates stay in [0, 1], move the obvious way, and explanations recompute to the value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from core.db.models import Base
from policies import kpis
from policies.config import get_policies
from policies.margins import check_price, line_margin, price_floor
from policies.replenishment import coverage_weeks, reorder_qty
from policies.results import judge, ratio
from tests.factories import Crm

AS_OF = date(2026, 11, 26)
fractions = st.floats(min_value=0, max_value=1, allow_nan=False)


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_ratio_of_part_and_whole_is_a_rate(part: int, extra: int) -> None:
    value = ratio(part, part + extra)
    assert value is None if part + extra == 0 else 0 <= value <= 1


@given(fractions, fractions, st.floats(0, 0.2))
def test_judging_is_monotonic(a: float, b: float, margin: float) -> None:
    rank = {"breach": 0, "warn": 1, "ok": 2}
    low, high = sorted((a, b))
    assert rank[judge(low, 0.7, "higher", margin)] <= rank[judge(high, 0.7, "higher", margin)]
    assert rank[judge(high, 0.05, "lower", margin)] <= rank[judge(low, 0.05, "lower", margin)]


@given(st.floats(0.01, 1000), st.floats(0, 0.9))
def test_price_at_the_floor_has_exactly_the_minimum_margin(cost: float, min_margin: float) -> None:
    floor = price_floor(cost, min_margin)
    assert abs(line_margin(floor, cost) - min_margin) < 1e-9


@given(st.floats(0.01, 1000), st.floats(0.01, 2000), st.floats(0.01, 2000), st.integers(1, 1000))
def test_higher_price_never_worse(cost: float, p1: float, p2: float, qty: int) -> None:
    policy = get_policies().margins
    low, high = sorted((p1, p2))
    a, b = check_price(cost, low, qty, policy.default, policy), check_price(cost, high, qty, policy.default, policy)
    rank = {"breach": 0, "warn": 1, "ok": 2}
    assert rank[a.status] <= rank[b.status] and a.headroom_per_unit <= b.headroom_per_unit


def check_reorder(order: Callable[[int, float, int, int], int], stock: int, demand: float, lead: int,
                  horizon: int) -> None:
    """The proposed quantity is the smallest that covers lead time + horizon: nothing when stock already
    covers it, else just enough."""
    qty = order(stock, demand, lead, horizon)
    needed = lead + horizon
    assert qty >= 0
    if coverage_weeks(stock, demand) >= needed:  # type: ignore[operator]
        assert qty == 0
    else:
        assert coverage_weeks(stock + qty, demand) >= needed - 1e-9  # type: ignore[operator]
        assert coverage_weeks(stock + qty - 1, demand) < needed  # type: ignore[operator]


reorder_cases = (st.integers(0, 10_000), st.floats(0.1, 1000), st.integers(0, 30), st.integers(0, 30))


@given(*reorder_cases)
def test_reorder_quantity_restores_cover(stock: int, demand: float, lead: int, horizon: int) -> None:
    check_reorder(reorder_qty, stock, demand, lead, horizon)


def test_the_reorder_property_rejects_wrong_quantities() -> None:
    """The property once accepted ``qty == 0`` for everything; these implementations must fail it."""
    def fails_the_property(wrong: Callable[[int, float, int, int], int]) -> bool:
        try:
            given(*reorder_cases)(lambda s, d, lead, h: check_reorder(wrong, s, d, lead, h))()
        except (AssertionError, ExceptionGroup):  # hypothesis groups several distinct failures
            return True
        return False

    assert fails_the_property(lambda *_: 0)
    assert fails_the_property(lambda s, d, lead, h: reorder_qty(s, d, lead, h) + 5)
    assert fails_the_property(lambda s, d, lead, h: max(0, reorder_qty(s, d, lead, h) - 1))


delivery = st.tuples(st.integers(0, 88), st.integers(1, 50), st.one_of(st.none(), st.integers(-2, 5)),
                     st.integers(0, 60))


@settings(max_examples=40, deadline=None)
@given(st.lists(delivery, max_size=25))
def test_sql_otif_equals_a_plain_python_count_and_explains_itself(rows: list[tuple[int, int, int | None, int]]) -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    policy = get_policies().kpis.otif
    start = date(2026, 7, 1)
    with Session(engine) as session:
        crm = Crm(session)
        account = crm.account()
        part = crm.article(account)
        expected_good = 0
        for offset, qty, delay, delivered in rows:
            promised = start + timedelta(days=offset)
            actual = None if delay is None else promised + timedelta(days=delay)
            crm.delivery(part, promised, qty, actual, actual_qty=None if actual is None else delivered)
            on_time = actual is not None and delay <= policy.on_time_tolerance_days
            in_full = actual is not None and delivered >= qty * (1 - policy.in_full_tolerance)
            expected_good += on_time and in_full
        result = next(r for r in kpis.compute_account(session, account.id, period="2026-Q3", as_of=AS_OF)
                      if r.rule == "otif")
    assert result.inputs["deliveries_due"] == len(rows)
    assert result.inputs["on_time_in_full"] == expected_good
    if rows:
        assert 0 <= result.value <= 1
        # the inputs recompute to the value
        assert abs(result.value - result.inputs["on_time_in_full"] / result.inputs["deliveries_due"]) < 1e-6
    else:
        assert result.status == "not_enough_data"
