#!/usr/bin/env bash
# Create .venv and install kam with everything it needs (idempotent; fast when nothing changed).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3; do command -v "$candidate" >/dev/null && { PY="$candidate"; break; }; done
fi
[ -n "$PY" ] || { echo "error: Python 3.11 is required" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # llama-cpp-python compiles from source (~7 min on 2 cores, once; pip caches the wheel).
  # GGML_NATIVE=OFF: the cached wheel must run on any x86-64, not only on the CPU that built it.
  CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/python -m pip install --quiet -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# Once per machine (kept in ~/.cache/kam, shared by clones): assemble and verify the embedded LLM, and export
# the embedding model to ONNX (installs torch into a throwaway folder for the export only).
.venv/bin/kam setup
