"""Users, their bearer tokens, and the audit log (run on the service's machine: the operator's own tools)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from api.cli.common import app, console, db_session, print_json, reported_errors
from core import audit, auth

users_app = typer.Typer(help="Users who may sign in: add, list, disable.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens: issue, list, revoke.", no_args_is_help=True)
audit_app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")


def _print(rows: list[dict[str, Any]], as_json: bool, line: Callable[[dict[str, Any]], str]) -> None:
    """JSON for machines, one line per row for people."""
    if as_json:
        print_json(rows)
        return
    for row in rows:
        console.print(line(row))


@users_app.command("add")
def users_add(
    user_id: Annotated[str, typer.Argument(help="The user's id, e.g. U-KAM-042.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    email: Annotated[str, typer.Option(help="Mail address.")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(auth.USER_ROLES)}.")],
    language: Annotated[str, typer.Option(help="de or en: what the user reads.")] = "de",
) -> None:
    with reported_errors(), db_session() as session:
        auth.add_user(session, user_id, name=name, email=email, role=role, language=language)
    console.print(f"added {user_id} ({role})")


@users_app.command("list")
def users_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    with db_session() as session:
        rows = [{"id": u.id, "name": u.name, "role": u.role, "disabled": disabled}
                for u, disabled in auth.users(session)]
    _print(rows, as_json, lambda row: f"{row['id']:<14} {row['role']:<14} "
                                      f"{'disabled' if row['disabled'] else 'active':<9} {row['name']}")


@users_app.command("disable")
def users_disable(user_id: Annotated[str, typer.Argument(help="The user's id.")]) -> None:
    """The user can no longer sign in; their tokens stop working at once."""
    with reported_errors(), db_session() as session:
        auth.disable_user(session, user_id)
    console.print(f"disabled {user_id}")


@token_app.command("issue")
def token_issue(
    user_id: Annotated[str, typer.Argument(help="Whose token.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
    days: Annotated[int | None, typer.Option(help="Valid for this many days (default: until revoked).")] = None,
) -> None:
    """Print a new token (shown once; only its hash is stored)."""
    with reported_errors(), db_session() as session:
        row, secret = auth.issue_token(session, user_id, label=label, valid_days=days)
        token_id = row.id
    console.print(f"token {token_id} for {user_id}:", style="dim")
    typer.echo(secret)


@token_app.command("list")
def token_list(user: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None,
               as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    with db_session() as session:
        rows = [{"id": t.id, "user_id": t.user_id, "label": t.label, "created_at": t.created_at,
                 "expires_at": t.expires_at, "revoked_at": t.revoked_at} for t in auth.tokens(session, user)]
    _print(rows, as_json, lambda row: f"{row['id']}  {row['user_id']:<14} "
                                      f"{'revoked' if row['revoked_at'] else 'active':<8} {row['label']}")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="The token's id (from `kam token list`).")]) -> None:
    with reported_errors(), db_session() as session:
        auth.revoke_token(session, token_id)
    console.print(f"revoked {token_id}")


@audit_app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    actor: Annotated[str | None, typer.Option(help="Only this actor.")] = None,
    subject: Annotated[str | None, typer.Option(help="Subject prefix, e.g. draft: or nda_review:<id>.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Newest first."""
    with db_session() as session:
        rows = [{"id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "subject": e.subject,
                 "account_id": e.account_id, "model": e.model, "prompt_version": e.prompt_version,
                 "input_hash": e.input_hash, "detail": e.detail}
                for e in audit.entries(session, limit=limit, actor=actor, subject=subject)]
    _print(rows, as_json, lambda row: f"{row['at']:%Y-%m-%d %H:%M:%S}  {row['actor']:<20} {row['action']:<16} "
                                      f"{row['subject']}  {row['model'] or ''}")
