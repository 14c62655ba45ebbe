#!/usr/bin/env bash
# Open the tutorial notebooks in JupyterLab. JupyterLab is not one of the kit's dependencies:
# the first run installs it into .venv (and runs scripts/setup.sh if there is no .venv yet).
# Extra arguments go to `jupyter lab`, e.g. `scripts/lab.sh --no-browser --port 8899`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[ -x .venv/bin/python ] || scripts/setup.sh
if ! .venv/bin/python -c "import jupyterlab" 2>/dev/null; then
  echo "==> Installing JupyterLab into .venv (first use only)" >&2
  .venv/bin/python -m pip install -q "jupyterlab>=4,<5"
fi
args=(--notebook-dir="$root/notebooks")
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
[ "$(id -u)" -ne 0 ] || args+=(--allow-root)
exec .venv/bin/jupyter lab "${args[@]}" "$@"
