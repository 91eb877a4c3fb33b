"""What every command shares: the Typer app, consoles, one error path, JSON output, sessions, dates, principals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from core import access
from core.access import Principal
from core.db.migrate import upgrade
from core.db.session import session_scope
from core.errors import KamError
from core.settings import get_settings

app = typer.Typer(help="kam: account intelligence for key account managers.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
console = Console()
err_console = Console(stderr=True)
MAX_ERRORS_SHOWN = 50


def fail(message: str, details: list[str] | None = None) -> NoReturn:
    """Print the reason (and up to 50 details) on stderr and exit with code 2."""
    err_console.print(f"[bold red]error:[/] {message}")
    for line in (details or [])[:MAX_ERRORS_SHOWN]:
        err_console.print(f"  {line}")
    if details and len(details) > MAX_ERRORS_SHOWN:
        err_console.print(f"  ... and {len(details) - MAX_ERRORS_SHOWN} more")
    raise typer.Exit(code=2)


@contextmanager
def reported_errors() -> Iterator[None]:
    """A KamError becomes a one-line reason and exit code 2, never a traceback."""
    try:
        yield
    except KamError as exc:
        fail(exc.message, exc.details)


def print_json(value: Any) -> None:
    """Machine-readable output on stdout, nothing else on it."""
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


@contextmanager
def db_session() -> Iterator[Session]:
    """A session on the configured database, migrated to the newest schema first."""
    url = get_settings().resolved_database_url
    upgrade(url)
    with session_scope(url) as session:
        yield session


def parse_date(value: str | None, option: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        fail(f"{option} must be YYYY-MM-DD, got {value!r}")


def parse_as_of(value: str | None) -> date:
    """The command's one reference date: --as-of or today."""
    return parse_date(value, "--as-of") or date.today()


def principal_for(session: Session, user_id: str | None) -> Principal:
    """--user USER acts as that user with their access rules; without it the local operator."""
    return access.principal_for_user(session, user_id) if user_id else Principal.local_operator()
