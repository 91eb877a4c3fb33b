"""Fuzzing the OpenAPI spec with schemathesis against the running app, as every role and without a token: no
5xx, and every status the app answers is one the spec documents (401/403/404/413/422/503 included).

schemathesis runs from its own venv (``.venv-fuzz``, made by scripts/test.sh): the release that works with
this project's hypothesis pins a jsonschema-rs that langgraph-api refuses.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.auth import bearer
from tests.test_access_matrix import USERS

ST = Path(__file__).resolve().parents[1] / ".venv-fuzz" / "bin" / "st"
EXAMPLES = 8  # per operation and phase; about 1,700 requests per identity

pytestmark = pytest.mark.skipif(not ST.exists() and os.environ.get("KAM_REQUIRE_SCHEMATHESIS") != "1",
                                reason="schemathesis not installed (scripts/test.sh installs it)")


def test_no_5xx_and_only_documented_statuses(settings, demo_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import get_settings
    from tests.test_api_concurrency import serve

    monkeypatch.setenv("KAM_JOB_WORKER", "false")
    monkeypatch.setenv("KAM_UPLOADS_PER_MINUTE", "100000")
    get_settings.cache_clear()
    reports, failed = [], []
    with serve() as url:
        for role, user in USERS.items():
            auth = ["-H", bearer(user)["Authorization"].join(("Authorization: ", ""))] if user else []
            done = subprocess.run([str(ST), "run", f"{url}/openapi.json", *auth, "--checks",
                                   "not_a_server_error,status_code_conformance", "--max-examples", str(EXAMPLES),
                                   "--exclude-path", "/readyz", "--no-color", "--seed", "19"],
                                  capture_output=True, text=True, timeout=900, check=False)
            generated = re.search(r"(\d+) generated", done.stdout)
            reports.append(f"{role}: {generated[1] if generated else '?'} cases, exit {done.returncode}")
            if done.returncode != 0:
                failed.append(f"--- as {role}\n{done.stdout[-3000:]}")
    print("\nschemathesis: " + "; ".join(reports))
    assert not failed, "\n".join(failed)
