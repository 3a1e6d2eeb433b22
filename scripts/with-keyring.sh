#!/usr/bin/env bash
# Runs a command with a private D-Bus session and an unlocked GNOME Keyring (the Secret Service
# the product stores its database key in on Linux), so tests use the real OS keyring on machines
# without a desktop session. Usage: scripts/with-keyring.sh <command> [args...]
set -euo pipefail
if [[ -z "${KAGIYA_KEYRING_SESSION:-}" ]]; then
  exec env KAGIYA_KEYRING_SESSION=1 dbus-run-session -- "$0" "$@"
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
export HOME_FOR_KEYRING
HOME_FOR_KEYRING="$(mktemp -d)"
# A throw-away keyring directory: tests never touch the user's own keyrings.
export XDG_DATA_HOME="$HOME_FOR_KEYRING"
# The login keyring is created on first use with this (throw-away) password and unlocked.
eval "$(printf 'kagiya-test' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
export KAGIYA_TEST_KEYRING=1
exec "$@"
