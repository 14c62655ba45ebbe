#!/usr/bin/env bash
# The main job: convert the porting guide's two-Gear sample app to a dotCloud
# app and print the migration report. Sets itself up first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh

out=build/portedapp
echo "==> dotkit convert sample_apps/nodesocket-guide -o $out --force --fix" >&2
.venv/bin/dotkit convert sample_apps/nodesocket-guide -o "$out" --force --fix
echo
echo "The dotCloud app is in $out:"
(cd "$out" && find . -type f | sort | sed 's/^\.\//  /')
