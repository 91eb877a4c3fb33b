"""Month arithmetic shared by the demo generator and the rule periods."""

from __future__ import annotations

from datetime import date


def month_start(d: date) -> date:
    return d.replace(day=1)


def add_months(d: date, months: int) -> date:
    """First day of the month ``months`` after ``d``'s month."""
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_key(d: date) -> str:
    """``YYYY-MM``."""
    return f"{d.year:04d}-{d.month:02d}"
