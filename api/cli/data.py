"""Database schema, CRM import and demo data."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import MAX_ERRORS_SHOWN, app, console, db_session, parse_as_of, reported_errors
from core.crm import demo
from core.crm.importer import ImportFailed, import_directory
from core.db.migrate import upgrade
from core.settings import get_settings


@app.command("db-upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    settings = get_settings()
    upgrade(settings.resolved_database_url)
    console.print(f"database at head: {settings.resolved_database_url}")


def _import(directory: Path) -> None:
    settings = get_settings()
    upgrade(settings.resolved_database_url)
    started = time.perf_counter()
    with reported_errors():
        try:
            report = import_directory(directory, settings.resolved_database_url,
                                      on_file=lambda stem, n: console.print(f"  {stem}.csv: {n:,} rows"))
        except ImportFailed as exc:
            if len(exc.report.errors) > MAX_ERRORS_SHOWN:  # the console shows 50; the file has them all
                log_path = settings.data_dir / "import-errors.txt"
                log_path.write_text("\n".join(exc.details) + "\n", encoding="utf-8")
                exc.message += f" (all {len(exc.report.errors)} errors written to {log_path})"
            raise
    console.print(f"[green]imported[/] {report.total_rows:,} rows from {len(report.rows_per_file)} files "
                  f"in {time.perf_counter() - started:.1f}s (upsert by id: re-running changes nothing)")


@app.command("import")
def import_cmd(directory: Annotated[Path, typer.Argument(help="Folder with one <entity>.csv per entity.")]) -> None:
    """Import CRM CSV files: all rows validated, all errors reported, all-or-nothing."""
    _import(directory)


@app.command("demo-data")
def demo_data(
    accounts: Annotated[int, typer.Option(min=1, max=100_000, help="How many accounts.")] = 50,
    seed: Annotated[int, typer.Option(help="Same seed and as-of date give the same data.")] = 7,
    out: Annotated[Path | None, typer.Option(help="Where the CSVs go (default: DATA_DIR/demo).")] = None,
    as_of: Annotated[str | None, typer.Option(help="Reference date YYYY-MM-DD (default: today).")] = None,
    load: Annotated[bool, typer.Option("--import/--no-import", help="Import the CSVs after writing.")] = True,
) -> None:
    """Generate a realistic German/English demo dataset with planted situations, and import it."""
    settings = get_settings()
    out_dir = out or settings.data_dir / "demo"
    reference = parse_as_of(as_of)
    started = time.perf_counter()
    summary = demo.generate(out_dir, accounts=accounts, seed=seed, as_of=reference)
    console.print(f"wrote {sum(summary.rows.values()):,} rows for {accounts:,} accounts to {out_dir} "
                  f"in {time.perf_counter() - started:.1f}s (as of {reference})")
    for account_id, situation in demo.PLANTED.items():
        if int(account_id.split("-")[1]) <= accounts:
            console.print(f"  planted: {account_id} {situation}")
    if load:
        _import(out_dir)
        _issue_demo_tokens(settings.data_dir / "demo-tokens.txt")


def _issue_demo_tokens(path: Path) -> None:
    """One fresh token per demo user, printed and kept in a file only the owner can read (demo use only)."""
    from sqlalchemy import select

    from core import auth
    from core.db import models

    with db_session() as session:
        user_ids = session.execute(select(models.User.id).order_by(models.User.id)).scalars().all()
        issued = [(user_id, auth.issue_token(session, user_id, label="demo")[1]) for user_id in user_ids
                  if not auth.is_disabled(session, user_id)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text("".join(f"{user_id}\t{token}\n" for user_id, token in issued))
    console.print(f"bearer tokens of the {len(issued)} demo users (also in {path}); e.g. "
                  "curl -H 'Authorization: Bearer <token>' http://127.0.0.1:8000/accounts")
    for user_id, token in issued:
        console.print(f"  {user_id:<12} {token}", soft_wrap=True)

