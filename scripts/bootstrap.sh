#!/usr/bin/env bash
# Installs what Tally needs from the project's own files: uv (from PyPI, if missing), then every
# Python package from uv.lock into .venv, using this machine's python3 (never a downloaded one).
# With --with-browser it also makes sure Debian's Chromium is there for the web tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never

if ! command -v uv >/dev/null 2>&1; then
  echo "Installing uv (from PyPI)…"
  python3 -m pip install --quiet --user uv
  export PATH="$HOME/.local/bin:$PATH"
fi
uv sync --frozen --quiet --python "$(command -v python3)"

if [ "${1:-}" = "--with-browser" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Chromium (Debian package) for the web tests…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The web tests need Chromium: install Debian's 'chromium' package (as root)." >&2
  fi
fi
