"""Computed facts in one shape, so agents hand rule figures to the LLM and to the verifier without glue.

A fact is a figure that deterministic code computed (a KPI value, a threshold, an exposure, a date) with an
id the LLM can cite, the unit that says how it may be written ("ratio" may appear as a percentage), and
where it came from (rule and policy version, or the CRM).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

Unit = Literal["ratio", "points", "number", "count", "qty", "days", "weeks", "months", "years", "currency",
               "score", "date", "text"]


@dataclass(frozen=True, slots=True)
class Fact:
    id: str
    value: float | int | date | str
    unit: Unit
    source: str
    # words a text uses to name this fact ("call-off rate", "Abrufquote"): a figure written after one of them
    # must be this fact, not another one (swapped figures fail)
    terms: tuple[str, ...] = ()

    def display(self) -> str:
        """How the fact is shown to the LLM (and how a correct text may write it)."""
        if isinstance(self.value, date):
            return self.value.isoformat()
        if isinstance(self.value, str):
            return self.value
        if self.unit == "ratio":
            return f"{self.value * 100:.1f} %".replace(".0 %", " %")
        if self.unit == "currency":
            return f"{self.value:,.2f}"
        if isinstance(self.value, float) and not self.value.is_integer():
            return f"{self.value:.2f}".rstrip("0").rstrip(".")
        return f"{self.value:g}" if isinstance(self.value, float) else str(self.value)

    def line(self) -> str:
        return f"{self.id} = {self.display()}"


def _as_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def facts_from(prefix: str, values: Mapping[str, Any], *, source: str,
               units: Mapping[str, Unit] | None = None, skip: Iterable[str] = ()) -> list[Fact]:
    """Facts for every figure and date in ``values`` (booleans, lists, ids and None are not figures)."""
    units = units or {}
    skipped = set(skip)
    facts = []
    for key, value in values.items():
        if key in skipped or value is None or isinstance(value, bool):
            continue
        fact_id = f"{prefix}.{key}"
        if isinstance(value, (int, float)):
            facts.append(Fact(fact_id, value, units.get(key, "number"), source))
        elif isinstance(value, date):
            facts.append(Fact(fact_id, value, "date", source))
        elif isinstance(value, str) and (day := _as_date(value)) is not None:
            facts.append(Fact(fact_id, day, "date", source))
    return facts


def facts_of_dataclass(prefix: str, obj: Any, *, source: str, units: Mapping[str, Unit] | None = None,
                       skip: Iterable[str] = ()) -> list[Fact]:
    return facts_from(prefix, {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, source=source,
                      units=units, skip=skip)
