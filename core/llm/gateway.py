"""The LLM gateway: builds ``ChatOpenAI`` clients and runs every call with one retry and accounting policy.

Graphs receive an :class:`LlmGateway` (never a client they build themselves). Tests construct one with
``LlmGateway(lambda purpose: FakeChatModel(...))``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, SecretStr

from core.llm import structured as so
from core.llm.retry import llm_retrying
from core.llm.usage import CALL_TAG, LlmCallRecord, UsageLedger
from core.settings import LlmPurpose, Settings

T = TypeVar("T", bound=BaseModel)
ModelFactory = Callable[[LlmPurpose], BaseChatModel]

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


def _tokens(message: BaseMessage) -> tuple[int, int]:
    usage = getattr(message, "usage_metadata", None) or {}
    return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))


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
    def from_settings(cls, settings: Settings, base_url: str, *, embedded: bool) -> LlmGateway:
        mode = settings.llm_structured_mode
        if mode == "auto":
            mode = "json_object" if embedded else "json_schema"
        return cls(
            lambda purpose: build_chat_model(settings, purpose, base_url),
            structured_mode=mode,
            retry_attempts=settings.llm_retry_attempts,
            retry_budget_s=settings.llm_retry_budget_s,
            model_name=settings.llm_model,
        )

    def model(self, purpose: LlmPurpose) -> BaseChatModel:
        if purpose not in self._models:
            self._models[purpose] = self._factory(purpose)
        return self._models[purpose]

    # --- calls ---------------------------------------------------------------------------------
    def invoke(self, messages: Sequence[BaseMessage], *, purpose: LlmPurpose = "chat",
               runnable: Any = None, **kwargs: Any) -> AIMessage:
        """One call with retries; ``runnable`` overrides the plain model (e.g. one with tools bound)."""
        target = runnable if runnable is not None else self.model(purpose)
        payload = _sanitize(messages)
        started = time.perf_counter()
        attempts = 0
        ok = False
        result: AIMessage = AIMessage(content="")
        try:
            for attempt in llm_retrying(self.retry_attempts, self.retry_budget_s):
                with attempt:
                    attempts += 1
                    result = target.invoke(payload, **kwargs)
            ok = True
            return result
        finally:
            prompt, completion = _tokens(result)
            self.ledger.add(LlmCallRecord(purpose, self.model_name, prompt, completion,
                                          time.perf_counter() - started, attempts, ok, CALL_TAG.get()))

    def stream(self, messages: Sequence[BaseMessage], *, purpose: LlmPurpose = "chat", **kwargs: Any) -> Iterator[str]:
        """Yield text as it is generated; transient failures are retried only before the first token."""
        model = self.model(purpose)
        payload = _sanitize(messages)
        started = time.perf_counter()
        prompt = completion = attempts = 0
        ok = False
        try:
            for attempt in llm_retrying(self.retry_attempts, self.retry_budget_s):
                with attempt:
                    attempts += 1
                    iterator = model.stream(payload, **kwargs)
                    first = next(iterator, None)
            text_chunks = 0
            for chunk in itertools.chain([first] if first is not None else [], iterator):
                p, c = _tokens(chunk)
                prompt, completion = prompt + p, completion + c
                if isinstance(chunk.content, str) and chunk.content:
                    text_chunks += 1
                    yield chunk.content
            # llama.cpp sends no usage when streaming; it streams one token per chunk.
            completion = completion or text_chunks
            ok = True
        finally:
            self.ledger.add(LlmCallRecord(purpose, self.model_name, prompt, completion,
                                          time.perf_counter() - started, attempts, ok, CALL_TAG.get()))

    def structured(self, messages: Sequence[BaseMessage], schema: type[T], *,
                   purpose: LlmPurpose = "extraction") -> T:
        """A validated ``schema`` instance, after at most one repair round; else StructuredOutputError."""
        model = self.model(purpose)
        runnable: Any = None
        kwargs: dict[str, Any] = {}
        if self.structured_mode == "function_calling":
            runnable = model.bind_tools([schema], tool_choice="auto")  # llama.cpp needs "auto" explicitly
        else:
            kwargs = so.request_kwargs(self.structured_mode, schema, dict(getattr(model, "extra_body", None) or {}))
        conversation = list(messages)
        error = ""
        raw = ""
        for _round in range(2):
            answer = self.invoke(conversation, purpose=purpose, runnable=runnable, **kwargs)
            raw, parsed, error = so.parse(schema, answer)
            if parsed is not None:
                return parsed  # type: ignore[return-value]
            conversation += [AIMessage(content=raw or "(empty)"), HumanMessage(content=so.REPAIR_PROMPT.format(error=error))]
        raise so.StructuredOutputError(schema, raw, error or "unknown")
