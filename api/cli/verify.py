"""``kam verify``: check what a text claims about accounts, sentence by sentence, against their facts."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from api.cli.common import app, console, db_session, fail, parse_as_of, principal_for, print_json, reported_errors
from core import claims
from core.i18n import Language
from core.settings import get_settings


@app.command("verify")
def verify(text: Annotated[str | None, typer.Argument(help="The text, or - to read it from stdin.")] = None,
           user: Annotated[str | None, typer.Option(help="Check as this user id, with the same access rules.")] = None,
           account: Annotated[list[str] | None,
                              typer.Option(help="The account the text is about (repeatable).")] = None,
           as_of: Annotated[str | None, typer.Option(help="As of YYYY-MM-DD (default today).")] = None,
           language: Annotated[str | None, typer.Option(help="de or en (default: read from the text).")] = None,
           sources: Annotated[bool, typer.Option("--sources", help="Also list the numbered sources.")] = False,
           as_json: Annotated[bool, typer.Option("--json", help="The result as JSON.")] = False) -> None:
    """Each sentence accepted or rejected with its reasons (exit code 0 when all are accepted, 1 otherwise).
    With [n] markers a sentence is checked against the source it cites (see --sources), without them against
    what it names."""
    from agents.sources import account_sources, check_account_text, listing

    if not account:
        fail("give the account the text is about: --account A-00001")
    if language not in (None, "de", "en"):
        fail(f"--language must be de or en, got {language!r}")
    body = sys.stdin.read() if text == "-" else text
    day = parse_as_of(as_of)
    settings = get_settings()
    with reported_errors(), db_session() as session:
        principal = principal_for(session, user)
        if not body or not body.strip():
            if not sources:
                fail("give the text to check (or - to read it from stdin), or --sources to list the sources")
            found = account_sources(session, settings, principal, account, day, language or "en")  # type: ignore[arg-type]
            if as_json:
                print_json({"sources": [claims.source_dict(s) for s in found.sources]})
            else:
                typer.echo(listing(found))
            return
        lang: Language | None = language  # type: ignore[assignment]
        result = check_account_text(session, settings, principal, account, day, body, lang)
    report = result.report
    if as_json:
        out: dict[str, object] = {"accepted": report.accepted,
                                  "sentences": [s.as_dict() for s in report.sentences]}
        if sources:
            out["sources"] = [claims.source_dict(s) for s in result.found.sources]
        print_json(out)
    else:
        if sources:
            typer.echo(listing(result.found))
            console.print("")
        for sentence in report.sentences:
            mark = "[green]✓ accepted[/]" if sentence.accepted else "[red]✗ rejected[/]"
            console.print(f"{mark}  ", end="")
            console.print(sentence.text, markup=False, highlight=False)
            for reason in sentence.reasons:
                console.print(f"    - {reason}", markup=False, highlight=False)
    raise typer.Exit(code=0 if report.accepted else 1)
