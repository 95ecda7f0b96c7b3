#!/usr/bin/env bash
# Dependency audit: every package the services run with (uv.lock, no dev tools) against PyPI's advisory
# data, with pip-audit. Fails on any known vulnerability. Packages whose exact version PyPI's JSON API
# does not describe (a private mirror's builds, for one) cannot be audited; the summary line says how
# many were, so a clean result over few packages is never mistaken for a clean bill of health.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="$(mktemp)"
report="$(mktemp)"
trap 'rm -f "$requirements" "$report"' EXIT
uv export --frozen --no-hashes --no-emit-workspace --no-dev --format requirements-txt -o "$requirements" >/dev/null
total=$(grep -cE '^[A-Za-z0-9_.-]+==' "$requirements")
status=0
uv run pip-audit -r "$requirements" --no-deps --disable-pip --progress-spinner off >"$report" 2>&1 || status=$?
skipped=$(grep -c "could not be audited" "$report" || true)
grep -v "could not be audited\|^WARNING:pip_audit" "$report" || true
echo "dependency audit: $((total - skipped)) of $total packages audited, $skipped not known to the advisory source"
if grep -qE "Found [0-9]+ known vulnerabilit" "$report"; then
  exit 1
elif [ "$status" != 0 ]; then
  # The advisory source could not be reached: say so loudly, but an outage of PyPI is not a finding.
  echo "dependency audit: pip-audit could not complete (exit $status); see the output above" >&2
fi
