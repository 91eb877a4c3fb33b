"""One retry policy for every LLM call (the client's own retries are off).

Retried: timeouts, connection errors, HTTP 429 and 5xx. Not retried: other 4xx (the request is wrong and
sending it again cannot help). Waits honour ``Retry-After`` when the server sends one, otherwise
exponential backoff with jitter; the whole thing is bounded by attempts and by a time budget.

The installed ``openai`` client talks through ``httpx2`` (older releases through ``httpx``) and wraps most
transport errors in its own types, but not every path does (a body read that stalls, an error raised while
langchain iterates a stream). So the classification looks at the openai types, at the transport types of
both HTTP stacks, and along the exception's cause chain.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

MAX_RETRY_AFTER_S = 30.0


def _transport_modules() -> list[Any]:
    modules: list[Any] = []
    for name in ("httpx2", "httpx"):
        try:
            modules.append(importlib.import_module(name))
        except ImportError:  # only one stack may be installed
            continue
    return modules


_STACKS = _transport_modules()
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = tuple(
    getattr(module, name) for module in _STACKS for name in ("TimeoutException", "TransportError"))
_STATUS_ERRORS: tuple[type[BaseException], ...] = tuple(module.HTTPStatusError for module in _STACKS)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status_transient(status: int) -> bool:
    return status == 429 or status >= 500


def is_transient(exc: BaseException) -> bool:
    for link in _chain(exc):
        if isinstance(link, (openai.APITimeoutError, openai.APIConnectionError, TimeoutError, ConnectionError)):
            return True
        if _TRANSPORT_ERRORS and isinstance(link, _TRANSPORT_ERRORS):
            return True
        if isinstance(link, openai.APIStatusError):
            return _status_transient(link.status_code)
        if _STATUS_ERRORS and isinstance(link, _STATUS_ERRORS):
            return _status_transient(link.response.status_code)  # type: ignore[attr-defined]
    return False


def retry_after_seconds(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        return None  # an HTTP date; fall back to backoff rather than parse clocks


class _WaitRetryAfterOrBackoff:
    def __init__(self, initial: float, maximum: float) -> None:
        self._backoff = wait_exponential_jitter(multiplier=initial, max=maximum, jitter=initial)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after_seconds(exc)
        return hinted if hinted is not None else self._backoff(state)


def _policy(attempts: int, budget_s: float, initial_wait_s: float, max_wait_s: float) -> dict[str, object]:
    return {"retry": retry_if_exception(is_transient),
            "stop": stop_after_attempt(attempts) | stop_after_delay(budget_s),
            "wait": _WaitRetryAfterOrBackoff(initial_wait_s, max_wait_s), "reraise": True}


def llm_retrying(attempts: int, budget_s: float, *, initial_wait_s: float = 0.5, max_wait_s: float = 8.0) -> Retrying:
    return Retrying(**_policy(attempts, budget_s, initial_wait_s, max_wait_s))  # type: ignore[arg-type]


def llm_async_retrying(attempts: int, budget_s: float, *, initial_wait_s: float = 0.5,
                       max_wait_s: float = 8.0) -> AsyncRetrying:
    return AsyncRetrying(**_policy(attempts, budget_s, initial_wait_s, max_wait_s))  # type: ignore[arg-type]
