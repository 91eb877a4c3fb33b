"""The job table's operations; every state change is one guarded UPDATE, so workers in several threads or
processes never run the same job at once (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.access import Principal
from core.db import models
from core.db.session import session_scope
from core.errors import InvalidInput, KamError, NotFound

MAX_BACKOFF_S = 300.0
LOCK_KIND = "lock"  # never claimed by a worker: no handler has this kind


class PermanentJobError(KamError):
    """The job cannot succeed by trying again (bad input); it fails at once."""


class LeaseLost(KamError):
    """This worker no longer holds the job (its lease ran out and another worker took it): publish nothing."""

    status_code = 409


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class JobRecord(BaseModel):
    id: str
    kind: str
    idempotency_key: str | None
    status: str
    payload: dict[str, Any]
    principal: Principal
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    max_attempts: int
    created_at: datetime
    updated_at: datetime
    available_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    lease_owner: str | None
    lease_until: datetime | None

    @classmethod
    def of(cls, row: models.Job) -> JobRecord:
        return cls(id=row.id, kind=row.kind, idempotency_key=row.idempotency_key, status=row.status,
                   payload=json.loads(row.payload), principal=Principal.model_validate_json(row.principal),
                   result=json.loads(row.result) if row.result else None, error=row.error, attempts=row.attempts,
                   max_attempts=row.max_attempts, created_at=row.created_at, updated_at=row.updated_at,
                   available_at=row.available_at, started_at=row.started_at, finished_at=row.finished_at,
                   lease_owner=row.lease_owner, lease_until=row.lease_until)


def _claimable(now: datetime) -> Any:
    return or_(and_(models.Job.status == "queued", models.Job.available_at <= now),
               and_(models.Job.status == "running", models.Job.lease_until < now,
                    models.Job.attempts < models.Job.max_attempts))


class JobQueue:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with session_scope(self.database_url) as session:
            yield session

    # --- producers -----------------------------------------------------------------------------
    def enqueue(self, kind: str, payload: dict[str, Any], principal: Principal, *, key: str | None = None,
                max_attempts: int = 3) -> tuple[JobRecord, bool]:
        """(job, created): with a key already used, the existing job comes back and nothing is queued."""
        if max_attempts < 1:
            raise InvalidInput("max_attempts must be at least 1")
        if key is not None and (existing := self.by_key(key)) is not None:
            return existing, False
        now = utcnow()
        row = models.Job(id=str(uuid.uuid4()), kind=kind, idempotency_key=key, status="queued",
                         payload=json.dumps(payload, ensure_ascii=False, default=str),
                         principal=principal.model_dump_json(), acting_user_id=principal.user_id, attempts=0,
                         max_attempts=max_attempts,
                         created_at=now, updated_at=now, available_at=now)
        try:
            with self._session() as session:
                session.add(row)
        except IntegrityError:  # the same key enqueued concurrently: the other one won
            existing = self.by_key(key) if key else None
            if existing is None:
                raise
            return existing, False
        return self.get(row.id), True

    # --- workers -------------------------------------------------------------------------------
    def claim(self, worker_id: str, *, kinds: Sequence[str] | None = None, lease_s: float = 60.0) -> JobRecord | None:
        """The oldest claimable job (queued, or running under an expired lease), now leased to ``worker_id``.
        Each claim counts an attempt; the attempt number is the claim's fencing token."""
        now = utcnow()
        self.fail_exhausted()
        with self._session() as session:
            query = select(models.Job.id).where(_claimable(now))
            if kinds is not None:
                query = query.where(models.Job.kind.in_(list(kinds)))
            candidates = list(session.execute(query.order_by(models.Job.available_at, models.Job.created_at)
                                              .limit(8)).scalars())
            for job_id in candidates:
                claimed = session.execute(
                    update(models.Job).where(models.Job.id == job_id, _claimable(now)).values(
                        status="running", lease_owner=worker_id, lease_until=now + timedelta(seconds=lease_s),
                        attempts=models.Job.attempts + 1, updated_at=now,
                        started_at=func.coalesce(models.Job.started_at, now)))
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    session.commit()
                    return JobRecord.of(session.get(models.Job, job_id))  # type: ignore[arg-type]
        return None

    def fail_exhausted(self) -> list[JobRecord]:
        """Jobs whose worker died on their last attempt will not be claimed again: record why they failed, and
        return them so their owners' records can say so too."""
        now = utcnow()
        failed = []
        with self._session() as session:
            stale = list(session.execute(select(models.Job.id).where(
                models.Job.status == "running", models.Job.lease_until < now,
                models.Job.attempts >= models.Job.max_attempts)).scalars())
            for job_id in stale:
                done = session.execute(update(models.Job).where(
                    models.Job.id == job_id, models.Job.status == "running", models.Job.lease_until < now).values(
                    status="failed", finished_at=now, updated_at=now, lease_owner=None, lease_until=None,
                    error=func.coalesce(models.Job.error, "") + "worker stopped during the last attempt "
                                                                "(lease expired)"))
                if done.rowcount == 1:  # type: ignore[attr-defined]
                    failed.append(job_id)
        return [self.get(job_id) for job_id in failed]

    @staticmethod
    def _held(job_id: str, worker_id: str, token: int | None) -> Any:
        """This worker's claim of the job: the lease owner and, with a token, the attempt it claimed."""
        guard = and_(models.Job.id == job_id, models.Job.lease_owner == worker_id, models.Job.status == "running")
        return guard if token is None else and_(guard, models.Job.attempts == token)

    def heartbeat(self, job_id: str, worker_id: str, *, lease_s: float = 60.0, token: int | None = None) -> bool:
        """Extend the lease; False when the job is no longer this worker's (it was reclaimed)."""
        now = utcnow()
        with self._session() as session:
            result = session.execute(update(models.Job).where(self._held(job_id, worker_id, token)).values(
                lease_until=now + timedelta(seconds=lease_s), updated_at=now))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def fence(self, session: Session, job_id: str, worker_id: str, token: int, *, lease_s: float = 60.0) -> None:
        """Inside the caller's transaction, before it publishes: the claim must still be this worker's and its
        lease unexpired; the lease is extended so nobody can take the job over before the commit. Raises
        :class:`LeaseLost` otherwise (the caller's transaction then writes nothing)."""
        now = utcnow()
        held = session.execute(update(models.Job).where(
            self._held(job_id, worker_id, token), models.Job.lease_until >= now).values(
            lease_until=now + timedelta(seconds=lease_s), updated_at=now))
        if held.rowcount != 1:  # type: ignore[attr-defined]
            raise LeaseLost(f"job {job_id} attempt {token} is no longer held by {worker_id}")

    def complete(self, job_id: str, worker_id: str, result: dict[str, Any] | None, *, token: int | None = None) -> bool:
        now = utcnow()
        with self._session() as session:
            done = session.execute(update(models.Job).where(self._held(job_id, worker_id, token)).values(
                status="succeeded", result=json.dumps(result or {}, ensure_ascii=False, default=str),
                error=None, finished_at=now, updated_at=now, lease_owner=None, lease_until=None))
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def fail(self, job_id: str, worker_id: str, error: str, *, permanent: bool = False,
             token: int | None = None) -> str | None:
        """Record the error: the job is queued again after a backoff unless attempts are used up or it is
        permanent. One guarded UPDATE per outcome; returns "queued" or "failed", or None when the job was no
        longer this worker's."""
        now = utcnow()
        held = self._held(job_id, worker_id, token)
        released = {"error": error[:4000], "updated_at": now, "lease_owner": None, "lease_until": None}
        with self._session() as session:
            if not permanent:
                attempts = session.execute(select(models.Job.attempts).where(held)).scalar_one_or_none()
                if attempts is None:
                    return None
                requeued = session.execute(update(models.Job).where(
                    held, models.Job.attempts == attempts, models.Job.attempts < models.Job.max_attempts).values(
                    status="queued", available_at=now + timedelta(seconds=min(2.0 ** attempts, MAX_BACKOFF_S)),
                    **released))
                if requeued.rowcount == 1:  # type: ignore[attr-defined]
                    return "queued"
            failed = session.execute(update(models.Job).where(held).values(status="failed", finished_at=now,
                                                                            **released))
            return "failed" if failed.rowcount == 1 else None  # type: ignore[attr-defined]

    def seconds_until_due(self, kind: str) -> float | None:
        """How long until a job of ``kind`` that has not ended can be claimed (a queued job's backoff, a running
        job's lease); None when every job of the kind has ended."""
        with self._session() as session:
            due = session.execute(select(func.min(func.coalesce(models.Job.lease_until, models.Job.available_at)))
                                  .where(models.Job.kind == kind, models.Job.status.in_(["queued", "running"]))
                                  ).scalar_one_or_none()
        return None if due is None else max(0.0, (due - utcnow()).total_seconds())

    # --- locks: one holder at a time, taken over when the holder stopped renewing --------------------
    def acquire_lock(self, name: str, owner: str, *, lease_s: float = 60.0) -> bool:
        """Hold ``name`` (a row in the jobs table, kind ``lock``) until :meth:`release_lock`, renewing it with
        :meth:`heartbeat`; a holder that crashed loses it when its lease runs out."""
        now = utcnow()
        self.enqueue(LOCK_KIND, {"name": name}, Principal.system("lock"), key=f"lock:{name}")
        with self._session() as session:
            taken = session.execute(update(models.Job).where(
                models.Job.idempotency_key == f"lock:{name}",
                or_(models.Job.status != "running", models.Job.lease_until < now)).values(
                status="running", lease_owner=owner, lease_until=now + timedelta(seconds=lease_s), updated_at=now,
                attempts=models.Job.attempts + 1))
            return bool(taken.rowcount)  # type: ignore[attr-defined]

    def lock_holder(self, name: str) -> JobRecord | None:
        return self.by_key(f"lock:{name}")

    def release_lock(self, name: str, owner: str) -> bool:
        now = utcnow()
        with self._session() as session:
            released = session.execute(update(models.Job).where(
                models.Job.idempotency_key == f"lock:{name}", models.Job.lease_owner == owner).values(
                status="succeeded", lease_owner=None, lease_until=None, finished_at=now, updated_at=now))
            return bool(released.rowcount)  # type: ignore[attr-defined]

    # --- operators -----------------------------------------------------------------------------
    def get(self, job_id: str) -> JobRecord:
        with self._session() as session:
            row = session.get(models.Job, job_id)
            if row is None:
                raise NotFound(f"job {job_id!r} not found")
            return JobRecord.of(row)

    def by_key(self, key: str) -> JobRecord | None:
        with self._session() as session:
            row = session.execute(select(models.Job).where(models.Job.idempotency_key == key)).scalar_one_or_none()
            return JobRecord.of(row) if row else None

    def list(self, *, status: str | None = None, kind: str | None = None, acting_for: str | None = None,
             limit: int = 50) -> list[JobRecord]:
        """The newest jobs; ``acting_for`` keeps those of one user (filtered in SQL, before the limit)."""
        with self._session() as session:
            query = select(models.Job)
            if acting_for is not None:
                query = query.where(models.Job.acting_user_id == acting_for)
            if status:
                query = query.where(models.Job.status == status)
            if kind:
                query = query.where(models.Job.kind == kind)
            rows = session.execute(query.order_by(models.Job.created_at.desc()).limit(limit)).scalars()
            return [JobRecord.of(r) for r in rows]

    def retry(self, job_id: str) -> JobRecord:
        """Queue a failed job again with a fresh set of attempts (its last error stays until it runs)."""
        now = utcnow()
        with self._session() as session:
            requeued = session.execute(update(models.Job).where(
                models.Job.id == job_id, models.Job.status == "failed").values(
                status="queued", attempts=0, available_at=now, updated_at=now, finished_at=None))
            if requeued.rowcount != 1:  # type: ignore[attr-defined]
                row = session.get(models.Job, job_id)
                if row is None:
                    raise NotFound(f"job {job_id!r} not found")
                raise InvalidInput(f"job {job_id} is {row.status}; only failed jobs can be retried")
        return self.get(job_id)
