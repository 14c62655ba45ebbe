#!/usr/bin/env bash
# Set up everything dotkit needs on this machine: a virtualenv in .venv with the
# kit and its test tools. Safe to run again; it only installs what is missing.
# Usage: scripts/setup.sh [--quiet]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { if [ "${1:-}" != "" ]; then echo "==> $*" >&2; fi; }

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup: $python not found; install Python 3.11 or newer" >&2
  exit 2
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: dotkit needs Python 3.11 or newer; $python is $("$python" --version 2>&1)" >&2
  exit 2
fi
for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "setup: warning: $tool not found; the sample apps and the sandbox need Node.js and npm" >&2
  fi
done

# Debian packages the sandbox uses: bubblewrap (isolated containers), nsenter
# (util-linux, for `dotkit run`), the data services' servers (redis-server,
# mariadb-server for mysql, postgresql), make and g++ (npm builds native addons
# against the services' old Node.js), and what runs inside containers: Debian's
# python3 with its supervisor package (never the kit's venv) and libseccomp2 (the
# containers' seccomp filter). Installed where this machine allows it.
# (MongoDB is not packaged by Debian 12: the sandbox refuses mongodb.)
missing=""
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
command -v nsenter >/dev/null 2>&1 || missing="$missing util-linux"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
{ [ -x /usr/sbin/mariadbd ] && command -v mariadb-install-db >/dev/null 2>&1; } \
  || missing="$missing mariadb-server"
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing="$missing postgresql"
command -v make >/dev/null 2>&1 || missing="$missing make"
command -v g++ >/dev/null 2>&1 || missing="$missing g++"
[ -x /usr/bin/python3 ] || missing="$missing python3"
[ -d /usr/lib/python3/dist-packages/supervisor ] || missing="$missing supervisor"
ls /usr/lib/*/libseccomp.so.2 >/dev/null 2>&1 || missing="$missing libseccomp2"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -q $missing || { apt-get update -q && apt-get install -y -q $missing; }; } \
      >/tmp/dotkit-apt.log 2>&1 \
      || echo "setup: warning: could not install$missing (see /tmp/dotkit-apt.log); without them the sandbox falls back to plain processes or weaker containers, refuses the data services it cannot run, and reports the native addons it cannot build (dotkit doctor says which)" >&2
  else
    echo "setup: note:$missing not installed and this shell cannot install Debian packages;" >&2
    echo "       install them (sudo apt-get install$missing) for isolated containers, the" >&2
    echo "       mysql and postgresql data services, and native addons." >&2
  fi
fi

# Docker for `dotkit export` and its tests (issue 17): Debian's daemon and Compose,
# and debootstrap to build the platform image. Installed where this machine allows it.
docker_missing=""
command -v dockerd >/dev/null 2>&1 || docker_missing="$docker_missing docker.io"
command -v docker-compose >/dev/null 2>&1 || docker_missing="$docker_missing docker-compose"
command -v debootstrap >/dev/null 2>&1 || docker_missing="$docker_missing debootstrap"
if [ -n "$docker_missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing Debian packages:$docker_missing"
  { apt-get install -y -q $docker_missing || { apt-get update -q && apt-get install -y -q $docker_missing; }; } \
    >/tmp/dotkit-apt-docker.log 2>&1 \
    || echo "setup: warning: could not install$docker_missing (see /tmp/dotkit-apt-docker.log); the Docker tests will be skipped" >&2
fi

# The docs site's own needs (a browser for its tests), when that script exists.
if [ -x scripts/setup-docs.sh ]; then
  scripts/setup-docs.sh
fi

stamp=.venv/.dotkit-setup
if [ ! -x .venv/bin/python ]; then
  say "creating the virtualenv in .venv"
  "$python" -m venv .venv
fi
# Reinstall only when the project's dependencies changed since the last setup.
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing dotkit and its test tools into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 \
    | grep -v "is ignored: it is neither" >&2 || true
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,docs]' --config-settings editable_mode=compat 2>&1 \
    | grep -v "is ignored: it is neither" >&2 || true
  .venv/bin/python -c 'import kit, yaml, click, tree_sitter_javascript, supervisor' \
    || { echo "setup: the install did not complete; see the messages above" >&2; exit 1; }
  # Compile the kit's bytecode once, so the CLI starts quickly even where
  # PYTHONDONTWRITEBYTECODE is set.
  env -u PYTHONDONTWRITEBYTECODE .venv/bin/python -m compileall -q kit >/dev/null
  echo "$want" > "$stamp"
fi
