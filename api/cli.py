"""The ``kam`` command line."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sqlalchemy.orm import Session

from core.crm import demo
from core.crm.importer import ImportFailed, import_directory
from core.db.migrate import upgrade
from core.db.repository import get_account, get_user
from core.db.session import session_scope
from core.errors import KamError
from core.logging import configure_logging
from core.settings import get_settings

app = typer.Typer(help="kam: account intelligence for key account managers.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
llm_app = typer.Typer(help="The LLM endpoint: embedded server, status, model files.", no_args_is_help=True)
app.add_typer(llm_app, name="llm")
console = Console()
err_console = Console(stderr=True)

MAX_ERRORS_SHOWN = 50


def _fail(message: str, details: list[str] | None = None) -> None:
    err_console.print(f"[bold red]error:[/] {message}")
    for line in (details or [])[:MAX_ERRORS_SHOWN]:
        err_console.print(f"  {line}")
    if details and len(details) > MAX_ERRORS_SHOWN:
        err_console.print(f"  ... and {len(details) - MAX_ERRORS_SHOWN} more")
    raise typer.Exit(code=2)


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
    try:
        report = import_directory(directory, settings.resolved_database_url,
                                  on_file=lambda stem, n: console.print(f"  {stem}.csv: {n:,} rows"))
    except ImportFailed as exc:
        if len(exc.report.errors) > MAX_ERRORS_SHOWN:
            log_path = settings.data_dir / "import-errors.txt"
            log_path.write_text("\n".join(exc.details) + "\n", encoding="utf-8")
            exc.details.append(f"(all {len(exc.report.errors)} errors written to {log_path})")
        _fail(exc.message, exc.details)
        return
    except KamError as exc:
        _fail(exc.message, exc.details)
        return
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
    reference = _as_of(as_of)
    started = time.perf_counter()
    summary = demo.generate(out_dir, accounts=accounts, seed=seed, as_of=reference)
    console.print(f"wrote {sum(summary.rows.values()):,} rows for {accounts:,} accounts to {out_dir} "
                  f"in {time.perf_counter() - started:.1f}s (as of {reference})")
    for account_id, situation in demo.PLANTED.items():
        if int(account_id.split("-")[1]) <= accounts:
            console.print(f"  planted: {account_id} {situation}")
    if load:
        _import(out_dir)


@contextmanager
def _db_session() -> Iterator[Session]:
    """A session on the configured database, migrated to the newest schema first."""
    url = get_settings().resolved_database_url
    upgrade(url)
    with session_scope(url) as session:
        yield session


def _as_of(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else date.today()
    except ValueError:
        _fail(f"--as-of must be YYYY-MM-DD, got {value!r}")
        raise


STATUS_STYLE = {"breach": "bold red", "warn": "yellow", "ok": "green", "not_enough_data": "dim"}


def _fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.1f} %" if unit == "ratio" else f"{value:,.2f}".rstrip("0").rstrip(".")


@app.command()
def kpis(
    account: Annotated[str | None, typer.Option(help="One account id (default: all accounts).")] = None,
    period: Annotated[str | None, typer.Option(help="YYYY-MM, YYYY-Qn, YYYY or R12 (default R12).")] = None,
    as_of: Annotated[str | None, typer.Option(help="Reference date YYYY-MM-DD (default: today).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    limit: Annotated[int, typer.Option(help="Accounts shown in the all-accounts table.")] = 30,
) -> None:
    """KPIs per account with status and explanation (deterministic; no LLM)."""
    from policies import kpis as kpi_rules

    reference = _as_of(as_of)
    try:
        with _db_session() as session:
            if account:
                get_account(session, account)
            results = kpi_rules.compute(session, period=period, as_of=reference,
                                        account_ids=[account] if account else None)
    except KamError as exc:
        _fail(exc.message)
        return
    if as_json:
        console.print_json(json.dumps({a: [r.as_dict() for r in rs] for a, rs in results.items()}, default=str))
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


@app.command()
def ingest(
    path: Annotated[Path | None, typer.Argument(help="File or folder (PDF, .txt, .md, .eml).")] = None,
    account: Annotated[str | None, typer.Option(help="Account of the documents (default: from A-xxxxx folders).")] = None,
    crm: Annotated[bool, typer.Option("--crm", help="Also sync the CRM interaction notes from the database.")] = False,
) -> None:
    """Ingest documents into the knowledge store; unchanged ones are skipped, deleted ones removed."""
    from rich.progress import Progress

    from knowledge.ingest import Ingestor
    from knowledge.service import get_store

    if path is None and not crm:
        _fail("give a PATH, --crm, or both")
    settings = get_settings()
    try:
        ingestor = Ingestor(get_store(settings))
        with Progress(console=console, transient=True) as progress:
            if path is not None:
                task = progress.add_task(f"ingesting {path}", total=ingestor.count_files(path))
                report = ingestor.ingest_path(path, account_id=account,
                                              progress=lambda _name: progress.advance(task))
                console.print(f"[green]{path}[/]: {report.summary()}")
                for reason in report.rejected:
                    err_console.print(f"  [yellow]rejected[/] {reason}")
            if crm:
                with _db_session() as session:
                    from sqlalchemy import func, select

                    from core.db import models

                    total = session.execute(select(func.count()).select_from(models.Interaction)).scalar_one()
                    task = progress.add_task("ingesting CRM notes", total=total)
                    report = ingestor.ingest_crm_notes(session, progress=lambda _id: progress.advance(task))
                console.print(f"[green]CRM notes[/]: {report.summary()}")
    except KamError as exc:
        _fail(exc.message)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for (German or English).")],
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
    user: Annotated[str | None, typer.Option(help="Search as this user id, with the same access rules.")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, vector or bm25.")] = "hybrid",
    k: Annotated[int, typer.Option(min=1, max=50, help="How many hits.")] = 8,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Search contracts, notes and mails with citations (as a user: only what that user may see)."""
    from knowledge.retriever import AccessScope
    from knowledge.service import get_retriever

    if mode not in ("hybrid", "vector", "bm25"):
        _fail("--mode must be hybrid, vector or bm25")
    try:
        with _db_session() as session:
            acting = get_user(session, user) if user else None
            scope = AccessScope.for_user(session, acting)
        hits = get_retriever(get_settings()).search(query, scope, account_id=account, k=k, mode=mode)  # type: ignore[arg-type]
    except KamError as exc:
        _fail(exc.message)
        return
    if as_json:
        console.print_json(json.dumps([{"score": h.score, "text": h.chunk.text, "citation": h.citation()}
                                       for h in hits]))
        return
    if not hits:
        console.print("no hits (or nothing this user may see)")
    for rank, hit in enumerate(hits, start=1):
        c = hit.chunk
        where = f"{c.doc_id}" + (f" {c.clause} {c.heading}" if c.clause else "")
        console.print(f"[bold]{rank}. {where}[/] [dim]({c.account_id or 'shared'}, {c.doc_type}, "
                      f"chars {c.start}-{c.end}, score {hit.score:.4f})[/]")
        console.print(f"   {c.text[:300]}")


