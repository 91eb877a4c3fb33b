"""What the service process holds for its lifetime and hands to routes and job handlers: the LLM runtime,
the checkpointer and the job worker. Built by the API lifespan and by CLI commands alike."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from core.checkpoint import open_checkpointer
from core.db.migrate import upgrade
from core.jobs import Handler, JobKind, JobQueue, JobWorker
from core.llm import LlmGateway
from core.llm.runtime import LlmRuntime
from core.settings import Settings

# Job kinds the service runs; agents add theirs here as they are built.
BUILTIN_HANDLER_MODULES: tuple[str, ...] = ("agents.nda_review.jobs",)


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
        yield services
