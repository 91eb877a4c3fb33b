"""One retry policy for every LLM call (the client's own retries are off).

Retried: timeouts, connection errors, HTTP 429 and 5xx. Not retried: other 4xx (the request is wrong and
sending it again cannot help). Waits honour ``Retry-After`` when the server sends one, otherwise
exponential backoff with jitter; the whole thing is bounded by attempts and by a time budget.
"""

from __future__ import annotations

import httpx
import openai
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

MAX_RETRY_AFTER_S = 30.0


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, httpx.TimeoutException,
                        httpx.TransportError)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code == 429 or exc.response.status_code >= 500
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


def llm_retrying(attempts: int, budget_s: float, *, initial_wait_s: float = 0.5, max_wait_s: float = 8.0) -> Retrying:
    return Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(attempts) | stop_after_delay(budget_s),
        wait=_WaitRetryAfterOrBackoff(initial_wait_s, max_wait_s),
        reraise=True,
    )
