"""Review an NDA on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import app, console, fail, principal_for, print_json, reported_errors
from core.settings import get_settings

SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", None: "green"}


@app.command("review-nda")
def review_nda(
    file: Annotated[Path, typer.Argument(help="The NDA: PDF, Word (.docx) or text.")],
    account: Annotated[str | None, typer.Option(help="The account it belongs to (the review is then added to "
                                                     "its documents and NDA status).")] = None,
    user: Annotated[str | None, typer.Option(help="Act as this user id, with the same access rules.")] = None,
    llm: Annotated[str, typer.Option(help="Which rules the LLM reads: off, uncertain (default) or all.")] = "uncertain",
    as_json: Annotated[bool, typer.Option("--json", help="Print only the report JSON.")] = False,
) -> None:
    """Check an NDA against the company's NDA policy: each deviation with its quote, severity and wording."""
    from agents.nda_review import service
    from api.services import open_services

    if llm not in ("off", "uncertain", "all"):
        fail("--llm must be off, uncertain or all")
    if not file.is_file():
        fail(f"{file} is not a file")
    settings = get_settings()
    with reported_errors(), open_services(settings, start_llm=False, run_worker=False) as services:
        from core.db.session import session_scope

        with session_scope(settings.resolved_database_url) as session:
            principal = principal_for(session, user)
            review = service.submit(session, settings, principal, file.read_bytes(), file.name, account,
                                    llm_mode=llm)  # type: ignore[arg-type]
            review_id = review.id
        gateway = services.llm.lazy_gateway() if llm != "off" else None
        report = service.run(settings, services.checkpointer, review_id, principal, gateway=gateway,
                             llm_mode=llm)  # type: ignore[arg-type]
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    table = Table(title=f"{file.name}: {report.verdict.upper()} ({report.language}, policy {report.policy_version})")
    table.add_column("rule", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    for column in ("explanation", "quote", "page"):
        table.add_column(column)
    order = {"high": 0, "medium": 1, "low": 2, None: 3}
    for f in sorted(report.findings, key=lambda f: order[f.severity]):
        style = SEVERITY_STYLE[f.severity]
        table.add_row(f.rule, f.status, f"[{style}]{f.severity or '–'}[/]",
                      f.explanation + (" [yellow](uncertain)[/]" if f.uncertain else ""), (f.quote or "")[:90],
                      str(f.page or ""))
    console.print(table)
    if report.verdict_basis == "provisional":
        console.print(f"[yellow]The verdict is provisional: it rests on unconfirmed readings of "
                      f"{', '.join(report.unverified)}.[/]")
    console.print(f"review {report.review_id}; LLM calls {report.llm.calls}, "
                  f"{report.llm.prompt_tokens + report.llm.completion_tokens} tokens, {report.wall_s:.1f}s")
