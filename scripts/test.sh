#!/usr/bin/env bash
# Every check the project has: lint, format, types, and the whole test suite.
# Sets itself up first. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh

status=0
step() {
  local name=$1; shift
  local t0=$SECONDS
  echo "==> $name" >&2
  if "$@"; then
    echo "    $name: ok ($((SECONDS - t0)) s)" >&2
  else
    echo "    $name: FAILED ($((SECONDS - t0)) s)" >&2
    status=1
  fi
}

step "ruff check" .venv/bin/ruff check kit tests benchmarks testing docs_hooks
step "ruff format --check" .venv/bin/ruff format --check kit tests benchmarks testing docs_hooks
step "mypy kit" .venv/bin/mypy kit
step "pytest" .venv/bin/pytest -p no:cacheprovider "$@"
step "notebooks (nbval)" scripts/notebooks.sh
exit $status
