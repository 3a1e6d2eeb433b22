#!/usr/bin/env bash
# Builds the app with the UI embedded (a plain `cargo build` would load the dev server instead).
#   scripts/build.sh            # debug build: target/debug/kagiya-desktop (what `run` uses)
#   scripts/build.sh --release  # release build with the .deb and .rpm in target/release/bundle/
#                               # (target/release/kagiya-desktop is what the E2E tests drive), each
#                               # shipping the `kagiya` command line beside the window
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
TAURI="$ROOT/ui/node_modules/.bin/tauri"
[ -x "$TAURI" ] || die "the Tauri CLI is missing: run scripts/install.sh first"
if [ "${1:-}" = "--release" ]; then
  "$ROOT/scripts/sidecar.sh"
  say "Building the release app and its .deb and .rpm packages"
  "$TAURI" build --ci --bundles deb,rpm --config src-tauri/tauri.packages.json
  for f in target/release/bundle/deb/*.deb target/release/bundle/rpm/*.rpm; do
    [ -s "$f" ] || die "package missing: $f"
    printf 'package: %s %s bytes (%s)\n' "$f" "$(stat -c %s "$f")" "$(du -h "$f" | cut -f1)"
  done
  # The .deb ships the command line, and it runs.
  unpacked="$(mktemp -d)"
  dpkg-deb -x target/release/bundle/deb/*.deb "$unpacked"
  for bin in usr/bin/kagiya-desktop usr/bin/kagiya; do
    [ -x "$unpacked/$bin" ] || die "the .deb lacks /$bin"
  done
  "$unpacked/usr/bin/kagiya" --version >/dev/null || die "the packaged kagiya does not run"
  say "The .deb ships /usr/bin/kagiya-desktop and /usr/bin/kagiya ($("$unpacked/usr/bin/kagiya" --version))"
  rm -rf "$unpacked"
else
  say "Building the app (debug, UI embedded)"
  "$TAURI" build --ci --debug --no-bundle
fi
