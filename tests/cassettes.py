"""vcrpy set-up for the whole suite: cassettes recorded against the embedded server, replayed offline.

Replay (default, CI): ``record_mode="none"`` — a request without a recorded answer fails the test.
Re-record: ``KAM_RECORD=all ./scripts/test.sh tests/test_llm_cassettes.py`` (starts the embedded server).
Requests match on method, path and body (the server's port changes from run to run).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import vcr

from core.llm.gateway import LlmGateway
from core.llm.model_files import QWEN
from core.llm.runtime import LlmRuntime
from core.settings import Settings

CASSETTE_DIR = Path(__file__).parent / "cassettes"
RECORD_MODE = os.environ.get("KAM_RECORD", "none")
RECORDING = RECORD_MODE != "none"
REPLAY_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens there: only cassettes can answer

cassette_vcr = vcr.VCR(
    cassette_library_dir=str(CASSETTE_DIR),
    record_mode=RECORD_MODE,
    match_on=("method", "path", "body"),
    filter_headers=["authorization", "api-key", "x-api-key", "openai-organization", "cookie"],
    decode_compressed_response=True,
)


@contextmanager
def recorded_gateway(tmp_dir: Path) -> Iterator[LlmGateway]:
    """A gateway on the embedded server when recording, on cassettes only when replaying."""
    settings = Settings(data_dir=tmp_dir, llm_model=QWEN.alias, llm_retry_attempts=1)
    if RECORDING:
        with LlmRuntime(settings) as runtime:
            yield runtime.gateway()
    else:
        yield LlmGateway.from_settings(settings, REPLAY_BASE_URL, embedded=True)
