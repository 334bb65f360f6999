#!/usr/bin/env bash
# Refreshes docs/screenshots/*.png from a run of the main flow (English and
# Dutch), the members walk, the phone menu test (the 390 px shots) and the
# account site's two-step sign-in. With
# --copy-only, copies from the last run's e2e/artifacts/ instead.
set -euo pipefail

cd "$(dirname "$0")"
DOCS=../docs/screenshots

if [ "${1:-}" != "--copy-only" ]; then
  ./run.sh tests/main-flow-en.test.js tests/main-flow-nl.test.js tests/members.test.js tests/keyboard.test.js \
    tests/account-two-factor.test.js
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
  "welcome-390.png            main-en/*-welcome-390px.png"
  "admin-menu-390.png         keyboard-menu/*-menu-open-390px.png"
  "config-api-keys-390.png    main-en/*-config-api-keys-390px.png"
  "store-integration-390.png  main-en/*-store-integration-390px.png"
  "members-390.png            members-en/*-members-invitation-link-390px.png"
  "focus-ring.png             keyboard/*-focus-copy.png"
  "admin-2fa-setup.png        main-en/*-admin-2fa-setup.png"
  "admin-2fa-second-step.png  main-en/*-admin-2fa-second-step.png"
  "account-2fa-setup.png       account-2fa-en/*-account-2fa-setup.png"
  "account-2fa-second-step.png account-2fa-en/*-account-2fa-second-step.png"
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
