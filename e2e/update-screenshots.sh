#!/usr/bin/env bash
# Refreshes docs/screenshots/*.png from a run of the main flow (English and
# Dutch). With --copy-only, copies from the last run's e2e/artifacts/ instead.
set -euo pipefail

cd "$(dirname "$0")"
DOCS=../docs/screenshots

if [ "${1:-}" != "--copy-only" ]; then
  ./run.sh tests/main-flow-en.test.js tests/main-flow-nl.test.js
fi

mkdir -p "$DOCS"
# docs name                  <- artifact (tests number their steps: NN-step.png)
pairs=(
  "welcome.png                main-en/*-welcome.png"
  "sign-up.png                main-en/*-sign-up.png"
  "api-portal-new-key.png     main-en/*-api-portal-new-key.png"
  "config-api-keys.png        main-en/*-config-api-keys.png"
  "store-integration.png      main-en/*-store-integration.png"
  "welcome-nl.png             main-nl/*-welcome.png"
  "api-portal-mobile-390.png  main-en/*-api-portal-new-key-390px.png"
)
status=0
for pair in "${pairs[@]}"; do
  read -r name pattern <<<"$pair"
  # shellcheck disable=SC2206
  matches=(artifacts/$pattern)
  if [ "${#matches[@]}" -ne 1 ] || [ ! -f "${matches[0]}" ]; then
    echo "update-screenshots: no single artifacts/$pattern (run the tests first)" >&2
    status=1
    continue
  fi
  cp "${matches[0]}" "$DOCS/$name"
  echo "$DOCS/$name <- ${matches[0]}"
done
exit "$status"
