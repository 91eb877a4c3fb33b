"""Margins (DB I) against the corridor the policy sets, and the price check for a proposal.

line margin = (price − cost) ÷ price; aggregate margin = Σ(price − cost)·qty ÷ Σ price·qty.
price floor = cost ÷ (1 − min_margin); below it a proposal needs the policy's approval role.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import models as m
from core.db.repository import get_account, get_article
from core.errors import InvalidInput
from core.facts import Fact, facts_of_dataclass
from policies.config import Corridor, MarginPolicy, get_policies
from policies.periods import parse_period
from policies.results import RuleResult, Status, pct, ratio, role_label
from policies.sql import for_accounts, rows_by_account


def line_margin(price: float, cost: float) -> float | None:
    return ratio(price - cost, price) if price > 0 else None


def aggregate_margin(revenue: float, cost: float) -> float | None:
    return ratio(revenue - cost, revenue) if revenue > 0 else None


def price_floor(cost: float, min_margin: float) -> float:
    return cost / (1 - min_margin)


def corridor_status(margin: float | None, corridor: Corridor) -> Status:
    if margin is None:
        return "not_enough_data"
    if margin < corridor.min_margin:
        return "breach"
    return "warn" if margin < corridor.target_margin else "ok"


def _margin_result(subject: str, rule: str, revenue: float, cost: float, corridor: Corridor, policy: MarginPolicy,
                   inputs: dict[str, object]) -> RuleResult:
    margin = aggregate_margin(revenue, cost)
    status = corridor_status(margin, corridor)
    return RuleResult(
        rule=rule, subject=subject, value=None if margin is None else round(margin, 6),
        threshold=corridor.min_margin, status=status, policy_version=policy.version, unit="ratio",
        explanation=f"(revenue {revenue:,.2f} − cost {cost:,.2f}) ÷ revenue {revenue:,.2f} = {pct(margin)}; "
                    f"corridor min {pct(corridor.min_margin)}, target {pct(corridor.target_margin)}",
        inputs={**inputs, "revenue": round(revenue, 2), "cost": round(cost, 2),
                "min_margin": corridor.min_margin, "target_margin": corridor.target_margin},
        actions=(f"price review; any new price below the floor needs {role_label(policy.approval_role)} approval",)
        if status == "breach" else (), direction="higher",
    )


def account_margins(session: Session, account_id: str, *, as_of: date, period: str | None = None,
                    policy: MarginPolicy | None = None) -> list[RuleResult]:
    """The account's margin and each article's, over the period (order lines not cancelled)."""
    policy = policy or get_policies().margins
    account = get_account(session, account_id)
    parsed = parse_period(period, as_of)
    rows = session.execute(
        select(m.Article.id, m.Article.product_group, m.Article.part_number,
               func.sum(m.OrderLine.qty * m.OrderLine.unit_price), func.sum(m.OrderLine.qty * m.OrderLine.unit_cost))
        .join(m.OrderLine, m.OrderLine.article_id == m.Article.id)
        .join(m.Order, m.Order.id == m.OrderLine.order_id)
        .where(m.OrderLine.account_id == account_id, m.OrderLine.status != "cancelled",
               m.Order.order_date.between(parsed.start, parsed.end))
        .group_by(m.Article.id, m.Article.product_group, m.Article.part_number)
        .order_by(m.Article.id)
    ).all()
    base = {"account_id": account_id, "period": parsed.label, "from": parsed.start.isoformat(),
            "to": parsed.end.isoformat(), "currency": account.currency}
    total_revenue = sum(r[3] or 0.0 for r in rows)
    total_cost = sum(r[4] or 0.0 for r in rows)
    results = [_margin_result(account_id, "account_margin", total_revenue, total_cost,
                              policy.corridor_for(account.segment, None), policy,
                              {**base, "segment": account.segment})]
    for article_id, group, part_number, revenue, cost in rows:
        results.append(_margin_result(f"{account_id}/{article_id}", "article_margin", revenue or 0.0, cost or 0.0,
                                      policy.corridor_for(account.segment, group), policy,
                                      {**base, "article_id": article_id, "part_number": part_number,
                                       "segment": account.segment, "product_group": group}))
    return results


def account_level_margins(session: Session, *, as_of: date, period: str | None = None,
                          account_ids: Sequence[str] | None = None,
                          policy: MarginPolicy | None = None) -> dict[str, RuleResult]:
    """Each account's margin over the period against its segment corridor, in one SQL aggregation."""
    policy = policy or get_policies().margins
    parsed = parse_period(period, as_of)
    sums = rows_by_account(session, for_accounts(
        select(m.OrderLine.account_id, func.sum(m.OrderLine.qty * m.OrderLine.unit_price),
               func.sum(m.OrderLine.qty * m.OrderLine.unit_cost))
        .join(m.Order, m.Order.id == m.OrderLine.order_id)
        .where(m.OrderLine.status != "cancelled", m.Order.order_date.between(parsed.start, parsed.end))
        .group_by(m.OrderLine.account_id), m.OrderLine.account_id, account_ids))
    accounts = session.execute(for_accounts(select(m.Account.id, m.Account.segment, m.Account.currency),
                                            m.Account.id, account_ids)).all()
    results = {}
    for account_id, segment, currency in accounts:
        revenue, cost = sums.get(account_id, (0.0, 0.0))
        results[account_id] = _margin_result(
            account_id, "account_margin", revenue or 0.0, cost or 0.0, policy.corridor_for(segment, None),
            policy, {"account_id": account_id, "period": parsed.label, "from": parsed.start.isoformat(),
                             "to": parsed.end.isoformat(), "currency": currency, "segment": segment})
    return results


