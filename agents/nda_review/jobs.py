"""The durable job that runs an NDA review (registered with the service's job worker)."""

from __future__ import annotations

from typing import Any

from agents.nda_review import service
from core.jobs import JobContext, JobKind, JobRecord

# A review of a capped text finishes in minutes even when the model reads every rule; past this, the
# attempt stops and the review is marked failed with the reason.
TIME_LIMIT_S = 1800.0


def review_job(ctx: JobContext) -> dict[str, Any]:
    services = ctx.services
    review_id = ctx.job.payload["review_id"]
    mode = ctx.job.payload.get("llm_mode", "uncertain")
    gateway = services.llm.lazy_gateway() if mode != "off" else None
    report = service.run(services.settings, services.checkpointer, review_id, ctx.principal, gateway=gateway,
                         llm_mode=mode, job=ctx)
    return {"review_id": review_id, "verdict": report.verdict, "llm_calls": report.llm.calls}


def review_failed(job: JobRecord, services: Any) -> None:
    """The job failed for good (bad input, attempts used up, its worker died on the last one, time limit):
    the review says so instead of staying "running"."""
    service.fail(services.settings, job.payload["review_id"], (job.error or "the review job failed")[:2000])


HANDLERS: dict[str, JobKind] = {service.JOB_KIND: JobKind(review_job, on_failed=review_failed,
                                                          time_limit_s=TIME_LIMIT_S)}
