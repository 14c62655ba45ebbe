#!/usr/bin/env bash
# What the docs site's tests need that pip cannot install: Debian's Chromium, which
# Playwright drives in tests/docs (Playwright's own browser downloads are not
# reachable here). Called by scripts/setup.sh. Safe to run again: it returns at
# once when /usr/bin/chromium is there.
set -euo pipefail

chromium=/usr/bin/chromium
if [ -x "$chromium" ]; then
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing Debian's chromium (for the docs site's browser tests)" >&2
  log=/tmp/dotkit-apt-chromium.log
  export DEBIAN_FRONTEND=noninteractive
  if { apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; } \
      >"$log" 2>&1 && [ -x "$chromium" ]; then
    exit 0
  fi
  echo "setup-docs: warning: could not install chromium (see $log);" >&2
  echo "            the docs site's browser tests will be skipped." >&2
  exit 0
fi

echo "setup-docs: note: $chromium is missing and this shell cannot install Debian packages;" >&2
echo "            install it (sudo apt-get install chromium) to run the docs site's browser tests." >&2
