"""End-to-end: start the real embedded llama.cpp server and get a structured answer (runs in CI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from core.llm.embedded import is_healthy
from core.llm.runtime import LlmRuntime
from core.settings import Settings

pytestmark = pytest.mark.e2e


class Delivery(BaseModel):
    article: str = Field(max_length=30)
    days_late: int = Field(ge=0, le=365)


def test_embedded_server_starts_answers_structured_and_stops(tmp_path: Path) -> None:
    runtime = LlmRuntime(Settings(data_dir=tmp_path))
    with runtime:
        base_url = runtime.base_url
        assert base_url and base_url.startswith("http://127.0.0.1:")
        gateway = runtime.gateway()
        answer = gateway.structured(
            [SystemMessage(content="Extract the article number and how many days late the delivery was."),
             HumanMessage(content="Lieferung für Artikel 946.6947-02 kam 5 Tage zu spät.")],
            Delivery,
        ).value
        assert answer.days_late == 5
        assert "946" in answer.article
        status = runtime.status(measure=False)
        assert status["healthy"] is True and status["embedded"] is True
    assert not is_healthy(base_url)
