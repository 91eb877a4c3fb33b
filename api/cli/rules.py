"""Deterministic rule results on the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import app, console, db_session, parse_as_of, principal_for, print_json, reported_errors
from core import access
from core.db.repository import get_account
from core.i18n import figure, percent

STATUS_STYLE = {"breach": "bold red", "warn": "yellow", "ok": "green", "not_enough_data": "dim"}


def _fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    return percent(value, "en") if unit == "ratio" else figure(value, "en")


@app.command()
def kpis(
    account: Annotated[str | None, typer.Option(help="One account id (default: all accounts).")] = None,
    period: Annotated[str | None, typer.Option(help="YYYY-MM, YYYY-Qn, YYYY or R12 (default R12).")] = None,
    as_of: Annotated[str | None, typer.Option(help="Reference date YYYY-MM-DD (default: today).")] = None,
    user: Annotated[str | None, typer.Option(help="Act as this user id, with the same access rules.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    limit: Annotated[int, typer.Option(help="Accounts shown in the all-accounts table.")] = 30,
) -> None:
    """KPIs per account with status and explanation (deterministic; no LLM)."""
    from policies import kpis as kpi_rules

    reference = parse_as_of(as_of)
    with reported_errors(), db_session() as session:
        principal = principal_for(session, user)
        access.require(principal, "rules")
        accounts = access.narrow_accounts(principal, account)
        if account:
            get_account(session, account)
        results = kpi_rules.compute(session, period=period, as_of=reference, account_ids=accounts)
    if as_json:
        print_json({a: [r.as_dict() for r in rs] for a, rs in results.items()})
        return
    if account:
        rows = results[account]
        table = Table(title=f"KPIs {account} · {rows[0].inputs['period']} · as of {reference}")
        for column in ("KPI", "value", "threshold", "status", "how it was computed"):
            table.add_column(column)
        for r in rows:
            table.add_row(r.rule, _fmt_value(r.value, r.unit), _fmt_value(r.threshold, r.unit),
                          f"[{STATUS_STYLE[r.status]}]{r.status}[/]", r.explanation)
        console.print(table)
        return
    ranked = sorted(results.items(), key=lambda item: (-sum(r.status == "breach" for r in item[1]),
                                                       -sum(r.status == "warn" for r in item[1]), item[0]))
    table = Table(title=f"KPIs of {len(results):,} accounts · as of {reference} (worst first)")
    for column in ("account", "breaches", "warnings", "breached KPIs"):
        table.add_column(column)
    for account_id, rows in ranked[:limit]:
        breached = [r.rule for r in rows if r.status == "breach"]
        table.add_row(account_id, str(len(breached)), str(sum(r.status == "warn" for r in rows)), ", ".join(breached))
    console.print(table)
