#!/usr/bin/env bash
# Fuzzes the account service's JSON API from its own OpenAPI document (generated
# by utoipa, served at /api/openapi.json) with
# schemathesis: no answer may be a 5xx, and every answer must match the
# document. Starts the release binary on a free port with a fresh data dir.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/commerce
[ -x "$BIN" ] || { echo "schemathesis: build the release binary first (cargo build --release)" >&2; exit 1; }

VENV=.cache/schemathesis-venv
if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==4.32.5"
fi

DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RUST_LOG=warn "$BIN" --data-dir "$DATA" serve account --account-addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

# A signed-in session, so the key routes are exercised past the 401.
SID=$(curl -fs -D - -o /dev/null -H 'content-type: application/json' \
  -d '{"email":"fuzz@example.com","password":"a long enough password","name":"Fuzz","company":"Fuzz"}' \
  "http://127.0.0.1:$PORT/api/v1/signup" | sed -n 's/^set-cookie: \(acct_sid=[A-Za-z0-9]*\).*/\1/ip')

run() {
  timeout 600 "$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/api/openapi.json" \
    --checks not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance \
    --max-examples 40 --workers 1 --phases examples,coverage,fuzzing \
    --no-color --seed 1 "$@"
}
echo "== without a session: every operation"
run
# Signed in (logout left out: it would end the session the run relies on).
echo "== with a session: every operation but logout"
run --header "Cookie: $SID" --exclude-operation-id logout
