"""Dialect helpers so the rules aggregate in the database on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, literal_column
from sqlalchemy.orm import Session

SelectT = TypeVar("SelectT", bound=Select)  # a select of any column shape


def days_between(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    """Whole days from ``earlier`` to ``later`` (dates)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return later - earlier


def month_of(session: Session, column: Any) -> ColumnElement[Any]:
    """``YYYY-MM`` of a date column."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(column, 1, 7)  # dates are ISO text in SQLite; far cheaper than strftime
    return func.to_char(column, literal_column("'YYYY-MM'"))


def for_accounts(query: SelectT, column: Any, account_ids: Sequence[str] | None) -> SelectT:
    if account_ids is None:
        return query
    if len(account_ids) == 1:
        return query.where(column == account_ids[0])
    return query.where(column.in_(account_ids))


def _plain(value: Any) -> Any:
    """PostgreSQL sums integers as NUMERIC (Decimal); the rules work in int and float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def rows_by_account(session: Session, query: Select) -> dict[str, tuple[Any, ...]]:
    """Run a query whose first column is account_id; map account_id -> the remaining columns."""
    return {row[0]: tuple(_plain(v) for v in row[1:]) for row in session.execute(query)}
