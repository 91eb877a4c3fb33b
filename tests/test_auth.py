"""Authentication: bearer tokens from the database, users that can be disabled, a trusted-proxy mode only when
configured, the body cap and the upload rate, and the append-only audit log."""

from __future__ import annotations

import pytest
import sqlalchemy
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from core import audit, auth
from core.db.session import get_engine, session_scope
from tests.auth import bearer


@pytest.fixture()
def anonymous(demo_db: str):
    from api.main import create_app

    with TestClient(create_app()) as client:
        yield client


def test_every_route_but_healthz_requires_a_token(anonymous: TestClient) -> None:
    assert anonymous.get("/healthz").status_code == 200
    for path in ("/accounts", "/accounts/A-00001", "/receivables", "/jobs", "/nda-reviews", "/audit", "/drafts"):
        response = anonymous.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
    for token in ("nonsense", "kam_0000000000000000_forged", "kam_" + "x" * 300):
        assert anonymous.get("/accounts", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # the identity header means nothing in token mode: it cannot be used to pick a user
    assert anonymous.get("/accounts", headers={"X-User-Id": "U-ADMIN-1"}).status_code == 401


def test_an_unknown_user_cannot_be_told_from_a_bad_token(anonymous: TestClient, demo_db: str) -> None:
    """No probing: every failure gives the same answer, and no id is echoed."""
    with session_scope(demo_db) as session:
        _, token = auth.issue_token(session, "U-KAM-001")
    forged = token[:-4] + "AAAA"
    answers = {anonymous.get("/accounts", headers={"Authorization": f"Bearer {t}"}).json()["detail"]
               for t in (forged, "kam_deadbeefdeadbeef_x", "garbage")}
    assert len(answers) == 1 and "U-KAM-001" not in answers.pop()


def test_a_token_works_until_revoked_and_a_disabled_user_is_locked_out(anonymous: TestClient, demo_db: str) -> None:
    with session_scope(demo_db) as session:
        row, token = auth.issue_token(session, "U-KAM-001", label="laptop")
        _, second = auth.issue_token(session, "U-KAM-001")
        token_id = row.id
    headers = {"Authorization": f"Bearer {token}"}
    assert anonymous.get("/accounts", headers=headers).json()["total"] == 6  # the KAM's own accounts
    with session_scope(demo_db) as session:
        stored = session.get(auth.models.ApiToken, token_id)
        assert stored is not None and token not in stored.token_hash and len(stored.token_hash) == 64
        auth.revoke_token(session, token_id)
    assert anonymous.get("/accounts", headers=headers).status_code == 401
    assert anonymous.get("/accounts", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    with session_scope(demo_db) as session:
        auth.disable_user(session, "U-KAM-001")
    assert anonymous.get("/accounts", headers={"Authorization": f"Bearer {second}"}).status_code == 401


def test_trusted_proxy_mode_believes_the_header_only_from_the_proxy(demo_db: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from api.main import create_app
    from core.settings import get_settings

    monkeypatch.setenv("KAM_AUTH_MODE", "trusted_proxy")
    monkeypatch.setenv("KAM_TRUSTED_PROXY_IPS", '["10.0.0.9"]')
    get_settings.cache_clear()
    with TestClient(create_app()) as client:  # TestClient's address is "testclient": not the proxy
        assert client.get("/accounts", headers={"X-User-Id": "U-KAM-001"}).status_code == 401
    monkeypatch.setenv("KAM_TRUSTED_PROXY_IPS", '["testclient"]')
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        assert client.get("/accounts", headers={"X-User-Id": "U-KAM-001"}).json()["total"] == 6
        assert client.get("/accounts").status_code == 401
        unknown = client.get("/accounts", headers={"X-User-Id": "U-NOBODY"})
        assert unknown.status_code == 401 and "U-NOBODY" not in unknown.text


def test_the_cli_manages_users_and_tokens(demo_db: str, anonymous: TestClient) -> None:
    from api.cli import app

    runner = CliRunner()
    added = runner.invoke(app, ["users", "add", "U-KAM-042", "--name", "Nora New", "--email", "n@supplier.example",
                                "--role", "kam", "--language", "en"])
    assert added.exit_code == 0, added.output
    assert runner.invoke(app, ["users", "add", "U-X", "--name", "x", "--email", "x@y.z", "--role", "boss"]
                         ).exit_code == 2
    issued = runner.invoke(app, ["token", "issue", "U-KAM-042", "--label", "test"])
    token = issued.stdout.strip().splitlines()[-1]
    assert issued.exit_code == 0 and token.startswith("kam_")
    assert anonymous.get("/accounts", headers={"Authorization": f"Bearer {token}"}).json()["total"] == 0
    listed = runner.invoke(app, ["token", "list", "--user", "U-KAM-042", "--json"])
    token_id = listed.stdout.split('"id": "')[1].split('"')[0]
    assert token not in listed.stdout  # the secret is shown once, never listed
    assert runner.invoke(app, ["token", "revoke", token_id]).exit_code == 0
    assert anonymous.get("/accounts", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert runner.invoke(app, ["users", "disable", "U-KAM-042"]).exit_code == 0
    assert "disabled" in runner.invoke(app, ["users", "list"]).stdout
    assert runner.invoke(app, ["token", "issue", "U-KAM-042"]).exit_code == 2
    assert runner.invoke(app, ["token", "revoke", "nope"]).exit_code == 2


def test_the_audit_log_is_append_only_and_admin_reads_it(client: TestClient, demo_db: str) -> None:
    with session_scope(demo_db) as session:
        audit.record(session, actor="U-KAM-001", action="draft_approved", subject="draft:x", model="m",
                     prompt_version="v1", input_sha256=audit.input_hash("text"))
    entries = client.get("/audit", params={"subject": "draft:"}).json()  # the client signs in as admin
    assert entries[0]["action"] == "draft_approved" and entries[0]["input_hash"] == audit.input_hash("text")
    assert client.get("/audit", headers=bearer("U-HOS-1")).status_code == 403
    assert client.get("/audit", headers=bearer("U-KAM-001")).status_code == 403
    with Session(get_engine(demo_db)) as session:
        for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
            with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"):
                session.execute(sqlalchemy.text(statement))
            session.rollback()
    from api.cli import app

    listed = CliRunner().invoke(app, ["audit", "list", "--json", "--subject", "draft:"])
    assert listed.exit_code == 0 and "draft_approved" in listed.stdout


def test_a_body_over_the_cap_is_refused_before_it_is_read(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.main import create_app
    from core.settings import get_settings
    from tests.auth import signed_in

    monkeypatch.setenv("KAM_MAX_REQUEST_MB", "1")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        signed_in(client)
        big = b"x" * (1024 * 1024 + 1)
        declared = client.post("/documents", files={"file": ("a.txt", big, "text/plain")})
        assert declared.status_code == 413 and "limit" in declared.json()["detail"]

        def chunks():  # no Content-Length: counted while it streams
            for _ in range(3):
                yield b"y" * 600_000
        streamed = client.post("/documents", content=chunks(),
                               headers={"Content-Type": "multipart/form-data; boundary=zzz"})
        assert streamed.status_code == 413
        assert client.get("/healthz").status_code == 200


def test_uploads_are_rate_limited_per_user(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.main import create_app
    from core.settings import get_settings

    monkeypatch.setenv("KAM_UPLOADS_PER_MINUTE", "2")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        kam = bearer("U-KAM-001")
        codes = [client.post("/documents", headers=kam, data={"account_id": "A-00001"},
                             files={"file": (f"n{i}.txt", b"", "text/plain")}).status_code for i in range(3)]
        assert codes[:2] == [422, 422] and codes[2] == 429  # empty files are refused, but they count
        limited = client.post("/documents", headers=kam, files={"file": ("n.txt", b"", "text/plain")})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        other = client.post("/documents", headers=bearer("U-KAM-002"), data={"account_id": "A-00002"},
                            files={"file": ("n.txt", b"", "text/plain")})
        assert other.status_code == 422  # another user's quota is their own
