"""The graphs of ``langgraph.json`` run under LangGraph Server, loaded the server's own way (``langgraph dev``
as a real process), with a run context given as JSON: the principal and the as-of date are coerced, and
``llm="configured"`` is resolved to the configured endpoint inside the graph."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.nda_review.service import _document_json
from knowledge.extract import extract_text_file

ROOT = Path(__file__).parents[1]
LEGAL = {"user_id": "U-LEGAL-1", "role": "legal", "account_ids": None}
UNCLEAR = ("Geheimhaltung\n1. Zweck. Es werden Zeichnungen für ein Dichtungsprojekt übergeben.\n"
           "2. Laufzeit. Die Vereinbarung gilt zwei Jahre.\n3. Recht. Es gilt deutsches Recht unter Ausschluss "
           "des UN-Kaufrechts. Gerichtsstand ist Bremen.")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture()
def server(tmp_path: Path, llm_stub: Any) -> Iterator[str]:
    yield from _serve(tmp_path, llm_stub)


@pytest.fixture()
def server_with_demo_data(tmp_path: Path, llm_stub: Any, demo_db_template: Path) -> Iterator[str]:
    """The server over a copy of the demo database, in place before it starts."""
    import shutil

    (tmp_path / "var").mkdir()
    shutil.copy(demo_db_template, tmp_path / "var" / "kam.db")
    yield from _serve(tmp_path, llm_stub)


def _serve(tmp_path: Path, llm_stub: Any) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "KAM_DATA_DIR": str(tmp_path / "var"), "KAM_LLM_AUTOSTART": "false",
           "KAM_LLM_BASE_URL": llm_stub.base_url, "KAM_LLM_RETRY_ATTEMPTS": "1",
           "LANGSMITH_TRACING": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGSMITH_API_KEY": ""}
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "langgraph"), "dev", "--config", "langgraph.json", "--port", str(port),
         "--no-browser", "--no-reload", "--host", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/ok", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:  # not listening yet: the server is still loading the graphs
                pass
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-3000:]
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
        log.close()


def _run(base: str, graph: str, inputs: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=120) as client:
        thread = client.post("/threads", json={}).json()["thread_id"]
        response = client.post(f"/threads/{thread}/runs/wait",
                               json={"assistant_id": graph, "input": inputs, "context": context})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


def test_the_nda_review_graph_runs_under_langgraph_server(server: str, llm_stub: Any) -> None:
    document = json.loads(_document_json(extract_text_file(UNCLEAR.encode(), "nda.txt")))
    inputs = {"review_id": "server-1", "file_name": "nda.txt", "account_id": None, "document": document}
    off = _run(server, "nda_review", inputs, {"principal": LEGAL, "as_of": "2026-12-05", "llm_mode": "off"})
    assert off["report"]["verdict"] in ("accept", "negotiate", "escalate") and off["report"]["llm"]["calls"] == 0
    assert not llm_stub.requests
    configured = _run(server, "nda_review", {**inputs, "review_id": "server-2"},
                      {"principal": LEGAL, "as_of": "2026-12-05", "llm": "configured", "llm_mode": "uncertain"})
    assert llm_stub.requests and configured["report"]["llm"]["calls"] >= 1  # the gateway was resolved in the graph
    mutuality = next(f for f in configured["report"]["findings"] if f["rule"] == "mutuality")
    assert mutuality["source"] == "fallback" and mutuality["uncertain"]  # the stub's "ok" is no JSON answer


def test_the_escalation_graph_drafts_and_resumes_under_langgraph_server(server_with_demo_data: str,
                                                                         tmp_path: Path) -> None:
    """A run started by the server waits at the review; the decision resumes it through the server."""
    import sqlite3

    from agents.escalation_drafter.triggers import scan
    from core.db.session import session_scope
    from tests.conftest import AS_OF

    server = server_with_demo_data
    with session_scope(f"sqlite:///{tmp_path / 'var' / 'kam.db'}") as session:
        trigger = next(t for t in scan(session, as_of=AS_OF) if t.kind == "call_off_rate")
    context = {"principal": {"user_id": "system:server", "role": "system", "account_ids": None},
               "as_of": AS_OF.isoformat()}
    with httpx.Client(base_url=server, timeout=120) as client:
        thread = client.post("/threads", json={}).json()["thread_id"]
        waiting = client.post(f"/threads/{thread}/runs/wait", json={
            "assistant_id": "escalation_drafter", "context": context,
            "input": {"draft_id": "server-draft", "trigger": trigger.model_dump(mode="json"), "audience": "customer"}})
        assert waiting.status_code == 200, waiting.text
        assert "70,0\xa0%" in waiting.json().get("mail", {}).get("body", ""), waiting.text[:1500]
        decided = client.post(f"/threads/{thread}/runs/wait", json={
            "assistant_id": "escalation_drafter", "context": context, "command": {"resume": {"action": "approve"}}})
        assert decided.status_code == 200, decided.text
        assert decided.json()["status"] == "approved"
    with sqlite3.connect(tmp_path / "var" / "kam.db") as db:
        assert db.execute("SELECT status, thread_id FROM mail_drafts WHERE id = 'server-draft'").fetchone() == (
            "approved", thread)
        assert [a for (a,) in db.execute("SELECT action FROM draft_events WHERE draft_id = 'server-draft' ORDER BY id")
                ] == ["drafted", "approved"]


def test_the_chat_graph_answers_and_keeps_its_thread_under_langgraph_server(server_with_demo_data: str) -> None:
    """Two questions on one server thread: the second names no account and gets the first one's."""
    kam = {"user_id": "U-KAM-001", "role": "kam", "account_ids": ["A-00001", "A-00003", "A-00005"]}
    context = {"principal": kam, "as_of": "2026-11-26"}
    with httpx.Client(base_url=server_with_demo_data, timeout=120) as client:
        thread = client.post("/threads", json={}).json()["thread_id"]
        first = client.post(f"/threads/{thread}/runs/wait", json={
            "assistant_id": "chat", "context": context, "input": {"question": "Why is Mercer's call-off rate down?"}})
        assert first.status_code == 200, first.text
        assert first.json()["answer"]["source"] == "template" and "62.0%" in first.json()["answer"]["text"]
        second = client.post(f"/threads/{thread}/runs/wait", json={
            "assistant_id": "chat", "context": context, "input": {"question": "And the credit limit?"}}).json()
    assert second["answer"]["steps"][0] == {"tool": "credit", "account_id": "A-00001", "args": {}, "evidence": 1,
                                            "refused": None}
    assert [t["question"] for t in second["turns"]] == ["Why is Mercer's call-off rate down?", "And the credit limit?"]
