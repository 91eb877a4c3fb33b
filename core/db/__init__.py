"""The CRM database: SQLAlchemy models, engine/session helpers and Alembic migrations."""
