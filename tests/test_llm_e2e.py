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


def test_a_brief_written_by_the_embedded_model_passes_the_checks_or_falls_back_marked(
        demo_db: str, settings: Settings) -> None:
    """The whole brief graph on the real model: what it returns is either a summary that passes every check
    or the template's, marked with the reason; tokens and the model are recorded either way."""
    from agents.account_brief import nodes, service
    from core.access import Principal
    from core.checkpoint import open_checkpointer
    from tests.conftest import AS_OF

    with LlmRuntime(settings) as runtime, open_checkpointer(settings) as saver:
        brief = service.run_one(settings, saver, Principal.system("e2e"), "A-00001", brief_date=AS_OF,
                                language="en", gateway=runtime.gateway(), use_llm=True)
    assert brief.prose_source in ("llm", "fallback") and brief.prompt_tokens > 0 and brief.model
    if brief.prose_source == "llm":
        assert nodes.check([s.model_dump() for s in brief.summary], brief.facts, "en").ok
    else:
        assert brief.fallback_reason
        assert brief.summary == nodes.template_brief(brief.facts, None, "en", AS_OF).summary


def test_a_chat_answer_of_the_embedded_model_is_checked_and_streamed(demo_db: str, settings: Settings) -> None:
    """A German question on the real model, streamed: progress (never the model's text) arrives before the
    answer, and the answer either passes every check (each sentence's claims, sources, accounts, language) or
    is the template, with the reason."""
    from agents.chat import service as chat
    from agents.chat.nodes import check_answer, claim_context
    from agents.chat.schemas import Evidence
    from core.access import principal_for_user
    from core.checkpoint import open_checkpointer
    from core.db.session import session_scope
    from tests.conftest import AS_OF

    with session_scope(demo_db) as session:
        kam = principal_for_user(session, "U-KAM-001")
    with LlmRuntime(settings) as runtime, open_checkpointer(settings) as saver:
        events = list(chat.stream(settings, saver, kam, "Wie hoch ist die Abrufquote bei Mercer?", as_of=AS_OF,
                                  gateway=runtime.gateway()))
        state = chat._compiled(saver).get_state({"configurable": {"thread_id": events[0]["thread_id"]}}).values
    names = [e["event"] for e in events]
    assert "progress" in names and names.index("progress") < names.index("answer") and "token" not in names
    assert all("text" not in e for e in events[:-1])  # no unchecked model text in the stream
    answer = chat.answer_of(events[-1])
    assert answer.language == "de" and answer.citations and answer.check_record
    evidence = [Evidence.model_validate(e) for e in state["evidence"]]
    if answer.source == "llm":
        with session_scope(demo_db) as session:
            context = claim_context(evidence, "de", AS_OF, session)
        assert check_answer(answer.text, evidence, "de", kam, context).ok
    else:
        assert answer.source == "fallback" and answer.failures and "62,0\xa0%" in answer.text
