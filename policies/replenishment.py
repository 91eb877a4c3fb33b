"""Replenishment ("Replenish dashboard"): which articles must be re-ordered now, and how many.

weekly demand = call-offs of the last N weeks ÷ N
coverage weeks = stock on hand ÷ weekly demand
re-order when coverage < lead time + safety weeks; proposed qty = demand × (lead time + horizon) − stock
Articles already empty come first, then the shortest coverage relative to lead time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import models as m
from policies.config import ReplenishmentPolicy, get_policies
from policies.sql import for_accounts


def weekly_demand(called_off_qty: float, weeks: int) -> float:
    return called_off_qty / weeks


def coverage_weeks(stock: float, demand_per_week: float) -> float | None:
    """None when there is no demand (stock never runs out)."""
    return None if demand_per_week <= 0 else stock / demand_per_week


def reorder_qty(stock: float, demand_per_week: float, lead_time_weeks: float, horizon_weeks: float) -> int:
    return max(0, math.ceil(demand_per_week * (lead_time_weeks + horizon_weeks) - stock))


@dataclass(frozen=True)
class ReplenishmentLine:
    article_id: str
    account_id: str
    part_number: str
    description: str
    stock_on_hand: int
    safety_stock: int
    weekly_demand: float
    coverage_weeks: float | None
    lead_time_weeks: int
    reorder_point_weeks: float
    empty: bool
    reorder: bool
    proposed_qty: int
    policy_version: str
    explanation: str


def replenishment(session: Session, *, as_of: date, account_ids: Sequence[str] | None = None,
                  only_reorder: bool = False, policy: ReplenishmentPolicy | None = None) -> list[ReplenishmentLine]:
    policy = policy or get_policies().replenishment
    since = as_of - timedelta(weeks=policy.demand_weeks) + timedelta(days=1)
    demand = for_accounts(
        select(m.CallOff.article_id, func.sum(m.CallOff.qty).label("qty"))
        .where(m.CallOff.call_off_date.between(since, as_of)).group_by(m.CallOff.article_id),
        m.CallOff.account_id, account_ids).subquery()
    rows = session.execute(for_accounts(
        select(m.Article, func.coalesce(demand.c.qty, 0)).outerjoin(demand, demand.c.article_id == m.Article.id),
        m.Article.account_id, account_ids)).all()
    lines = []
    for article, called in rows:
        per_week = weekly_demand(called, policy.demand_weeks)
        coverage = coverage_weeks(article.stock_on_hand, per_week)
        point = article.lead_time_weeks + policy.safety_weeks
        empty = article.stock_on_hand <= 0
        reorder = (empty and per_week > 0) or (coverage is not None and coverage < point)
        qty = (reorder_qty(article.stock_on_hand, per_week, article.lead_time_weeks, policy.horizon_weeks)
               if reorder else 0)
        cover_text = "no demand" if coverage is None else f"{coverage:.1f} weeks"
        lines.append(ReplenishmentLine(
            article_id=article.id, account_id=article.account_id, part_number=article.part_number,
            description=article.description, stock_on_hand=article.stock_on_hand, safety_stock=article.safety_stock,
            weekly_demand=round(per_week, 2), coverage_weeks=coverage,  # unrounded: a reader rounds once
            lead_time_weeks=article.lead_time_weeks, reorder_point_weeks=point, empty=empty, reorder=reorder,
            proposed_qty=qty, policy_version=policy.version,
            explanation=f"demand {called} over {policy.demand_weeks} weeks = {per_week:.1f}/week; stock "
                        f"{article.stock_on_hand} covers {cover_text} vs lead time {article.lead_time_weeks} + "
                        f"safety {policy.safety_weeks:g} = {point:g} weeks"
                        + (f"; order {qty} to cover lead time + {policy.horizon_weeks:g} weeks" if reorder else ""),
        ))
    if only_reorder:
        lines = [line for line in lines if line.reorder]

    def urgency(line: ReplenishmentLine) -> tuple[int, int, float]:
        slack = math.inf if line.coverage_weeks is None else line.coverage_weeks - line.lead_time_weeks
        return (0 if line.empty else 1, 0 if line.reorder else 1, slack)

    return sorted(lines, key=urgency)
