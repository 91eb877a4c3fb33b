"""``kam chat``: ask about your accounts from the terminal (one answer, or a conversation without MESSAGE)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from api.cli.common import app, console, err_console, parse_date, principal_for, print_json, reported_errors
from core.settings import get_settings

SOURCE = {"llm": "AI text, checked", "template": "from the records", "fallback": "from the records (the AI text failed "
          "the checks)", "refusal": "refused", "clarify": "question back"}


def _show(events: Any, as_json: bool) -> str | None:
    """Steps and progress on stderr as they come; the checked answer on stdout (no unchecked model text)."""
    thread_id = None
    for event in events:
        kind = event["event"]
        if kind == "thread":
            thread_id = event["thread_id"]
        elif kind == "step" and event.get("tool") != "choose":
            found = event.get("refused") or f"{event.get('evidence', 0)} source(s)"
            err_console.print(f"[dim]▸ {event['tool']} {event.get('account_id') or ''}: {found}[/]", highlight=False)
        elif kind == "checking" and not as_json:
            err_console.print("[dim]▸ checking the AI text against the sources[/]", highlight=False)
        elif kind == "rejected" and not as_json:
            err_console.print(f"[dim]  {event['sentences']} sentence(s) failed the checks[/]", highlight=False)
        elif kind == "answer":
            if as_json:
                print_json({"thread_id": thread_id, **{k: v for k, v in event.items() if k != "event"}})
                continue
            err_console.print("")
            console.print(event["text"], markup=False, highlight=False)
            for c in event["citations"]:
                console.print(f"  [{c['n']}] {c['label']}", markup=False, highlight=False, style="dim")
            console.print(f"({SOURCE.get(event['source'], event['source'])})", style="dim", highlight=False)
    return thread_id


@app.command("chat")
def chat(message: Annotated[str | None, typer.Argument(help="The question; without it: a conversation.")] = None,
         user: Annotated[str | None, typer.Option(help="Ask as this user id, with the same access rules.")] = None,
         thread: Annotated[str | None, typer.Option(help="Continue this thread of yours.")] = None,
         on: Annotated[str | None, typer.Option("--date", help="As of YYYY-MM-DD (default today).")] = None,
         no_llm: Annotated[bool, typer.Option("--no-llm", help="Answer from the templates only.")] = False,
         as_json: Annotated[bool, typer.Option("--json", help="The answer as JSON.")] = False) -> None:
    """Ask about your accounts: figures from the rule modules and the CRM, phrased by the model and checked."""
    from agents.chat import service
    from api.services import open_services
    from core.db.session import session_scope

    settings = get_settings()
    as_of = parse_date(on, "--date") or date.today()
    with reported_errors(), open_services(settings, start_llm=False, run_worker=False) as services:
        with session_scope(settings.resolved_database_url) as session:
            principal = principal_for(session, user)
        gateway = None if no_llm or not settings.chat_llm else services.llm.lazy_gateway()

        def ask(question: str, thread_id: str | None) -> str | None:
            events = service.stream(settings, services.checkpointer, principal, question, as_of=as_of,
                                    gateway=gateway, thread_id=thread_id)
            return _show(events, as_json)

        if message is not None:
            ask(message, thread)
            return
        thread_id = thread
        err_console.print("[dim]Ask about your accounts; an empty line or Ctrl-D ends.[/]")
        while True:
            try:
                question = input("> ").strip()
            except EOFError:
                break
            if not question:
                break
            thread_id = ask(question, thread_id) or thread_id
