"""Gather a brief's facts for many accounts at once: the CRM history and every rule module, one ``as_of``.

Batched on purpose: the nightly run computes the facts of every account with a fixed number of queries (the
rule modules aggregate in SQL), so the deterministic part costs milliseconds per account.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.account_brief.schemas import (
    BriefFacts,
    ContactInfo,
    DocumentItem,
    EscalationItem,
    InteractionItem,
    KpiLight,
    MeetingInfo,
    OpportunityItem,
    OrderItem,
    Person,
    ReorderItem,
    Trend,
    TrendPoint,
)
from core.calendar import add_months, month_key, month_start
from core.db import models as m
from knowledge.store import recent_documents
from policies import kpis, margins, replenishment
from policies.config import get_policies
from policies.health import health
from policies.periods import parse_period
from policies.sql import for_accounts

RECENT_INTERACTIONS = 5
ORDER_DAYS = 90
TREND_MONTHS = 12
NOTE_CHARS = 400
RECENT_DOCUMENTS = 8
DOCUMENT_TYPES = ("contract", "document", "mail")  # notes are the interactions already


def _months(as_of: date) -> list[str]:
    """The last complete months before ``as_of``, oldest first."""
    first = add_months(month_start(as_of), -TREND_MONTHS)
    return [month_key(add_months(first, i)) for i in range(TREND_MONTHS)]


def trends(session: Session, as_of: date, accounts: list[str]) -> dict[str, list[Trend]]:
    """12 months of call-off rate, OTIF, revenue and margin per account (the costly part of the facts: the
    nightly run computes it only for the accounts whose brief is written)."""
    policies = get_policies()
    series: dict[str, dict[str, list[TrendPoint]]] = defaultdict(lambda: defaultdict(list))
    thresholds: dict[str, float | None] = {"call_off_rate": policies.kpis.call_off_rate.target,
                                           "otif": policies.kpis.otif.target, "revenue": None, "margin": None}
    ids = None if len(accounts) > 500 else accounts  # a long IN list costs more than aggregating everything
    for month in _months(as_of):
        ctx = kpis.KpiContext(session, parse_period(month, as_of), policies.kpis, ids, list_ids=False)
        by_rule = {(r.rule, r.subject): r.value for fn in (kpis.call_off_rate, kpis.otif) for r in fn(ctx, accounts)}
        level = margins.account_level_margins(session, period=month, as_of=as_of, account_ids=ids,
                                              policy=policies.margins)
        for account in accounts:
            for rule in ("call_off_rate", "otif"):
                series[account][rule].append(TrendPoint(month=month, value=by_rule.get((rule, account))))
            result = level.get(account)
            revenue = float(result.inputs.get("revenue", 0.0)) if result else 0.0
            series[account]["revenue"].append(TrendPoint(month=month, value=round(revenue, 2)))
            series[account]["margin"].append(TrendPoint(month=month, value=result.value if result else None))
    units = {"call_off_rate": "ratio", "otif": "ratio", "revenue": "currency", "margin": "ratio"}
    return {a: [Trend(metric=k, unit=units[k], threshold=thresholds[k], points=v)
                for k, v in series[a].items()] for a in accounts}


def documents(data_dir: Path | None, as_of: date, account_ids: Sequence[str] | None
              ) -> dict[str, list[DocumentItem]]:
    """Each account's newest contracts, documents and mails in the knowledge store, up to ``as_of``."""
    if data_dir is None:
        return {}
    return {account: [DocumentItem(id=r["doc_id"], title=r["title"], type=r["doc_subtype"],
                                   date=date.fromisoformat(r["day"]), content_hash=r["content_hash"][:16])
                      for r in rows]
            for account, rows in recent_documents(data_dir, account_ids, DOCUMENT_TYPES, as_of,
                                                  RECENT_DOCUMENTS).items()}


