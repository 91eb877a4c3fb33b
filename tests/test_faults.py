"""Failing dependencies: the LLM endpoint times out, throttles, fails, answers garbage, refuses connections or
dies mid-answer; the database is gone. The API answers every time — with the deterministic output flagged as
degraded, or 503 with the reason — and recovers when the dependency is back."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.db.session import get_engine
from tests.auth import signed_in
from tests.llm_stub import ScriptedReply, StubLlmServer, completion

AS_OF = "2026-11-26"
FAULTS = {
    "timeout": ScriptedReply(body=completion('{"sentence": "late"}'), delay_s=3.0),
    "429 with Retry-After": ScriptedReply(429, headers={"Retry-After": "1"}),
    "500": ScriptedReply(500),
    "malformed JSON": ScriptedReply(body=completion("{not json at all")),
    "killed mid-answer": ScriptedReply(cut_after=40),
    "connection dropped": ScriptedReply(drop=True),
}


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


@pytest.fixture()
def faulty_client(demo_db: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
                  ) -> Iterator[tuple[TestClient, StubLlmServer | None]]:
    from api.main import create_app
    from core.settings import get_settings

    fault = request.param
    with StubLlmServer() as stub:
        monkeypatch.setenv("KAM_LLM_BASE_URL", _closed_port_url() if fault == "connection refused" else stub.base_url)
        monkeypatch.setenv("KAM_LLM_TIMEOUT_S", "1.5")
        monkeypatch.setenv("KAM_LLM_RETRY_ATTEMPTS", "2")
        monkeypatch.setenv("KAM_LLM_RETRY_BUDGET_S", "6")
        monkeypatch.setenv("KAM_ESCALATION_SENTENCE_LANGUAGES", '["de", "en"]')  # every customer mail asks the model
        monkeypatch.setenv("KAM_JOB_WORKER", "false")
        get_settings.cache_clear()
        if fault != "connection refused":
            stub.script(*[FAULTS[fault]] * 10)
        with TestClient(create_app()) as client:
            yield signed_in(client), (None if fault == "connection refused" else stub)


@pytest.mark.parametrize("faulty_client", [*FAULTS, "connection refused"], indirect=True)
def test_a_failing_llm_gives_the_template_flagged_and_the_api_answers(
        faulty_client: tuple[TestClient, StubLlmServer | None]) -> None:
    client, stub = faulty_client
    trigger = next(t for n in range(1, 13) for t in client.get(
        "/escalations", params={"account_id": f"A-{n:05d}", "as_of": AS_OF}).json())["trigger"]
    started = time.perf_counter()
    response = client.post(f"/escalations/{trigger['key']}/draft", params={"as_of": AS_OF, "llm": "true"},
                           json={"audience": "customer"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    draft = response.json()
    assert draft["prose_source"] == "fallback" and draft["fallback_reason"], draft
    assert draft["personal_sentence"] is None and trigger["account_id"] == draft["account_id"]
    if stub is not None:
        assert stub.requests, "the model was asked"
    assert elapsed < 60, f"the request hung for {elapsed:.0f} s"  # a hang detector, not a performance check


def test_a_missing_database_answers_503_with_the_reason_and_recovers(client: TestClient, demo_db: str) -> None:
    database = Path(demo_db.removeprefix("sqlite:///"))
    moved = database.with_suffix(".away")
    database.rename(moved)
    database.mkdir()  # the path is now a folder: SQLite cannot open it, as when a volume is gone
    get_engine(demo_db).dispose()  # open connections would still reach the moved file
    try:
        ready = client.get("/readyz")  # the token cannot be checked without the database: status only
        assert ready.status_code == 503 and ready.json() == {"status": "not ready", "checks": None}
        answer = client.get("/accounts")
        assert answer.status_code == 503 and "database" in answer.json()["detail"]
    finally:
        database.rmdir()
        moved.rename(database)
        get_engine(demo_db).dispose()
    assert client.get("/readyz").json()["checks"]["database"]["ok"]
    assert client.get("/accounts").status_code == 200


def _start_chroma(path: Path, port: int) -> subprocess.Popen[bytes]:
    chroma = Path(sys.executable).parent / "chroma"
    process = subprocess.Popen([str(chroma), "run", "--path", str(path), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.2)
    process.kill()
    raise AssertionError("the Chroma server did not start")


def test_a_vector_store_that_goes_away_answers_503_and_recovers(demo_db: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A real Chroma server, killed with SIGKILL while the service runs, then started again on its data."""
    from api.main import create_app
    from core.settings import get_settings
    from knowledge import service

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chroma = _start_chroma(tmp_path / "chroma", port)
    monkeypatch.setenv("KAM_CHROMA_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("KAM_JOB_WORKER", "false")
    get_settings.cache_clear()
    service.reset()
    note = {"file": ("note.txt", b"Besuch bei Hartmann: Zebrafisch-Lieferung verschoben.", "text/plain")}
    try:
        with TestClient(create_app()) as client:
            signed_in(client)
            assert client.post("/documents", files=note, data={"account_id": "A-00001"}).status_code == 201
            chroma.kill()
            chroma.wait()
            down = client.post("/documents", data={"account_id": "A-00001"},
                               files={"file": ("second.txt", b"Zweite Notiz zur Lieferung.", "text/plain")})
            assert down.status_code == 503 and "vector store unavailable" in down.json()["detail"]
            ready = client.get("/readyz").json()["checks"]["vector_store"]
            assert not ready["ok"] and ready["reason"]
            assert client.get("/accounts").status_code == 200  # what does not need the store goes on
            chroma = _start_chroma(tmp_path / "chroma", port)
            assert client.get("/readyz").json()["checks"]["vector_store"]["ok"]
            again = client.post("/documents", data={"account_id": "A-00001"},
                                files={"file": ("second.txt", b"Zweite Notiz zur Lieferung.", "text/plain")})
            assert again.status_code == 201
            hits = client.get("/search", params={"q": "Zebrafisch", "account_id": "A-00001"}).json()["hits"]
            assert any("Zebrafisch" in hit["text"] for hit in hits)  # nothing written before the outage is lost
    finally:
        chroma.kill()
        service.reset()
