#!/usr/bin/env bash
# Install, generate and import demo data, then run the API with the embedded LLM on http://127.0.0.1:8000
# (web page: /app, signed in with one of the demo tokens printed by `kam demo-data`)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
.venv/bin/kam demo-data --accounts "${KAM_DEMO_ACCOUNTS:-50}" --seed 7
.venv/bin/kam ingest "${KAM_DATA_DIR:-var}/demo/docs" --crm
echo "web page: http://127.0.0.1:8000/app (or the --port you gave); sign in with a token printed above"
exec .venv/bin/kam serve "$@"
