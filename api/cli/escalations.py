"""Escalation mails: scan for triggers, draft one, show a draft, decide on it. Nothing is sent."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import app, console, fail, parse_date, principal_for, print_json, reported_errors
from core.settings import get_settings

escalations_app = typer.Typer(help="Rule breaches → mail drafts → a person's decision (never sent).",
                              no_args_is_help=True)
app.add_typer(escalations_app, name="escalations")

AsOf = Annotated[str | None, typer.Option("--date", help="As of YYYY-MM-DD (default today).")]
User = Annotated[str | None, typer.Option(help="Act as this user id, with the same access rules.")]


def _print_draft(row: object, events: list[object] | None = None, failures: list[str] | None = None) -> None:
    r: object = row
    console.print(f"[bold]{r.id}[/] {r.status} · {r.audience} · {r.trigger_key}")  # type: ignore[attr-defined]
    console.print(f"To: {r.recipient}\nSubject: {r.subject}\n")  # type: ignore[attr-defined]
    console.print(r.body, markup=False, highlight=False)  # type: ignore[attr-defined]
    content = json.loads(r.content or "{}")  # type: ignore[attr-defined]
    if explanation := content.get("trigger", {}).get("explanation"):
        console.print(f"\nfinding: {explanation}", markup=False, highlight=False)
    for clause in content.get("clauses", []):
        console.print(f"contract: {clause['title']} {clause.get('clause') or ''}: {clause['text'][:160]}",
                      markup=False, highlight=False)
    console.print(f"\nwritten by: {content.get('prose_source')}"
                  + (f" (fallback: {content['fallback_reason']})" if content.get("fallback_reason") else ""))
    for failure in failures or []:
        console.print(f"[red]edit refused[/]: {failure}", markup=True, highlight=False)
    for e in events or []:
        console.print(f"  {e.at:%Y-%m-%d %H:%M} {e.actor} {e.action}", highlight=False)  # type: ignore[attr-defined]


@escalations_app.command("scan")
def scan(on: AsOf = None, account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
         user: User = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the current triggers with their facts and the drafts already made for them."""
    from agents.escalation_drafter import service
    from core.db.migrate import upgrade
    from core.db.session import session_scope

    settings = get_settings()
    with reported_errors():
        upgrade(settings.resolved_database_url)
        with session_scope(settings.resolved_database_url) as session:
            found = service.current_triggers(session, principal_for(session, user),
                                             parse_date(on, "--date") or date.today(), account)
    if as_json:
        print_json([{"trigger": s.trigger.model_dump(mode="json"), "drafts": s.drafts} for s in found])
        return
    table = Table(title=f"{len(found)} triggers")
    for column in ("key", "severity", "mail to", "facts", "drafts"):
        table.add_column(column)
    for s in found:
        facts = ", ".join(f"{f.id}={f.value}" for f in s.trigger.facts if not f.internal)[:80]
        table.add_row(s.trigger.key, s.trigger.severity, "/".join(s.trigger.audiences), facts,
                      ", ".join(f"{a}:{d[:8]}" for a, d in s.drafts.items()))
    console.print(table)


@escalations_app.command("draft")
def draft(key: Annotated[str, typer.Argument(help="Trigger key from `kam escalations scan`.")],
          audience: Annotated[str, typer.Option(help="customer or internal.")] = "customer",
          on: AsOf = None, user: User = None,
          no_llm: Annotated[bool, typer.Option("--no-llm", help="The reviewed template only.")] = False) -> None:
    """Draft the mail for a trigger; it then waits for `kam escalations decide`."""
    from agents.escalation_drafter import service
    from api.services import open_services
    from core.db.session import session_scope

    if audience not in ("customer", "internal"):
        fail("--audience must be customer or internal")
    settings = get_settings()
    with reported_errors(), open_services(settings, start_llm=False, run_worker=False) as services:
        with session_scope(settings.resolved_database_url) as session:
            principal = principal_for(session, user)
        row = service.start_draft(settings, services.checkpointer, principal, key, audience=audience,  # type: ignore[arg-type]
                                  as_of=parse_date(on, "--date") or date.today(),
                                  gateway=None if no_llm else services.llm.lazy_gateway(),
                                  llm_mode=settings.escalation_llm_mode)
    _print_draft(row)


@escalations_app.command("show")
def show(draft_id: Annotated[str, typer.Argument(help="Draft id.")], user: User = None,
         eml: Annotated[Path | None, typer.Option(help="Write the approved mail to this .eml file.")] = None,
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a draft with its log; export it as .eml once approved."""
    from agents.escalation_drafter import service
    from core.db.migrate import upgrade
    from core.db.session import session_scope

    settings = get_settings()
    with reported_errors():
        upgrade(settings.resolved_database_url)
        with session_scope(settings.resolved_database_url) as session:
            row = service.get_draft(session, principal_for(session, user), draft_id)
            events = service.events(session, draft_id)
            if eml is not None:
                eml.write_bytes(service.eml(row))
            if as_json:
                print_json({"id": row.id, "status": row.status, "trigger_key": row.trigger_key,
                            "audience": row.audience, "recipient": row.recipient, "subject": row.subject,
                            "body": row.body, "content": json.loads(row.content),
                            "events": [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                                        "detail": json.loads(e.detail)} for e in events]})
                return
            _print_draft(row, list(events))


@escalations_app.command("decide")
def decide(draft_id: Annotated[str, typer.Argument(help="Draft id.")],
           action: Annotated[str, typer.Argument(help="approve, edit or reject.")],
           body_file: Annotated[Path | None, typer.Option("--body", help="edit: the new body from this file.")] = None,
           subject: Annotated[str | None, typer.Option(help="edit: the new subject.")] = None,
           reason: Annotated[str | None, typer.Option(help="reject: why.")] = None,
           on: AsOf = None, user: User = None) -> None:
    """Decide on a draft in review (from any process: the graph resumes from its checkpoint)."""
    from pydantic import ValidationError

    from agents.escalation_drafter import service
    from agents.escalation_drafter.schemas import Decision
    from api.services import open_services
    from core.db.session import session_scope

    try:
        decision = Decision(action=action, subject=subject, reason=reason,
                            body=body_file.read_text(encoding="utf-8") if body_file else None)
    except (ValidationError, OSError) as exc:
        fail(f"not a valid decision: {exc}")
    settings = get_settings()
    with reported_errors(), open_services(settings, start_llm=False, run_worker=False) as services:
        with session_scope(settings.resolved_database_url) as session:
            principal = principal_for(session, user)
        row, failures = service.decide(settings, services.checkpointer, principal, draft_id, decision,
                                       as_of=parse_date(on, "--date") or date.today())
    _print_draft(row, failures=failures)
    if failures:
        raise typer.Exit(1)
