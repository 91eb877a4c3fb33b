"""Durable background jobs: a ``jobs`` table, leases, retries, and a worker loop in the service process.

The input is stored with the job before it can be claimed; a worker claims it with a lease it keeps renewing
while it works; a job whose worker died is claimed again once the lease has run out; an idempotency key
(e.g. ``brief:A-00001:2026-12-02``) makes enqueueing the same work twice return the first job. A real task
queue can later stand behind the same :class:`JobQueue` interface.
"""

from core.jobs.queue import JobQueue, JobRecord, LeaseLost, PermanentJobError
from core.jobs.worker import FailureHook, Handler, JobContext, JobKind, JobTimedOut, JobWorker, held_lock

__all__ = ["FailureHook", "Handler", "JobContext", "JobKind", "JobQueue", "JobRecord", "JobTimedOut", "JobWorker",
           "LeaseLost", "PermanentJobError", "held_lock"]
