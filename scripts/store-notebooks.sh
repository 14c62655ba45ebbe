#!/usr/bin/env bash
# Run notebooks from the top on a fresh kernel and store their outputs in place, as
# scripts/notebooks.sh will then check them. Two at a time (they mostly wait for npm
# and containers). No timing metadata is stored, so a re-run changes only outputs.
# Usage: scripts/store-notebooks.sh [notebooks/NAME.ipynb ...]   (default: all)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(notebooks/[0-9]*.ipynb)
printf '%s\n' "${targets[@]}" | xargs -P "${NOTEBOOKS_WORKERS:-2}" -I{} \
  .venv/bin/jupyter nbconvert --to notebook --execute --inplace \
    --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.record_timing=False \
    --log-level=WARN {}