def gather(session: Session, *, as_of: date, account_ids: Sequence[str] | None = None,
           with_trends: bool = True, data_dir: Path | None = None) -> dict[str, BriefFacts]:
    """The facts of each account (default: all), as of ``as_of``; with the knowledge store's documents when
    ``data_dir`` is given."""
    accounts_q = select(m.Account).order_by(m.Account.id)
    if account_ids is not None:
        accounts_q = accounts_q.where(m.Account.id.in_(list(account_ids)))
    accounts = list(session.execute(accounts_q).scalars())
    ids = [a.id for a in accounts]
    if not ids:
        return {}
    scope = None if account_ids is None else ids
    users = {u.id: u for u in session.execute(select(m.User)).scalars()}
    rolled = health(session, as_of=as_of, account_ids=scope)

    contacts: dict[str, list[ContactInfo]] = defaultdict(list)
    for c in session.execute(for_accounts(select(m.Contact).where(m.Contact.is_relevant.is_(True))
                                          .order_by(m.Contact.id), m.Contact.account_id, scope)).scalars():
        contacts[c.account_id].append(ContactInfo(id=c.id, name=c.name, role=c.role, language=c.language))

    meetings: dict[str, MeetingInfo] = {}
    for mt in session.execute(for_accounts(select(m.Meeting).where(m.Meeting.planned_date >= as_of)
                                           .order_by(m.Meeting.planned_date.desc()), m.Meeting.account_id,
                                           scope)).scalars():
        meetings[mt.account_id] = MeetingInfo(id=mt.id, date=mt.planned_date, title=mt.title,
                                              attendees=[a.strip() for a in mt.attendees.split(";") if a.strip()])

    ranked = select(m.Interaction, func.row_number().over(
        partition_by=m.Interaction.account_id,
        order_by=(m.Interaction.interaction_date.desc(), m.Interaction.id.desc())).label("n")).where(
        m.Interaction.interaction_date <= as_of)
    sub = for_accounts(ranked, m.Interaction.account_id, scope).subquery()
    interactions: dict[str, list[InteractionItem]] = defaultdict(list)
    for row in session.execute(select(sub).where(sub.c.n <= RECENT_INTERACTIONS)
                               .order_by(sub.c.account_id, sub.c.interaction_date.desc(), sub.c.id.desc())):
        interactions[row.account_id].append(InteractionItem(
            id=row.id, date=row.interaction_date, type=row.interaction_type, user_id=row.user_id,
            note=row.note[:NOTE_CHARS]))

    escalations: dict[str, list[EscalationItem]] = defaultdict(list)
    for e in session.execute(for_accounts(select(m.Escalation).where(
            m.Escalation.opened_on <= as_of,
            (m.Escalation.closed_on.is_(None)) | (m.Escalation.closed_on > as_of)).order_by(m.Escalation.opened_on),
            m.Escalation.account_id, scope)).scalars():
        escalations[e.account_id].append(EscalationItem(id=e.id, opened_on=e.opened_on,
                                                        age_days=(as_of - e.opened_on).days, cause=e.cause,
                                                        documented=e.documented))

    orders: dict[str, list[OrderItem]] = defaultdict(list)
    value = func.sum(m.OrderLine.qty * m.OrderLine.unit_price)
    for row in session.execute(for_accounts(
            select(m.Order.id, m.Order.account_id, m.Order.order_date, value)
            .join(m.OrderLine, m.OrderLine.order_id == m.Order.id)
            .where(m.Order.order_date.between(as_of - timedelta(days=ORDER_DAYS), as_of),
                   m.Order.status != "cancelled")
            .group_by(m.Order.id, m.Order.account_id, m.Order.order_date)
            .order_by(m.Order.order_date.desc(), m.Order.id), m.Order.account_id, scope)):
        orders[row[1]].append(OrderItem(id=row[0], date=row[2], value=round(float(row[3] or 0.0), 2)))

    opportunities: dict[str, list[OpportunityItem]] = defaultdict(list)
    for o in session.execute(for_accounts(select(m.Opportunity).where(
            m.Opportunity.status != "lost", m.Opportunity.identified_on <= as_of)
            .order_by(m.Opportunity.identified_on.desc()), m.Opportunity.account_id, scope)).scalars():
        opportunities[o.account_id].append(OpportunityItem(id=o.id, kind=o.kind, title=o.title, status=o.status,
                                                           value=o.value, identified_on=o.identified_on))

    reorders: dict[str, list[ReorderItem]] = defaultdict(list)
    for line in replenishment.replenishment(session, as_of=as_of, account_ids=scope, only_reorder=True):
        reorders[line.account_id].append(ReorderItem(
            article_id=line.article_id, part_number=line.part_number, description=line.description,
            coverage_weeks=None if line.coverage_weeks is None else round(line.coverage_weeks, 1),
            proposed_qty=line.proposed_qty, empty=line.empty))

    series = trends(session, as_of, ids) if with_trends else {}
    filed = documents(data_dir, as_of, scope)

    def person(user_id: str | None) -> Person | None:
        user = users.get(user_id or "")
        return Person(id=user.id, name=user.name) if user else None

    out = {}
    for a in accounts:
        rolled_up = rolled.get(a.id)
        lights = [KpiLight(rule=r.rule, value=r.value, threshold=r.threshold, unit=r.unit, status=r.status,
                           period=str(r.inputs.get("period")) if r.inputs.get("period") else None,
                           direction=r.direction,
                           inputs={k: v for k, v in r.inputs.items()
                                   if isinstance(v, int | float | str) or v is None})
                  for r in (rolled_up.results if rolled_up else [])]
        out[a.id] = BriefFacts(
            account_id=a.id, name=a.name, segment=a.segment, industry=a.industry, country=a.country,
            currency=a.currency, as_of=as_of, owner=person(a.owner_kam_id) or Person(id=a.owner_kam_id, name=""),
            partner=person(a.inside_sales_id), next_meeting=meetings.get(a.id), contacts=contacts[a.id],
            kpis=lights, trends=series.get(a.id, []), interactions=interactions[a.id],
            escalations=escalations[a.id], orders=orders[a.id], opportunities=opportunities[a.id],
            reorders=reorders[a.id], documents=filed.get(a.id, []))
    return out
