"""Token and latency accounting per LLM call, read by the eval runner and benchmarks."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class LlmCallRecord:
    purpose: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    attempts: int
    ok: bool


@dataclass
class UsageLedger:
    records: list[LlmCallRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, record: LlmCallRecord) -> None:
        with self._lock:
            self.records.append(record)

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
