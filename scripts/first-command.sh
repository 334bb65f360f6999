#!/usr/bin/env bash
# Runs the README's first command exactly as a newcomer types it, from the
# repository root, and fails unless it prints both URLs and the generated
# password and both apps answer /healthz. Only the data dir and the ports are
# moved out of the way (through the flags' environment variables), so that
# a developer's ./var and a running copy on 8080/8081 are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

# The command is read from the README itself: the first fenced `sh` block.
cmd=$(awk '/^```sh$/{f=1; next} f && /^```$/{exit} f{print}' README.md)
if [ "$cmd" != "cargo run --release -- serve" ]; then
  echo "first-command: the README's first command is now '$cmd'; update this check with it" >&2
  exit 1
fi

data=$(mktemp -d)
log=$(mktemp)
cleanup() {
  if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -rf "$data" "$log"
}
trap cleanup EXIT

# setsid: the command and the server cargo starts form one process group,
# ended together.
COMMERCE_DATA_DIR="$data" COMMERCE_ACCOUNT_ADDR=127.0.0.1:0 COMMERCE_ADMIN_ADDR=127.0.0.1:0 \
  setsid bash -c "exec $cmd" >"$log" 2>&1 </dev/null &
pid=$!

# A build may be needed first (a fresh clone): up to 15 minutes.
for _ in $(seq 1 1800); do
  grep -q '^Commerce Admin: http' "$log" && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "first-command: '$cmd' stopped:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  sleep 0.5
done

account=$(sed -n 's/^Account service: \(http[^ ]*\)$/\1/p' "$log" | head -n1)
admin=$(sed -n 's/^Commerce Admin: \(http[^ ]*\)$/\1/p' "$log" | head -n1)
password=$(sed -n 's/^Admin user created: admin \/ \([^ ]*\) .*$/\1/p' "$log" | head -n1)
if [ -z "$account" ] || [ -z "$admin" ] || [ -z "$password" ]; then
  echo "first-command: '$cmd' did not print both URLs and the generated password:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
curl -fsS "$account/healthz" >/dev/null
curl -fsS "${admin%/admin}/healthz" >/dev/null
# The printed password signs in to the Admin.
curl -fsS -o /dev/null -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$password\"}" "${admin%/admin}/admin/api/v1/login"
echo "'$cmd': account service $account, Commerce Admin $admin, the printed password signs in"
