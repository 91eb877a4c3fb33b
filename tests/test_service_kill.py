"""`kill -9` of the service itself (API process with its job worker) in the middle of an NDA review and a
nightly brief run: after a restart the work completes, nothing is lost and nothing is done twice."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import func, select

from agents.account_brief.jobs import RUN_KIND
from core.access import Principal
from core.db import models
from core.db.session import session_scope
from core.jobs import JobQueue
from core.settings import Settings
from tests.auth import ADMIN, bearer
from tests.llm_stub import StubLlmServer

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 11, 26)
NDA = (ROOT / "evals/golden/nda/documents/nda-01.txt").read_bytes()


def _serve(settings: Settings, stub_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KAM_DATA_DIR": str(settings.data_dir), "KAM_LLM_BASE_URL": stub_url,
           "KAM_LLM_AUTOSTART": "false", "KAM_JOB_LEASE_S": "2", "KAM_JOB_POLL_S": "0.2",
           "KAM_LLM_RETRY_ATTEMPTS": "1", "KAM_BRIEFS_MEETINGS_WITHIN_DAYS": "90"}
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _until(lambda: _answers(port), 60, "the service did not start")
    return process


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _until(condition: Callable[[], bool], seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.2)


def _count(db: str, query: object) -> int:
    with session_scope(db) as session:
        return int(session.execute(query).scalar_one())  # type: ignore[call-overload]


def test_the_service_killed_mid_work_finishes_it_once_after_a_restart(demo_db: str, settings: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with StubLlmServer(default_delay_s=0.4) as stub:  # a slow model; "ok" is no JSON answer, so it falls back
        service = _serve(settings, stub.base_url, port)
        try:
            review = httpx.post(f"{base}/nda-reviews", headers=bearer(ADMIN), data={"account_id": "A-00001",
                                "llm": "all"}, files={"file": ("nda.txt", NDA, "text/plain")}).json()
            JobQueue(demo_db).enqueue(RUN_KIND, {"brief_date": AS_OF.isoformat(), "meetings_within_days": 90},
                                      Principal.system("nightly-briefs"), key=f"{RUN_KIND}:{AS_OF}")
            _until(lambda: len(stub.requests) >= 3, 60, "the work never reached the model")
            os.killpg(service.pid, signal.SIGKILL)
            service.wait(timeout=10)
            with session_scope(demo_db) as session:
                killed_during = session.get(models.NdaReview, review["id"]).status  # type: ignore[union-attr]
            assert killed_during == "running"
            service = _serve(settings, stub.base_url, port)
            # the review finishes, then the nightly run starts: kill the service again in its middle
            briefs_on = select(func.count()).select_from(models.Brief).where(models.Brief.brief_date == AS_OF)
            _until(lambda: _count(demo_db, briefs_on) >= 1, 120, "the nightly run did not start")
            os.killpg(service.pid, signal.SIGKILL)
            service.wait(timeout=10)
            assert _count(demo_db, briefs_on) < 12, "the run finished before the kill: the test proves nothing"
            service = _serve(settings, stub.base_url, port)

            def finished() -> bool:
                with session_scope(demo_db) as session:
                    done = session.get(models.NdaReview, review["id"]).status == "done"  # type: ignore[union-attr]
                    run = session.execute(select(models.Job.status).where(models.Job.kind == RUN_KIND)).scalar_one()
                return done and run == "succeeded"

            _until(finished, 300, "the work did not complete after the restart")
        finally:
            os.killpg(service.pid, signal.SIGKILL)
            service.wait(timeout=10)
    entry = models.AuditEntry
    assert _count(demo_db, select(func.count()).where(entry.subject == f"nda_review:{review['id']}")) == 1
    assert _count(demo_db, briefs_on) == 12  # one per account
    written = _count(demo_db, select(func.count(func.distinct(entry.subject))).where(entry.action == "brief_written"))
    assert written == 12 == _count(demo_db, select(func.count()).where(entry.action == "brief_written"))
