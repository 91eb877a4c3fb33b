"""Real answers of the embedded model, replayed from cassettes: the request shapes the local server accepts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from core.llm import LlmGateway
from tests.cassettes import cassette_vcr, recorded_gateway

NDA_TEXT = (
    "This mutual Non-Disclosure Agreement is governed by the laws of Germany. The obligations of "
    "confidentiality remain in force for three (3) years after disclosure. Any breach is subject to a "
    "contractual penalty of EUR 50,000 per case."
)


class NdaFacts(BaseModel):
    governing_law: str = Field(max_length=40, description="Country whose law governs the agreement")
    term_years: int = Field(ge=0, le=50)
    mutual: bool
    has_penalty: bool


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlmGateway]:
    with recorded_gateway(tmp_path_factory.mktemp("llm")) as g:
        yield g


MESSAGES = [
    SystemMessage(content="Extract the facts of the NDA. Answer with JSON: governing_law, term_years, mutual, "
                          "has_penalty."),
    HumanMessage(content=NDA_TEXT),
]


@cassette_vcr.use_cassette("structured_json_object.yaml")
def test_structured_output_json_object_mode(gateway: LlmGateway) -> None:
    gateway.structured_mode = "json_object"
    facts = gateway.structured(MESSAGES, NdaFacts).value
    assert facts == NdaFacts(governing_law="Germany", term_years=3, mutual=True, has_penalty=True)
    record = gateway.ledger.records[-1]
    assert record.prompt_tokens > 0 and record.completion_tokens > 0


@cassette_vcr.use_cassette("structured_function_calling.yaml")
def test_structured_output_function_calling_mode(gateway: LlmGateway) -> None:
    gateway.structured_mode = "function_calling"
    try:
        facts = gateway.structured(MESSAGES, NdaFacts).value
    finally:
        gateway.structured_mode = "json_object"
    assert facts.governing_law == "Germany" and facts.term_years == 3


@cassette_vcr.use_cassette("chat_german.yaml")
def test_plain_german_answer(gateway: LlmGateway) -> None:
    answer = gateway.invoke([SystemMessage(content="Antworte auf Deutsch in einem Satz."),
                             HumanMessage(content="Was ist ein Abrufauftrag?")], purpose="chat")
    assert isinstance(answer.content, str) and len(answer.content) > 10


@tool
def call_off_rate(account_id: str) -> float:
    """Call-off rate (called-off ÷ planned quantity) of an account, as a fraction."""
    return 0.62


@cassette_vcr.use_cassette("tool_round_trip.yaml")
def test_tool_call_round_trip_with_non_null_assistant_content(gateway: LlmGateway) -> None:
    model = gateway.model("chat").bind_tools([call_off_rate], tool_choice="auto")
    question = [SystemMessage(content="You are an assistant with tools. Call a tool whenever the question needs data."),
                HumanMessage(content="What is the call-off rate of account A-00001?")]
    first = gateway.invoke(question, runnable=model).message
    assert first.tool_calls and first.tool_calls[0]["name"] == "call_off_rate"
    result = ToolMessage(content="0.62", tool_call_id=first.tool_calls[0]["id"])
    # The server answers HTTP 500 if the assistant message is sent with null content; the gateway prevents it.
    final = gateway.invoke([*question, first, result], purpose="chat")
    assert isinstance(final.content, str) and final.content
