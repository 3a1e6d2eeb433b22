#!/usr/bin/env bash
# The layering the design card asks for, checked on the real dependency graph: the engine knows no
# database, keyring, window or desk; the command line needs neither the window nor the desk; the
# central server runs the engine over PostgreSQL and knows no SQLite, keyring, window or desk.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# forbid PACKAGE PATTERN...: fails when PACKAGE's normal dependencies include a crate whose name
# matches one of the extended regular expressions.
forbid() {
  local pkg="$1"; shift
  local tree found=()
  tree="$(cargo tree --locked -p "$pkg" -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u)"
  for pattern in "$@"; do
    while IFS= read -r hit; do [ -n "$hit" ] && found+=("$hit"); done < <(grep -E "^(${pattern})$" <<<"$tree" || true)
  done
  if [ ${#found[@]} -gt 0 ]; then
    die "$pkg must not depend on: ${found[*]}"
  fi
  say "$pkg: none of $* in its dependencies"
}

forbid kagiya-engine 'rusqlite' 'libsqlite3-sys' 'keyring' 'tauri(-.*)?' 'kagiya-store' 'kagiya-desk'
forbid kagiya-cli 'tauri(-.*)?' 'kagiya-desk' 'wry' 'webkit2gtk'
forbid kagiya-sync 'rusqlite' 'libsqlite3-sys' 'keyring' 'tauri(-.*)?' 'tokio-postgres' 'ureq' 'kagiya-engine' 'kagiya-store' 'kagiya-desk'
forbid kagiya-server 'rusqlite' 'libsqlite3-sys' 'keyring' 'tauri(-.*)?' 'wry' 'kagiya-store' 'kagiya-desk' 'kagiya-cli'
# Mail's words, MIME and S/MIME and its SMTP client know no database, engine, keyring or window.
forbid kagiya-mail 'rusqlite' 'libsqlite3-sys' 'keyring' 'tauri(-.*)?' 'tokio-postgres' 'kagiya-engine' 'kagiya-store' 'kagiya-desk' 'kagiya-server'
