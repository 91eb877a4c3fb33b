"""What the service process holds for its lifetime and hands to routes and job handlers: the LLM runtime,
the checkpointer and the job worker. Built by the API lifespan and by CLI commands alike."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from core.access import Principal
from core.checkpoint import open_checkpointer
from core.db.migrate import upgrade
from core.jobs import Handler, JobKind, JobQueue, JobWorker
from core.llm import LlmGateway
from core.llm.runtime import LlmRuntime
from core.settings import Settings

# Job kinds the service runs; agents add theirs here as they are built.
BUILTIN_HANDLER_MODULES: tuple[str, ...] = ("agents.nda_review.jobs", "agents.account_brief.jobs")


def job_handlers(settings: Settings) -> dict[str, Handler | JobKind]:
    """Handlers from the built-in modules and ``KAM_JOB_MODULES``; each module exposes ``HANDLERS``."""
    handlers: dict[str, Handler | JobKind] = {}
    for name in (*BUILTIN_HANDLER_MODULES, *settings.job_modules):
        handlers.update(importlib.import_module(name).HANDLERS)
    return handlers


@dataclass
class Services:
    settings: Settings
    llm: LlmRuntime
    checkpointer: BaseCheckpointSaver[Any]
    jobs: JobQueue
    worker: JobWorker | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def gateway(self) -> LlmGateway:
        """The LLM gateway, starting the embedded server on first use when none is running."""
        if self.llm.base_url is None and self.llm.embedded and self.settings.llm_autostart:
            self.llm.start()
        return self.llm.gateway()


@contextmanager
def open_services(settings: Settings, *, start_llm: bool, run_worker: bool) -> Iterator[Services]:
    """Migrate the database, open the checkpointer, optionally start the LLM and a job worker; close all."""
    upgrade(settings.resolved_database_url)
    with ExitStack() as stack:
        runtime = LlmRuntime(settings)
        stack.callback(runtime.stop)
        if start_llm and runtime.embedded and settings.llm_autostart:
            runtime.start()
        checkpointer = stack.enter_context(open_checkpointer(settings))
        services = Services(settings, runtime, checkpointer, JobQueue(settings.resolved_database_url))
        if run_worker:
            handlers = job_handlers(settings)
            if handlers:
                services.worker = JobWorker(services.jobs, handlers, services=services, lease_s=settings.job_lease_s,
                                            poll_s=settings.job_poll_s).start()
                stack.callback(services.worker.stop)
                if settings.briefs_cron:
                    stack.callback(start_briefs_schedule(services).shutdown, wait=False)
        yield services


def queue_nightly_briefs(services: Services, today: date | None = None) -> str:
    """What the schedule does: queue the run of ``today`` (once per date; the worker runs it under the date's
    lock, so a second trigger or a second service instance adds nothing)."""
    from agents.account_brief.jobs import RUN_KIND

    day = today or date.today()
    job, _ = services.jobs.enqueue(RUN_KIND, {"brief_date": day.isoformat(),
                                              "meetings_within_days": services.settings.briefs_meetings_within_days},
                                   Principal.system("nightly-briefs"), key=f"{RUN_KIND}:{day.isoformat()}")
    return job.id


def start_briefs_schedule(services: Services) -> Any:
    """An in-process schedule (APScheduler) for ``KAM_BRIEFS_CRON``."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(queue_nightly_briefs, CronTrigger.from_crontab(services.settings.briefs_cron or ""),
                      args=[services], id="nightly-briefs", max_instances=1, coalesce=True)
    scheduler.start()
    services.extras["briefs_scheduler"] = scheduler
    return scheduler
