"""The same schema, import and rules on PostgreSQL (KAM_DATABASE_URL), when a server is reachable."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from core.crm.importer import import_directory
from core.db.migrate import upgrade
from core.db.session import get_engine
from policies import credit, kpis
from tests.conftest import AS_OF

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _server_available() -> bool:
    try:
        with create_engine(ADMIN_URL, connect_args={"connect_timeout": 2}).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


if os.environ.get("KAM_REQUIRE_POSTGRES") == "1" and not _server_available():
    # scripts/test.sh starts the server and sets this: in CI these tests fail rather than silently skip
    raise RuntimeError("KAM_REQUIRE_POSTGRES=1 but no PostgreSQL answers on 127.0.0.1:5432")
pytestmark = pytest.mark.skipif(not _server_available(), reason="no PostgreSQL on 127.0.0.1:5432")


@pytest.fixture()
def postgres_url() -> Iterator[str]:
    name = f"kam_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_postgres_migrate_import_reimport_and_rules_match_sqlite(postgres_url: str, demo_csv_dir: Path,
                                                                  demo_db: str) -> None:
    upgrade(postgres_url)
    first = import_directory(demo_csv_dir, postgres_url)
    second = import_directory(demo_csv_dir, postgres_url)
    assert first.total_rows == second.total_rows > 5_000
    with Session(get_engine(postgres_url)) as pg, Session(get_engine(demo_db)) as lite:
        assert pg.execute(text("SELECT count(*) FROM call_offs")).scalar_one() == \
            lite.execute(text("SELECT count(*) FROM call_offs")).scalar_one()
        on_pg = kpis.compute(pg, as_of=AS_OF)
        on_lite = kpis.compute(lite, as_of=AS_OF)
        for account_id in ("A-00001", "A-00002", "A-00005"):
            assert [(r.rule, r.status, None if r.value is None else round(r.value, 4)) for r in on_pg[account_id]] == \
                [(r.rule, r.status, None if r.value is None else round(r.value, 4)) for r in on_lite[account_id]]
        assert credit.credit_position(pg, "A-00003", as_of=AS_OF).status == "breach"


def test_postgres_checkpoints_survive_a_restart(postgres_url: str, settings) -> None:
    from tests.test_checkpoint import run_and_resume

    run_and_resume(settings.model_copy(update={"database_url": postgres_url}))
    with create_engine(postgres_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM checkpoints")).scalar_one() > 0


def test_postgres_job_claims_are_exclusive(postgres_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from core.access import Principal
    from core.jobs import JobQueue

    upgrade(postgres_url)
    queue = JobQueue(postgres_url)
    for n in range(12):
        queue.enqueue("test.flaky", {"n": n}, Principal.system("test"))
    with ThreadPoolExecutor(max_workers=4) as pool:
        claimed = list(pool.map(lambda w: [j.id for j in iter(lambda: queue.claim(f"w{w}"), None)], range(4)))
    ids = [job_id for per_worker in claimed for job_id in per_worker]
    assert len(ids) == len(set(ids)) == 12


def test_postgres_async_checkpoints_stream_and_resume(postgres_url: str, settings) -> None:
    import asyncio

    from tests.test_checkpoint import astream_and_resume

    pg = settings.model_copy(update={"database_url": postgres_url})
    assert asyncio.run(astream_and_resume(pg)) == ["draft", "__interrupt__", "approve"]
