"""Reporting periods: ``2026-11`` (month), ``2026-Q3`` (quarter), ``2026`` (year), ``R12`` (the last 12 complete
months: as of 2026-11-26 that is 1 Nov 2025 – 31 Oct 2026; its previous year 1 Nov 2024 – 31 Oct 2025).

A period never reaches past ``as_of``: a period that contains it is *partial* and ends there. Months
that are complete (ended before ``as_of``) are listed for rules that need whole months.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from core.calendar import add_months, month_key, month_start
from core.errors import InvalidInput


@dataclass(frozen=True)
class Period:
    label: str
    start: date  # inclusive
    end: date  # inclusive (clipped to as_of)
    nominal_end: date  # inclusive end of the full period
    as_of: date

    @property
    def partial(self) -> bool:
        return self.end < self.nominal_end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def year_fraction(self) -> float:
        return self.days / 365.0

    @property
    def months(self) -> list[str]:
        """Every month touched by the period (up to as_of)."""
        keys, cursor = [], month_start(self.start)
        while cursor <= self.end:
            keys.append(month_key(cursor))
            cursor = add_months(cursor, 1)
        return keys

    @property
    def complete_months(self) -> list[str]:
        """Months of the period that ended before as_of."""
        return [m for m in self.months if add_months(date.fromisoformat(m + "-01"), 1) <= self.as_of]

    def previous_year(self) -> Period:
        def back(d: date) -> date:
            try:
                return d.replace(year=d.year - 1)
            except ValueError:  # 29 Feb
                return d.replace(year=d.year - 1, day=28)

        return Period(f"{self.label} (previous year)", back(self.start), back(self.end), back(self.nominal_end),
                      back(self.as_of))


EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^(\d{4})$")


def parse_period(label: str | None, as_of: date) -> Period:
    text = (label or "R12").strip().upper()
    if text == "R12":  # the last 12 complete months, as KAMs read it: the month of as_of is not yet closed
        end = month_start(as_of) - timedelta(days=1)
        return Period("R12", add_months(month_start(as_of), -12), end, end, as_of)
    match = _MONTH.match(text) or _QUARTER.match(text) or _YEAR.match(text)
    if match is None:
        raise InvalidInput(f"period {label!r} not understood; use YYYY-MM, YYYY-Qn, YYYY or R12")
    if not EARLIEST_YEAR <= int(match[1]) <= LATEST_YEAR:
        raise InvalidInput(f"period {label} is outside the years {EARLIEST_YEAR}–{LATEST_YEAR}")
    if match.re is _MONTH:
        start = date(int(match[1]), int(match[2]), 1)
        nominal_end = add_months(start, 1) - timedelta(days=1)
    elif match.re is _QUARTER:
        start = date(int(match[1]), 3 * int(match[2]) - 2, 1)
        nominal_end = add_months(start, 3) - timedelta(days=1)
    else:
        start, nominal_end = date(int(match[1]), 1, 1), date(int(match[1]), 12, 31)
    if start > as_of:
        raise InvalidInput(f"period {label} starts after the as-of date {as_of}")
    return Period(text, start, min(nominal_end, as_of), nominal_end, as_of)
