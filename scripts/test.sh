#!/usr/bin/env bash
# Install and run the whole test suite (unit, cassette replays and end-to-end tests on the embedded model).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
exec .venv/bin/python -m pytest "$@"
