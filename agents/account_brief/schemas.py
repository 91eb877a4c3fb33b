"""The brief: deterministic facts (what code computed, each with the id a statement cites) and what is
written from them (templates, and a short LLM summary that code verified)."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from core.i18n import Language
from knowledge.clauses import ClauseRef
from policies.labels import period_words
from policies.periods import parse_period
from policies.results import Status

BriefKind = Literal["brief", "handover"]
ProseSource = Literal["llm", "template", "fallback"]


class Person(BaseModel):
    id: str
    name: str


class ContactInfo(BaseModel):
    id: str
    name: str
    role: str
    language: str


class MeetingInfo(BaseModel):
    id: str
    date: date
    title: str
    attendees: list[str]


class KpiLight(BaseModel):
    """One rule result as the rule module computed it (value, threshold and traffic light), never by the LLM."""
    rule: str
    value: float | None
    threshold: float | None
    unit: str
    status: Status
    period: str | None = None
    direction: Literal["higher", "lower"] | None = None  # which side of the threshold is good
    inputs: dict[str, float | int | str | None] = {}  # the rule's scalar inputs, so a reason can name them

    @property
    def cite(self) -> str:
        return f"kpi:{self.rule}"


class TrendPoint(BaseModel):
    month: str  # YYYY-MM
    value: float | None


class Trend(BaseModel):
    metric: Literal["call_off_rate", "otif", "revenue", "margin"]
    unit: Literal["ratio", "currency"]
    threshold: float | None  # the policy line drawn into the chart
    points: list[TrendPoint]


class InteractionItem(BaseModel):
    id: str
    date: date
    type: str
    user_id: str | None
    note: str  # as written (any language), cut to a few hundred characters


class EscalationItem(BaseModel):
    id: str
    opened_on: date
    age_days: int
    cause: str
    documented: bool


class OrderItem(BaseModel):
    id: str
    date: date
    value: float


class OpportunityItem(BaseModel):
    id: str
    kind: str
    title: str
    status: str
    value: float
    identified_on: date


class ReorderItem(BaseModel):
    article_id: str
    part_number: str
    description: str
    coverage_weeks: float | None
    proposed_qty: int
    empty: bool


class DocumentItem(BaseModel):
    """A contract, document or mail of the account in the knowledge store (its hash shows a new version)."""
    id: str
    title: str
    type: str  # the document's subtype: framework_contract, quality_agreement, nda, eml, ...
    date: date
    content_hash: str


class BriefFacts(BaseModel):
    """Everything a brief says, computed by code for one account and one as-of date."""
    account_id: str
    name: str
    segment: str
    industry: str
    country: str
    currency: str
    as_of: date
    owner: Person
    partner: Person | None
    next_meeting: MeetingInfo | None
    contacts: list[ContactInfo]
    kpis: list[KpiLight]
    trends: list[Trend]
    interactions: list[InteractionItem]  # newest first
    escalations: list[EscalationItem]  # open ones
    orders: list[OrderItem]  # the last 90 days, newest first
    opportunities: list[OpportunityItem]  # recorded, not lost
    reorders: list[ReorderItem]
    documents: list[DocumentItem] = Field(default_factory=list)  # newest first; briefs stored before had none

    def input_hash(self) -> str:
        """Digest of the facts at the precision a brief shows them: an account whose brief would read the same
        as its last one is skipped (a pro-rated yearly target that moves by 0.01 a day changes nothing)."""
        def shown(value: float | None, unit: str) -> float | None:
            return None if value is None else round(value, {"ratio": 3, "count": 0}.get(unit, 1))

        body = self.model_dump(mode="json", exclude={"as_of", "kpis", "trends"})
        body["kpis"] = [(k.rule, k.status, shown(k.value, k.unit), shown(k.threshold, k.unit)) for k in self.kpis]
        # the trends are months already closed: they move when a month closes (every account then changes),
        # so their window stands in for them and the nightly run computes them only for briefs it writes
        body["trend_window"] = (self.as_of.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def kpi(self, rule: str) -> KpiLight | None:
        return next((k for k in self.kpis if k.rule == rule), None)

    def citable(self) -> set[str]:
        """Every id a statement may cite."""
        return ({f"kpi:{k.rule}" for k in self.kpis} | {f"interaction:{i.id}" for i in self.interactions}
                | {f"escalation:{e.id}" for e in self.escalations} | {f"order:{o.id}" for o in self.orders}
                | {f"opportunity:{p.id}" for p in self.opportunities}
                | {f"article:{r.article_id}" for r in self.reorders}
                | {f"contact:{c.id}" for c in self.contacts} | {f"document:{d.id}" for d in self.documents}
                | ({f"meeting:{self.next_meeting.id}"} if self.next_meeting else set()))


class Statement(BaseModel):
    text: str
    cites: list[str] = Field(default_factory=list)  # ids of facts, interactions, chunks
    suggestion: bool = False  # a suggestion of the system, not something recorded in the CRM
    quote: str | None = None  # verbatim from the one cited note: checked as a quote, its figures are the note's


class Brief(BaseModel):
    account_id: str
    brief_date: date
    kind: BriefKind
    language: Language
    facts: BriefFacts
    summary: list[Statement]
    prose_source: ProseSource  # llm: the model's summary passed every check; fallback: it did not, template used
    fallback_reason: str | None = None
    changes: list[Statement]
    risks: list[Statement]
    opportunities: list[Statement]
    talking_points: list[Statement]
    handover: list[Statement] = Field(default_factory=list)  # what the person taking over must know
    clauses: list[ClauseRef] = Field(default_factory=list)
    input_hash: str
    model: str | None = None
    prompt_version: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # the model's rounds: what it wrote and each sentence's verdict (why a fallback was used)
    check_record: list[dict[str, Any]] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def period(self) -> str:
        """The KPIs' period with its dates, in the brief's language ("R12: 01.11.2025 – 31.10.2026")."""
        return period_words(parse_period(None, self.facts.as_of), self.language)

    def statements(self) -> list[Statement]:
        return [*self.summary, *self.changes, *self.risks, *self.opportunities, *self.talking_points,
                *self.handover]
