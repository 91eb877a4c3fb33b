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
from core.settings import Settings, get_settings
from core.verify import Verification
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
    assistant = next(m for m in llm_stub.requests[0]["messages"] if m["role"] == "assistant")
    assert assistant["content"] == TOOL_CALL_PLACEHOLDER


@pytest.mark.parametrize(("mode", "expected_type"), [("json_object", "json_object"), ("json_schema", "json_schema")])
def test_structured_modes_send_a_schema(llm_stub: StubLlmServer, mode: str, expected_type: str) -> None:
    llm_stub.script(ScriptedReply(body=completion('{"clause": "term", "compliant": true}')))
    result = _gateway_on(llm_stub, structured_mode=mode).structured([HumanMessage(content="x")], Verdict).value
    assert result == Verdict(clause="term", compliant=True)
    sent = llm_stub.requests[0]
    assert sent["response_format"]["type"] == expected_type
    assert sent["max_tokens"] == Settings().llm_max_tokens_extraction
    assert "Verdict" in json.dumps(sent["response_format"]) or "compliant" in json.dumps(sent["response_format"])


def test_long_string_bounds_are_left_out_of_a_llama_cpp_grammar() -> None:
    """A 6,000-character bound unrolls into a grammar the embedded server aborts on (measured); the answer is
    still validated against the full bound."""
    from pydantic import BaseModel, Field

    from core.llm.structured import GRAMMAR_MAX_LENGTH, request_kwargs

    class Letter(BaseModel):
        subject: str = Field(max_length=300)
        body: str = Field(max_length=6000)

    grammar = request_kwargs("json_object", Letter, {})["extra_body"]["response_format"]["schema"]["properties"]
    assert grammar["subject"]["maxLength"] == 300 and "maxLength" not in grammar["body"]
    assert GRAMMAR_MAX_LENGTH < 6000
    exact = request_kwargs("json_schema", Letter, {})["extra_body"]["response_format"]["json_schema"]["schema"]
    assert exact["properties"]["body"]["maxLength"] == 6000  # other endpoints get the schema as it is


def test_function_calling_mode_reads_tool_arguments_and_sends_tool_choice_auto(llm_stub: StubLlmServer) -> None:
    llm_stub.script(ScriptedReply(body=completion("", tool_call={"name": "Verdict",
                                                                 "args": {"clause": "law", "compliant": False}})))
    result = _gateway_on(llm_stub, structured_mode="function_calling").structured([HumanMessage(content="x")],
                                                                                  Verdict).value
    assert result.clause == "law" and result.compliant is False
    assert llm_stub.requests[0]["tool_choice"] == "auto"


# --- structured output: validate, repair once, then a typed error --------------------------------
def test_invalid_json_is_repaired_once_with_the_error_shown() -> None:
    gateway = _fake(AIMessage(content='{"clause": "term"}'),
                    AIMessage(content='{"clause": "term", "compliant": false}'))
    assert gateway.structured([HumanMessage(content="x")], Verdict).value.compliant is False
    assert len(gateway.ledger.records) == 2


def test_second_failure_raises_typed_error_for_the_fallback() -> None:
    gateway = _fake(AIMessage(content="I think it is fine."), AIMessage(content='{"clause": 1}'))
    with pytest.raises(StructuredOutputError) as info:
        gateway.structured([HumanMessage(content="x")], Verdict)
    assert info.value.schema is Verdict and "compliant" in info.value.error


def test_json_in_code_fences_is_accepted() -> None:
    gateway = _fake(AIMessage(content='```json\n{"clause": "a", "compliant": true}\n```'))
    assert gateway.structured([HumanMessage(content="x")], Verdict).value.clause == "a"


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


# --- the retry policy as installed: openai talks through httpx2, not httpx -------------------------
def test_a_read_timeout_is_retried(llm_stub: StubLlmServer) -> None:
    llm_stub.script(ScriptedReply(body=completion("late"), delay_s=2.5), ScriptedReply(body=completion("on time")))
    settings = Settings(llm_base_url=llm_stub.base_url, llm_timeout_s=1)
    gateway = LlmGateway(lambda p: build_chat_model(settings, p, llm_stub.base_url), retry_attempts=3,
                         retry_budget_s=20)
    reply = gateway.invoke([HumanMessage(content="hi")])
    assert reply.content == "on time" and reply.usage.attempts == 2 and len(llm_stub.requests) == 2


def test_a_dropped_connection_is_retried(llm_stub: StubLlmServer) -> None:
    llm_stub.script(ScriptedReply(drop=True), ScriptedReply(body=completion("back")))
    reply = _gateway_on(llm_stub).invoke([HumanMessage(content="hi")])
    assert reply.content == "back" and reply.usage.attempts == 2


