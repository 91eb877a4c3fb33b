"""The chat graph's state (one thread per conversation, checkpointed) and its runtime context."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from agents.context import AgentContext


class ChatInput(TypedDict):
    question: str


class ChatState(ChatInput, total=False):
    turns: Annotated[list[dict[str, Any]], operator.add]  # schemas.Turn: the conversation so far
    account_id: str | None  # the account the conversation is about (a follow-up need not name it again)
    language: str
    last_question: str | None  # the question the last answer answered (a follow-up may ask it again)
    pending: str | None  # the question a question back was asked about; the next reply may answer it
    calls: list[dict[str, Any]]  # schemas.ToolCall planned for this question
    evidence: list[dict[str, Any]]  # schemas.Evidence found by the tools, numbered in this order
    steps: list[dict[str, Any]]  # schemas.ToolStep
    answer: dict[str, Any]  # schemas.Answer of this question


@dataclass(frozen=True)
class ChatContext(AgentContext):
    default_language: str = "en"  # the reader's language when the question does not tell
