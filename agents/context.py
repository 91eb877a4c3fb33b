"""What every graph receives through LangGraph's runtime context: the principal, the as-of date of the run
and how to reach the LLM. Never globals, never a client built inside a node.

The context is a plain value, so a run can be started from JSON too (LangGraph Server passes the ``context``
of a run request as a dict): ``principal`` and ``as_of`` are coerced, and ``llm="configured"`` resolves to
the process's configured gateway inside the graph. In the service and in tests a gateway object is injected
directly (``gateway=``); it wins over ``llm``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from core.access import Principal
from core.llm import LlmGateway
from core.settings import Settings, get_settings

LlmChoice = Literal["configured", "off"]


@lru_cache(maxsize=1)
def configured_gateway() -> LlmGateway:
    """The gateway of the configured endpoint (or the embedded server, started on the first call), one per
    process."""
    from core.llm.runtime import LlmRuntime

    return LlmRuntime(get_settings()).lazy_gateway()


@dataclass(frozen=True)
class AgentContext:
    principal: Principal
    as_of: date
    gateway: LlmGateway | None = field(default=None, repr=False, compare=False)  # injected in-process
    llm: LlmChoice = "off"  # the serialisable choice: "configured" → the process's gateway, resolved in the graph
    # where the run reads from: the caller's database and data directory (default: the process settings)
    database_url: str | None = None
    data_dir: str | None = None

    def __post_init__(self) -> None:
        raw: Any = self.principal
        if isinstance(raw, dict):
            object.__setattr__(self, "principal", Principal.model_validate(raw))
        if isinstance(self.as_of, str):
            object.__setattr__(self, "as_of", date.fromisoformat(self.as_of))

    def llm_gateway(self) -> LlmGateway | None:
        """The gateway this run may use; None: the deterministic path only (no endpoint, or switched off)."""
        if self.gateway is not None:
            return self.gateway
        return configured_gateway() if self.llm == "configured" else None

    def settings(self) -> Settings:
        settings = get_settings()
        update: dict[str, Any] = {}
        if self.database_url:
            update["database_url"] = self.database_url
        if self.data_dir:
            update["data_dir"] = Path(self.data_dir)
        return settings.model_copy(update=update) if update else settings
