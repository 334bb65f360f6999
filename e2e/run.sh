#!/usr/bin/env bash
# The browser end-to-end suite: the one entry point CI calls.
#
#   e2e/run.sh                      all tests in e2e/tests/
#   e2e/run.sh tests/revoked-key.test.js ...   only these
#
# Needs target/release/commerce (built by `cargo build --release --workspace`; this script
# builds nothing). Installs Chromium from Debian only when /usr/bin/chromium is
# missing, and runs `npm ci` only when node_modules is missing or stale.
# Environment: E2E_CONCURRENCY (test files at once, default 2),
# E2E_TIMEOUT (seconds for the whole run, default 900), COMMERCE_BIN.
set -euo pipefail

CALLER_PWD=$(pwd)
cd "$(dirname "$0")"
E2E_DIR=$(pwd)
ROOT=$(cd .. && pwd)
BIN=${COMMERCE_BIN:-$ROOT/target/release/commerce}

if [ ! -x "$BIN" ]; then
  echo "e2e: $BIN is missing: build it first with 'cargo build --release --workspace' in $ROOT" >&2
  exit 2
fi
export COMMERCE_BIN="$BIN"

if [ ! -x /usr/bin/chromium ]; then
  echo "e2e: /usr/bin/chromium is missing; installing Debian's chromium" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  timeout 600 $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive timeout 1200 $SUDO apt-get install -y chromium
fi

if ! command -v node >/dev/null || ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  echo "e2e: Node.js 20 or newer is required" >&2
  exit 2
fi

# npm ci when node_modules is missing or was installed from another lockfile.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.e2e-lock-sha256
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ] || [ ! -d node_modules/playwright-core ]; then
  echo "e2e: npm ci" >&2
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 600 npm ci --no-audit --no-fund
  echo "$lock_sum" > "$stamp"
fi

if [ "$#" -gt 0 ]; then
  files=()
  for f in "$@"; do
    # Paths as given from the caller's directory, or relative to e2e/.
    if [ "${f#/}" = "$f" ] && [ -f "$CALLER_PWD/$f" ]; then f="$CALLER_PWD/$f"; fi
    if [ ! -f "$f" ]; then echo "e2e: no such test file: $f" >&2; exit 2; fi
    files+=("$f")
  done
else
  files=(tests/*.test.js)
fi

mkdir -p artifacts
echo "e2e: ${#files[@]} test file(s) against $BIN, screenshots in $E2E_DIR/artifacts/" >&2
# Each test bounds itself (node --test timeout); the whole run is bounded too.
exec timeout --kill-after=30 "${E2E_TIMEOUT:-900}" \
  node --test --test-reporter=spec \
  --test-concurrency="${E2E_CONCURRENCY:-2}" \
  --test-timeout=200000 \
  "${files[@]}"
