"""The brief graph's state and runtime context (checkpointed as JSON-compatible values)."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from agents.context import AgentContext


class BriefInput(TypedDict):
    account_id: str
    brief_date: str  # ISO date; the facts are as of this day
    kind: str  # brief | handover
    language: str  # de | en
    use_llm: bool  # whether this brief gets the model's summary (the nightly budget decides)
    facts: dict[str, Any] | None  # BriefFacts, when the caller gathered them (the nightly run does, batched)
    previous: dict[str, Any] | None  # the facts of the last brief, for "what changed"


class BriefState(BriefInput, total=False):
    clauses: list[dict[str, Any]]
    draft: list[dict[str, Any]]  # the model's sentences that passed the checks
    check_record: list[dict[str, Any]]  # each round: what the model wrote, each sentence's verdict
    prose_source: str
    fallback_reason: str | None
    usage: Annotated[list[dict[str, Any]], operator.add]
    brief: dict[str, Any]


@dataclass(frozen=True)
class BriefContext(AgentContext):
    """The platform's context (principal, as-of, LLM, database and data directory); a brief needs no more."""
