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

from core import i18n

Unit = Literal["ratio", "points", "number", "count", "qty", "days", "weeks", "months", "years", "currency",
               "score", "date", "text"]
# What a figure is to its metric: the measured value, the target it is judged against, or another figure of
# the computation (an input, a figure quoted from a note): only a figure named as a target binds to a target.
FigureKind = Literal["value", "threshold", "input"]


@dataclass(frozen=True, slots=True)
class Fact:
    id: str
    value: float | int | date | str
    unit: Unit
    source: str
    # the metric a text names this fact by (a core.vocabulary key: "call_off_rate", "exposure"): a figure written
    # next to that name must be this fact, not another one (swapped or wrong-metric figures fail)
    metric: str = ""
    figure: FigureKind = "value"
    period: str = ""  # the month a value of a series is for ("2026-10")
    subject: str = ""  # what it is about when that is not the account: an invoice, an article, an escalation

    def display(self, language: i18n.Language = "en") -> str:
        """How the fact is shown to the LLM (and how a correct text may write it)."""
        if isinstance(self.value, date):
            return i18n.day(self.value, language)
        if isinstance(self.value, str):
            return self.value
        if self.unit == "ratio":
            return i18n.percent(self.value, language)
        if self.unit == "currency":
            return i18n.number(self.value, language, 2)
        return i18n.figure(self.value, language)

    def line(self, language: i18n.Language = "en") -> str:
        return f"{self.id} = {self.display(language)}"


def _as_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def facts_from(prefix: str, values: Mapping[str, Any], *, source: str,
               units: Mapping[str, Unit] | None = None, skip: Iterable[str] = (),
               metrics: Mapping[str, str] | None = None, subject: str = "") -> list[Fact]:
    """Facts for every figure and date in ``values`` (booleans, lists, ids and None are not figures);
    ``metrics`` names the metric of a key (a key without one is an input of the computation)."""
    units, metrics = units or {}, metrics or {}
    skipped = set(skip)
    facts = []
    for key, value in values.items():
        if key in skipped or value is None or isinstance(value, bool):
            continue
        fact_id = f"{prefix}.{key}"
        metric = metrics.get(key, "")
        figure: FigureKind = "value" if metric else "input"
        if metric.endswith(".threshold"):
            metric, figure = metric.removesuffix(".threshold"), "threshold"
        if isinstance(value, (int, float)):
            facts.append(Fact(fact_id, value, units.get(key, "number"), source, metric, figure, subject=subject))
        elif isinstance(value, date):
            facts.append(Fact(fact_id, value, "date", source, metric, figure, subject=subject))
        elif isinstance(value, str) and (day := _as_date(value)) is not None:
            facts.append(Fact(fact_id, day, "date", source, metric, figure, subject=subject))
    return facts


def facts_of_dataclass(prefix: str, obj: Any, *, source: str, units: Mapping[str, Unit] | None = None,
                       skip: Iterable[str] = (), metrics: Mapping[str, str] | None = None,
                       subject: str = "") -> list[Fact]:
    return facts_from(prefix, {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, source=source,
                      units=units, skip=skip, metrics=metrics, subject=subject)
