"""The shape of every rule result: value, threshold, status, policy version and the inputs used."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from core.facts import Fact, Unit, facts_from
from core.i18n import percent

Status = Literal["ok", "warn", "breach", "not_enough_data"]
Direction = Literal["higher", "lower"]
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
    direction: Direction | None = None  # which side of the threshold is good (from the policy file)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def facts(self) -> list[Fact]:
        """Value, threshold and every figure of the inputs, citable as ``<rule>.<subject>.<name>``; the value
        and threshold carry the rule as their metric, the inputs theirs where they have one."""
        prefix = f"{self.rule}.{self.subject}"
        source = f"policies.{self.rule} {self.policy_version}"
        unit: Unit = self.unit
        return facts_from(prefix, {"value": self.value, "threshold": self.threshold, **self.inputs}, source=source,
                          units={"value": unit, "threshold": unit, **INPUT_UNITS},
                          metrics={"value": self.rule, "threshold": f"{self.rule}.threshold", **INPUT_METRICS})


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


# Inputs whose names say what they are, so the verifier knows a fraction may be written as a percentage.
INPUT_UNITS: dict[str, Unit] = {"min_margin": "ratio", "target_margin": "ratio", "in_full_tolerance": "ratio",
                                "revenue": "currency", "revenue_previous_year": "currency", "cost": "currency"}
# Inputs a text names by a metric of their own (core.vocabulary keys).
INPUT_METRICS: dict[str, str] = {"min_margin": "min_margin", "target_margin": "target_margin", "revenue": "revenue",
                                 "open_escalations": "escalations", "open_receivables": "open_receivables",
                                 "open_order_value": "open_order_value", "kam_limit": "kam_limit",
                                 "insured_limit": "insured_limit"}


def pct(value: float | None) -> str:
    """A fraction as a percentage in a rule's (English) explanation: 0.933 → "93.3%" (core.i18n)."""
    return "n/a" if value is None else percent(value, "en")


def worst_first(results: list[RuleResult]) -> list[RuleResult]:
    return sorted(results, key=lambda r: STATUS_RANK[r.status])


def role_label(role: str) -> str:
    """A policy's role id as words: ``head_of_sales`` → "head of sales"."""
    return role.replace("_", " ")
