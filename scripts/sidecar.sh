#!/usr/bin/env bash
# Builds the `kagiya` command line for the installers, which ship it beside the window (Tauri's
# externalBin: /usr/bin/kagiya in the .deb and .rpm, next to the .exe on Windows, inside the .app
# on macOS). Tauri wants it named after the target triple: target/sidecar/kagiya-<triple>[.exe].
#   scripts/sidecar.sh                                  # for this machine
#   scripts/sidecar.sh --target universal-apple-darwin  # both Mac architectures, joined by lipo
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
target="$(rustc -vV | sed -n 's/^host: //p')"
[ "${1:-}" = "--target" ] && target="${2:?--target needs a triple}"
mkdir -p target/sidecar
ext=""
case "$target" in *windows*) ext=".exe" ;; esac
say "Building the kagiya command line for $target (release)"
if [ "$target" = "universal-apple-darwin" ]; then
  parts=()
  for t in aarch64-apple-darwin x86_64-apple-darwin; do
    cargo build --locked --release -p kagiya-cli --target "$t"
    parts+=("target/$t/release/kagiya")
  done
  lipo -create -output "target/sidecar/kagiya-$target" "${parts[@]}"
elif [ "$target" = "$(rustc -vV | sed -n 's/^host: //p')" ]; then
  cargo build --locked --release -p kagiya-cli
  cp "target/release/kagiya$ext" "target/sidecar/kagiya-$target$ext"
else
  cargo build --locked --release -p kagiya-cli --target "$target"
  cp "target/$target/release/kagiya$ext" "target/sidecar/kagiya-$target$ext"
fi
say "target/sidecar/kagiya-$target$ext"