def test_a_stream_that_stalls_before_the_first_token_is_retried(llm_stub: StubLlmServer) -> None:
    llm_stub.script(ScriptedReply(stream=["never"], stall_s=2.5), ScriptedReply(stream=["Hal", "lo"]))
    settings = Settings(llm_base_url=llm_stub.base_url, llm_timeout_s=1)
    gateway = LlmGateway(lambda p: build_chat_model(settings, p, llm_stub.base_url), retry_attempts=3,
                         retry_budget_s=20)
    reply = gateway.stream([HumanMessage(content="hi")])
    assert "".join(reply) == "Hallo"
    assert reply.usage is not None and reply.usage.attempts == 2 and reply.usage.ok


def test_transport_errors_of_both_http_stacks_are_transient() -> None:
    import httpx

    request2, request1 = httpx2.Request("POST", "http://x"), httpx.Request("POST", "http://x")
    assert is_transient(httpx2.ReadTimeout("slow", request=request2))
    assert is_transient(httpx2.RemoteProtocolError("closed", request=request2))
    assert is_transient(httpx.ConnectError("refused", request=request1))
    wrapped = RuntimeError("langchain wrapper")
    wrapped.__cause__ = httpx2.ReadTimeout("slow", request=request2)
    assert is_transient(wrapped)  # found along the cause chain
    assert not is_transient(openai.BadRequestError("bad", response=httpx2.Response(400, request=request2), body=None))


# --- verifier failures get the same one repair round as schema errors ------------------------------
class Quote(BaseModel):
    quote: str = Field(max_length=200)


SOURCE = "§ 6 Vertragsstrafe. Bei schuldhaftem Lieferverzug zahlt der Lieferant 0,5 % je Woche."


def _quotes_in_source(answer: Quote) -> Verification:
    from core.verify import verify_quotes

    return verify_quotes([answer.quote], SOURCE)


def test_a_verifier_failure_is_shown_to_the_model_once() -> None:
    model = FakeMessagesListChatModel(responses=[AIMessage(content='{"quote": "zahlt der Kunde"}'),
                                                 AIMessage(content='{"quote": "zahlt der Lieferant"}')])
    gateway = LlmGateway(lambda p: model)
    result = gateway.structured([HumanMessage(content=SOURCE)], Quote, validator=_quotes_in_source)
    assert result.value.quote == "zahlt der Lieferant" and result.repaired and len(result.calls) == 2


def test_a_second_verifier_failure_falls_back_and_is_flagged() -> None:
    from core.llm import Checked, generate_checked

    wrong = AIMessage(content='{"quote": "zahlt der Kunde"}')
    gateway = LlmGateway(lambda p: FakeMessagesListChatModel(responses=[wrong, wrong]))
    checked = generate_checked(gateway, [HumanMessage(content=SOURCE)], schema=Quote, check=_quotes_in_source,
                               fallback=lambda: Quote(quote="Vertragsstrafe"))
    assert isinstance(checked, Checked) and checked.flagged and checked.value.quote == "Vertragsstrafe"
    assert "does not occur verbatim" in checked.failures[0] and len(checked.calls) == 2
    assert [r.accepted for r in checked.rounds] == [False, False]  # both rounds kept for the run record
    with pytest.raises(StructuredOutputError) as info:
        LlmGateway(lambda p: FakeMessagesListChatModel(responses=[wrong, wrong])).structured(
            [HumanMessage(content=SOURCE)], Quote, validator=_quotes_in_source)
    assert info.value.last_value == Quote(quote="zahlt der Kunde") and info.value.failures


def test_verified_answers_are_not_flagged() -> None:
    from core.llm import generate_checked

    right = AIMessage(content='{"quote": "Bei schuldhaftem Lieferverzug"}')
    checked = generate_checked(LlmGateway(lambda p: FakeMessagesListChatModel(responses=[right])),
                               [HumanMessage(content=SOURCE)], schema=Quote, check=_quotes_in_source,
                               fallback=lambda: Quote(quote="x"))
    assert checked.source == "llm" and not checked.flagged and checked.failures == ()


def test_plain_text_is_streamed_to_progress_only_and_checked_before_it_is_returned() -> None:
    """No unchecked model text leaves generate_checked: progress hears how many characters arrived, never the
    text; a text that fails twice is replaced by the fallback."""
    from core.llm import generate_checked
    from core.verify import Failure, Verification

    wrong = AIMessage(content="Der Kunde zahlt nie.")
    heard: list[object] = []
    checked = generate_checked(
        LlmGateway(lambda p: FakeMessagesListChatModel(responses=[wrong, wrong])), [HumanMessage(content="x")],
        check=lambda text: Verification([Failure("claim", text, "no source says it")], 1), fallback=lambda: "Vorlage",
        progress=heard.append)
    assert checked.value == "Vorlage" and checked.flagged and heard and all(isinstance(h, int) for h in heard)


