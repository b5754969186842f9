#!/usr/bin/env bash
# The release tarball as a user gets it: `npm pack`, then `npm install -g` of that file into a
# temporary prefix (production dependencies only), then `tollkeeper --help`, `config check` and
# `serve` from that prefix. Writes a vitest-shaped report (numPassedTests/numFailedTests) to $1.
set -uo pipefail
cd "$(dirname "$0")/.."
report=$1
work=$(mktemp -d)
trap 'kill "$serve_pid" 2>/dev/null; rm -rf "$work"' EXIT
serve_pid=
passed=0 failed=0
check() { # name, command...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "  ok   $name"; else failed=$((failed + 1)); echo "  FAIL $name"; fi
}

pack_and_install() {
  npm pack --silent --pack-destination "$work" >"$work/pack.out" || return 1
  local tarball="$work/$(tail -n 1 "$work/pack.out")"
  echo "  $(basename "$tarball"): $(du -k "$tarball" | cut -f1) KB"
  npm install -g --prefix "$work/prefix" --omit=dev --no-audit --no-fund "$tarball" >"$work/install.out" 2>&1 \
    || { cat "$work/install.out"; return 1; }
  # Production dependencies only: none of the tooling came along.
  local modules="$work/prefix/lib/node_modules/tollkeeper/node_modules"
  for dev in tsx typescript vitest esbuild; do
    [ ! -e "$modules/$dev" ] || { echo "  $dev was installed"; return 1; }
  done
}
help_works() { "$work/prefix/bin/tollkeeper" --help | grep -q '^Usage:'; }
config_check_works() {
  mkdir -p "$work/data"
  cat >"$work/config.json" <<JSON
{"dataDir": "$work/data", "gate": {"kind": "simulated"}, "listen": {"host": "127.0.0.1", "port": 27121},
 "admin": {"host": "127.0.0.1", "port": 27122}, "mints": [{"url": "http://127.0.0.1:9"}], "log": {"level": "info"}}
JSON
  "$work/prefix/bin/tollkeeper" config check "$work/config.json"
}
serve_works() {
  "$work/prefix/bin/tollkeeper" serve --config "$work/config.json" >"$work/serve.log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 1 300); do
    # The first line is `ok` once started; a line per accepted mint follows.
    if [ "$(curl -s http://127.0.0.1:27121/healthz | head -n 1)" = ok ]; then
      kill -TERM "$serve_pid"; wait "$serve_pid"; local code=$?; serve_pid=
      [ "$code" = 0 ] || { echo "  serve exited with $code on SIGTERM"; cat "$work/serve.log"; return 1; }
      return 0
    fi
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "  serve never answered /healthz"; cat "$work/serve.log"; return 1
}

check 'npm pack, then npm install -g of the tarball (production dependencies only)' pack_and_install
check 'tollkeeper --help' help_works
check 'tollkeeper config check' config_check_works
check 'tollkeeper serve answers /healthz and stops on SIGTERM' serve_works
printf '{"numPassedTests": %d, "numFailedTests": %d, "numTotalTests": %d, "testResults": []}\n' "$passed" "$failed" $((passed + failed)) >"$report"
[ "$failed" = 0 ]
