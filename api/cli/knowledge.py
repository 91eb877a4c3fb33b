"""Ingest documents and search them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import (
    app,
    console,
    db_session,
    err_console,
    fail,
    parse_date,
    principal_for,
    print_json,
    reported_errors,
)
from core.settings import get_settings


@app.command()
def ingest(
    path: Annotated[Path | None, typer.Argument(help="File or folder (PDF, .txt, .md, .eml).")] = None,
    account: Annotated[str | None, typer.Option(
        help="Account of the documents (default: from A-xxxxx folders).")] = None,
    crm: Annotated[bool, typer.Option("--crm", help="Also sync the CRM interaction notes from the database.")] = False,
    reembed: Annotated[bool, typer.Option("--reembed", help="Embed every stored chunk again with the configured "
                                                            "model (after changing KAM_EMBEDDING_MODEL).")] = False,
) -> None:
    """Ingest documents into the knowledge store; unchanged ones are skipped, deleted ones removed."""
    from rich.progress import Progress
    from sqlalchemy import func, select

    from core.db import models
    from knowledge.ingest import Ingestor
    from knowledge.service import get_store

    if path is None and not crm and not reembed:
        fail("give a PATH, --crm, --reembed, or a combination")
    with reported_errors():
        store = get_store(get_settings())
        ingestor = Ingestor(store)
        with Progress(console=console, transient=True) as progress:
            if reembed:
                before = store.vectors_model
                task = progress.add_task(f"re-embedding with {store.embedding.model_id}",
                                         total=store.counts()["chunks"])
                count = store.reembed(progress=lambda n: progress.advance(task, n))
                console.print(f"[green]re-embedded[/] {count:,} chunks: {before or 'empty store'} → "
                              f"{store.embedding.model_id}")
            if path is not None:
                task = progress.add_task(f"ingesting {path}", total=ingestor.count_files(path))
                report = ingestor.ingest_path(path, account_id=account,
                                              progress=lambda _name: progress.advance(task))
                console.print(f"[green]{path}[/]: {report.summary()}")
                for reason in report.rejected:
                    err_console.print(f"  [yellow]rejected[/] {reason}")
            if crm:
                with db_session() as session:
                    total = session.execute(select(func.count()).select_from(models.Interaction)).scalar_one()
                    task = progress.add_task("ingesting CRM notes", total=total)
                    report = ingestor.ingest_crm_notes(session, progress=lambda _id: progress.advance(task))
                console.print(f"[green]CRM notes[/]: {report.summary()}")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for (German or English).")],
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
    user: Annotated[str | None, typer.Option(help="Search as this user id, with the same access rules.")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, vector or bm25.")] = "hybrid",
    k: Annotated[int, typer.Option(min=1, max=50, help="How many hits.")] = 8,
    since: Annotated[str | None, typer.Option(help="Only documents dated on or after YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="Only documents dated on or before YYYY-MM-DD.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Search contracts, notes and mails with citations (as a user: only what that user may see)."""
    from knowledge.retriever import AccessScope
    from knowledge.service import get_retriever
    from knowledge.store import DateRange

    if mode not in ("hybrid", "vector", "bm25"):
        fail("--mode must be hybrid, vector or bm25")
    with reported_errors():
        with db_session() as session:
            scope = AccessScope.for_principal(principal_for(session, user))
        period = DateRange(parse_date(since, "--since"), parse_date(until, "--until"))
        hits = get_retriever(get_settings()).search(query, scope, account_id=account, k=k, mode=mode,  # type: ignore[arg-type]
                                                    period=period)
    if as_json:
        print_json([{"score": h.score, "text": h.chunk.text, "citation": h.citation()} for h in hits])
        return
    if not hits:
        console.print("no hits (or nothing this user may see)")
    for rank, hit in enumerate(hits, start=1):
        c = hit.chunk
        where = f"{c.doc_id}" + (f" {c.clause} {c.heading}" if c.clause else "")
        console.print(f"[bold]{rank}. {where}[/] [dim]({c.account_id or 'shared'}, {c.doc_type}, "
                      f"chars {c.start}-{c.end}, score {hit.score:.4f})[/]")
        console.print(f"   {c.text[:300]}")


@app.command()
def timeline(
    account: Annotated[str, typer.Option(help="The account.")],
    since: Annotated[str | None, typer.Option(help="From YYYY-MM-DD (e.g. the last brief's date).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to YYYY-MM-DD.")] = None,
    user: Annotated[str | None, typer.Option(help="As this user id, with the same access rules.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """An account's notes and mails, newest first (what happened since the last meeting)."""
    from knowledge.retriever import AccessScope
    from knowledge.service import get_retriever
    from knowledge.store import DateRange

    with reported_errors():
        with db_session() as session:
            scope = AccessScope.for_principal(principal_for(session, user))
        period = DateRange(parse_date(since, "--since"), parse_date(until, "--until"))
        items = get_retriever(get_settings()).timeline(scope, account_id=account, period=period, limit=limit)
    if as_json:
        print_json([{"date": c.doc_date, "doc_type": c.doc_type, "doc_id": c.doc_id, "title": c.title,
                     "text": c.text} for c in items])
        return
    if not items:
        console.print("nothing in this period (or nothing this user may see)")
    for c in items:
        console.print(f"[bold]{c.doc_date}[/] [dim]{c.doc_type} {c.doc_id}[/]\n   {c.text[:300]}")
