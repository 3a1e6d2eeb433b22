#!/usr/bin/env bash
# The desktop benchmark (figures, not a pass/fail test): writes a branch with 100,000 users
# (crates/kagiya-desk/examples/big_branch.rs) and drives the real window over it
# (tests/e2e/bench/desktop.mjs) — start-up to the dashboard, search per keystroke, peak memory.
#   scripts/bench-desktop.sh [USERS]
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
users="${1:-100000}"
say "Building the release app for the benchmark"
"$ROOT/ui/node_modules/.bin/tauri" build --ci --no-bundle
export KAGIYA_APP="$ROOT/target/release/kagiya-desktop"
export WEBKIT_DISABLE_COMPOSITING_MODE=1 WEBKIT_DISABLE_DMABUF_RENDERER=1 NO_AT_BRIDGE=1 LANG=ja_JP.UTF-8
data="$(mktemp -d)"
say "Writing $users users to $data, then measuring the window"
# The key lives in the session's keyring: the branch is written and measured in one session.
"$ROOT/scripts/with-keyring.sh" bash -c "
  cargo run --quiet --release -p kagiya-desk --example big_branch -- '$data' '$users' &&
  for run in 1 2; do xvfb-run -a -s '-screen 0 1280x820x24' node tests/e2e/bench/desktop.mjs '$data'; done
" </dev/null
