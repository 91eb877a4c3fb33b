"""Token and latency accounting per LLM call, read by the eval runner and benchmarks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field

# Which request, case or job a call belongs to; set per thread/task, so concurrent work is told apart.
CALL_TAG: ContextVar[str] = ContextVar("llm_call_tag", default="")


@contextmanager
def tagged(tag: str) -> Iterator[None]:
    token = CALL_TAG.set(tag)
    try:
        yield
    finally:
        CALL_TAG.reset(token)


@dataclass(frozen=True)
class LlmCallRecord:
    purpose: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    attempts: int
    ok: bool
    tag: str = ""


@dataclass
class UsageLedger:
    records: list[LlmCallRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, record: LlmCallRecord) -> None:
        with self._lock:
            self.records.append(record)

    def for_tag(self, tag: str) -> list[LlmCallRecord]:
        with self._lock:
            return [r for r in self.records if r.tag == tag]

    def summary(self) -> dict[str, float | int]:
        with self._lock:
            records = list(self.records)
        return {
            "calls": len(records),
            "failed_calls": sum(not r.ok for r in records),
            "prompt_tokens": sum(r.prompt_tokens for r in records),
            "completion_tokens": sum(r.completion_tokens for r in records),
            "latency_s": round(sum(r.latency_s for r in records), 3),
            "retries": sum(r.attempts - 1 for r in records),
        }

    def as_dicts(self) -> list[dict[str, object]]:
        with self._lock:
            return [asdict(r) for r in self.records]
