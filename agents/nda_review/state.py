"""The review graph's state and its runtime context (checkpointed as JSON-compatible values)."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypedDict

from agents.context import AgentContext

LlmMode = Literal["off", "uncertain", "all"]


class ReviewInput(TypedDict):
    review_id: str
    file_name: str
    account_id: str | None
    document: dict[str, Any]  # the extracted document (text, page starts, format), read and stored at upload


class ReviewState(ReviewInput, total=False):
    facts: dict[str, Any]  # policies.nda.NdaFacts as JSON
    questions: list[dict[str, Any]]  # what the LLM is asked: rule and the clauses it sees
    nli: dict[str, Any]
    judgement: dict[str, Any]
    report: dict[str, Any]
    usage: Annotated[list[dict[str, Any]], operator.add]  # every LLM call of the run, for the audit trail


@dataclass(frozen=True)
class ReviewContext(AgentContext):
    llm_mode: LlmMode = "uncertain"  # which rules the LLM reads: none, the ones the patterns are unsure of, all
    nli_llm: bool = False  # ask the LLM whether the text states hypotheses the classifier is unsure of (see README)
