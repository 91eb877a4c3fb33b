"""The shape of every rule result: value, threshold, status, policy version and the inputs used."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from core.facts import Fact, Unit, facts_from

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

    def facts(self) -> list[Fact]:
        """Value, threshold and every figure of the inputs, citable as ``<rule>.<subject>.<name>``."""
        prefix = f"{self.rule}.{self.subject}"
        source = f"policies.{self.rule} {self.policy_version}"
        unit: Unit = self.unit
        facts = facts_from(prefix, {"value": self.value, "threshold": self.threshold, **self.inputs}, source=source,
                           units={"value": unit, "threshold": unit, **INPUT_UNITS})
        names = {f"{prefix}.value": RULE_TERMS.get(self.rule, ()), f"{prefix}.threshold": THRESHOLD_TERMS}
        return [dataclasses.replace(f, terms=names[f.id]) if f.id in names else f for f in facts]


# How texts name a rule's value and its threshold (de/en), so the verifier binds a figure to the fact it claims.
# Only names specific to the rule: a general word ("Umsatz", "Kontakt") would bind other figures to it.
RULE_TERMS: dict[str, tuple[str, ...]] = {
    "otif": ("OTIF", "Liefertreue", "on time in full"),
    "call_off_rate": ("call-off rate", "Abrufquote", "call-off quote"),
    "forecast_deviation": ("forecast deviation", "Prognoseabweichung", "Forecast-Abweichung"),
    "emergency_air_share": ("air freight", "Luftfracht"),
    "contact_cadence": ("contact cadence", "Kontaktfrequenz"),
    "nps_score": ("NPS",),
    "nps_response_rate": ("NPS response rate", "NPS-Rücklaufquote", "response rate", "Rücklaufquote"),
    "revenue_growth": ("revenue growth", "Umsatzwachstum"),
    "contract_coverage": ("contract coverage", "Vertragsabdeckung"),
    "credit_utilisation": ("utilisation", "Auslastung", "Ausschöpfung"),
}
THRESHOLD_TERMS = ("target", "Ziel", "threshold", "Schwelle", "Grenzwert", "Sollwert", "at least", "mindestens",
                   "at most", "höchstens")


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


def pct(value: float | None) -> str:
    """A fraction as a percentage with one decimal: 0.933 → "93.3 %", 0.7 → "70 %"."""
    if value is None:
        return "n/a"
    return f"{value * 100:.1f} %".replace(".0 %", " %")


def worst_first(results: list[RuleResult]) -> list[RuleResult]:
    return sorted(results, key=lambda r: STATUS_RANK[r.status])


def role_label(role: str) -> str:
    """A policy's role id as words: ``head_of_sales`` → "head of sales"."""
    return role.replace("_", " ")
