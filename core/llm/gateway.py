"""The LLM gateway: builds ``ChatOpenAI`` clients and runs every call with one retry and accounting policy.

Graphs receive an :class:`LlmGateway` (never a client they build themselves). Tests construct one with
``LlmGateway(lambda purpose: FakeChatModel(...))``. Every call returns its usage record, so a caller can keep
an audit trail of what each answer cost.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, BaseMessageChunk
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, SecretStr

from core.llm import structured as so
from core.llm.retry import llm_async_retrying, llm_retrying
from core.llm.usage import CALL_TAG, LlmCallRecord, UsageLedger
from core.settings import LlmPurpose, Settings
from core.verify import Verification

T = TypeVar("T", bound=BaseModel)
ModelFactory = Callable[[LlmPurpose], BaseChatModel]
Validator = Callable[[T], Verification]

# llama.cpp rejects (HTTP 500) an assistant message whose content is null, which langchain-openai sends
# for tool-call messages with empty content.
TOOL_CALL_PLACEHOLDER = "(calling tools)"


def build_chat_model(settings: Settings, purpose: LlmPurpose, base_url: str) -> ChatOpenAI:
    """The only place a chat client is constructed."""
    max_tokens = settings.max_tokens_for(purpose)
    return ChatOpenAI(
        model=settings.llm_model,
        base_url=base_url,
        api_key=SecretStr(settings.llm_api_key),
        temperature=settings.llm_temperature,
        timeout=settings.llm_timeout_s,
        max_retries=0,  # one retry policy: ours (core.llm.retry)
        max_completion_tokens=max_tokens,
        # llama.cpp ignores max_completion_tokens; without max_tokens answers run to the context end.
        extra_body={"max_tokens": max_tokens},
        stream_usage=True,
    )


def _sanitize(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    cleaned: list[BaseMessage] = []
    for message in messages:
        if isinstance(message, AIMessage) and message.tool_calls and not message.content:
            message = message.model_copy(update={"content": TOOL_CALL_PLACEHOLDER})
        cleaned.append(message)
    return cleaned


def _tokens(message: BaseMessage | None) -> tuple[int, int]:
    usage = getattr(message, "usage_metadata", None) or {}
    return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))


@dataclass(frozen=True)
class LlmReply:
    message: AIMessage
    usage: LlmCallRecord

    @property
    def content(self) -> str:
        return self.message.content if isinstance(self.message.content, str) else str(self.message.content)


@dataclass(frozen=True)
class Structured(Generic[T]):
    value: T
    calls: tuple[LlmCallRecord, ...]
    repaired: bool  # the first answer failed (schema or verifier) and the repair round fixed it


C = TypeVar("C", Iterator[str], AsyncIterator[str])


@dataclass
class StreamReply(Generic[C]):
    """Text chunks as they arrive (iterate it, or ``async for`` it from ``astream``); ``usage`` is filled in
    when the stream ends, also on failure."""

    chunks: C
    usage: LlmCallRecord | None = None

    def __iter__(self) -> Iterator[str]:
        return self.chunks  # type: ignore[return-value]

    def __aiter__(self) -> AsyncIterator[str]:
        return self.chunks  # type: ignore[return-value]


@dataclass
class _Meter:
    """Times one call and writes its record to the ledger, however the call ends."""

    gateway: LlmGateway
    purpose: str
    started: float = field(default_factory=time.perf_counter)
    attempts: int = 0
    prompt: int = 0
    completion: int = 0
    ok: bool = False

    text_chunks: int = 0

    def chunk_text(self, chunk: BaseMessageChunk) -> str:
        """Count a streamed chunk's tokens; its text ("" for a usage-only chunk)."""
        prompt, completion = _tokens(chunk)
        self.prompt, self.completion = self.prompt + prompt, self.completion + completion
        text = chunk.content if isinstance(chunk.content, str) else ""
        self.text_chunks += bool(text)
        return text

    def record(self) -> LlmCallRecord:
        completion = self.completion or self.text_chunks  # llama.cpp sends no usage when streaming
        record = LlmCallRecord(self.purpose, self.gateway.model_name, self.prompt, completion,
                               time.perf_counter() - self.started, self.attempts, self.ok, CALL_TAG.get())
        self.gateway.ledger.add(record)
        return record


