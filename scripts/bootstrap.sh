#!/usr/bin/env bash
# Installs what Tally needs from the project's own files: uv (from PyPI, if missing), then every
# Python package from uv.lock into .venv, using this machine's python3 (never a downloaded one).
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never

if ! command -v uv >/dev/null 2>&1; then
  echo "Installing uv (from PyPI)…"
  python3 -m pip install --quiet --user uv
  export PATH="$HOME/.local/bin:$PATH"
fi
uv sync --frozen --python "$(command -v python3)"
