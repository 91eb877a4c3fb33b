"""The durable job that runs an NDA review (registered with the service's job worker)."""

from __future__ import annotations

from typing import Any

from agents.nda_review import service
from core.jobs import Handler, JobContext


def review_job(ctx: JobContext) -> dict[str, Any]:
    services = ctx.services
    review_id = ctx.job.payload["review_id"]
    mode = ctx.job.payload.get("llm_mode", "uncertain")
    gateway = services.llm.lazy_gateway() if mode != "off" else None
    try:
        report = service.run(services.settings, services.checkpointer, review_id, ctx.principal, gateway=gateway,
                             llm_mode=mode)
    except Exception as exc:
        if ctx.job.attempts >= ctx.job.max_attempts:
            service.fail(services.settings, review_id, f"{type(exc).__name__}: {exc}")
        raise
    return {"review_id": review_id, "verdict": report.verdict, "llm_calls": report.llm.calls}


HANDLERS: dict[str, Handler] = {service.JOB_KIND: review_job}
