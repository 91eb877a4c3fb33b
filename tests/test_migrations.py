from __future__ import annotations

from sqlalchemy import inspect

from core.db.migrate import downgrade, upgrade
from core.db.models import Base
from core.db.session import get_engine


def test_upgrade_from_empty_creates_every_table_and_downgrade_reverts(settings) -> None:
    url = settings.resolved_database_url
    upgrade(url)
    tables = set(inspect(get_engine(url)).get_table_names())
    assert set(Base.metadata.tables) <= tables
    downgrade(url, "base")
    assert not set(Base.metadata.tables) & set(inspect(get_engine(url)).get_table_names())
    upgrade(url)
    assert set(Base.metadata.tables) <= set(inspect(get_engine(url)).get_table_names())


def test_models_and_migrations_agree(settings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = settings.resolved_database_url
    upgrade(url)
    with get_engine(url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
