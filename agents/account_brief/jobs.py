"""The jobs of the briefs: one model-written brief, and the nightly run itself (one at a time per date)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from agents.account_brief import service
from core.access import Principal
from core.errors import Conflict
from core.jobs import JobContext, JobKind, JobWorker, held_lock

# One brief is one or two model calls; past this the attempt stops and the template brief stands, flagged.
TIME_LIMIT_S = 600.0
RUN_KIND = "briefs_run"


def run_lock_name(brief_date: date) -> str:
    return f"briefs-run:{brief_date.isoformat()}"


def nightly(services: Any, principal: Principal, *, brief_date: date, account_ids: Sequence[str] | None = None,
            meetings_within_days: int | None = 7, llm_for_all: bool = False, force: bool = False,
            use_llm: bool = True, concurrency: int = 1, progress: Callable[[int], None] | None = None,
            on_brief: Callable[[], None] | None = None) -> service.RunSummary:
    """The whole run under the date's lock (a second run waits for nobody: it is refused with the reason; a
    crashed run's lock is free once its lease ran out): templates for every changed account, then the model's
    summaries through durable jobs, ``concurrency`` at a time."""
    with held_lock(services.jobs, run_lock_name(brief_date), lease_s=services.settings.job_lease_s) as held:
        if not held:
            holder = services.jobs.lock_holder(run_lock_name(brief_date))
            raise Conflict(f"a briefs run for {brief_date} is in progress ({holder.lease_owner if holder else '?'})")
        summary = service.plan_and_write(services.settings, principal, brief_date=brief_date, account_ids=account_ids,
                                         meetings_within_days=meetings_within_days, llm_for_all=llm_for_all,
                                         force=force, use_llm=use_llm, queue=services.jobs if use_llm else None,
                                         progress=progress)
        drain(services, summary, concurrency, on_brief)
    return summary


def drain(services: Any, summary: service.RunSummary, concurrency: int, on_brief: Callable[[], None] | None) -> None:
    """Run the queued model briefs with ``concurrency`` workers until none is left; count how they ended."""
    counted = threading.Lock()

    def work(index: int) -> None:
        worker = JobWorker(services.jobs, {service.JOB_KIND: BRIEF}, services=services,
                           lease_s=services.settings.job_lease_s,
                           worker_id=f"briefs-run:{index}:{threading.get_ident()}")
        while (job := worker.run_once()) is not None:
            outcome = services.jobs.get(job.id)
            with counted:
                if outcome.status == "succeeded" and outcome.result:
                    summary.llm += outcome.result.get("prose_source") == "llm"
                    summary.fallback += outcome.result.get("prose_source") == "fallback"
                elif outcome.status == "failed":
                    summary.failed[outcome.payload.get("account_id", job.id)] = (outcome.error or "")[:200]
            if on_brief is not None:
                on_brief()

    def run_workers() -> None:
        threads = [threading.Thread(target=work, args=(i,), name=f"briefs-{i}") for i in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    run_workers()
    # Until every brief job has ended: one queued again after a backoff, or one a killed run still holds under
    # a lease nobody renews (taken over when the lease runs out; its checkpoints are resumed, finished steps
    # do not ask the model again).
    while (wait_s := services.jobs.seconds_until_due(service.JOB_KIND)) is not None:
        time.sleep(wait_s + 0.2)
        run_workers()


def run_job(ctx: JobContext) -> dict[str, Any]:
    """The scheduled nightly run (``KAM_BRIEFS_CRON``), queued once per date."""
    payload = ctx.job.payload
    summary = nightly(ctx.services, ctx.principal, brief_date=date.fromisoformat(payload["brief_date"]),
                      meetings_within_days=payload.get("meetings_within_days", 7))
    return {"accounts": summary.accounts, "generated": summary.generated, "unchanged": summary.unchanged,
            "llm": summary.llm, "fallback": summary.fallback, "failed": summary.failed}


BRIEF = JobKind(service.brief_job, on_failed=service.brief_failed, time_limit_s=TIME_LIMIT_S)
HANDLERS: dict[str, JobKind] = {service.JOB_KIND: BRIEF, RUN_KIND: JobKind(run_job)}
