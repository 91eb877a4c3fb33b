"""Triggers (rule breaches found by code), the mails drafted for them, and a person's decision on a draft."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from core.facts import Fact
from core.i18n import Language

TriggerKind = Literal["call_off_rate", "otif", "escalation_overdue", "dunning", "credit_limit", "reorder"]
Audience = Literal["customer", "internal"]
ProseSource = Literal["template", "llm", "fallback"]
DraftStatus = Literal["in_review", "approved", "rejected"]


class TriggerFact(BaseModel):
    """One figure or date of a trigger as the rule module computed it. ``internal`` figures (limits, margins,
    insurer decisions) may appear in an internal mail only."""
    id: str
    value: float | date | str
    unit: str  # a core.facts unit: ratio, currency, days, qty, weeks, count, date, text
    internal: bool = False
    metric: str = ""  # the core.vocabulary name a text gives it (binds a figure to it)
    figure: Literal["value", "threshold", "input"] = "value"

    @model_validator(mode="after")
    def _dated(self) -> TriggerFact:
        if self.unit == "date" and isinstance(self.value, str):  # back from JSON (a checkpoint, a stored draft)
            self.value = date.fromisoformat(self.value)
        return self

    def as_fact(self) -> Fact:
        unit = "date" if isinstance(self.value, date) else self.unit
        return Fact(self.id, self.value, unit, "policies", self.metric, self.figure)  # type: ignore[arg-type]


class Trigger(BaseModel):
    """A rule breach that calls for a mail; ``key`` identifies it (kind, account, subject, period), so the same
    breach is drafted once."""
    key: str
    kind: TriggerKind
    account_id: str
    account_name: str
    subject: str  # the account, an invoice, an article
    period: str | None = None
    severity: Literal["high", "medium"]
    audiences: list[Audience]  # who a mail about it may go to (a credit limit is never the customer's business)
    facts: list[TriggerFact]
    explanation: str  # the rule module's formula with the figures, for the reviewer
    actions: list[str] = Field(default_factory=list)  # what the policy requires next
    direction: Literal["higher", "lower"] | None = None  # which side of the rule's threshold is good

    def fact(self, name: str) -> TriggerFact | None:
        return next((f for f in self.facts if f.id == name), None)

    def value(self, name: str) -> Any:
        found = self.fact(name)
        return None if found is None else found.value


class Recipient(BaseModel):
    kind: Literal["contact", "user"]
    id: str
    name: str
    email: str
    language: Language
    role: str


class Mail(BaseModel):
    subject: str = Field(min_length=3, max_length=300)
    body: str = Field(min_length=20, max_length=6000)


class MailDraft(BaseModel):
    """A drafted mail as a reviewer sees it: the text, who it is for, what it rests on and how it was written."""
    id: str
    trigger: Trigger
    audience: Audience
    language: Language
    sender: Recipient  # the KAM who signs it
    recipient: Recipient
    mail: Mail
    proposed_dates: list[date]
    prose_source: ProseSource  # template; llm: the model's sentence or mail passed the checks; fallback: it did not
    fallback_reason: str | None = None
    personal_sentence: str | None = None  # the model's one sentence from the notes, when it passed
    model: str | None = None
    prompt_version: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Decision(BaseModel):
    """A reviewer's decision: approve as it is, approve an edited text (checked again), or reject with a reason."""
    action: Literal["approve", "edit", "reject"]
    subject: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, max_length=6000)
    reason: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _complete(self) -> Decision:
        if self.action == "edit" and not (self.body or self.subject):
            raise ValueError("an edit needs the edited subject or body")
        if self.action == "reject" and not (self.reason or "").strip():
            raise ValueError("a rejection needs a reason")
        return self


class ReviewRequest(BaseModel):
    """What the graph waits on at its interrupt: the draft, and the failures of an edit that did not pass."""
    draft_id: str
    subject: str
    body: str
    recipient: str
    failures: list[str] = Field(default_factory=list)
