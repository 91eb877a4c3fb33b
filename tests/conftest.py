"""Shared fixtures: an isolated data dir and database per test, demo data generated once per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from core.crm import demo
from core.crm.importer import import_directory
from core.db.migrate import upgrade
from core.db.session import get_engine
from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from knowledge.store import KnowledgeStore
    from tests.factories import Crm
    from tests.llm_stub import StubLlmServer

AS_OF = date(2026, 11, 26)
DEMO_ACCOUNTS = 12


def require_contractnli() -> Path:
    """The ContractNLI dev split from ``../shared``: skipped (with the reason) on a developer's machine without
    it, a failure under ``CI=true`` (CI always has it; a missing data set must not pass silently)."""
    from evals.suites import CONTRACTNLI_PATH

    if CONTRACTNLI_PATH.is_file():
        return CONTRACTNLI_PATH
    reason = f"ContractNLI data not available at {CONTRACTNLI_PATH} (../shared/data/contractnli/dev.json)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must have it")
    pytest.skip(reason)


@pytest.fixture()
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("KAM_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("KAM_LLM_AUTOSTART", "false")
    monkeypatch.delenv("KAM_DATABASE_URL", raising=False)
    monkeypatch.delenv("KAM_LLM_BASE_URL", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture()
def db_url(settings: Settings) -> str:
    url = settings.resolved_database_url
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def demo_csv_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    demo.generate(out, accounts=DEMO_ACCOUNTS, seed=7, as_of=AS_OF)
    return out


@pytest.fixture(scope="session")
def demo_db_template(demo_csv_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo_db") / "kam.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    import_directory(demo_csv_dir, url)
    engine = get_engine(url)
    with engine.connect() as conn:  # fold the WAL into the file so a plain copy has all rows
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture()
def demo_db(settings: Settings, demo_db_template: Path) -> str:
    """A private copy of the imported demo database (tests may write to it)."""
    target = settings.data_dir / "kam.db"
    shutil.copy(demo_db_template, target)
    return settings.resolved_database_url


@pytest.fixture()
def client(demo_db: str) -> Iterator[TestClient]:
    from api.main import create_app
    from tests.auth import signed_in

    with TestClient(create_app()) as test_client:
        yield signed_in(test_client)


@pytest.fixture()
def llm_stub() -> Iterator[StubLlmServer]:
    from tests.llm_stub import StubLlmServer

    with StubLlmServer() as stub:
        yield stub


@pytest.fixture()
def llm_stub_url(llm_stub) -> str:
    return llm_stub.base_url


@pytest.fixture()
def session(db_url: str) -> Iterator[Session]:
    from sqlalchemy.orm import Session

    with Session(get_engine(db_url)) as s:
        yield s


@pytest.fixture()
def crm(session) -> Crm:
    from tests.factories import Crm

    return Crm(session)


@pytest.fixture(scope="session")
def knowledge_dir(demo_csv_dir: Path, demo_db_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A knowledge store with the demo documents and CRM notes of the 12 demo accounts, built once."""
    from sqlalchemy.orm import Session

    from knowledge.ingest import Ingestor
    from knowledge.store import KnowledgeStore

    data_dir = tmp_path_factory.mktemp("knowledge")
    store = KnowledgeStore(data_dir)
    ingestor = Ingestor(store)
    ingestor.ingest_path(demo_csv_dir / "docs")
    with Session(get_engine(f"sqlite:///{demo_db_template}")) as session:
        ingestor.ingest_crm_notes(session)
    return data_dir


@pytest.fixture(scope="session")
def knowledge_store(knowledge_dir: Path) -> KnowledgeStore:
    from knowledge.store import KnowledgeStore

    return KnowledgeStore(knowledge_dir)
