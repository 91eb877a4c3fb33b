"""Token and latency accounting per LLM call, read by the eval runner, benchmarks and audit trails."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field

# Which request, case or job a call belongs to; set per thread/task, so concurrent work is told apart.
CALL_TAG: ContextVar[str] = ContextVar("llm_call_tag", default="")
LEDGER_SIZE = 10_000  # records kept for per-tag look-ups; the totals count every call ever made


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
    """The most recent calls (bounded, so a long-running service does not grow) plus running totals."""

    size: int = LEDGER_SIZE
    records: deque[LlmCallRecord] = field(init=False)
    _totals: dict[str, float] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.records = deque(maxlen=self.size)
        self._totals = dict.fromkeys(("calls", "failed_calls", "prompt_tokens", "completion_tokens", "latency_s",
                                      "retries"), 0.0)

    def add(self, record: LlmCallRecord) -> None:
        with self._lock:
            self.records.append(record)
            totals = self._totals
            totals["calls"] += 1
            totals["failed_calls"] += not record.ok
            totals["prompt_tokens"] += record.prompt_tokens
            totals["completion_tokens"] += record.completion_tokens
            totals["latency_s"] += record.latency_s
            totals["retries"] += record.attempts - 1

    def for_tag(self, tag: str) -> list[LlmCallRecord]:
        with self._lock:
            return [r for r in self.records if r.tag == tag]

    def summary(self) -> dict[str, float | int]:
        with self._lock:
            totals = dict(self._totals)
        return {key: round(value, 3) if key == "latency_s" else int(value) for key, value in totals.items()}

    def as_dicts(self) -> list[dict[str, object]]:
        with self._lock:
            return [asdict(r) for r in self.records]


def total_tokens(records: list[LlmCallRecord]) -> dict[str, int]:
    return {"calls": len(records), "prompt": sum(r.prompt_tokens for r in records),
            "completion": sum(r.completion_tokens for r in records)}
