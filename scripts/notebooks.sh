#!/usr/bin/env bash
# Run the tutorial notebooks under nbval in checking mode: every code cell runs again on a
# fresh kernel (this virtualenv's Python) and its output must match the stored one, after
# notebooks/sanitize.cfg. A pytest run of its own, since nbval and coverage can stall together.
#
# The notebooks mostly wait (for npm's registry, for containers to answer), so they run
# NOTEBOOKS_WORKERS at a time (2 by default; 1 runs them one after another), each notebook
# whole on one worker (pytest-xdist's --dist loadfile: a notebook's cells share a kernel).
# Prints the total time and fails when it is over the limit: 300 s, or $NOTEBOOKS_TIME_LIMIT.
# Eight notebooks push the sample apps about thirty times, six of them with a first
# `npm install` of Express from the registry; one after another they take about four minutes
# on a shared two-core machine, two at a time about half of that.
# Extra arguments go to pytest, e.g. `scripts/notebooks.sh notebooks/05-ports.ipynb`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
limit=${NOTEBOOKS_TIME_LIMIT:-300}
workers=${NOTEBOOKS_WORKERS:-2}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(notebooks/)

parallel=()
if [ "$workers" -gt 1 ] && .venv/bin/python -c 'import xdist' 2>/dev/null; then
  parallel=(-n "$workers" --dist loadfile)
fi

start=$(date +%s%N)
status=0
.venv/bin/pytest --nbval --nbval-current-env \
  --nbval-sanitize-with notebooks/sanitize.cfg \
  --nbval-cell-timeout 300 \
  -p no:randomly -p no:cacheprovider \
  "${parallel[@]}" \
  -q "${targets[@]}" || status=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
seconds=$((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000)) | cut -c1)

if [ "$elapsed_ms" -gt $((limit * 1000)) ]; then
  echo "notebooks: ${seconds} s, over the limit of ${limit} s" >&2
  status=1
else
  echo "notebooks: ${seconds} s (limit ${limit} s)" >&2
fi
exit $status
