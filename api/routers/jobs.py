"""Background jobs: list, inspect and retry (a principal sees the jobs that act for it)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import JobQueueDep, PrincipalDep
from core import access
from core.errors import NotFound
from core.jobs import JobRecord

router = APIRouter(prefix="/jobs", tags=["jobs"])


def _visible(queue: JobQueueDep, principal: PrincipalDep, job_id: str) -> JobRecord:
    job = queue.get(job_id)
    if not access.can_see_job(principal, job.principal):
        raise NotFound(f"job {job_id!r} not found")
    return job


@router.get("", response_model=list[JobRecord])
def jobs_list(queue: JobQueueDep, principal: PrincipalDep,
              status: Literal["queued", "running", "succeeded", "failed"] | None = None,
              kind: Annotated[str | None, Query(max_length=60)] = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[JobRecord]:
    return queue.list(status=status, kind=kind, acting_for=access.jobs_acting_for(principal), limit=limit)


@router.get("/{job_id}", response_model=JobRecord)
def job_detail(job_id: str, queue: JobQueueDep, principal: PrincipalDep) -> JobRecord:
    return _visible(queue, principal, job_id)


@router.post("/{job_id}/retry", response_model=JobRecord)
def job_retry(job_id: str, queue: JobQueueDep, principal: PrincipalDep) -> JobRecord:
    """Queue a failed job again; 422 with the reason when it has not failed."""
    _visible(queue, principal, job_id)
    return queue.retry(job_id)
