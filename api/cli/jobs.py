"""Background jobs: list, show, retry, and run a worker in the foreground."""

from __future__ import annotations

import contextlib
import signal
from types import FrameType
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import app, console, fail, print_json, reported_errors
from core.jobs import JobQueue, JobRecord
from core.logging import configure_logging
from core.settings import get_settings

jobs_app = typer.Typer(help="Background jobs (NDA reviews, nightly briefs): list, show, retry, work.",
                       no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")


def _queue() -> JobQueue:
    from core.db.migrate import upgrade

    url = get_settings().resolved_database_url
    upgrade(url)
    return JobQueue(url)


def _row(job: JobRecord) -> dict[str, object]:
    return job.model_dump(mode="json")


@jobs_app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="queued, running, succeeded or failed.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind of job.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The newest jobs first."""
    if status not in (None, "queued", "running", "succeeded", "failed"):
        fail("--status must be queued, running, succeeded or failed")
    with reported_errors():
        jobs = _queue().list(status=status, kind=kind, limit=limit)
    if as_json:
        print_json([_row(j) for j in jobs])
        return
    table = Table(title=f"{len(jobs)} job(s)")
    for column in ("id", "kind", "status", "attempts", "created (UTC)", "acts for", "error"):
        table.add_column(column)
    for job in jobs:
        table.add_row(job.id, job.kind, job.status, f"{job.attempts}/{job.max_attempts}",
                      job.created_at.isoformat(timespec="seconds"), job.principal.user_id,
                      (job.error or "").splitlines()[0][:60] if job.error else "")
    console.print(table)


@jobs_app.command("show")
def jobs_show(job_id: Annotated[str, typer.Argument(help="The job id.")]) -> None:
    """Everything about one job: input, who it acts for, attempts, result or error."""
    with reported_errors():
        print_json(_row(_queue().get(job_id)))


@jobs_app.command("retry")
def jobs_retry(job_id: Annotated[str, typer.Argument(help="A failed job's id.")]) -> None:
    """Queue a failed job again with a fresh set of attempts."""
    with reported_errors():
        job = _queue().retry(job_id)
    console.print(f"job {job.id} queued again ({job.kind})")


@jobs_app.command("work")
def jobs_work(
    once: Annotated[bool, typer.Option(help="Run at most one job, then exit.")] = False,
) -> None:
    """Run a job worker in the foreground until Ctrl-C or SIGTERM (the API runs one of its own too)."""
    from api.services import job_handlers, open_services
    from core.jobs import JobWorker

    settings = get_settings()
    configure_logging(settings.log_level)
    with reported_errors(), open_services(settings, start_llm=False, run_worker=False) as services:
        handlers = job_handlers(settings)
        if not handlers:
            fail("no job handlers are registered (KAM_JOB_MODULES)")
        worker = JobWorker(services.jobs, handlers, services=services, lease_s=settings.job_lease_s,
                           poll_s=settings.job_poll_s)
        console.print(f"worker {worker.worker_id} for {', '.join(sorted(handlers))}")
        if once:
            ran = worker.run_once()
            console.print(f"ran job {ran.id}" if ran else "no job was waiting")
            return

        def stop(_signum: int, _frame: FrameType | None) -> None:
            worker.stop(timeout=0)

        signal.signal(signal.SIGTERM, stop)
        with contextlib.suppress(KeyboardInterrupt):
            worker.run()
