#!/usr/bin/env bash
# Install, start the test services, then lint (ruff), type-check (mypy) and run the whole test suite
# (unit, cassette replays, PostgreSQL, and end-to-end tests on the embedded model). pytest arguments pass
# through, e.g. ./scripts/test.sh -m "not e2e"; KAM_SKIP_LINT=1 skips ruff and mypy for a quick local run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
./scripts/test-deps.sh
# schemathesis lives in its own venv: its pinned jsonschema-rs conflicts with langgraph-api's
[ -x .venv-fuzz/bin/st ] || { python3 -m venv .venv-fuzz && .venv-fuzz/bin/pip install --quiet "schemathesis==4.32.5"; }
if [ "${KAM_SKIP_LINT:-0}" != "1" ]; then
  .venv/bin/ruff check core policies knowledge agents evals api tests benchmarks
  .venv/bin/mypy
fi
# the PostgreSQL, LibreOffice and fuzz tests fail instead of skipping when what they need is missing
export KAM_REQUIRE_POSTGRES=1 KAM_REQUIRE_LIBREOFFICE=1 KAM_REQUIRE_SCHEMATHESIS=1 KAM_REQUIRE_CHROMIUM=1
exec .venv/bin/python -m pytest "$@"
