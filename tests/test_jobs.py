"""Durable jobs: stored before they are queued, leased, retried, taken over when a worker dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from core.access import Principal
from core.jobs import JobQueue, JobWorker
from core.jobs.queue import utcnow
from core.settings import Settings
from tests import job_handlers
from tests.auth import bearer

ROOT = Path(__file__).parents[1]
KAM = Principal(user_id="U-KAM-001", role="kam", account_ids=frozenset({"A-00001"}))


@pytest.fixture()
def queue(db_url: str) -> JobQueue:
    return JobQueue(db_url)


def test_enqueue_stores_the_input_and_is_idempotent_by_key(queue: JobQueue) -> None:
    job, created = queue.enqueue("test.flaky", {"fail_times": 0}, KAM, key="brief:A-00001:2026-12-02")
    again, created_again = queue.enqueue("test.flaky", {"fail_times": 9}, KAM, key="brief:A-00001:2026-12-02")
    assert created and not created_again and again.id == job.id and again.payload == {"fail_times": 0}
    stored = queue.get(job.id)
    assert stored.status == "queued" and stored.principal == KAM and stored.attempts == 0


def test_a_claimed_job_is_leased_to_one_worker(queue: JobQueue) -> None:
    job, _ = queue.enqueue("test.flaky", {}, KAM)
    first = queue.claim("w1", lease_s=30)
    assert first is not None and first.id == job.id and first.lease_owner == "w1" and first.attempts == 1
    assert queue.claim("w2", lease_s=30) is None  # leased: nobody else may take it
    assert queue.heartbeat(job.id, "w1") and not queue.heartbeat(job.id, "w2")
    assert not queue.complete(job.id, "w2", {"x": 1})  # only the lease holder can finish it
    assert queue.complete(job.id, "w1", {"x": 1}) and queue.get(job.id).result == {"x": 1}


def test_an_expired_lease_is_taken_over(queue: JobQueue, monkeypatch: pytest.MonkeyPatch) -> None:
    job, _ = queue.enqueue("test.flaky", {}, KAM)
    assert queue.claim("dead-worker", lease_s=30) is not None
    later = utcnow() + timedelta(seconds=31)
    monkeypatch.setattr("core.jobs.queue.utcnow", lambda: later)
    taken = queue.claim("w2", lease_s=30)
    assert taken is not None and taken.id == job.id and taken.attempts == 2 and taken.lease_owner == "w2"
    assert not queue.complete(job.id, "dead-worker", {})  # the old worker lost it


def test_failures_are_retried_with_backoff_then_recorded(queue: JobQueue, monkeypatch: pytest.MonkeyPatch) -> None:
    worker = JobWorker(queue, job_handlers.HANDLERS, worker_id="w", lease_s=30)
    job, _ = queue.enqueue("test.flaky", {"fail_times": 5}, KAM, max_attempts=2)
    assert queue.seconds_until_due("test.flaky") == 0.0  # queued and claimable now
    worker.run_once()
    retried = queue.get(job.id)
    assert retried.status == "queued" and "attempt 1" in (retried.error or "") and retried.available_at > utcnow()
    assert worker.run_once() is None  # not before the backoff is over
    assert 0 < (queue.seconds_until_due("test.flaky") or 0) <= 2  # a run that drains its jobs waits this long
    monkeypatch.setattr("core.jobs.queue.utcnow", lambda: retried.available_at + timedelta(seconds=1))
    worker.run_once()
    failed = queue.get(job.id)
    assert failed.status == "failed" and failed.attempts == 2 and "attempt 2" in (failed.error or "")
    assert queue.seconds_until_due("test.flaky") is None  # every job of the kind has ended
    queue.retry(job.id)
    assert queue.get(job.id).status == "queued" and queue.get(job.id).attempts == 0


def test_bad_input_fails_at_once_and_success_records_the_result(queue: JobQueue, tmp_path: Path) -> None:
    worker = JobWorker(queue, job_handlers.HANDLERS, worker_id="w", lease_s=30)
    bad, _ = queue.enqueue("test.bad_input", {}, KAM)
    worker.run_once()
    assert queue.get(bad.id).status == "failed" and queue.get(bad.id).attempts == 1
    assert queue.get(bad.id).error == "the upload is not a PDF"
    good, _ = queue.enqueue("test.sleepy", {"dir": str(tmp_path), "seconds": 0}, KAM)
    worker.run_once()
    done = queue.get(good.id)
    assert done.status == "succeeded" and done.result == {"attempt": 1, "acted_for": "U-KAM-001"}
    assert done.finished_at is not None and done.lease_owner is None


def _worker_process(settings: Settings, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KAM_DATA_DIR": str(settings.data_dir), "KAM_JOB_MODULES": '["tests.job_handlers"]',
           "KAM_JOB_LEASE_S": "3", "KAM_JOB_POLL_S": "0.2", "KAM_LLM_AUTOSTART": "false", **extra_env}
    return subprocess.Popen([sys.executable, "-m", "api.cli", "jobs", "work"], cwd=ROOT, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_job_survives_its_worker_being_killed(settings: Settings, queue: JobQueue, tmp_path: Path) -> None:
    """A real process kill (SIGKILL, no clean-up) in the middle of a job; a second worker takes it over
    once the lease has run out and finishes it."""
    marks = tmp_path / "marks"
    job, _ = queue.enqueue("test.sleepy", {"dir": str(marks), "seconds": 120}, KAM)
    first = _worker_process(settings, {})
    try:
        _wait(lambda: (marks / "started-1").exists())
        assert queue.get(job.id).status == "running"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    second = _worker_process(settings, {})
    try:
        _wait(lambda: queue.get(job.id).status == "succeeded")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=20)
    done = queue.get(job.id)
    assert done.attempts == 2 and done.result == {"attempt": 2, "acted_for": "U-KAM-001"}
    assert (marks / "started-2").read_text() == "U-KAM-001"


def _published(marks: Path) -> list[str]:
    return sorted(p.name for p in marks.glob("published-*"))


def test_a_locked_database_does_not_cost_a_worker_its_lease(settings: Settings, queue: JobQueue,
                                                            tmp_path: Path) -> None:
    """Two worker processes, a lease of 3 s renewed every second, and the SQLite file locked for 1.5 s while
    the first one works (its renewal fails with "database is locked"). The renewal is retried at the next
    beat: the other worker never takes the job over, and the job is published once."""
    import sqlite3

    marks = tmp_path / "marks"
    job, _ = queue.enqueue("test.publisher", {"dir": str(marks), "seconds": 7}, KAM)
    busy_url = f"{settings.resolved_database_url}?timeout=0.3"
    workers = [_worker_process(settings, {"KAM_DATABASE_URL": busy_url})]
    try:
        _wait(lambda: (marks / "started-1").exists())
        workers.append(_worker_process(settings, {"KAM_DATABASE_URL": busy_url}))
        time.sleep(0.5)
        locker = sqlite3.connect(settings.resolved_database_url.removeprefix("sqlite:///"), timeout=10)
        locker.execute("BEGIN EXCLUSIVE")
        time.sleep(1.5)  # at least one renewal falls into this
        locker.rollback()
        locker.close()
        _wait(lambda: queue.get(job.id).status == "succeeded", timeout=30)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=20)
    assert queue.get(job.id).attempts == 1 and _published(marks) == ["published-1"]
    assert b"lease renewal of job" in b"".join(w.stderr.read() for w in workers if w.stderr)


def test_a_worker_that_lost_its_lease_publishes_nothing(settings: Settings, queue: JobQueue, tmp_path: Path) -> None:
    """The first worker is frozen (SIGSTOP) past its lease; the second takes the job over. When the first
    wakes up and finishes, its publication is fenced off: only the second attempt is published."""
    marks = tmp_path / "marks"
    job, _ = queue.enqueue("test.publisher", {"dir": str(marks), "seconds": 5}, KAM)
    first = _worker_process(settings, {})
    second: subprocess.Popen[bytes] | None = None
    try:
        _wait(lambda: (marks / "started-1").exists())
        os.killpg(first.pid, signal.SIGSTOP)
        second = _worker_process(settings, {})
        _wait(lambda: (marks / "started-2").exists(), timeout=30)
        os.killpg(first.pid, signal.SIGCONT)
        _wait(lambda: queue.get(job.id).status == "succeeded", timeout=30)
        time.sleep(6)  # the first worker's handler ends and tries to publish
    finally:
        for worker in (first, second):
            if worker is not None:
                os.killpg(worker.pid, signal.SIGCONT)
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=20)
    assert (marks / "started-1").read_text() != (marks / "started-2").read_text()  # two processes ran it
    assert _published(marks) == ["published-2"] and queue.get(job.id).result == {"attempt": 2}


def test_state_changes_are_guarded_by_the_claim(queue: JobQueue) -> None:
    """fail, complete and heartbeat act only for the claim that holds the job (owner and attempt); a retry
    only for a failed job; each is one guarded UPDATE."""
    job, _ = queue.enqueue("test.flaky", {}, KAM, max_attempts=3)
    claim = queue.claim("w1", lease_s=30)
    assert claim is not None and claim.attempts == 1
    assert queue.fail(job.id, "w1", "boom", token=2) is None  # a stale or future token changes nothing
    assert not queue.heartbeat(job.id, "w1", token=2) and not queue.complete(job.id, "w1", {}, token=2)
    assert queue.get(job.id).status == "running"
    assert queue.fail(job.id, "w1", "boom", token=1) == "queued"
    assert queue.fail(job.id, "w1", "again", token=1) is None  # already released
    with pytest.raises(Exception, match="only failed jobs"):
        queue.retry(job.id)


def test_cli_lists_shows_and_retries_jobs(settings: Settings, queue: JobQueue) -> None:
    from api.cli import app

    job, _ = queue.enqueue("test.bad_input", {"file": "x.pdf"}, KAM)
    JobWorker(queue, job_handlers.HANDLERS, worker_id="w").run_once()
    runner = CliRunner()
    listed = runner.invoke(app, ["jobs", "list", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output)[0]["status"] == "failed"
    shown = runner.invoke(app, ["jobs", "show", job.id])
    assert shown.exit_code == 0 and json.loads(shown.output)["payload"] == {"file": "x.pdf"}
    assert runner.invoke(app, ["jobs", "retry", job.id]).exit_code == 0
    again = runner.invoke(app, ["jobs", "retry", job.id])
    assert again.exit_code == 2 and "only failed jobs" in again.output
    assert runner.invoke(app, ["jobs", "show", "nope"]).exit_code == 2


def test_api_shows_a_principal_its_own_jobs(client: TestClient, demo_db: str) -> None:
    queue = JobQueue(demo_db)
    mine, _ = queue.enqueue("test.flaky", {}, KAM)
    other, _ = queue.enqueue("test.flaky", {}, Principal(user_id="U-KAM-002", role="kam", account_ids=frozenset()))
    kam = bearer("U-KAM-001")
    assert [j["id"] for j in client.get("/jobs", headers=kam).json()] == [mine.id]
    assert client.get(f"/jobs/{other.id}", headers=kam).status_code == 404
    assert client.get(f"/jobs/{other.id}").json()["principal"]["user_id"] == "U-KAM-002"  # the local operator
    assert client.post(f"/jobs/{mine.id}/retry", headers=kam).status_code == 422  # queued, not failed
