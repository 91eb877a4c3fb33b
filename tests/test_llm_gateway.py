"""The LLM gateway: retry policy over real HTTP (loopback stub), structured output, accounting."""

from __future__ import annotations

import json

import httpx2  # the transport openai uses
import openai
import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from pydantic import BaseModel, Field

from core.llm import LlmGateway, StructuredOutputError
from core.llm.gateway import TOOL_CALL_PLACEHOLDER, build_chat_model
from core.llm.retry import is_transient, retry_after_seconds
from core.llm.structured import unbounded_string_fields
from core.settings import Settings
from tests.llm_stub import ScriptedReply, StubLlmServer, completion


class Verdict(BaseModel):
    clause: str = Field(max_length=40)
    compliant: bool


def _gateway_on(stub: StubLlmServer, **kwargs: object) -> LlmGateway:
    settings = Settings(llm_base_url=stub.base_url, llm_timeout_s=5)
    defaults = {"retry_attempts": 4, "retry_budget_s": 20.0}
    defaults.update(kwargs)
    return LlmGateway(lambda purpose: build_chat_model(settings, purpose, stub.base_url), **defaults)  # type: ignore[arg-type]


def _fake(*messages: AIMessage) -> LlmGateway:
    return LlmGateway(lambda purpose: FakeMessagesListChatModel(responses=list(messages)))


# --- retry policy ------------------------------------------------------------------------------
def test_429_with_retry_after_is_retried_and_honoured(llm_stub: StubLlmServer) -> None:
    llm_stub.script(ScriptedReply(429, headers={"Retry-After": "0"}), ScriptedReply(body=completion("hello")))
    gateway = _gateway_on(llm_stub)
    assert gateway.invoke([HumanMessage(content="hi")]).content == "hello"
    assert len(llm_stub.requests) == 2
    assert gateway.ledger.records[-1].attempts == 2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried(llm_stub: StubLlmServer, status: int) -> None:
    llm_stub.script(ScriptedReply(status, headers={"Retry-After": "0"}), ScriptedReply(body=completion("fine")))
    assert _gateway_on(llm_stub).invoke([HumanMessage(content="hi")]).content == "fine"


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_4xx_is_not_retried(llm_stub: StubLlmServer, status: int) -> None:
    llm_stub.script(ScriptedReply(status))
    gateway = _gateway_on(llm_stub)
    with pytest.raises(openai.APIStatusError):
        gateway.invoke([HumanMessage(content="hi")])
    assert len(llm_stub.requests) == 1
    assert gateway.ledger.records[-1].ok is False


def test_attempts_are_bounded(llm_stub: StubLlmServer) -> None:
    llm_stub.script(*[ScriptedReply(503, headers={"Retry-After": "0"})] * 5)
    with pytest.raises(openai.InternalServerError):
        _gateway_on(llm_stub, retry_attempts=3).invoke([HumanMessage(content="hi")])
    assert len(llm_stub.requests) == 3


def test_connection_refused_is_transient_and_bounded() -> None:
    settings = Settings(llm_timeout_s=1)
    url = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
    gateway = LlmGateway(lambda p: build_chat_model(settings, p, url), retry_attempts=2, retry_budget_s=5)
    with pytest.raises(openai.APIConnectionError):
        gateway.invoke([HumanMessage(content="hi")])
    assert gateway.ledger.records[-1].attempts == 2


def test_transient_classification() -> None:
    request = httpx2.Request("POST", "http://x")
    assert is_transient(openai.APITimeoutError(request=request))
    assert not is_transient(ValueError("bad schema"))
    response = httpx2.Response(429, headers={"retry-after": "2.5"}, request=request)
    assert retry_after_seconds(openai.RateLimitError("slow down", response=response, body=None)) == 2.5


# --- what is sent ------------------------------------------------------------------------------
def test_request_carries_max_tokens_and_no_client_retries(llm_stub: StubLlmServer) -> None:
    settings = Settings(llm_base_url=llm_stub.base_url, llm_max_tokens_drafting=321)
    model = build_chat_model(settings, "drafting", llm_stub.base_url)
    assert model.max_retries == 0
    LlmGateway(lambda p: model).invoke([HumanMessage(content="hi")], purpose="drafting")
    assert llm_stub.requests[0]["max_tokens"] == 321  # llama.cpp ignores max_completion_tokens


def test_tool_call_message_content_is_never_null(llm_stub: StubLlmServer) -> None:
    history = [HumanMessage(content="limit?"),
               AIMessage(content="", tool_calls=[{"id": "c1", "name": "credit", "args": {"account": "A-1"}}]),
               ToolMessage(content="0.62", tool_call_id="c1")]
    _gateway_on(llm_stub).invoke(history)
    assistant = [m for m in llm_stub.requests[0]["messages"] if m["role"] == "assistant"][0]
    assert assistant["content"] == TOOL_CALL_PLACEHOLDER