class LlmGateway:
    def __init__(
        self,
        model_factory: ModelFactory,
        *,
        structured_mode: so.StructuredMode = "json_schema",
        retry_attempts: int = 4,
        retry_budget_s: float = 60.0,
        model_name: str = "",
        ledger: UsageLedger | None = None,
    ) -> None:
        self._factory = model_factory
        self._models: dict[str, BaseChatModel] = {}
        self.structured_mode = structured_mode
        self.retry_attempts = retry_attempts
        self.retry_budget_s = retry_budget_s
        self.model_name = model_name
        self.ledger = ledger or UsageLedger()

    @classmethod
    def from_settings(cls, settings: Settings, base_url: str, *, embedded: bool,
                      base_url_provider: Callable[[], str] | None = None) -> LlmGateway:
        """``base_url_provider`` is asked for the URL when the first client is built (a server started lazily)."""
        mode = settings.llm_structured_mode
        if mode == "auto":
            mode = "json_object" if embedded else "json_schema"
        return cls(
            lambda purpose: build_chat_model(settings, purpose, base_url_provider() if base_url_provider else base_url),
            structured_mode=mode,
            retry_attempts=settings.llm_retry_attempts,
            retry_budget_s=settings.llm_retry_budget_s,
            model_name=settings.llm_model,
            ledger=UsageLedger(settings.llm_ledger_size),
        )

    def model(self, purpose: LlmPurpose) -> BaseChatModel:
        if purpose not in self._models:
            self._models[purpose] = self._factory(purpose)
        return self._models[purpose]

    # --- plain calls ---------------------------------------------------------------------------
    def invoke(self, messages: Sequence[BaseMessage], *, purpose: LlmPurpose = "chat",
               runnable: Any = None, **kwargs: Any) -> LlmReply:
        """One call with retries; ``runnable`` overrides the plain model (e.g. one with tools bound)."""
        target = runnable if runnable is not None else self.model(purpose)
        payload = _sanitize(messages)
        meter = _Meter(self, purpose)
        result: AIMessage | None = None
        try:
            for attempt in llm_retrying(self.retry_attempts, self.retry_budget_s):
                with attempt:
                    meter.attempts += 1
                    result = target.invoke(payload, **kwargs)
            meter.ok = True
        finally:
            meter.prompt, meter.completion = _tokens(result)
            usage = meter.record()
        assert result is not None
        return LlmReply(result, usage)

    async def ainvoke(self, messages: Sequence[BaseMessage], *, purpose: LlmPurpose = "chat",
                      runnable: Any = None, **kwargs: Any) -> LlmReply:
        target = runnable if runnable is not None else self.model(purpose)
        payload = _sanitize(messages)
        meter = _Meter(self, purpose)
        result: AIMessage | None = None
        try:
            async for attempt in llm_async_retrying(self.retry_attempts, self.retry_budget_s):
                with attempt:
                    meter.attempts += 1
                    result = await target.ainvoke(payload, **kwargs)
            meter.ok = True
        finally:
            meter.prompt, meter.completion = _tokens(result)
            usage = meter.record()
        assert result is not None
        return LlmReply(result, usage)

    # --- streaming (transient failures are retried only before the first token) -------------------
    def stream(self, messages: Sequence[BaseMessage], *, purpose: LlmPurpose = "chat",
               **kwargs: Any) -> StreamReply[Iterator[str]]:
        reply: StreamReply[Iterator[str]] = StreamReply(iter(()))
        reply.chunks = self._stream(reply, _sanitize(messages), purpose, kwargs)
        return reply

    def _stream(self, reply: StreamReply[Iterator[str]], payload: list[BaseMessage], purpose: LlmPurpose,
                kwargs: dict[str, Any]) -> Iterator[str]:
        model = self.model(purpose)
        meter = _Meter(self, purpose)
        try:
            first: BaseMessageChunk | None = None
            iterator: Iterator[BaseMessageChunk] = iter(())
            for attempt in llm_retrying(self.retry_attempts, self.retry_budget_s):
                with attempt:
                    meter.attempts += 1
                    iterator = model.stream(payload, **kwargs)
                    first = next(iterator, None)
            for chunk in itertools.chain([first] if first is not None else [], iterator):
                if text := meter.chunk_text(chunk):
                    yield text
            meter.ok = True
        finally:
            reply.usage = meter.record()

    def astream(self, messages: Sequence[BaseMessage], *, purpose: LlmPurpose = "chat",
                **kwargs: Any) -> StreamReply[AsyncIterator[str]]:
        reply: StreamReply[AsyncIterator[str]] = StreamReply(_empty())
        reply.chunks = self._astream(reply, _sanitize(messages), purpose, kwargs)
        return reply

    async def _astream(self, reply: StreamReply[AsyncIterator[str]], payload: list[BaseMessage], purpose: LlmPurpose,
                       kwargs: dict[str, Any]) -> AsyncIterator[str]:
        model = self.model(purpose)
        meter = _Meter(self, purpose)
        try:
            first: BaseMessageChunk | None = None
            iterator: AsyncIterator[BaseMessageChunk] = _empty()
            async for attempt in llm_async_retrying(self.retry_attempts, self.retry_budget_s):
                with attempt:
                    meter.attempts += 1
                    iterator = model.astream(payload, **kwargs)
                    first = await anext(iterator, None)
            if first is not None and (text := meter.chunk_text(first)):
                yield text
            async for chunk in iterator:
                if text := meter.chunk_text(chunk):
                    yield text
            meter.ok = True
        finally:
            reply.usage = meter.record()

    # --- structured output ---------------------------------------------------------------------
    def structured(self, messages: Sequence[BaseMessage], schema: type[T], *, purpose: LlmPurpose = "extraction",
                   validator: Validator[T] | None = None) -> Structured[T]:
        """A ``schema`` instance that validates (and passes ``validator``), after at most one repair round
        (``core.llm.checked``); else :class:`StructuredOutputError` for a caller with a fallback of its own."""
        from core.llm.checked import generate_checked

        result = generate_checked(self, messages, check=validator or (lambda _v: Verification()),
                                  fallback=lambda: None, schema=schema, purpose=purpose)
        if result.source == "llm":
            return Structured(result.value, result.calls, repaired=len(result.rounds) > 1)  # type: ignore[arg-type]
        last = result.rounds[-1] if result.rounds else None
        if result.unavailable:
            error = result.failures[0] if result.failures else "LLM unavailable"
        elif last is not None and not last.parsed:
            error = last.failures[0]
        else:
            error = "the answer failed verification"
        raise so.StructuredOutputError(schema, last.text if last else "", error,
                                       failures=[] if result.unavailable else list(result.failures),
                                       last_value=result.last_value, calls=result.calls,
                                       unavailable=result.unavailable)


async def _empty() -> AsyncIterator[Any]:
    return
    yield  # an async generator that yields nothing