@app.command("eval")
def eval_cmd(
    agent: Annotated[str, typer.Option(help="retrieval | contractnli | nda_facts | nda_review | account_brief | "
                                            "escalation_drafter | chat")] = "retrieval",
    model: Annotated[str | None, typer.Option(help="LLM model name (LLM suites).")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint (LLM suites).")] = None,
    cassette: Annotated[str, typer.Option(help="LLM suites: off (live), replay (recorded, offline) or record.")
                        ] = "off",
    concurrency: Annotated[int, typer.Option(min=1, max=16, help="Cases run at once.")] = 2,
    update_baseline: Annotated[bool, typer.Option(help="Write this run's metrics as the new baseline.")] = False,
) -> None:
    """Score an agent against its golden set; exits 1 when a metric regressed beyond the baseline tolerance."""
    import os

    from rich.progress import Progress

    from evals.registry import DETERMINISTIC, LLM, PLANNED, build_suite
    from evals.runner import run_eval, write_baseline
    from evals.suites import load_cases

    if model:
        os.environ["KAM_LLM_MODEL"] = model
    if base_url:
        os.environ["KAM_LLM_BASE_URL"] = base_url
    get_settings.cache_clear()
    if cassette not in ("off", "replay", "record"):
        _fail("--cassette must be off, replay or record")
    if agent not in (*DETERMINISTIC, *LLM):
        known = ", ".join([*DETERMINISTIC, *LLM, *PLANNED])
        reason = f"{PLANNED[agent]} is not built yet, so it has no eval suite" if agent in PLANNED else "unknown agent"
        _fail(f"{agent}: {reason} (agents: {known})")
    settings = get_settings()
    try:
        suite = build_suite(agent, settings.data_dir / "evals" / "work" / agent, settings, cassette)  # type: ignore[arg-type]
        cases = suite.cases() if hasattr(suite, "cases") else load_cases(agent)
    except (FileNotFoundError, ValueError, KamError) as exc:
        _fail(getattr(exc, "message", str(exc)))
        return
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"eval {agent}", total=len(cases))
            run = run_eval(agent, suite, settings.data_dir / "evals", concurrency=concurrency, cases=cases,
                           on_case=lambda _r: progress.advance(task))
    finally:
        if hasattr(suite, "close"):
            suite.close()
    table = Table(title=f"{agent}: {len(run.results)} cases in {run.wall_s:.1f}s")
    for column in ("metric", "value", "baseline"):
        table.add_column(column)
    base = (run.baseline or {}).get("metrics", {})
    for name, value in sorted(run.metrics.items()):
        table.add_row(name, f"{value:.4f}", f"{base[name]:.4f}" if name in base else "–")
    console.print(table)
    console.print(f"report: {run.out_dir / 'report.md'}")
    if update_baseline:
        console.print(f"baseline written: {write_baseline(run)}")
        return
    if run.regressions:
        for r in run.regressions:
            err_console.print(f"[bold red]regression[/] {r.metric}: {r.current} < {r.baseline} − {r.tolerance}")
        raise typer.Exit(code=1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default KAM_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default KAM_API_PORT).")] = None,
) -> None:
    """Run the API (and the embedded LLM server unless KAM_LLM_BASE_URL is set)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run("api.main:app", host=host or settings.api_host, port=port or settings.api_port,
                log_level=settings.log_level.lower())


@llm_app.command("serve")
def llm_serve() -> None:
    """Run only the embedded llama.cpp server, until Ctrl-C."""
    from core.llm.runtime import LlmRuntime

    settings = get_settings()
    configure_logging(settings.log_level)
    with LlmRuntime(settings.model_copy(update={"llm_base_url": None})) as runtime:
        console.print(f"embedded LLM server at {runtime.base_url} (model {runtime.model_name}); Ctrl-C stops it")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


@app.command()
def setup() -> None:
    """Prepare the offline models once: assemble the embedded LLM and export the embedding model to ONNX."""
    from knowledge.embeddings import ensure_onnx_models

    llm_fetch()
    console.print(f"embeddings ready: {ensure_onnx_models()}")


@llm_app.command("fetch")
def llm_fetch() -> None:
    """Assemble and verify the embedded model in the model cache (done automatically on first start)."""
    from core.llm.model_files import MODELS, ensure_model

    settings = get_settings()
    path = ensure_model(MODELS[settings.llm_embedded_model], settings.llm_model_cache, log=console.print)
    console.print(f"{settings.llm_embedded_model}: {path}")


@llm_app.command("status")
def llm_status(
    measure: Annotated[bool, typer.Option(help="Also measure throughput with two short calls.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Endpoint, model, health and measured throughput (starts the embedded server if needed)."""
    from core.llm.runtime import LlmRuntime

    settings = get_settings()
    try:
        with LlmRuntime(settings) as runtime:
            info = runtime.status(measure=measure)
    except KamError as exc:
        _fail(exc.message)
        return
    if as_json:
        console.print_json(json.dumps(info))
        return
    table = Table(title="LLM endpoint", show_header=False)
    for key, value in info.items():
        table.add_row(key, str(value))
    console.print(table)


if __name__ == "__main__":
    app()
