"""What every graph receives through LangGraph's runtime context: the LLM gateway, the principal and the
as-of date of the run. Never globals, never built inside a node."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.access import Principal
from core.llm import LlmGateway


@dataclass(frozen=True)
class AgentContext:
    principal: Principal
    as_of: date
    gateway: LlmGateway | None = None  # None: the deterministic path only (no endpoint, or switched off)