@dataclass(frozen=True)
class PriceCheck:
    status: Status
    needs_approval: str | None
    unit_cost: float
    proposed_price: float
    qty: int
    margin: float | None
    floor_price: float
    target_price: float
    headroom_per_unit: float  # proposed − floor (negative: below the floor)
    headroom_total: float
    headroom_points: float  # (margin − min_margin) in percentage points
    min_margin: float
    target_margin: float
    policy_version: str
    explanation: str

    def facts(self, subject: str) -> list[Fact]:
        return facts_of_dataclass(f"price_check.{subject}", self, source=f"policies.margins {self.policy_version}",
                                  subject=subject, metrics={
                                      "margin": "line_margin", "min_margin": "min_margin",
                                      "target_margin": "target_margin", "floor_price": "floor_price",
                                      "proposed_price": "proposed_price"},
                                  units={"margin": "ratio", "min_margin": "ratio", "target_margin": "ratio",
                                         "headroom_points": "points", "qty": "qty",
                                         **dict.fromkeys(("unit_cost", "proposed_price", "floor_price", "target_price",
                                                          "headroom_per_unit", "headroom_total"), "currency")})


def check_price(unit_cost: float, proposed_price: float, qty: int, corridor: Corridor, policy: MarginPolicy,
                ) -> PriceCheck:
    if not math.isfinite(proposed_price) or proposed_price <= 0:
        raise InvalidInput("proposed price must be a positive, finite number")
    if not math.isfinite(unit_cost) or unit_cost < 0 or qty <= 0:
        raise InvalidInput("unit cost must not be negative and quantity must be positive")
    margin = line_margin(proposed_price, unit_cost)
    floor = price_floor(unit_cost, corridor.min_margin)
    target = price_floor(unit_cost, corridor.target_margin)
    status = corridor_status(margin, corridor)
    headroom = proposed_price - floor
    points = ((margin or 0.0) - corridor.min_margin) * 100
    return PriceCheck(
        status=status, needs_approval=policy.approval_role if status == "breach" else None,
        unit_cost=unit_cost, proposed_price=proposed_price, qty=qty,
        margin=None if margin is None else round(margin, 6), floor_price=round(floor, 4),
        target_price=round(target, 4), headroom_per_unit=round(headroom, 4), headroom_total=round(headroom * qty, 2),
        headroom_points=round(points, 2), min_margin=corridor.min_margin, target_margin=corridor.target_margin,
        policy_version=policy.version,
        explanation=f"margin ({proposed_price:,.4f} − {unit_cost:,.4f}) ÷ {proposed_price:,.4f} = {pct(margin)}; "
                    f"floor {unit_cost:,.4f} ÷ (1 − {corridor.min_margin:g}) = {floor:,.4f}; "
                    f"headroom {headroom:,.4f} per unit × {qty} = {headroom * qty:,.2f}",
    )


def check_article_price(session: Session, article_id: str, proposed_price: float, qty: int,
                        *, unit_cost: float | None = None, policy: MarginPolicy | None = None) -> PriceCheck:
    """Price check for an article of an account: corridor from the account's segment and the product group."""
    policy = policy or get_policies().margins
    article = get_article(session, article_id)
    account = get_account(session, article.account_id)
    corridor = policy.corridor_for(account.segment, article.product_group)
    return check_price(article.unit_cost if unit_cost is None else unit_cost, proposed_price, qty, corridor, policy)
