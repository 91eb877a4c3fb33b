"""Blocking work stays off the event loop: a slow upload must not stall liveness probes (or chat streams).

Runs a real uvicorn server: the base's ``async def`` upload parsed and embedded on the loop, and /healthz
timed out for as long as the ingest took."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

from core.settings import Settings
from tests.auth import ADMIN, bearer


@contextmanager
def serve() -> Iterator[str]:
    """The app on a real uvicorn server on a free loopback port, in a thread."""
    from api.main import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture()
def live_server(settings: Settings, demo_db: str) -> Iterator[str]:
    with serve() as url:
        yield url


def test_liveness_is_answered_while_an_upload_is_being_embedded(live_server: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge.ingest import Ingestor

    embedding, release = threading.Event(), threading.Event()
    original = Ingestor._encode

    def slow_encode(self: Ingestor, texts: list[str]) -> list:  # type: ignore[type-arg]
        embedding.set()
        release.wait(timeout=60)  # the ingest is "busy" until the test has probed the server
        return original(self, texts)

    monkeypatch.setattr(Ingestor, "_encode", slow_encode)
    upload: dict[str, httpx.Response] = {}

    def post() -> None:
        upload["response"] = httpx.post(f"{live_server}/documents", timeout=120, headers=bearer(ADMIN),
                                        files={"file": ("note.txt", "Zebrafisch im Aquarium. " * 200, "text/plain")})

    poster = threading.Thread(target=post)
    poster.start()
    try:
        assert embedding.wait(timeout=60), "the upload never reached the embedding step"
        probes = [httpx.get(f"{live_server}/healthz", timeout=5) for _ in range(3)]
        assert [p.status_code for p in probes] == [200, 200, 200]
        assert "response" not in upload  # the upload is still in progress while the probes were answered
    finally:
        release.set()
        poster.join(timeout=120)
    assert upload["response"].status_code == 201, upload["response"].text
