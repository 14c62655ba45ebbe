#!/usr/bin/env bash
# The main job: the porting guide's two-Gear sample app converted to dotCloud,
# verified, pushed to the local sandbox and answered over HTTP, each gear on the
# Node.js its config: node_version names (v0.8.x: the official v0.8.28 build,
# fetched once from the npm registry). Sets itself up first; run it again to
# push again. Stop the app with the command it prints. DEMO_OUT names another
# folder for the converted app (default: build/portedapp).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
dotkit="$root/.venv/bin/dotkit"
app=portedapp
out="${DEMO_OUT:-$root/build/$app}"
shown="${DEMO_OUT:-build/$app}"

echo "==> 1. convert: dotkit convert sample_apps/nodesocket-guide -o $shown --force --fix"
"$dotkit" convert sample_apps/nodesocket-guide -o "$out" --force --fix

echo
echo "==> 2. verify: dotkit verify $shown"
"$dotkit" verify "$out"

echo
echo "==> 3. push: dotkit push (application \"$app\" in the local sandbox)"
cd "$out"
if ! "$dotkit" -A "$app" app >/dev/null 2>&1; then
  "$dotkit" -y create "$app"
else
  "$dotkit" connect "$app"
fi
"$dotkit" push

echo
echo "==> 4. ask each gear over HTTP, by name, and over HTTPS"
# HTTPS is signed by the sandbox's own CA; `dotkit url --trust` says where it is.
ca="$("$dotkit" url --trust | awk '$1 ~ /\.pem$/ { print $1; exit }')"
"$dotkit" url | grep -E '^[a-z0-9_]+( \([^)]*\))?: https?://' | while read -r line; do
  service=${line%%: *}
  url=${line#*: }
  echo "--- $service at $url"
  case "$url" in
    https://*) curl -fsS --max-time 10 --cacert "$ca" "$url" ;;
    *) curl -fsS --max-time 10 "$url" ;;
  esac
  echo
done

echo
echo "==> 5. the Node.js each gear runs (config: node_version v0.8.x)"
for gear in gear1 gear2; do
  version="$("$dotkit" run "$gear" -- node -v)"
  echo "--- $gear: node $version"
  if [ "$version" != "v0.8.28" ]; then
    echo "demo: $gear runs node $version, not v0.8.28" >&2
    exit 1
  fi
done

echo
echo "Both gears are running in the sandbox. Look around:"
echo "  cd $out && $dotkit info        # services and URLs"
echo "  cd $out && $dotkit logs gear1  # supervisord and node logs (Ctrl-C to stop)"
echo "  cd $out && $dotkit run gear1 -- supervisorctl status"
echo "Stop and remove everything:"
echo "  cd $out && $dotkit -y destroy"
