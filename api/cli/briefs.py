"""Account briefs: the nightly run and showing one."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from api.cli.common import app, console, fail, parse_date, principal_for, print_json, reported_errors
from core.logging import configure_logging
from core.settings import get_settings

briefs_app = typer.Typer(help="Pre-meeting account briefs: the nightly run, show one.", no_args_is_help=True)
app.add_typer(briefs_app, name="briefs")


def _days(window: str) -> int:
    match = re.fullmatch(r"(\d{1,3})d", window.strip())
    if match is None:
        fail(f"--meetings-within must look like 7d, not {window!r}")
    return int(match.group(1))


@briefs_app.command("run")
def briefs_run(
    on: Annotated[str | None, typer.Option("--date", help="Brief date YYYY-MM-DD (default today).")] = None,
    accounts: Annotated[list[str] | None, typer.Option("--accounts", help="Only these accounts.")] = None,
    meetings_within: Annotated[str, typer.Option(help="The model writes the summary of accounts with a meeting "
                                                      "within this window (e.g. 7d).")] = "7d",
    llm_all: Annotated[bool, typer.Option("--all", help="The model writes the summary of every changed account, "
                                                        "not only those with a meeting soon.")] = False,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Templates only.")] = False,
    force: Annotated[bool, typer.Option(help="Write briefs even for accounts whose facts did not change.")] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=8, help="Model briefs written at once.")] = 1,
    user: Annotated[str | None, typer.Option(help="Act as this user (default: the nightly system run).")] = None,
) -> None:
    """Write today's briefs: every changed account from the templates, the summary by the model where a
    meeting is near. Unchanged accounts are skipped; a run that was killed resumes where it stopped."""
    from agents.account_brief import jobs
    from api.services import open_services
    from core.access import Principal
    from core.db.session import session_scope

    settings = get_settings()
    configure_logging(settings.log_level)
    brief_date = parse_date(on, "--date") or date.today()
    with reported_errors(), open_services(settings, start_llm=False, run_worker=False) as services:
        with session_scope(settings.resolved_database_url) as session:
            principal = principal_for(session, user) if user else Principal.system("nightly-briefs")
        with Progress(console=console, transient=True) as bar:
            accounts_task = bar.add_task("facts and template briefs", total=None)
            llm_task = bar.add_task("model summaries", total=None)
            summary = jobs.nightly(
                services, principal, brief_date=brief_date, account_ids=accounts,
                meetings_within_days=_days(meetings_within), llm_for_all=llm_all, force=force, use_llm=not no_llm,
                concurrency=concurrency, progress=lambda n: bar.update(accounts_task, completed=n),
                on_brief=lambda: bar.advance(llm_task))
    table = Table(title=f"briefs {brief_date.isoformat()}: {summary.accounts} accounts")
    for column in ("generated (templates)", "model summaries", "fallback", "unchanged, skipped", "hand-overs",
                   "failed"):
        table.add_column(column, justify="right")
    table.add_row(str(summary.generated), str(summary.llm), str(summary.fallback), str(summary.unchanged),
                  str(summary.handovers), str(len(summary.failed)))
    console.print(table)
    console.print(f"facts {summary.gather_s:.2f} s, templates and storing {summary.compose_s:.2f} s")
    for account, reason in summary.failed.items():
        console.print(f"[red]failed[/] {account}: {reason}")


@briefs_app.command("show")
def briefs_show(
    account: Annotated[str, typer.Argument(help="Account id, e.g. A-00001.")],
    on: Annotated[str | None, typer.Option("--date", help="The brief of this date (default: the latest).")] = None,
    lang: Annotated[str | None, typer.Option(help="de or en (default: the latest in any language).")] = None,
    kind: Annotated[str, typer.Option(help="brief or handover.")] = "brief",
    user: Annotated[str | None, typer.Option(help="Act as this user id, with the same access rules.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The brief as JSON.")] = False,
    html: Annotated[Path | None, typer.Option(help="Also write the HTML page (with its charts) to this file.")] = None,
) -> None:
    """Print an account's brief as Markdown (or JSON)."""
    from agents.account_brief import render, service
    from core.db.migrate import upgrade
    from core.db.session import session_scope

    if lang not in (None, "de", "en"):
        fail("--lang must be de or en")
    if kind not in ("brief", "handover"):
        fail("--kind must be brief or handover")
    settings = get_settings()
    with reported_errors():
        upgrade(settings.resolved_database_url)
        with session_scope(settings.resolved_database_url) as session:
            brief = service.latest(session, principal_for(session, user), account, kind=kind, language=lang,
                                   on=parse_date(on, "--date"))
    if html is not None:
        html.write_text(render.html(brief), encoding="utf-8")
    if as_json:
        print_json(brief.model_dump(mode="json"))
    else:
        console.print(render.markdown(brief), markup=False, highlight=False)
