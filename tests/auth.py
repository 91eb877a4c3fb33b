"""Bearer tokens for tests: issued on the test's own database, like `kam token issue` does."""

from __future__ import annotations

from functools import cache

from fastapi.testclient import TestClient

from core import auth
from core.db.session import session_scope
from core.settings import get_settings

ADMIN = "U-ADMIN-1"


@cache
def _token(database_url: str, user_id: str) -> str:
    with session_scope(database_url) as session:
        return auth.issue_token(session, user_id, label="test")[1]


def bearer(user_id: str) -> dict[str, str]:
    """Headers that sign in as the user (one token per user and database)."""
    return {"Authorization": f"Bearer {_token(get_settings().resolved_database_url, user_id)}"}


def signed_in(client: TestClient, user_id: str = ADMIN) -> TestClient:
    """The client sends the user's token unless a request gives its own Authorization header."""
    client.headers.update(bearer(user_id))
    return client
