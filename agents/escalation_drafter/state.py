"""The drafting graph's state and runtime context (checkpointed as JSON-compatible values)."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypedDict

from agents.context import AgentContext

LlmMode = Literal["sentence", "mail"]


class DraftInput(TypedDict):
    draft_id: str
    trigger: dict[str, Any]  # schemas.Trigger, found by the scan
    audience: str  # customer | internal


class DraftState(DraftInput, total=False):
    as_of: str  # ISO date of the run (the as-of date is no event date in the mail)
    sender: dict[str, Any]  # schemas.Recipient: the KAM who signs
    recipient: dict[str, Any]
    currency: str
    dates: list[str]  # proposed meeting dates (ISO)
    notes: list[str]  # the account's last notes, for the model's personal sentence
    clauses: list[dict[str, Any]]  # knowledge.clauses.ClauseRef: the contract clauses behind the breach
    internal: list[dict[str, Any]]  # figures a customer must not see: the account's limits and margin
    mail: dict[str, Any]  # schemas.Mail as it stands for review
    prose_source: str
    personal_sentence: str | None
    fallback_reason: str | None
    usage: Annotated[list[dict[str, Any]], operator.add]
    check_record: list[dict[str, Any]]  # the model's rounds and each sentence's verdict
    failures: list[str]  # what the checks found in the last edit
    decision: dict[str, Any]  # schemas.Decision
    status: str  # in_review | approved | rejected


@dataclass(frozen=True)
class DraftContext(AgentContext):
    # "sentence": the reviewed template plus the model's checked sentence (the embedded default);
    # "mail": the model writes the whole mail under the same checks (a stronger configured endpoint)
    llm_mode: LlmMode = "sentence"
