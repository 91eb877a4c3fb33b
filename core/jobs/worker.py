"""The worker loop: claim a job, keep its lease alive while the handler runs, record the outcome."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from core.access import Principal
from core.errors import KamError
from core.jobs.queue import JobQueue, JobRecord, LeaseLost, PermanentJobError
from core.llm.usage import tagged

log = logging.getLogger(__name__)


class JobTimedOut(PermanentJobError):
    """The job ran past its kind's time limit; trying again would take as long."""


@dataclass(frozen=True)
class JobContext:
    job: JobRecord
    principal: Principal  # who the job acts for, as stored with it
    services: Any  # what the host process provides (settings, LLM runtime, checkpointer, stores)
    queue: JobQueue | None = None
    worker_id: str = ""
    lease_s: float = 60.0
    deadline: float | None = None  # time.monotonic() by which the job must be done
    lost: threading.Event = field(default_factory=threading.Event)  # set when the lease went to another worker

    @property
    def token(self) -> int:
        """The claim's fencing token: the attempt it was claimed as."""
        return self.job.attempts

    def check(self) -> None:
        """Between steps: stop when the lease was lost or the time limit has passed."""
        if self.lost.is_set():
            raise LeaseLost(f"job {self.job.id} attempt {self.token} lost its lease")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise JobTimedOut(f"job {self.job.id} ({self.job.kind}) ran past its time limit")

    def fence(self, session: Session) -> None:
        """Call in the transaction that publishes the job's outcome: it raises :class:`LeaseLost` unless this
        claim still holds the job, so a worker whose lease was taken over publishes nothing."""
        self.check()
        if self.queue is not None:
            self.queue.fence(session, self.job.id, self.worker_id, self.token, lease_s=self.lease_s)


Handler = Callable[[JobContext], dict[str, Any] | None]
FailureHook = Callable[[JobRecord, Any], None]  # (the job that failed for good, the host's services)


@dataclass(frozen=True)
class JobKind:
    """What a job kind runs, what happens when it fails for good (its owner's record must say so, e.g. a
    review marked failed), and how long one attempt may take."""
    run: Handler
    on_failed: FailureHook | None = None
    time_limit_s: float | None = None


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class JobWorker:
    def __init__(self, queue: JobQueue, handlers: Mapping[str, Handler | JobKind], *, services: Any = None,
                 worker_id: str | None = None, lease_s: float = 60.0, poll_s: float = 1.0) -> None:
        self.queue = queue
        self.kinds = {k: h if isinstance(h, JobKind) else JobKind(h) for k, h in handlers.items()}
        self.services = services
        self.worker_id = worker_id or default_worker_id()
        self.lease_s = lease_s
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _failed_for_good(self, job: JobRecord) -> None:
        kind = self.kinds.get(job.kind)
        if kind is not None and kind.on_failed is not None:
            try:
                kind.on_failed(job, self.services)
            except Exception:  # the job's own failure is recorded; a failing hook must not stop the worker
                log.exception("on_failed hook of job %s (%s) failed", job.id, job.kind)

    def run_once(self) -> JobRecord | None:
        """Claim and run one job; returns it as it was claimed, or None when nothing was waiting."""
        for exhausted in self.queue.fail_exhausted():
            self._failed_for_good(exhausted)
        job = self.queue.claim(self.worker_id, kinds=sorted(self.kinds), lease_s=self.lease_s)
        if job is None:
            return None
        kind = self.kinds[job.kind]
        deadline = time.monotonic() + kind.time_limit_s if kind.time_limit_s else None
        context = JobContext(job, job.principal, self.services, self.queue, self.worker_id, self.lease_s, deadline)
        beating = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(context, beating), daemon=True,
                                name=f"lease-{job.id[:8]}")
        beat.start()
        try:
            with tagged(f"job:{job.id}"):
                result = kind.run(context)
        except LeaseLost as exc:
            log.warning("job %s attempt %s: %s; nothing published", job.id, job.attempts, exc.message)
        except Exception as exc:  # a failing job is recorded, never crashes the worker
            permanent = isinstance(exc, PermanentJobError) or (isinstance(exc, KamError) and exc.status_code < 500)
            message = exc.message if isinstance(exc, KamError) else f"{type(exc).__name__}: {exc}"
            log.warning("job %s (%s) attempt %s failed: %s", job.id, job.kind, job.attempts, message)
            outcome = self.queue.fail(job.id, self.worker_id, message if permanent else message + "\n" +
                                      traceback.format_exc(limit=6), permanent=permanent, token=job.attempts)
            if outcome == "failed":
                self._failed_for_good(self.queue.get(job.id))
        else:
            if not self.queue.complete(job.id, self.worker_id, result, token=job.attempts):
                log.warning("job %s finished after its lease was taken over; result dropped", job.id)
        finally:
            beating.set()
            beat.join(timeout=5)
        return job

    def _heartbeat(self, context: JobContext, done: threading.Event) -> None:
        """Renew the lease until the job is done. A failed renewal (a locked or briefly unreachable database) is
        retried at the next beat; only a renewal the database refuses (the job was taken over) ends it. Past
        the time limit the lease is no longer renewed, so a stuck attempt is taken over or failed."""
        while not done.wait(self.lease_s / 3):
            if context.deadline is not None and time.monotonic() > context.deadline + self.lease_s:
                return
            try:
                held = self.queue.heartbeat(context.job.id, self.worker_id, lease_s=self.lease_s,
                                            token=context.token)
            except Exception:
                log.warning("lease renewal of job %s failed; retrying", context.job.id, exc_info=True)
                continue
            if not held:
                context.lost.set()
                return

    def run(self) -> None:
        """Work until :meth:`stop`; sleeps ``poll_s`` whenever the queue is empty."""
        while not self._stop.is_set():
            try:
                ran = self.run_once()
            except Exception:  # the database may be briefly locked or down: keep the loop alive
                log.exception("job worker loop error")
                ran = None
            if ran is None:
                self._stop.wait(self.poll_s)

    def start(self) -> JobWorker:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, daemon=True, name="kam-job-worker")
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None


@contextmanager
def held_lock(queue: JobQueue, name: str, *, lease_s: float = 60.0) -> Iterator[bool]:
    """Hold the lock ``name`` while the block runs (renewed in the background); yields False when someone
    else holds it. A crashed holder's lock is free again after ``lease_s``."""
    owner = f"{default_worker_id()}:{uuid.uuid4().hex[:8]}"
    if not queue.acquire_lock(name, owner, lease_s=lease_s):
        yield False
        return
    done = threading.Event()

    def renew() -> None:
        while not done.wait(lease_s / 3):
            try:
                queue.heartbeat(queue.lock_holder(name).id, owner, lease_s=lease_s)  # type: ignore[union-attr]
            except Exception:
                log.warning("renewing lock %s failed; retrying", name, exc_info=True)

    beat = threading.Thread(target=renew, daemon=True, name=f"lock-{name}")
    beat.start()
    try:
        yield True
    finally:
        done.set()
        beat.join(timeout=5)
        queue.release_lock(name, owner)
