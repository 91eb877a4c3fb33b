"""The shape of every rule result: value, threshold, status, policy version and the inputs used."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["ok", "warn", "breach", "not_enough_data"]
STATUS_RANK: dict[str, int] = {"breach": 0, "warn": 1, "not_enough_data": 2, "ok": 3}


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: str  # e.g. "otif", "call_off_rate", "credit_utilisation"
    subject: str  # what it is about: an account id, "A-00001/A-00001-P2", an invoice id
    value: float | None
    threshold: float | None
    status: Status
    policy_version: str
    unit: Literal["ratio", "count", "days", "currency", "weeks", "score", "points"]
    explanation: str  # the formula with the figures filled in, so a person can recompute it
    inputs: dict[str, Any] = field(default_factory=dict)
    actions: tuple[str, ...] = ()  # what the policy requires next, e.g. "escalation meeting"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def judge(value: float | None, target: float, direction: str, warn_margin: float) -> Status:
    """ok / warn / breach for a value against a target; ``None`` (no data) is never judged."""
    if value is None:
        return "not_enough_data"
    if direction == "higher":
        if value < target:
            return "breach"
        return "warn" if value < target + warn_margin else "ok"
    if value > target:
        return "breach"
    return "warn" if value > target - warn_margin else "ok"


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is zero (not enough data)."""
    return None if denominator == 0 else numerator / denominator


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def worst_first(results: list[RuleResult]) -> list[RuleResult]:
    return sorted(results, key=lambda r: STATUS_RANK[r.status])
