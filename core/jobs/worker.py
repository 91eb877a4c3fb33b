"""The worker loop: claim a job, keep its lease alive while the handler runs, record the outcome."""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.access import Principal
from core.errors import KamError
from core.jobs.queue import JobQueue, JobRecord, PermanentJobError
from core.llm.usage import tagged

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    job: JobRecord
    principal: Principal  # who the job acts for, as stored with it
    services: Any  # what the host process provides (settings, LLM runtime, checkpointer, stores)


Handler = Callable[[JobContext], dict[str, Any] | None]


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class JobWorker:
    def __init__(self, queue: JobQueue, handlers: Mapping[str, Handler], *, services: Any = None,
                 worker_id: str | None = None, lease_s: float = 60.0, poll_s: float = 1.0) -> None:
        self.queue = queue
        self.handlers = dict(handlers)
        self.services = services
        self.worker_id = worker_id or default_worker_id()
        self.lease_s = lease_s
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> JobRecord | None:
        """Claim and run one job; returns it as it was claimed, or None when nothing was waiting."""
        job = self.queue.claim(self.worker_id, kinds=sorted(self.handlers), lease_s=self.lease_s)
        if job is None:
            return None
        beating = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job.id, beating), daemon=True,
                                name=f"lease-{job.id[:8]}")
        beat.start()
        try:
            with tagged(f"job:{job.id}"):
                result = self.handlers[job.kind](JobContext(job, job.principal, self.services))
        except Exception as exc:  # a failing job is recorded, never crashes the worker
            permanent = isinstance(exc, PermanentJobError) or (isinstance(exc, KamError) and exc.status_code < 500)
            message = exc.message if isinstance(exc, KamError) else f"{type(exc).__name__}: {exc}"
            log.warning("job %s (%s) attempt %s failed: %s", job.id, job.kind, job.attempts, message)
            self.queue.fail(job.id, self.worker_id, message if permanent else message + "\n" +
                            traceback.format_exc(limit=6), permanent=permanent)
        else:
            if not self.queue.complete(job.id, self.worker_id, result):
                log.warning("job %s finished after its lease was taken over; result dropped", job.id)
        finally:
            beating.set()
            beat.join(timeout=5)
        return job

    def _heartbeat(self, job_id: str, done: threading.Event) -> None:
        while not done.wait(self.lease_s / 3):
            if not self.queue.heartbeat(job_id, self.worker_id, lease_s=self.lease_s):
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
