#!/usr/bin/env bash
# Installs what is missing, builds Kagiya and starts it on its local SQLite database in the OS data
# directory (~/.local/share/jp.kagiya.console on Linux).
#   scripts/run.sh                # an empty database: the first run asks for the first supervisor
#   scripts/run.sh --demo         # fill an empty database with the demo branch first
#   scripts/run.sh --data-dir DIR # use another folder (also KAGIYA_DATA_DIR)
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/install.sh"
"$ROOT/scripts/build.sh"
say "Starting Kagiya $*"
exec "$ROOT/target/debug/kagiya-desktop" "$@"
