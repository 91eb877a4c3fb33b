"""Job handlers for the job tests (registered with KAM_JOB_MODULES=tests.job_handlers)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from core.db.session import session_scope
from core.jobs import JobContext, PermanentJobError


def sleepy(ctx: JobContext) -> dict[str, Any]:
    """Marks each attempt on disk; the first attempt sleeps long (to be killed), later ones finish at once."""
    folder = Path(ctx.job.payload["dir"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"started-{ctx.job.attempts}").write_text(ctx.principal.user_id, encoding="utf-8")
    if ctx.job.attempts == 1:
        time.sleep(float(ctx.job.payload.get("seconds", 60)))
    return {"attempt": ctx.job.attempts, "acted_for": ctx.principal.user_id}


def flaky(ctx: JobContext) -> dict[str, Any]:
    if ctx.job.attempts < int(ctx.job.payload.get("fail_times", 1)) + 1:
        raise RuntimeError(f"transient trouble on attempt {ctx.job.attempts}")
    return {"attempt": ctx.job.attempts}


def bad_input(ctx: JobContext) -> dict[str, Any]:
    raise PermanentJobError("the upload is not a PDF")


def publisher(ctx: JobContext) -> dict[str, Any]:
    """Works ``seconds``, then publishes its attempt as a file, inside the job's fence: a worker that lost its
    lease in the meantime publishes nothing."""
    folder = Path(ctx.job.payload["dir"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"started-{ctx.job.attempts}").write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(float(ctx.job.payload["seconds"]))
    with session_scope(ctx.services.settings.resolved_database_url) as session:
        ctx.fence(session)
        (folder / f"published-{ctx.job.attempts}").write_text(str(os.getpid()), encoding="utf-8")
    return {"attempt": ctx.job.attempts}


HANDLERS = {"test.sleepy": sleepy, "test.flaky": flaky, "test.bad_input": bad_input, "test.publisher": publisher}
