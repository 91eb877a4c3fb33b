"""Policy files (YAML under ``policies/files/``), validated on load with errors naming file, key and problem."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import PolicyFileError

POLICY_DIR = Path(__file__).parent / "files"
Fraction = float  # documented as a fraction (0.98), never a percentage (98)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    target: float
    direction: Literal["higher", "lower"]
    warn_margin: float = Field(0.0, ge=0)


class OtifTarget(Target):
    on_time_tolerance_days: int = Field(1, ge=0)
    in_full_tolerance: float = Field(0.0, ge=0, lt=1)


class KpiPolicy(_Strict):
    version: str
    escalate_to: str  # who an escalation open too long goes to
    otif: OtifTarget
    call_off_rate: Target
    forecast_deviation: Target
    emergency_air_share: Target
    contact_cadence: Target
    qualified_interactions: Target
    nps_score: Target
    nps_response_rate: Target
    escalations_documented: Target
    escalations_open_days: Target
    contract_coverage: Target
    opportunities_identified: Target
    revenue_growth: Target


class Corridor(_Strict):
    segment: Literal["A", "B", "C"] | None = None
    product_group: str | None = None
    min_margin: float = Field(ge=0, lt=1)
    target_margin: float = Field(ge=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> Corridor:
        if self.target_margin < self.min_margin:
            raise ValueError("target_margin must not be below min_margin")
        return self


class MarginPolicy(_Strict):
    version: str
    default: Corridor
    corridors: list[Corridor] = []
    approval_role: str

    def corridor_for(self, segment: str | None, product_group: str | None) -> Corridor:
        def matches(c: Corridor) -> bool:
            return (c.segment in (None, segment)) and (c.product_group in (None, product_group))

        # specificity: both set > product group only > segment only
        ranked = sorted((c for c in self.corridors if matches(c)),
                        key=lambda c: (c.segment is not None and c.product_group is not None,
                                       c.product_group is not None), reverse=True)
        return ranked[0] if ranked else self.default


class CreditPolicy(_Strict):
    version: str
    warn_utilisation: float = Field(gt=0)
    breach_utilisation: float = Field(gt=0)
    approval_role: str
    alternatives: list[str] = Field(min_length=1)


class ReplenishmentPolicy(_Strict):
    version: str
    demand_weeks: int = Field(ge=1, le=104)
    safety_weeks: float = Field(ge=0)
    horizon_weeks: float = Field(ge=0)


class DunningPolicy(_Strict):
    level_1_after_days: int = Field(ge=0)
    level_2_after_days: int = Field(ge=0)
    level_3_after_days: int = Field(ge=0)
    level_2_fee: float = Field(ge=0)
    consult_kam_from_level: int = Field(ge=1, le=3)
    health_warn_from_level: int = Field(ge=1, le=3)  # a due dunning level from here on is a warning in the health view
    health_breach_from_level: int = Field(ge=1, le=3)  # ... and from here on a breach

    @model_validator(mode="after")
    def _ascending(self) -> DunningPolicy:
        if not self.level_1_after_days <= self.level_2_after_days <= self.level_3_after_days:
            raise ValueError("dunning levels must start after ascending numbers of days")
        if self.health_breach_from_level < self.health_warn_from_level:
            raise ValueError("health_breach_from_level must not be below health_warn_from_level")
        return self


class DefaultInterest(_Strict):
    base_rate: float = Field(ge=-0.05, le=0.2)
    b2b_points: float = Field(ge=0, le=0.2)
    base_rate_valid_from: date


class ReceivablesPolicy(_Strict):
    version: str
    buckets: list[int] = Field(min_length=1)
    dunning: DunningPolicy
    default_interest: DefaultInterest

    @model_validator(mode="after")
    def _buckets_ascending(self) -> ReceivablesPolicy:
        if self.buckets != sorted(set(self.buckets)) or self.buckets[0] != 0:
            raise ValueError("buckets must start at 0 and ascend")
        return self


class PriorityPolicy(_Strict):
    version: str
    warn_factor: float = Field(ge=0, le=1)
    act_from: float = Field(gt=0)
    weights: dict[str, float]


class Policies(_Strict):
    kpis: KpiPolicy
    margins: MarginPolicy
    credit: CreditPolicy
    replenishment: ReplenishmentPolicy
    receivables: ReceivablesPolicy
    priority: PriorityPolicy


P = TypeVar("P", bound=BaseModel)
FILES: dict[str, type[BaseModel]] = {
    "kpis": KpiPolicy, "margins": MarginPolicy, "credit": CreditPolicy,
    "replenishment": ReplenishmentPolicy, "receivables": ReceivablesPolicy, "priority": PriorityPolicy,
}


def load_file(path: Path, model: type[P]) -> P:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyFileError(f"{path}: policy file is missing") from None
    except yaml.YAMLError as exc:
        raise PolicyFileError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyFileError(f"{path}: expected a mapping of keys at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [f"{path.name}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
                    for e in exc.errors()]
        raise PolicyFileError(f"invalid policy file {path}: " + "; ".join(problems), details=problems) from None


def load_policies(directory: Path = POLICY_DIR) -> Policies:
    return Policies(**{name: load_file(directory / f"{name}.yaml", model) for name, model in FILES.items()})


@lru_cache
def get_policies() -> Policies:
    return load_policies()