@pytest.mark.parametrize(("mode", "expected_type"), [("json_object", "json_object"), ("json_schema", "json_schema")])
def test_structured_modes_send_a_schema(llm_stub: StubLlmServer, mode: str, expected_type: str) -> None:
    llm_stub.script(ScriptedReply(body=completion('{"clause": "term", "compliant": true}')))
    result = _gateway_on(llm_stub, structured_mode=mode).structured([HumanMessage(content="x")], Verdict)
    assert result == Verdict(clause="term", compliant=True)
    sent = llm_stub.requests[0]
    assert sent["response_format"]["type"] == expected_type
    assert sent["max_tokens"] == Settings().llm_max_tokens_extraction
    assert "Verdict" in json.dumps(sent["response_format"]) or "compliant" in json.dumps(sent["response_format"])


def test_function_calling_mode_reads_tool_arguments_and_sends_tool_choice_auto(llm_stub: StubLlmServer) -> None:
    llm_stub.script(ScriptedReply(body=completion("", tool_call={"name": "Verdict",
                                                                 "args": {"clause": "law", "compliant": False}})))
    result = _gateway_on(llm_stub, structured_mode="function_calling").structured([HumanMessage(content="x")], Verdict)
    assert result.clause == "law" and result.compliant is False
    assert llm_stub.requests[0]["tool_choice"] == "auto"


# --- structured output: validate, repair once, then a typed error --------------------------------
def test_invalid_json_is_repaired_once_with_the_error_shown() -> None:
    gateway = _fake(AIMessage(content='{"clause": "term"}'), AIMessage(content='{"clause": "term", "compliant": false}'))
    assert gateway.structured([HumanMessage(content="x")], Verdict).compliant is False
    assert len(gateway.ledger.records) == 2


def test_second_failure_raises_typed_error_for_the_fallback() -> None:
    gateway = _fake(AIMessage(content="I think it is fine."), AIMessage(content='{"clause": 1}'))
    with pytest.raises(StructuredOutputError) as info:
        gateway.structured([HumanMessage(content="x")], Verdict)
    assert info.value.schema is Verdict and "compliant" in info.value.error


def test_json_in_code_fences_is_accepted() -> None:
    gateway = _fake(AIMessage(content='```json\n{"clause": "a", "compliant": true}\n```'))
    assert gateway.structured([HumanMessage(content="x")], Verdict).clause == "a"


def test_too_long_strings_fail_validation() -> None:
    gateway = _fake(AIMessage(content=json.dumps({"clause": "x" * 41, "compliant": True})),
                    AIMessage(content=json.dumps({"clause": "x" * 41, "compliant": True})))
    with pytest.raises(StructuredOutputError, match="at most 40"):
        gateway.structured([HumanMessage(content="x")], Verdict)


def test_unbounded_string_fields_are_detected() -> None:
    class Loose(BaseModel):
        text: str
        items: list[str]
        bounded: str = Field(max_length=5)

    assert unbounded_string_fields(Loose) == ["text", "items[]"]
    assert unbounded_string_fields(Verdict) == []


# --- accounting ----------------------------------------------------------------------------------
def test_tokens_and_latency_are_recorded(llm_stub: StubLlmServer) -> None:
    llm_stub.script(ScriptedReply(body=completion("a", prompt_tokens=17, completion_tokens=3)))
    gateway = _gateway_on(llm_stub)
    gateway.invoke([HumanMessage(content="hi")], purpose="drafting")
    record = gateway.ledger.records[0]
    assert (record.purpose, record.prompt_tokens, record.completion_tokens, record.ok) == ("drafting", 17, 3, True)
    assert record.latency_s > 0
    assert gateway.ledger.summary()["prompt_tokens"] == 17


def test_stream_yields_text_and_counts_chunks() -> None:
    gateway = _fake(AIMessage(content="Hallo Welt"))
    assert "".join(gateway.stream([HumanMessage(content="x")])) == "Hallo Welt"
    assert gateway.ledger.records[-1].ok


def test_calls_are_attributed_to_their_tag_across_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from core.llm.usage import tagged

    gateway = _fake(*[AIMessage(content="x")] * 6)

    def work(tag: str) -> None:
        with tagged(tag):
            gateway.invoke([HumanMessage(content="hi")])
            gateway.invoke([HumanMessage(content="again")])

    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(work, ["a", "b", "c"]))
    assert [len(gateway.ledger.for_tag(t)) for t in "abc"] == [2, 2, 2]