def test_a_slow_first_attempt_leaves_no_time_for_a_repair(llm_stub: StubLlmServer) -> None:
    """A person waits at most about the budget: when the first attempt used half of it, the repair round is
    skipped and the fallback follows (the chat's p95 was 20 s because every second-round failure cost two)."""
    from core.llm import generate_checked
    from core.verify import Failure, Verification

    llm_stub.script(ScriptedReply(stream=["Der Kunde zahlt nie."], delay_s=0.3))  # no repair asked after it
    never = lambda text: Verification([Failure("claim", text, "no source says it")], 1)  # noqa: E731
    slow = generate_checked(_gateway_on(llm_stub), [HumanMessage(content="x")], check=never,
                            fallback=lambda: "Vorlage", budget_s=0.4)
    assert slow.value == "Vorlage" and len(slow.calls) == 1 and "no time for a repair round" in slow.failures[-1]
    llm_stub.script(ScriptedReply(stream=["Der Kunde zahlt nie."]), ScriptedReply(stream=["Der Kunde zahlt nie."]))
    quick = generate_checked(_gateway_on(llm_stub), [HumanMessage(content="x")], check=never,
                             fallback=lambda: "Vorlage", budget_s=30)
    assert quick.value == "Vorlage" and len(quick.calls) == 2  # time enough: the repair round ran
    llm_stub.script(ScriptedReply(stream=["Der Kunde ", "zahlt ", "nie."], delay_s=0.3))
    cut = generate_checked(_gateway_on(llm_stub), [HumanMessage(content="x")], check=lambda text: Verification([], 1),
                           fallback=lambda: "Vorlage", budget_s=0.2)
    assert cut.value == "Vorlage" and "budget" in cut.failures[0]  # still streaming at the budget: cut off


# --- async, streaming and usage returned per call ----------------------------------------------------
def test_async_invoke_and_stream_return_their_usage(llm_stub: StubLlmServer) -> None:
    import asyncio

    llm_stub.script(ScriptedReply(503, headers={"Retry-After": "0"}),
                    ScriptedReply(body=completion("async ok", prompt_tokens=9, completion_tokens=2)),
                    ScriptedReply(stream=["Guten ", "Tag"]))
    gateway = _gateway_on(llm_stub)

    async def run() -> tuple[object, str, object]:
        reply = await gateway.ainvoke([HumanMessage(content="hi")])
        stream = gateway.astream([HumanMessage(content="hi")])
        text = "".join([chunk async for chunk in stream])
        return reply, text, stream.usage

    reply, text, usage = asyncio.run(run())
    assert reply.content == "async ok" and reply.usage.attempts == 2 and reply.usage.prompt_tokens == 9  # type: ignore[attr-defined]
    assert text == "Guten Tag" and usage is not None and usage.ok  # type: ignore[attr-defined]


def test_the_ledger_is_bounded_but_its_totals_count_every_call() -> None:
    from core.llm.usage import LlmCallRecord, UsageLedger

    ledger = UsageLedger(size=100)
    for i in range(250):
        ledger.add(LlmCallRecord("chat", "m", 10, 1, 0.01, 1, True, tag=f"t{i % 2}"))
    assert len(ledger.records) == 100 and ledger.summary()["calls"] == 250
    assert ledger.summary()["prompt_tokens"] == 2500 and len(ledger.for_tag("t0")) == 50


def test_llm_status_asks_the_running_services_server(settings: Settings, llm_stub: StubLlmServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`kam llm status` started a second model server; it must ask the one the service runs (found through
    the endpoint file the embedded server writes), and start none when no service runs."""
    import json
    import os

    from typer.testing import CliRunner

    from api.cli import app
    from core.llm.embedded import endpoint_file

    monkeypatch.delenv("KAM_LLM_BASE_URL", raising=False)
    get_settings.cache_clear()
    current = get_settings()
    runner = CliRunner()
    idle = runner.invoke(app, ["llm", "status", "--no-measure", "--json"])
    assert idle.exit_code == 0, idle.output
    assert json.loads(idle.output)["healthy"] is False and "no running" in json.loads(idle.output)["note"]

    endpoint_file(current).parent.mkdir(parents=True, exist_ok=True)
    endpoint_file(current).write_text(json.dumps({"base_url": llm_stub.base_url, "model": "qwen", "pid": os.getpid(),
                                                  "server_pid": os.getpid()}), encoding="utf-8")
    asked = runner.invoke(app, ["llm", "status", "--no-measure", "--json"])
    assert asked.exit_code == 0, asked.output
    info = json.loads(asked.output)
    assert info["healthy"] is True and info["endpoint"] == llm_stub.base_url
    assert f"pid {os.getpid()}" in info["server"]

    endpoint_file(current).write_text(json.dumps({"base_url": llm_stub.base_url, "model": "qwen", "pid": 2 ** 22 + 7,
                                                  "server_pid": 1}), encoding="utf-8")  # a killed service
    stale = runner.invoke(app, ["llm", "status", "--no-measure", "--json"])
    assert json.loads(stale.output)["healthy"] is False
